package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
	"github.com/outreach-campaign/outreach/internal/oauth/oauthtest"
)

// TestAuthLoginStatusAndSending: "auth login" signs the mailbox in with
// the device-code flow of a custom provider, "auth status" shows it, and
// a letter goes to an SMTP server that takes only XOAUTH2; once the
// sign-in is revoked, sending fails saying to sign in again.
func TestAuthLoginStatusAndSending(t *testing.T) {
	const user = "campaign@outreach.example"
	p := oauthtest.Start(t, user)
	// Tokens of a minute are within the margin at once: every connection
	// refreshes (the command's clock cannot be moved on).
	p.SetTTL(time.Minute)
	sink := smtptest.Start(t, smtptest.WithOAuth(user, p.Valid))
	c := newCLI(t)
	c.env = append(c.env, "OUTREACH_SMTP_HOST="+sink.Host, "OUTREACH_SMTP_PORT="+strconv.Itoa(sink.Port), "OUTREACH_SMTP_TLS=none",
		"OUTREACH_SMTP_AUTH=xoauth2", "OUTREACH_SMTP_USERNAME="+user, "OUTREACH_IMAP_HOST=",
		"OUTREACH_OAUTH_CLIENT_ID="+oauthtest.ClientID, "OUTREACH_OAUTH_TOKEN_URL="+p.TokenURL(),
		"OUTREACH_OAUTH_DEVICE_URL="+p.DeviceURL(), "OUTREACH_OAUTH_SCOPES=mail")

	if out := c.ok("auth", "status"); !strings.Contains(out, user+" (smtp) is not signed in: run `outreach auth login") {
		t.Errorf("status before signing in:\n%s", out)
	}
	out := c.ok("auth", "login", "--provider", "custom")
	for _, want := range []string{"enter the code WDJB-MJHT", user + " is signed in with custom"} {
		if !strings.Contains(out, want) {
			t.Errorf("auth login does not say %q:\n%s", want, out)
		}
	}
	out = c.ok("auth", "status")
	if !regexp.MustCompile(regexp.QuoteMeta(user) + `\s+custom\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+smtp\s+signed in`).MatchString(out) {
		t.Errorf("auth status after signing in:\n%s", out)
	}

	c.ok("import", "cities", citiesCSV)
	c.ok("import", "contacts", contactsCSV)
	c.ok("wave", "create", "--name", "Canada", "--country", "Canada")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"staff", "add", "anna@campaign.example"},
		env{stdin: strings.NewReader("correct horse battery\n"), stdout: &stdout, stderr: &stderr, environ: c.env}); code != 0 {
		t.Fatalf("staff add: %s", stderr.String())
	}
	c.ok("wave", "test", "1", "--to", "anna@campaign.example", "--letter", "w1-t17")
	if msgs := sink.Messages(); len(msgs) != 1 || msgs[0].Mechanism != "XOAUTH2" {
		t.Fatalf("the SMTP server got %+v, want one letter over XOAUTH2", msgs)
	}

	if p.Refreshes() != 1 {
		t.Errorf("%d refreshes, want 1 (at the letter's connection)", p.Refreshes())
	}
	p.Revoke()
	_, errs, code := c.run("wave", "test", "1", "--to", "anna@campaign.example", "--letter", "w1-t17")
	if code != 1 || !strings.Contains(errs, "revoked") || !strings.Contains(errs, "outreach auth login --provider custom") {
		t.Errorf("sending after the sign-in was revoked: exit %d, %s", code, errs)
	}
}

// TestAuthLoginBrowser: a provider without a device endpoint signs in in
// the browser, PKCE and a loopback redirect, driven here by an HTTP
// client that opens the address the command prints.
func TestAuthLoginBrowser(t *testing.T) {
	const user = "campaign@outreach.example"
	p := oauthtest.Start(t, user)
	c := newCLI(t)
	c.env = append(c.env, "OUTREACH_IMAP_AUTH=xoauth2", "OUTREACH_IMAP_USERNAME="+user,
		"OUTREACH_OAUTH_CLIENT_ID="+oauthtest.ClientID, "OUTREACH_OAUTH_TOKEN_URL="+p.TokenURL(),
		"OUTREACH_OAUTH_AUTH_URL="+p.AuthURL(), "OUTREACH_OAUTH_SCOPES=mail")
	browser := &urlOpener{t: t, prefix: p.AuthURL() + "?"}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"auth", "login", "--provider", "custom"},
		env{stdin: strings.NewReader(""), stdout: browser, stderr: &stderr, environ: c.env}); code != 0 {
		t.Fatalf("auth login: exit %d: %s\n%s", code, stderr.String(), browser.text())
	}
	if !strings.Contains(browser.text(), user+" is signed in with custom") {
		t.Fatalf("auth login:\n%s", browser.text())
	}
	if out := c.ok("auth", "status"); !strings.Contains(out, "imap") || !strings.Contains(out, "signed in (renewed automatically)") {
		t.Errorf("auth status:\n%s", out)
	}
}

// urlOpener is the command's stdout; it opens the first address starting
// with prefix, as a person would in a browser.
type urlOpener struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    bytes.Buffer
	opened bool
}

func (o *urlOpener) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(b)
	if o.opened {
		return len(b), nil
	}
	for _, f := range strings.Fields(o.buf.String()) {
		if strings.HasPrefix(f, o.prefix) {
			o.opened = true
			go func() {
				resp, err := http.Get(f)
				if err != nil {
					o.t.Errorf("browser: %v", err)
					return
				}
				resp.Body.Close()
			}()
			break
		}
	}
	return len(b), nil
}

func (o *urlOpener) text() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
