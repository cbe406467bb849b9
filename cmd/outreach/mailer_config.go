package main

import "github.com/outreach-campaign/outreach/internal/mailer"

// mailerConfig is the SMTP client's view of the smtp and dkim settings, the
// same for the workers and for mail sent outside the queue (test copies are
// signed like the letters). It fails when the DKIM key cannot be read.
func (a *app) mailerConfig() (mailer.Config, error) {
	dkim, err := a.dkimSigner()
	if err != nil {
		return mailer.Config{}, err
	}
	s := a.cfg.SMTP
	return mailer.Config{
		Host: s.Host, Port: s.Port, TLS: s.TLS, AllowPlaintext: s.AllowPlaintext, Username: s.Username,
		Password: s.Password.Value(), Timeout: s.Timeout, TLSCAFile: s.TLSCAFile, TLSServerName: s.TLSServerName,
		DKIM: dkim,
	}, nil
}
