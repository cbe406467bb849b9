package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/config"
	"github.com/outreach-campaign/outreach/internal/mailer"
)

// TestTLSSettingsReachTheClients checks that smtp.tls_ca_file,
// smtp.tls_server_name and their imap twins are handed to the SMTP and
// IMAP clients (whose tests show what they do with them), and that the
// test copy's mailer gets the same settings as the workers'.
func TestTLSSettingsReachTheClients(t *testing.T) {
	cfg := config.Default()
	cfg.SMTP.TLS, cfg.SMTP.TLSCAFile, cfg.SMTP.TLSServerName = config.TLSImplicit, "/etc/outreach/relay-ca.pem", "relay.internal"
	cfg.SMTP.AllowPlaintext = true
	cfg.IMAP.TLS, cfg.IMAP.TLSCAFile, cfg.IMAP.TLSServerName = config.TLSStartTLS, "/etc/outreach/imap-ca.pem", "mail.internal"
	a := &app{cfg: cfg}
	m, err := a.mailerConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.TLS != "tls" || m.TLSCAFile != "/etc/outreach/relay-ca.pem" || m.TLSServerName != "relay.internal" || !m.AllowPlaintext {
		t.Errorf("mailer config: tls %q, ca %q, name %q, allow plaintext %v", m.TLS, m.TLSCAFile, m.TLSServerName, m.AllowPlaintext)
	}
	if m.DKIM != nil {
		t.Errorf("mailer config without dkim settings signs as %+v", m.DKIM)
	}
	i, err := a.inboxConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if i.TLS != "starttls" || i.TLSCAFile != "/etc/outreach/imap-ca.pem" || i.TLSServerName != "mail.internal" {
		t.Errorf("inbox config: tls %q, ca %q, name %q", i.TLS, i.TLSCAFile, i.TLSServerName)
	}
}

// TestDKIMSettingsReachTheMailer checks that the dkim settings reach the
// one mailer config the workers and the test copies share, and that an
// unreadable key is an error naming the setting rather than unsigned mail.
func TestDKIMSettingsReachTheMailer(t *testing.T) {
	dir := t.TempDir()
	priv, _, err := mailer.GenerateDKIMKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "dkim.pem")
	if err := os.WriteFile(keyFile, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DKIM = config.DKIM{Domain: "outreach.example", Selector: "s2026", PrivateKeyFile: keyFile}
	a := &app{cfg: cfg}
	m, err := a.mailerConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if m.DKIM == nil || m.DKIM.Domain != "outreach.example" || m.DKIM.Selector != "s2026" || m.DKIM.Key == nil {
		t.Fatalf("mailer config's DKIM: %+v", m.DKIM)
	}

	a.cfg.DKIM.PrivateKeyFile = filepath.Join(dir, "missing.pem")
	if _, err := a.mailerConfig(context.Background()); err == nil || !strings.Contains(err.Error(), "dkim.private_key_file") {
		t.Errorf("a missing key: error %v, want one naming dkim.private_key_file", err)
	}
}
