// Package oauth signs the campaign's mailbox in with OAuth2 (Google
// Workspace, Microsoft 365, or a provider named in the settings) and gives
// every SMTP and IMAP connection a fresh access token for XOAUTH2 or
// OAUTHBEARER.
//
// The refresh token is kept in the store, sealed with AES-GCM, so that
// every process (workers on other machines, the poller) shares one
// sign-in: a refresh made by one is used by all, and a refresh token the
// provider rotates is saved back for the others.
package oauth

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// Provider names.
const (
	Google    = "google"
	Microsoft = "microsoft"
	Custom    = "custom"
)

// Provider is where a provider signs people in and issues tokens, and what
// a mailbox must ask it for.
type Provider struct {
	Name     string
	AuthURL  string
	TokenURL string
	// DeviceURL is the device authorization endpoint when the provider
	// allows the device-code flow for mail; empty: the browser flow.
	// (Google has one, but its device flow refuses the mail scope.)
	DeviceURL string
	Scopes    []string
}

// Settings are the oauth settings: the application registered with the
// provider, and for a custom provider its endpoints.
type Settings struct {
	ClientID     string
	ClientSecret string
	// Tenant is Microsoft's directory: a tenant id or domain, or
	// "organizations" (the default: any work or school account).
	Tenant string
	// AuthURL, TokenURL, DeviceURL describe a custom provider.
	AuthURL, TokenURL, DeviceURL string
	// Scopes replace the provider's when set.
	Scopes []string
}

// Lookup returns the provider of that name, the custom one built from s.
func Lookup(name string, s Settings) (Provider, error) {
	var p Provider
	switch name {
	case Google:
		p = Provider{
			Name:     Google,
			AuthURL:  "https://accounts.google.com/o/oauth2/auth",
			TokenURL: "https://oauth2.googleapis.com/token",
			// The one scope Gmail accepts for IMAP and SMTP.
			Scopes: []string{"https://mail.google.com/"},
		}
	case Microsoft:
		tenant := s.Tenant
		if tenant == "" {
			tenant = "organizations"
		}
		base := "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/"
		p = Provider{
			Name: Microsoft, AuthURL: base + "authorize", TokenURL: base + "token", DeviceURL: base + "devicecode",
			// offline_access asks for a refresh token.
			Scopes: []string{"offline_access", "https://outlook.office.com/IMAP.AccessAsUser.All",
				"https://outlook.office.com/SMTP.Send"},
		}
	case Custom:
		p = Provider{Name: Custom, AuthURL: s.AuthURL, TokenURL: s.TokenURL, DeviceURL: s.DeviceURL}
		switch {
		case p.TokenURL == "":
			return Provider{}, fmt.Errorf("oauth: provider custom: oauth.token_url is empty")
		case p.AuthURL == "" && p.DeviceURL == "":
			return Provider{}, fmt.Errorf("oauth: provider custom: set oauth.device_url (device-code flow) or oauth.auth_url (browser flow)")
		case len(s.Scopes) == 0:
			return Provider{}, fmt.Errorf("oauth: provider custom: oauth.scopes is empty")
		}
	default:
		return Provider{}, fmt.Errorf("oauth: provider %q is not one of %s", name, strings.Join(Names(), ", "))
	}
	if len(s.Scopes) > 0 {
		p.Scopes = slices.Clone(s.Scopes)
	}
	return p, nil
}

// Names lists the providers one can sign in with.
func Names() []string { return []string{Google, Microsoft, Custom} }

// Config is the golang.org/x/oauth2 configuration of p for the
// application s names. RedirectURL is set by the browser flow.
func (p Provider) Config(s Settings) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: p.AuthURL, TokenURL: p.TokenURL, DeviceAuthURL: p.DeviceURL},
		Scopes:       slices.Clone(p.Scopes),
	}
}
