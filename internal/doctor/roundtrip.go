package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/outreach-campaign/outreach/internal/inbox"
	"github.com/outreach-campaign/outreach/internal/mailer"
)

// ProbeSigner makes the signed token of a probe; *letter.Signer is one.
// The poller verifies it with the same key (letters.secret) and skips the
// probe.
type ProbeSigner interface {
	ProbeToken() string
}

// RoundTripOptions is what the round trip needs.
type RoundTripOptions struct {
	Mailer mailer.Config
	Inbox  inbox.Config
	// From is the organisation's address (and name), as letters have it;
	// To the campaign mailbox's address, where replies go.
	From, FromName, To string
	// Domain ends the probe's Message-ID.
	Domain string
	Signer ProbeSigner
	// Wait bounds the wait for the probe; Interval is how often the
	// mailbox is looked at meanwhile (0: a second).
	Wait, Interval time.Duration
}

// RoundTrip sends a probe from the organisation to the campaign mailbox
// through the SMTP server and waits, up to o.Wait, until it is seen in
// the mailbox's folder; it then flags it $OutreachProbe and \Seen. The
// probe carries a token signed with letters.secret in its X-Outreach-Probe
// header, so the poller does not take it for a reply.
func RoundTrip(ctx context.Context, o RoundTripOptions) Result {
	token := o.Signer.ProbeToken()
	msg := mail.NewMsg()
	if err := msg.FromFormat(o.FromName, o.From); err != nil {
		return failed("set organisation.address to a plain address", "the probe's sender %q: %v", o.From, err)
	}
	if err := msg.To(o.To); err != nil {
		return failed("set letters.reply_to to the campaign mailbox's address", "the probe's recipient %q: %v", o.To, err)
	}
	nonce, _, _ := strings.Cut(token, ".")
	msg.SetMessageIDWithValue("probe-" + nonce + "@" + o.Domain)
	msg.SetDate()
	msg.Subject("outreach doctor: a probe of the campaign mailbox")
	msg.SetGenHeader(mail.Header(inbox.ProbeHeader), token)
	// Nobody should answer it: out-of-office replies skip such mail.
	msg.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(mail.TypeTextPlain, "This message checks that mail to the campaign mailbox arrives in it.\r\n"+
		"outreach doctor sent it; the reply poller leaves it out of the replies.\r\n")

	m, err := mailer.New(o.Mailer)
	if err != nil {
		return failed("check the smtp settings", "%v", err)
	}
	defer m.Close()
	sent := time.Now()
	if _, err := m.Send(ctx, msg); err != nil {
		var me *mailer.Error
		if errors.As(err, &me) {
			switch me.Stage {
			case mailer.StageRcpt:
				return failed("letters.reply_to (or organisation.address when it is empty) must be an address the server takes mail for",
					"the SMTP server refused the probe's recipient %s: %v", o.To, err)
			case mailer.StageMail:
				return failed("the SMTP account (smtp.username) must be allowed to send as organisation.address",
					"the SMTP server refused the probe's sender %s: %v", o.From, err)
			}
		}
		return failed("check the SMTP server's log for the probe", "sending the probe to %s failed: %v", o.To, err)
	}

	interval := o.Interval
	if interval <= 0 {
		interval = time.Second
	}
	wctx, cancel := context.WithTimeout(ctx, o.Wait)
	defer cancel()
	folder, err := inbox.FindProbe(wctx, o.Inbox, token, interval)
	if errors.Is(err, inbox.ErrProbeNotSeen) {
		return failed("mail to "+o.To+" must reach the mailbox imap.username reads, in imap.folder: check letters.reply_to "+
			"(organisation.address when it is empty; with letters.reply_token the mailbox must take plus-addresses), "+
			"the mailbox's filters and its spam folder; a slow relay may need a longer --wait",
			"the probe sent to %s was not seen in %s within %s", o.To, o.Inbox.Folder, o.Wait)
	}
	if err != nil {
		return failed("check the imap settings", "looking for the probe: %v", err)
	}
	return ok("the probe sent to %s arrived in %s after %s; it is flagged %s and \\Seen, and the poller skips it",
		o.To, folder, time.Since(sent).Round(100*time.Millisecond), inbox.ProbeKeyword)
}

// DeliversNowhere tells, from an SMTP server's greeting, a server that
// keeps every message instead of delivering it: Mailpit, which `make run`
// and docker-compose use so that no letter leaves the machine, says its
// name there. A probe sent through it cannot reach the mailbox.
func DeliversNowhere(greeting string) (name string, yes bool) {
	for _, sink := range []string{"Mailpit"} {
		if strings.Contains(strings.ToLower(greeting), strings.ToLower(sink)) {
			return sink, true
		}
	}
	return "", false
}

func describeSkip(sink, greeting string) string {
	return fmt.Sprintf("the SMTP server is %s (its greeting: %q), which keeps every message and delivers none: "+
		"no probe can reach the mailbox through it", sink, greeting)
}
