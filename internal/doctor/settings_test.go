package doctor

import (
	"errors"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/config"
)

func TestSettings(t *testing.T) {
	local := config.Default() // make run's: everything on this machine
	local.IMAP.Password = "campaign-dev"

	real := config.Default()
	real.SMTP.Host, real.SMTP.Port, real.SMTP.TLS = "smtp.campaign.org", 587, config.TLSStartTLS
	real.SMTP.Username, real.SMTP.Password = "campaign@campaign.org", "a-real-password"
	real.IMAP.Host, real.IMAP.TLS, real.IMAP.Password = "imap.campaign.org", config.TLSImplicit, "another-real-one"
	real.Organisation.Address, real.Letters.ReplyTo = "campaign@campaign.org", "replies@campaign.org"

	for _, c := range []struct {
		name   string
		change func(c *config.Config)
		base   config.Config
		err    error
		status Status
		says   string
		fix    string
	}{
		{"make run's services", nil, local, nil, OK, "letters from campaign@outreach.example through 127.0.0.1 (none); replies read from INBOX at 127.0.0.1 (none) as campaign", ""},
		{"a real server", nil, real, nil, OK, "through smtp.campaign.org (starttls)", ""},
		{"no poller", func(c *config.Config) { c.IMAP.Host = "" }, real, nil, OK, "imap.host is empty", ""},
		{"settings refused", nil, real, errors.New(`config: imap.port: 0 is not a port`), Failed, "imap.port", "OUTREACH_"},
		{"example sender to a real server", func(c *config.Config) { c.Organisation.Address = "campaign@outreach.example" }, real, nil,
			Failed, "organisation.address campaign@outreach.example is under a reserved example domain", "OUTREACH_ORGANISATION_ADDRESS"},
		{"example reply-to to a real server", func(c *config.Config) { c.Letters.ReplyTo = "replies@example.org" }, real, nil,
			Failed, "letters.reply_to replies@example.org", "OUTREACH_LETTERS_REPLY_TO"},
		{"the trial password on a real mailbox", func(c *config.Config) { c.IMAP.Password = "campaign-dev" }, real, nil,
			Failed, "imap.password is the published trial password", "OUTREACH_IMAP_PASSWORD"},
		{"the trial password on a real relay", func(c *config.Config) { c.SMTP.Password = "campaign-dev" }, real, nil,
			Failed, "smtp.password is the published trial password", "OUTREACH_SMTP_PASSWORD"},
		{"no mailbox password", func(c *config.Config) { c.IMAP.Password = "" }, real, nil,
			Failed, "imap.password is empty", "OUTREACH_IMAP_PASSWORD"},
		{"user without password", func(c *config.Config) { c.SMTP.Password = "" }, real, nil,
			Failed, "smtp.username is set but smtp.password is empty", "OUTREACH_SMTP_PASSWORD"},
	} {
		cfg := c.base
		if c.change != nil {
			c.change(&cfg)
		}
		r := Settings(cfg, c.err)
		if r.Status != c.status || !strings.Contains(r.Detail, c.says) || !strings.Contains(r.Fix, c.fix) {
			t.Errorf("%s: %s %q (fix %q); want %s with %q, fix with %q", c.name, r.Status, r.Detail, r.Fix, c.status, c.says, c.fix)
		}
	}
}

func TestExampleDomain(t *testing.T) {
	for addr, want := range map[string]bool{
		"a@outreach.example": true, "a@example.org": true, "a@mail.example.com": true, "a@x.test": true, "a@x.invalid": true,
		"a@campaign.org": false, "a@myexample.org": false, "a@example.organic": false,
	} {
		if got := exampleDomain(addr); got != want {
			t.Errorf("exampleDomain(%q) = %v, want %v", addr, got, want)
		}
	}
}
