package config

import (
	"fmt"
	"net/url"
	"strings"
)

// Ways of logging in to the SMTP and IMAP servers (smtp.auth, imap.auth).
const (
	AuthPassword    = "password"    // user name and password (PLAIN or LOGIN)
	AuthXOAuth2     = "xoauth2"     // OAuth2 bearer token, Google's and Microsoft's XOAUTH2
	AuthOAuthBearer = "oauthbearer" // OAuth2 bearer token, RFC 7628
)

// OAuth is the application registered with the mailbox's OAuth2
// provider, for smtp.auth or imap.auth xoauth2 and oauthbearer. The
// provider is chosen at `outreach auth login --provider`; a custom one
// takes its endpoints from here.
type OAuth struct {
	ClientID     string `yaml:"client_id"`
	ClientSecret Secret `yaml:"client_secret"`
	// Tenant is Microsoft's directory (a tenant id or domain); empty:
	// organizations, any work or school account.
	Tenant string `yaml:"tenant"`
	// AuthURL, TokenURL and DeviceURL are a custom provider's endpoints:
	// with DeviceURL it signs in with the device-code flow, otherwise in
	// a browser (AuthURL, PKCE).
	AuthURL   string `yaml:"auth_url"`
	TokenURL  string `yaml:"token_url"`
	DeviceURL string `yaml:"device_url"`
	// Scopes replace the provider's (a custom provider needs them).
	Scopes []string `yaml:"scopes"`
}

// UsesOAuth says whether SMTP or IMAP logs in with OAuth2.
func (c Config) UsesOAuth() bool {
	return c.SMTP.Auth == AuthXOAuth2 || c.SMTP.Auth == AuthOAuthBearer ||
		c.IMAP.Host != "" && (c.IMAP.Auth == AuthXOAuth2 || c.IMAP.Auth == AuthOAuthBearer)
}

func (c Config) validateOAuth() error {
	for _, a := range []struct{ name, mode, user string }{
		{"smtp", c.SMTP.Auth, c.SMTP.Username}, {"imap", c.IMAP.Auth, c.IMAP.Username},
	} {
		switch a.mode {
		case "", AuthPassword:
		case AuthXOAuth2, AuthOAuthBearer:
			if a.user == "" {
				return fmt.Errorf("%s.username: empty, but %s.auth: %s logs in as the mailbox's address", a.name, a.name, a.mode)
			}
		default:
			return fmt.Errorf("%s.auth: %q is not one of password, xoauth2, oauthbearer", a.name, a.mode)
		}
	}
	if c.UsesOAuth() && c.OAuth.ClientID == "" {
		return fmt.Errorf("oauth.client_id: empty, but smtp.auth or imap.auth is OAuth2: register the application with the provider (see README, Sending for real)")
	}
	for _, u := range []struct{ name, value string }{
		{"oauth.auth_url", c.OAuth.AuthURL}, {"oauth.token_url", c.OAuth.TokenURL}, {"oauth.device_url", c.OAuth.DeviceURL},
	} {
		if u.value == "" {
			continue
		}
		p, err := url.Parse(u.value)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return fmt.Errorf("%s: %q is not an http(s) URL", u.name, u.value)
		}
	}
	if strings.ContainsAny(c.OAuth.Tenant, "/?#") {
		return fmt.Errorf("oauth.tenant: %q is not a tenant id or domain", c.OAuth.Tenant)
	}
	return nil
}
