package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/devreply"
	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
	"github.com/outreach-campaign/outreach/internal/replies"
	"github.com/outreach-campaign/outreach/internal/testservers"
)

// syncBuffer is a bytes.Buffer that a background run may write while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// background runs "outreach run" until the test stops it.
func (c *cli) background(args ...string) (logs *syncBuffer, stop func()) {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, args, env{stdin: strings.NewReader(""), stdout: logs, stderr: logs, environ: c.env})
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					c.t.Errorf("outreach %s: exit %d:\n%s", strings.Join(args, " "), code, logs)
				}
			case <-time.After(30 * time.Second):
				c.t.Errorf("outreach %s did not stop within 30s", strings.Join(args, " "))
			}
		})
	}
	c.t.Cleanup(stop)
	return logs, stop
}

func (c *cli) jsonOut(v any, args ...string) {
	c.t.Helper()
	if err := json.Unmarshal([]byte(c.ok(args...)), v); err != nil {
		c.t.Fatalf("outreach %s: %v", strings.Join(args, " "), err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type replyStatusRow struct {
	ID           int64  `json:"id"`
	ResponseDate string `json:"response_date"`
	ResponseNote string `json:"response_note"`
	Outcome      string `json:"outcome"`
}

// TestRepliesEndToEnd sends a wave for Canada through a real Redis and a
// real SMTP server, puts replies of every kind to those letters into a
// real Dovecot, and checks what "outreach run" (its poller) made of them:
// the campaigns' response dates, the letters' states and the review queue.
// sentCanadaWave starts an SMTP server, Dovecot and Redis of the test's
// own, imports the table and the example contacts, and sends a Canada
// wave to all 19 offices (Moncton, which replied in the table, put back)
// through "outreach run", whose poller reads the Dovecot mailbox. It
// returns once every letter is sent, with run still going (stop ends it)
// and the letters as listed.
func sentCanadaWave(t *testing.T) (c *cli, sink *smtptest.Server, d *testservers.DovecotServer, logs *syncBuffer, stop func(), letters []campaign.Letter) {
	t.Helper()
	sink = smtptest.Start(t)
	d = testservers.Dovecot(t)
	c = newCLI(t)
	_, imapPort, _ := strings.Cut(d.Addr, ":")
	c.env = append(c.env,
		"OUTREACH_REDIS_ADDR="+testservers.Redis(t),
		"OUTREACH_SMTP_HOST="+sink.Host, fmt.Sprintf("OUTREACH_SMTP_PORT=%d", sink.Port), "OUTREACH_SMTP_TLS=none",
		"OUTREACH_SENDING_PER_MINUTE=0", "OUTREACH_SENDING_PER_DOMAIN_PER_MINUTE=0",
		"OUTREACH_IMAP_HOST=127.0.0.1", "OUTREACH_IMAP_PORT="+imapPort, "OUTREACH_IMAP_USERNAME="+d.User,
		"OUTREACH_IMAP_PASSWORD="+d.Password, "OUTREACH_IMAP_POLL_INTERVAL=200ms",
	)
	c.ok("import", "cities", citiesCSV)
	c.ok("import", "contacts", contactsCSV)
	c.ok("wave", "create", "--name", "Canada", "--country", "Canada", "--include-replied", "--start")
	logs, stop = c.background("run")
	waitFor(t, 60*time.Second, "wave sent", func() bool {
		letters = nil
		c.jsonOut(&letters, "letter", "list", "--wave", "1", "--json")
		for _, l := range letters {
			if l.State != campaign.Sent {
				return false
			}
		}
		return len(letters) == 19
	})
	return c, sink, d, logs, stop, letters
}

func TestRepliesEndToEnd(t *testing.T) {
	c, sink, d, logs, stop, letters := sentCanadaWave(t)
	if n := sink.Count(); n != 19 {
		t.Fatalf("the SMTP server got %d letters, want 19", n)
	}
	byEmail := map[string]campaign.Letter{}
	for _, l := range letters {
		byEmail[l.Email] = l
	}
	// sent is each letter as the office received it.
	sent := map[string]*replies.Message{}
	for _, m := range sink.Messages() {
		msg, err := replies.Parse(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		sent[m.To[0]] = msg
	}
	original := func(email string) devreply.Letter {
		m := sent[email]
		return devreply.Letter{MessageID: m.MessageID, Subject: m.Subject, Text: m.Text, SentAt: byEmail[email].SentAt,
			FromName: "Sister City Campaign", From: "campaign@outreach.example", To: email, Language: "en"}
	}
	now := time.Now()

	// The mayor of Montreal answers, the office of Chatham Kent is away,
	// Surrey's address is gone: all three put in with "outreach dev reply".
	c.ok("dev", "reply", "--letter", byEmail["maire@montreal.example"].ID)
	c.ok("dev", "reply", "--letter", byEmail["mayor@chatham-kent.example"].ID, "--auto")
	c.ok("dev", "reply", "--letter", byEmail["mayor@surrey.example"].ID, "--bounce")
	// Barrie's server is only slow.
	d.Append(t, "INBOX", devreply.DelayWarning(original("mayor@barrie.example"), now))
	// Ottawa answers from Outlook, which kept the subject and dropped
	// In-Reply-To and References: nothing signed, so staff review it.
	ot := original("mayor@ottawa.example")
	d.Append(t, "INBOX", []byte("From: Office of the Mayor <mayor@ottawa.example>\r\nTo: campaign@outreach.example\r\n"+
		"Subject: RE: "+ot.Subject+"\r\nDate: "+now.Format(time.RFC1123Z)+"\r\nMessage-ID: <ottawa-1@ottawa.example>\r\n"+
		"Thread-Index: AQHadCk1kZ2zQ1b2M0uY3Q==\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"The Mayor supports your appeal and has written to Seoul.\r\n\r\n________________________________\r\n"+
		"From: Sister City Campaign <campaign@outreach.example>\r\nSent: "+ot.SentAt.Format("Monday, January 2, 2006 3:04 PM")+"\r\n"+
		"To: Office of the Mayor <mayor@ottawa.example>\r\nSubject: "+ot.Subject+"\r\n\r\n"+
		strings.ReplaceAll(ot.Text, "\n", "\r\n")))
	// Calgary's council writes from another address of the city, with
	// nothing but the subject to go by: for review.
	ca := original("mayor@calgary.example")
	d.Append(t, "INBOX", []byte("From: City Council <council@calgary.example>\r\nTo: campaign@outreach.example\r\n"+
		"Subject: Re: "+ca.Subject+"\r\nDate: "+now.Format(time.RFC1123Z)+"\r\nMessage-ID: <calgary-1@calgary.example>\r\n\r\n"+
		"Council will discuss your letter on Monday.\r\n"))
	// Moncton answers too, but its response date came with the table.
	d.Append(t, "INBOX", devreply.Human(original("mayor@moncton.example"), now))
	// And a newsletter nobody asked for.
	d.Append(t, "INBOX", []byte("From: Visit Banff <news@banff-tourism.example>\r\nTo: campaign@outreach.example\r\n"+
		"Subject: Winter in the Rockies\r\nDate: "+now.Format(time.RFC1123Z)+"\r\nMessage-ID: <nl-1@banff-tourism.example>\r\n"+
		"Precedence: bulk\r\nList-Unsubscribe: <https://banff-tourism.example/u>\r\n\r\nSki season is open.\r\n"))

	var rs []campaign.Reply
	waitFor(t, 60*time.Second, "8 replies recorded", func() bool {
		c.jsonOut(&rs, "replies", "list", "--json")
		return len(rs) == 8
	})
	byFrom := map[string]campaign.Reply{}
	for _, r := range rs {
		byFrom[r.From] = r
	}
	for from, want := range map[string]struct {
		kind   campaign.ReplyKind
		status campaign.ReplyStatus
		letter string
	}{
		"maire@montreal.example":          {campaign.ReplyHuman, campaign.ReplyConfirmed, byEmail["maire@montreal.example"].ID},
		"mayor@chatham-kent.example":      {campaign.ReplyAuto, campaign.ReplyConfirmed, byEmail["mayor@chatham-kent.example"].ID},
		"mailer-daemon@mx.surrey.example": {campaign.ReplyBounce, campaign.ReplyConfirmed, byEmail["mayor@surrey.example"].ID},
		"mailer-daemon@mx.barrie.example": {campaign.ReplyBounce, campaign.ReplyConfirmed, byEmail["mayor@barrie.example"].ID},
		"mayor@ottawa.example":            {campaign.ReplyHuman, campaign.ReplyPending, byEmail["mayor@ottawa.example"].ID},
		"council@calgary.example":         {campaign.ReplyHuman, campaign.ReplyPending, byEmail["mayor@calgary.example"].ID},
		"mayor@moncton.example":           {campaign.ReplyHuman, campaign.ReplyConfirmed, byEmail["mayor@moncton.example"].ID},
		"news@banff-tourism.example":      {campaign.ReplyHuman, campaign.ReplyUnmatched, ""},
	} {
		r, ok := byFrom[from]
		if !ok {
			t.Errorf("no reply from %s", from)
			continue
		}
		if r.Kind != want.kind || r.Status != want.status || r.LetterID != want.letter {
			t.Errorf("%s: %s %s letter %q (confidence %.2f, %+v), want %s %s %q", from, r.Kind, r.Status, r.LetterID,
				r.Confidence, r.Signals, want.kind, want.status, want.letter)
		}
	}

	// Response dates: set for the campaigns of people's confirmed replies
	// (both of Montreal's), on the day they arrived in the office's zone;
	// never by auto-replies or bounces; never over the table's date.
	var rows []replyStatusRow
	c.jsonOut(&rows, "status", "--format", "json", "--country", "Canada")
	dates := map[int64]replyStatusRow{}
	for _, r := range rows {
		dates[r.ID] = r
	}
	toronto := func(r campaign.Reply) string { return campaign.ResponseDay(r.ReceivedAt, "America/Toronto").String() }
	for id, want := range map[int64]string{
		19: toronto(byFrom["maire@montreal.example"]), 24: toronto(byFrom["maire@montreal.example"]), // Montreal
		20: "",         // Ottawa: waiting for review
		21: "", 35: "", // Chatham Kent: auto-reply
		23: "",           // Surrey: bounce
		25: "",           // Barrie: delay
		26: "",           // Calgary: waiting for review
		37: "2017-08-09", // Moncton: the table's date stays
	} {
		if got := dates[id].ResponseDate; got != want {
			t.Errorf("campaign %d: response date %q, want %q", id, got, want)
		}
	}

	// Letters: Surrey's bounced and its address is suspect; Barrie's was
	// only delayed.
	var after []campaign.Letter
	c.jsonOut(&after, "letter", "list", "--wave", "1", "--json")
	for _, l := range after {
		want := campaign.Sent
		if l.Email == "mayor@surrey.example" {
			want = campaign.Bounced
		}
		if l.State != want {
			t.Errorf("letter %s to %s is %s, want %s", l.ID, l.Email, l.State, want)
		}
	}
	targets := c.ok("targets", "list", "--country", "Canada")
	for _, line := range strings.Split(targets, "\n") {
		if strings.Contains(line, "mayor@surrey.example") != strings.Contains(line, "suspect") {
			t.Errorf("suspect flag wrong: %s", line)
		}
	}

	// The review queue: Ottawa's Outlook reply, Calgary's council and the
	// newsletter.
	var pending []campaign.Reply
	c.jsonOut(&pending, "replies", "list", "--pending", "--json")
	if len(pending) != 3 || pending[0].From != "mayor@ottawa.example" || pending[1].From != "council@calgary.example" ||
		pending[2].From != "news@banff-tourism.example" {
		t.Fatalf("review queue %+v, want Ottawa, Calgary's council and the newsletter", pending)
	}
	c.ok("replies", "confirm", strconv.FormatInt(pending[0].ID, 10))
	pending = pending[1:]
	if out := c.ok("replies", "show", strconv.FormatInt(pending[0].ID, 10)); !strings.Contains(out, "subject-ref") ||
		!strings.Contains(out, "sender-domain") || !strings.Contains(out, "Council will discuss your letter on Monday.") {
		t.Errorf("replies show lacks the signals or the text:\n%s", out)
	}
	// Staff confirm Calgary's with its outcome, and reject the newsletter.
	c.ok("replies", "confirm", strconv.FormatInt(pending[0].ID, 10), "--outcome", "response", "--note", "Council to discuss it.")
	c.ok("replies", "reject", strconv.FormatInt(pending[1].ID, 10))
	c.jsonOut(&pending, "replies", "list", "--pending", "--json")
	if len(pending) != 0 {
		t.Errorf("review queue after review: %+v", pending)
	}
	c.jsonOut(&rows, "status", "--format", "json", "--country", "Canada")
	for _, r := range rows {
		if r.ID == 20 && r.ResponseDate != toronto(byFrom["mayor@ottawa.example"]) {
			t.Errorf("Ottawa after confirmation: %+v", r)
		}
		if r.ID == 26 && (r.ResponseDate != toronto(byFrom["council@calgary.example"]) || r.ResponseNote != "Council to discuss it." || r.Outcome != "response") {
			t.Errorf("Calgary after confirmation: %+v", r)
		}
	}
	if table := c.ok("status", "--country", "Canada"); !strings.Contains(table, "Council to discuss it.") {
		t.Errorf("the status table does not show the note:\n%s", table)
	}
	stop()
	if strings.Contains(logs.String(), d.Password) {
		t.Error("the IMAP password reached the logs")
	}
}

func TestDevReplyRefusesOtherMailboxes(t *testing.T) {
	c := newCLI(t)
	c.ok("import", "cities", citiesCSV)
	for _, env := range [][]string{
		{"OUTREACH_IMAP_HOST=imap.example.org"},
		{"OUTREACH_IMAP_HOST=127.0.0.1", "OUTREACH_IMAP_TLS=tls"},
		{"OUTREACH_IMAP_HOST=::1", "OUTREACH_IMAP_USERNAME=replies"},
	} {
		cc := *c
		cc.env = append(append([]string{}, c.env...), env...)
		_, errs, code := cc.run("dev", "reply", "--letter", "w1-t1")
		if code != 1 || !strings.Contains(errs, "local development mailbox") {
			t.Errorf("%v: exit %d %q", env, code, errs)
		}
	}
	if _, errs, code := c.run("dev", "reply", "--letter", "w9-t9"); code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("unknown letter: exit %d %q", code, errs)
	}
	if _, errs, code := c.run("dev", "reply"); code != 2 || !strings.Contains(errs, "--letter") {
		t.Errorf("no letter: exit %d %q", code, errs)
	}
}
