package config

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestPlaintextRule checks the one rule for mail servers without TLS:
// none by default only for a server on this machine, refused for any
// other unless allow_plaintext says so.
func TestPlaintextRule(t *testing.T) {
	for _, tt := range []struct {
		name     string
		env      []string
		smtpTLS  string
		imapTLS  string
		mentions []string // in the error; none: loads
	}{
		{"defaults on this machine", nil, TLSNone, TLSNone, nil},
		{"localhost by name", []string{"OUTREACH_SMTP_HOST=localhost", "OUTREACH_IMAP_HOST=::1"}, TLSNone, TLSNone, nil},
		{"remote hosts default to STARTTLS", []string{"OUTREACH_SMTP_HOST=smtp.example.org",
			"OUTREACH_IMAP_HOST=imap.example.org"}, TLSStartTLS, TLSStartTLS, nil},
		{"remote SMTP in clear", []string{"OUTREACH_SMTP_HOST=smtp.example.org", "OUTREACH_SMTP_TLS=none"}, "", "",
			[]string{"smtp.tls", "smtp.example.org", "smtp.allow_plaintext"}},
		{"remote SMTP in clear, allowed", []string{"OUTREACH_SMTP_HOST=mailpit", "OUTREACH_SMTP_TLS=none",
			"OUTREACH_SMTP_ALLOW_PLAINTEXT=true"}, TLSNone, TLSNone, nil},
		{"remote IMAP in clear", []string{"OUTREACH_IMAP_HOST=192.0.2.10", "OUTREACH_IMAP_TLS=none"}, "", "",
			[]string{"imap.tls", "192.0.2.10", "imap.allow_plaintext"}},
		{"remote IMAP in clear, allowed", []string{"OUTREACH_IMAP_HOST=192.0.2.10", "OUTREACH_IMAP_TLS=none",
			"OUTREACH_IMAP_ALLOW_PLAINTEXT=true"}, TLSNone, TLSNone, nil},
		{"SMTP allowance does not cover IMAP", []string{"OUTREACH_IMAP_HOST=imap.example.org", "OUTREACH_IMAP_TLS=none",
			"OUTREACH_SMTP_ALLOW_PLAINTEXT=true"}, "", "", []string{"imap.tls"}},
		{"remote IMAP, poller off", []string{"OUTREACH_IMAP_HOST=", "OUTREACH_IMAP_TLS=none"}, TLSNone, TLSNone, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load("", tt.env)
			if len(tt.mentions) > 0 {
				for _, m := range tt.mentions {
					if err == nil || !strings.Contains(err.Error(), m) {
						t.Errorf("err = %v, want one mentioning %s", err, m)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.SMTP.TLS != tt.smtpTLS || cfg.IMAP.Host != "" && cfg.IMAP.TLS != tt.imapTLS {
				t.Errorf("smtp.tls %q imap.tls %q, want %q %q", cfg.SMTP.TLS, cfg.IMAP.TLS, tt.smtpTLS, tt.imapTLS)
			}
		})
	}
	// The same rule for a file.
	path := t.TempDir() + "/o.yaml"
	if err := os.WriteFile(path, []byte("smtp:\n  host: relay.example.org\n  tls: none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, nil); err == nil || !strings.Contains(err.Error(), "smtp.allow_plaintext") {
		t.Errorf("file asking for plaintext to a relay: %v, want a refusal naming smtp.allow_plaintext", err)
	}
}

// TestDockerComposeSettingsLoad reads docker-compose.yml and loads the
// settings each outreach service gets from its environment: Mailpit is
// another container, so sending to it in clear must be allowed there.
func TestDockerComposeSettingsLoad(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Image       string         `yaml:"image"`
			Environment map[string]any `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var checked []string
	for name, svc := range doc.Services {
		if !strings.HasPrefix(svc.Image, "outreach") {
			continue
		}
		checked = append(checked, name)
		var env []string
		for k, v := range svc.Environment {
			env = append(env, k+"="+fmt.Sprint(v))
		}
		if got := svc.Environment["OUTREACH_SMTP_ALLOW_PLAINTEXT"]; fmt.Sprint(got) != "true" {
			t.Errorf("service %s: OUTREACH_SMTP_ALLOW_PLAINTEXT is %v, want true (it sends to Mailpit in clear)", name, got)
		}
		cfg, err := Load("", env)
		if err != nil {
			t.Errorf("service %s: %v", name, err)
			continue
		}
		if cfg.SMTP.Host != "mailpit" || cfg.SMTP.TLS != TLSNone {
			t.Errorf("service %s sends to %s with tls %s, want Mailpit in clear", name, cfg.SMTP.Host, cfg.SMTP.TLS)
		}
	}
	sort.Strings(checked)
	if want := "cli init outreach worker"; strings.Join(checked, " ") != want {
		t.Errorf("outreach services %v, want %s", checked, want)
	}
}
