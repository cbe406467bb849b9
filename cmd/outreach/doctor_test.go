package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/inbox"
	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
	"github.com/outreach-campaign/outreach/internal/testservers"
)

// TestDoctorCommand runs `outreach doctor` against a relay that delivers
// into the campaign mailbox: it fails before the store exists and passes,
// round trip included, once it does; then the reply poller, reading the
// mailbox, leaves the probe out of the replies. A settings file that does
// not load is the first check's failure.
func TestDoctorCommand(t *testing.T) {
	d := testservers.Dovecot(t)
	_, imapPort, _ := strings.Cut(d.Addr, ":")
	mbox := inbox.Config{Addr: d.Addr, TLS: inbox.TLSNone, Username: d.User, Password: d.Password}
	relay := smtptest.Start(t, smtptest.WithDelivery(func(m smtptest.Message) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := inbox.Append(ctx, mbox, m.Data, time.Now())
		return err
	}))
	c := newCLI(t)
	c.env = append(c.env,
		"OUTREACH_REDIS_ADDR="+testservers.Redis(t),
		"OUTREACH_SMTP_HOST="+relay.Host, fmt.Sprintf("OUTREACH_SMTP_PORT=%d", relay.Port), "OUTREACH_SMTP_TLS=none",
		"OUTREACH_IMAP_HOST=127.0.0.1", "OUTREACH_IMAP_PORT="+imapPort, "OUTREACH_IMAP_USERNAME="+d.User,
		"OUTREACH_IMAP_PASSWORD="+d.Password, "OUTREACH_IMAP_POLL_INTERVAL=200ms",
	)

	out, _, code := c.run("doctor", "--no-round-trip")
	if code != 1 || !strings.Contains(out, "FAILED   store: ") || !strings.Contains(out, "outreach import cities") {
		t.Errorf("doctor before the store exists: exit %d\n%s", code, out)
	}

	c.ok("import", "cities", citiesCSV)
	out, errs, code := c.run("doctor", "--wait", "60s")
	if code != 0 || !strings.Contains(out, "ok       round trip: the probe sent to replies+probe@outreach.example arrived in INBOX") ||
		!strings.HasSuffix(out, "every check passed\n") {
		t.Fatalf("doctor: exit %d\n%s%s", code, out, errs)
	}

	// A reply after the probe: once the poller has recorded it, it has
	// been past the probe.
	logs, stop := c.background("poller")
	defer stop()
	d.Append(t, "INBOX", []byte("From: Mayor <mayor@montreal.example>\r\nTo: replies@outreach.example\r\nSubject: Hello\r\n"+
		"Message-ID: <after-the-probe@montreal.example>\r\nDate: "+time.Now().Format(time.RFC1123Z)+"\r\n\r\nWe read your letter.\r\n"))
	var rs []campaign.Reply
	waitFor(t, 60*time.Second, "reply recorded", func() bool {
		c.jsonOut(&rs, "replies", "list", "--json")
		return len(rs) > 0
	})
	stop()
	if len(rs) != 1 || rs[0].From != "mayor@montreal.example" {
		t.Errorf("replies recorded: %+v, want only the mayor's (the probe skipped)\n%s", rs, logs.String())
	}
	if !strings.Contains(logs.String(), "a probe of outreach doctor, not a reply: skipped") {
		t.Errorf("the poller did not log the probe it skipped:\n%s", logs.String())
	}

	bad := newCLI(t)
	bad.env = append(bad.env, "OUTREACH_SMTP_TLS=ssl")
	out, _, code = bad.run("doctor")
	if code != 1 || !strings.Contains(out, `FAILED   settings: config: smtp.tls: "ssl" is not one of starttls, tls, none`) ||
		!strings.Contains(out, "skipped  smtp: needs settings") {
		t.Errorf("doctor with settings that do not load: exit %d\n%s", code, out)
	}
}
