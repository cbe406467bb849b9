package config

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestExampleFileDocumentsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../config/outreach.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range Settings() {
		if _, ok := doc[p[0]][p[1]]; !ok {
			t.Errorf("config/outreach.example.yaml does not document %s", strings.Join(p, "."))
		}
	}
	// The example is loadable and gives the defaults.
	cfg, err := Load("../../config/outreach.example.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("the example file's values differ from the defaults:\n%+v\n%+v", cfg, Default())
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	cfg, err := Load("", []string{
		"OUTREACH_SMTP_HOST=smtp.example.org",
		"OUTREACH_SMTP_PORT=587",
		"OUTREACH_SMTP_TLS=starttls",
		"OUTREACH_SMTP_PASSWORD=hunter2-hunter2",
		"OUTREACH_SMTP_TIMEOUT=5s",
		"OUTREACH_LETTERS_REPLY_TOKEN=false",
		"UNRELATED=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SMTP.Host != "smtp.example.org" || cfg.SMTP.Port != 587 || cfg.SMTP.TLS != TLSStartTLS ||
		cfg.SMTP.Password.Value() != "hunter2-hunter2" || cfg.SMTP.Timeout != 5*time.Second || cfg.Letters.ReplyToken {
		t.Errorf("overrides not applied: %+v", cfg.SMTP)
	}
}

func TestFileThenEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.yaml")
	os.WriteFile(path, []byte("smtp:\n  host: from-file.example\n  port: 2525\n"), 0o644)
	cfg, err := Load(path, []string{"OUTREACH_SMTP_PORT=465"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SMTP.Host != "from-file.example" || cfg.SMTP.Port != 465 {
		t.Errorf("host %s port %d, want from-file.example 465", cfg.SMTP.Host, cfg.SMTP.Port)
	}
}

func TestBadSettings(t *testing.T) {
	dir := t.TempDir()
	for name, tt := range map[string]struct {
		file    string
		env     []string
		mention string
	}{
		"misspelt key":       {"smtp:\n  hots: x\n", nil, "hots"},
		"bad tls":            {"", []string{"OUTREACH_SMTP_TLS=maybe"}, "smtp.tls"},
		"bad port":           {"", []string{"OUTREACH_SMTP_PORT=many"}, "OUTREACH_SMTP_PORT"},
		"bad duration":       {"", []string{"OUTREACH_SMTP_TIMEOUT=soon"}, "OUTREACH_SMTP_TIMEOUT"},
		"bad from address":   {"organisation:\n  address: not-an-address\n", nil, "organisation.address"},
		"short secret":       {"", []string{"OUTREACH_LETTERS_SECRET=short"}, "letters.secret"},
		"short previous":     {"", []string{"OUTREACH_LETTERS_PREVIOUS_SECRETS=0123456789abcdef0123,short"}, "letters.previous_secrets"},
		"short web previous": {"", []string{"OUTREACH_WEB_PREVIOUS_SECRETS=short"}, "web.previous_secrets"},
		"threshold":          {"", []string{"OUTREACH_REPLIES_CONFIRM_THRESHOLD=1.5"}, "replies.confirm_threshold"},
		"system flag":        {"", []string{`OUTREACH_IMAP_KEYWORD=\Seen`}, "imap.keyword"},
		"move to itself":     {"imap:\n  move_to: inbox\n", nil, "imap.move_to"},
		"tiny size limit":    {"", []string{"OUTREACH_IMAP_MAX_MESSAGE_BYTES=10"}, "imap.max_message_bytes"},
		"bad proxy":          {"web:\n  real_ip_header: X-Forwarded-For\n  trusted_proxies: [10.0.0.0/8, proxy.example]\n", nil, "web.trusted_proxies: entry 2"},
		"header, no proxy":   {"", []string{"OUTREACH_WEB_REAL_IP_HEADER=X-Forwarded-For"}, "web.trusted_proxies"},
		"authserv-id":        {"", []string{"OUTREACH_IMAP_TRUSTED_AUTHSERV_ID=mx.example.org; dmarc=pass"}, "imap.trusted_authserv_id"},
		"no deadline":        {"", []string{"OUTREACH_IMAP_MESSAGE_DEADLINE=0s"}, "imap.message_deadline"},
	} {
		t.Run(name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
				os.WriteFile(path, []byte(tt.file), 0o644)
			}
			_, err := Load(path, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("err = %v, want one mentioning %s", err, tt.mention)
			}
		})
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	cfg := Default()
	cfg.SMTP.Password = "smtp-secret-value"
	cfg.IMAP.Password = "imap-secret-value"
	cfg.Redis.Password = "redis-secret-value"
	cfg.Letters.Secret = "letters-secret-value"
	cfg.Letters.PreviousSecrets = "previous-secret-value"
	var b bytes.Buffer
	if err := cfg.Dump(&b); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(&b, nil))
	logger.Info("settings", "smtp_password", cfg.SMTP.Password, "config", cfg)
	b.WriteString(cfg.SMTP.Password.String())
	for _, s := range []string{"smtp-secret-value", "imap-secret-value", "redis-secret-value", "letters-secret-value", "previous-secret-value"} {
		if strings.Contains(b.String(), s) {
			t.Errorf("secret %q printed:\n%s", s, b.String())
		}
	}
	if !strings.Contains(b.String(), "[redacted]") {
		t.Error("dump does not show that secrets are set")
	}
}

func TestTrustedProxies(t *testing.T) {
	cfg, err := Load("", []string{"OUTREACH_WEB_REAL_IP_HEADER=X-Forwarded-For",
		"OUTREACH_WEB_TRUSTED_PROXIES=10.1.2.3/8, 192.0.2.7 ,2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range cfg.Web.TrustedProxyPrefixes() {
		got = append(got, p.String())
	}
	if want := []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"}; !reflect.DeepEqual(got, want) {
		t.Errorf("trusted proxies %v, want %v", got, want)
	}
}

func TestDKIMSettingsGoTogether(t *testing.T) {
	env := []string{"OUTREACH_DKIM_DOMAIN=outreach.example", "OUTREACH_DKIM_SELECTOR=s2026"}
	_, err := Load("", env)
	if err == nil || !strings.Contains(err.Error(), "dkim.private_key_file: missing") {
		t.Errorf("domain and selector without a key: %v, want dkim.private_key_file: missing", err)
	}
	cfg, err := Load("", append(env, "OUTREACH_DKIM_PRIVATE_KEY_FILE=/etc/outreach/dkim.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.DKIM.On() || cfg.DKIM.PrivateKeyFile != "/etc/outreach/dkim.pem" {
		t.Errorf("dkim settings: %+v", cfg.DKIM)
	}
	_, err = Load("", []string{"OUTREACH_DKIM_DOMAIN=outreach.example", "OUTREACH_DKIM_SELECTOR=a;b", "OUTREACH_DKIM_PRIVATE_KEY_FILE=k.pem"})
	if err == nil || !strings.Contains(err.Error(), "dkim.selector") {
		t.Errorf("selector with a semicolon: %v", err)
	}
	if cfg, err := Load("", nil); err != nil || cfg.DKIM.On() {
		t.Errorf("by default nothing is signed: %+v %v", cfg.DKIM, err)
	}
}
