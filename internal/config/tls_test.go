package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/testcert"
)

// TestTLSVerifySettings checks tls_ca_file and tls_server_name: read from
// the file and the environment, and refused at start when the CA file is
// missing or holds no certificate, the name is not a host name, or TLS is
// off so that nothing would be checked.
func TestTLSVerifySettings(t *testing.T) {
	caFile := testcert.NewCA(t, "Campaign Private CA").WriteFile(t)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	remote := []string{"OUTREACH_SMTP_HOST=smtp.example.org", "OUTREACH_IMAP_HOST=imap.example.org"}

	cfg, err := Load("", append(remote, "OUTREACH_SMTP_TLS_CA_FILE="+caFile, "OUTREACH_SMTP_TLS_SERVER_NAME=relay.internal",
		"OUTREACH_IMAP_TLS_CA_FILE="+caFile, "OUTREACH_IMAP_TLS_SERVER_NAME=mail.internal"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SMTP.TLSCAFile != caFile || cfg.SMTP.TLSServerName != "relay.internal" ||
		cfg.IMAP.TLSCAFile != caFile || cfg.IMAP.TLSServerName != "mail.internal" {
		t.Errorf("smtp %q %q, imap %q %q", cfg.SMTP.TLSCAFile, cfg.SMTP.TLSServerName, cfg.IMAP.TLSCAFile, cfg.IMAP.TLSServerName)
	}
	path := filepath.Join(t.TempDir(), "o.yaml")
	if err := os.WriteFile(path, []byte("imap:\n  host: imap.example.org\n  tls: tls\n  tls_ca_file: "+caFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err := Load(path, nil); err != nil || cfg.IMAP.TLSCAFile != caFile {
		t.Errorf("from a file: %q, %v", cfg.IMAP.TLSCAFile, err)
	}

	for _, tt := range []struct {
		name     string
		env      []string
		mentions []string
	}{
		{"missing CA file", []string{"OUTREACH_SMTP_TLS_CA_FILE=" + missing}, []string{"smtp.tls_ca_file", missing}},
		{"no certificate in it", []string{"OUTREACH_IMAP_TLS_CA_FILE=" + garbage}, []string{"imap.tls_ca_file", garbage, "no PEM certificate"}},
		{"not a host name", []string{"OUTREACH_IMAP_TLS_SERVER_NAME=https://mail.example.org"}, []string{"imap.tls_server_name"}},
		{"CA without TLS", []string{"OUTREACH_SMTP_TLS=none", "OUTREACH_SMTP_ALLOW_PLAINTEXT=true", "OUTREACH_SMTP_TLS_CA_FILE=" + caFile},
			[]string{"smtp.tls: none", "smtp.tls_ca_file"}},
		{"name without TLS on this machine", []string{"OUTREACH_IMAP_HOST=127.0.0.1", "OUTREACH_IMAP_TLS_SERVER_NAME=mail.internal"},
			[]string{"imap.tls: none", "imap.tls_server_name"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("", append(remote, tt.env...))
			for _, m := range tt.mentions {
				if err == nil || !strings.Contains(err.Error(), m) {
					t.Errorf("err = %v, want one mentioning %s", err, m)
				}
			}
		})
	}
}
