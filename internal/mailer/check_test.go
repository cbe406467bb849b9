package mailer_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
	"github.com/outreach-campaign/outreach/internal/testservers"
)

// TestCheck runs Check's steps against real sessions: each configuration
// that works reports what it negotiated, and each broken one fails at its
// own step. Check sends no message.
func TestCheck(t *testing.T) {
	t.Parallel()
	cert, pool := smtptest.SelfSignedCert(t)
	trust := &tls.Config{RootCAs: pool}
	starttls := smtptest.Start(t, smtptest.WithTLS(cert), smtptest.WithAuth("campaign", "s3cret"))
	implicit := smtptest.Start(t, smtptest.WithImplicitTLS(cert), smtptest.WithAuth("campaign", "s3cret"))
	plain := smtptest.Start(t)
	check := func(s *smtptest.Server, cfg mailer.Config) (mailer.Report, error) {
		t.Helper()
		cfg.Host, cfg.Port, cfg.Timeout = s.Host, s.Port, 5*time.Second
		m, err := mailer.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		return m.Check(context.Background())
	}
	step := func(err error) string {
		var ce *mailer.CheckError
		if errors.As(err, &ce) {
			return ce.Step
		}
		return ""
	}

	for _, c := range []struct {
		name string
		s    *smtptest.Server
		cfg  mailer.Config
	}{
		{"starttls", starttls, mailer.Config{TLS: mailer.TLSStartTLS, TLSConfig: trust, Username: "campaign", Password: "s3cret"}},
		{"implicit tls", implicit, mailer.Config{TLS: mailer.TLSImplicit, TLSConfig: trust, Username: "campaign", Password: "s3cret"}},
	} {
		rep, err := check(c.s, c.cfg)
		if err != nil || !strings.HasPrefix(rep.TLS, "TLS 1.") || !rep.Authenticated || !strings.Contains(rep.Greeting, "smtptest.localhost") {
			t.Errorf("%s: %+v, %v; want TLS, logged in, the greeting", c.name, rep, err)
		}
	}
	rep, err := check(plain, mailer.Config{TLS: mailer.TLSNone})
	if err != nil || rep.TLS != "" || rep.Authenticated {
		t.Errorf("plain, no login: %+v, %v", rep, err)
	}

	var unknown x509.UnknownAuthorityError
	for _, c := range []struct {
		name, step string
		s          *smtptest.Server
		cfg        mailer.Config
	}{
		{"wrong password", mailer.CheckAuth, starttls, mailer.Config{TLS: mailer.TLSStartTLS, TLSConfig: trust, Username: "campaign", Password: "wrong"}},
		{"no STARTTLS offered", mailer.CheckTLS, plain, mailer.Config{TLS: mailer.TLSStartTLS}},
		{"STARTTLS, unknown CA", mailer.CheckTLS, starttls, mailer.Config{TLS: mailer.TLSStartTLS}},
		{"implicit TLS, unknown CA", mailer.CheckTLS, implicit, mailer.Config{TLS: mailer.TLSImplicit}},
		{"implicit TLS on a plain port", mailer.CheckTLS, plain, mailer.Config{TLS: mailer.TLSImplicit}},
	} {
		_, err := check(c.s, c.cfg)
		if step(err) != c.step {
			t.Errorf("%s: %v; want a failure at %s", c.name, err, c.step)
		}
		if strings.Contains(c.name, "unknown CA") && !errors.As(err, &unknown) {
			t.Errorf("%s: %v; want x509.UnknownAuthorityError", c.name, err)
		}
	}
	cfg := mailer.Config{Host: "127.0.0.1", Port: testservers.FreePort(t), TLS: mailer.TLSNone, Timeout: 5 * time.Second}
	m, err := mailer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Check(context.Background()); step(err) != mailer.CheckConnect {
		t.Errorf("nothing listening: %v; want a failure at connect", err)
	}
	for _, s := range []*smtptest.Server{starttls, implicit, plain} {
		if s.Count() != 0 {
			t.Errorf("Check sent %d messages", s.Count())
		}
	}
}
