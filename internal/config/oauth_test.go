package config

import (
	"bytes"
	"strings"
	"testing"
)

func TestOAuthSettings(t *testing.T) {
	cfg, err := Load("", []string{"OUTREACH_SMTP_AUTH=xoauth2", "OUTREACH_SMTP_USERNAME=campaign@example.org",
		"OUTREACH_IMAP_AUTH=oauthbearer", "OUTREACH_OAUTH_CLIENT_ID=app-id", "OUTREACH_OAUTH_CLIENT_SECRET=oauth-client-secret",
		"OUTREACH_OAUTH_SCOPES=mail, offline_access"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SMTP.Auth != AuthXOAuth2 || cfg.IMAP.Auth != AuthOAuthBearer || !cfg.UsesOAuth() ||
		strings.Join(cfg.OAuth.Scopes, " ") != "mail offline_access" {
		t.Fatalf("settings %+v %+v", cfg.SMTP, cfg.OAuth)
	}
	var b bytes.Buffer
	if err := cfg.Dump(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "oauth-client-secret") {
		t.Error("oauth.client_secret printed")
	}
	if Default().UsesOAuth() {
		t.Error("the defaults use OAuth2")
	}

	for _, tt := range []struct {
		env     []string
		mention string
	}{
		{[]string{"OUTREACH_SMTP_AUTH=oauth"}, `smtp.auth: "oauth" is not one of password, xoauth2, oauthbearer`},
		{[]string{"OUTREACH_IMAP_AUTH=xoauth2", "OUTREACH_IMAP_USERNAME=", "OUTREACH_OAUTH_CLIENT_ID=x"}, "imap.username: empty"},
		{[]string{"OUTREACH_SMTP_AUTH=xoauth2", "OUTREACH_SMTP_USERNAME=c@example.org"}, "oauth.client_id: empty"},
		{[]string{"OUTREACH_OAUTH_TOKEN_URL=ftp://example.org/token"}, "oauth.token_url"},
		{[]string{"OUTREACH_OAUTH_TENANT=a/b"}, "oauth.tenant"},
	} {
		if _, err := Load("", tt.env); err == nil || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("%v: err = %v, want one mentioning %s", tt.env, err, tt.mention)
		}
	}
}
