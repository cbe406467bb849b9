package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/spf13/cobra"
	"golang.org/x/oauth2"

	"github.com/outreach-campaign/outreach/internal/config"
	"github.com/outreach-campaign/outreach/internal/keyring"
	"github.com/outreach-campaign/outreach/internal/oauth"
)

func (a *app) authCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Sign the campaign mailbox in with OAuth2 (Google Workspace, Microsoft 365), and show the sign-in",
	}
	var provider, user string
	var port int
	login := &cobra.Command{
		Use:   "login --provider google|microsoft|custom [--user ADDRESS]",
		Short: "Sign the mailbox in with its provider; the sign-in is kept, encrypted, in the store",
		Long: `Sign the mailbox in for smtp.auth and imap.auth xoauth2 or oauthbearer.

Microsoft, and a custom provider with oauth.device_url, use the device-code
flow: open the address printed, on any device, and type the code. Google
(and a custom provider with only oauth.auth_url) uses the browser flow: open
the address printed in a browser on this machine; the provider sends it back
to 127.0.0.1 (use --port and "ssh -L PORT:127.0.0.1:PORT" from a machine
with a browser when this one has none).

The refresh token is kept in the store, encrypted with a key derived from
letters.secret; every process (workers, poller) takes fresh access tokens
from it. Signing in again replaces the sign-in.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if provider == "" {
				return usagef("--provider is required: google, microsoft or custom")
			}
			if user == "" {
				user = a.oauthAccounts()[0]
			}
			if user == "" {
				return usagef("--user: name the mailbox's address (smtp.username and imap.username are empty)")
			}
			return a.authLogin(cmd.Context(), provider, user, port)
		},
	}
	login.Flags().StringVar(&provider, "provider", "", "google, microsoft or custom (the oauth settings)")
	login.Flags().StringVar(&user, "user", "", "the mailbox's address (default: smtp.username when smtp uses OAuth2, else imap.username)")
	login.Flags().IntVar(&port, "port", 0, "browser flow: the port on 127.0.0.1 the provider sends the browser back to (default: any free one)")
	cmd.AddCommand(login, &cobra.Command{
		Use:   "status",
		Short: "Show who is signed in, with which provider, and until when",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.authStatus(cmd.Context())
		},
	})
	return cmd
}

// oauthAccounts are the mailbox addresses SMTP and IMAP log in as with
// OAuth2, SMTP's first; [""] when neither does.
func (a *app) oauthAccounts() []string {
	var out []string
	if m := a.cfg.SMTP.Auth; m == config.AuthXOAuth2 || m == config.AuthOAuthBearer {
		out = append(out, a.cfg.SMTP.Username)
	}
	if m := a.cfg.IMAP.Auth; a.cfg.IMAP.Host != "" && (m == config.AuthXOAuth2 || m == config.AuthOAuthBearer) &&
		(len(out) == 0 || out[0] != a.cfg.IMAP.Username) {
		out = append(out, a.cfg.IMAP.Username)
	}
	if len(out) == 0 {
		return []string{a.cfg.SMTP.Username}
	}
	return out
}

func (a *app) oauthSettings() oauth.Settings {
	o := a.cfg.OAuth
	return oauth.Settings{ClientID: o.ClientID, ClientSecret: o.ClientSecret.Value(), Tenant: o.Tenant,
		AuthURL: o.AuthURL, TokenURL: o.TokenURL, DeviceURL: o.DeviceURL, Scopes: o.Scopes}
}

// oauthConfig is the OAuth2 configuration of a provider, from the settings.
func (a *app) oauthConfig(name string) (oauth.Provider, *oauth2.Config, error) {
	s := a.oauthSettings()
	if s.ClientID == "" {
		return oauth.Provider{}, nil, errors.New("oauth.client_id is empty: register the application with the provider first (see README, Sending for real)")
	}
	p, err := oauth.Lookup(name, s)
	if err != nil {
		return oauth.Provider{}, nil, err
	}
	return p, p.Config(s), nil
}

// sealer encrypts the sign-ins with a key derived from letters.secret
// (configured or generated), opening those sealed under previous secrets.
func (a *app) sealer(ctx context.Context) (*oauth.Sealer, error) {
	secret, err := a.lettersSecret(ctx)
	if err != nil {
		return nil, err
	}
	return oauth.NewSealer([]byte(secret), keyring.SplitSecrets(a.cfg.Letters.PreviousSecrets.Value())...)
}

func (a *app) authLogin(ctx context.Context, provider, user string, port int) error {
	p, cfg, err := a.oauthConfig(provider)
	if err != nil {
		return err
	}
	st, err := a.store(ctx)
	if err != nil {
		return err
	}
	sealer, err := a.sealer(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Signing %s in with %s.\n", user, provider)
	var tok *oauth2.Token
	if p.DeviceURL != "" {
		tok, err = oauth.DeviceLogin(ctx, cfg, a.stdout)
	} else {
		tok, err = oauth.BrowserLogin(ctx, cfg, port, a.stdout, nil)
	}
	if err != nil {
		return err
	}
	if err := oauth.SignIn(ctx, st, sealer, user, provider, tok, time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s is signed in with %s; outreach renews its access tokens from now on.\n", user, provider)
	for _, other := range a.oauthAccounts() {
		if other != user && other != "" {
			fmt.Fprintf(a.stdout, "Note: %s logs in as %s too: sign it in with --user %s.\n", a.oauthUsers(other), other, other)
		}
	}
	return nil
}

// oauthUsers names what logs in as account with OAuth2 ("smtp", "imap").
func (a *app) oauthUsers(account string) string {
	var names []string
	if m := a.cfg.SMTP.Auth; a.cfg.SMTP.Username == account && (m == config.AuthXOAuth2 || m == config.AuthOAuthBearer) {
		names = append(names, "smtp")
	}
	if m := a.cfg.IMAP.Auth; a.cfg.IMAP.Host != "" && a.cfg.IMAP.Username == account && (m == config.AuthXOAuth2 || m == config.AuthOAuthBearer) {
		names = append(names, "imap")
	}
	if len(names) == 0 {
		return "nothing (smtp.auth and imap.auth are password)"
	}
	if len(names) == 2 {
		return "smtp and imap"
	}
	return names[0]
}

func (a *app) authStatus(ctx context.Context) error {
	st, err := a.store(ctx)
	if err != nil {
		return err
	}
	sealer, err := a.sealer(ctx)
	if err != nil {
		return err
	}
	list, err := st.OAuthTokens(ctx)
	if err != nil {
		return err
	}
	signed := map[string]bool{}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ACCOUNT\tPROVIDER\tSIGNED IN\tACCESS TOKEN VALID UNTIL\tUSED BY\tSTATE")
	for _, t := range list {
		signed[t.Account] = true
		until := "-"
		if !t.Expiry.IsZero() {
			until = t.Expiry.Local().Format("2006-01-02 15:04")
		}
		state := "signed in (renewed automatically)"
		if _, err := sealer.Open(t.RefreshToken, t.Account); err != nil {
			state = "cannot be decrypted (letters.secret changed?): sign in again"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Account, t.Provider, t.SignedInAt.Local().Format("2006-01-02 15:04"),
			until, a.oauthUsers(t.Account), state)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, acc := range a.oauthAccounts() {
		if a.cfg.UsesOAuth() && acc != "" && !signed[acc] {
			fmt.Fprintf(a.stdout, "%s (%s) is not signed in: run `outreach auth login --provider google|microsoft|custom --user %s`\n",
				acc, a.oauthUsers(acc), acc)
		}
	}
	return nil
}

// oauthSASL returns what makes the SASL client of each connection when
// mode is xoauth2 or oauthbearer; nil for password.
func (a *app) oauthSASL(ctx context.Context, mode, user, host string, port int) (func(context.Context) (sasl.Client, error), error) {
	if mode != config.AuthXOAuth2 && mode != config.AuthOAuthBearer {
		return nil, nil
	}
	st, err := a.store(ctx)
	if err != nil {
		return nil, err
	}
	sealer, err := a.sealer(ctx)
	if err != nil {
		return nil, err
	}
	src := &oauth.Source{Account: user, Store: st, Sealer: sealer, Provider: func(name string) (*oauth2.Config, error) {
		_, cfg, err := a.oauthConfig(name)
		return cfg, err
	}}
	return oauth.Authenticator{Mechanism: mode, User: user, Host: host, Port: port, Tokens: src}.SASL, nil
}
