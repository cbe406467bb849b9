package main

import (
	"context"

	"github.com/outreach-campaign/outreach/internal/mailer"
)

// mailerConfig is the SMTP client's view of the smtp and dkim settings,
// the same for the workers and for mail sent outside the queue (test copies
// are signed like the letters): with smtp.auth xoauth2 or oauthbearer, each
// session signs in with the mailbox's stored OAuth2 sign-in instead of the
// password. It fails when the DKIM key cannot be read.
func (a *app) mailerConfig(ctx context.Context) (mailer.Config, error) {
	dkim, err := a.dkimSigner()
	if err != nil {
		return mailer.Config{}, err
	}
	s := a.cfg.SMTP
	auth, err := a.oauthSASL(ctx, s.Auth, s.Username, s.Host, s.Port)
	if err != nil {
		return mailer.Config{}, err
	}
	return mailer.Config{
		Host: s.Host, Port: s.Port, TLS: s.TLS, AllowPlaintext: s.AllowPlaintext, Username: s.Username,
		Password: s.Password.Value(), Timeout: s.Timeout, TLSCAFile: s.TLSCAFile, TLSServerName: s.TLSServerName,
		SASL: auth,
		DKIM: dkim,
	}, nil
}
