package testservers_test

import (
	"bytes"
	"fmt"
	"net/smtp"
	"strconv"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/testservers"
)

func appeal(n int) []byte {
	return fmt.Appendf(nil, "From: Campaign <campaign@example.org>\r\nTo: Mayor %d <mayor%d@example.org>\r\n"+
		"Subject: Appeal %d\r\nMessage-ID: <appeal-%d@example.org>\r\n\r\nDear mayor %d,\r\n", n, n, n, n, n)
}

func TestMailpit(t *testing.T) {
	t.Parallel()
	start := time.Now()
	m := testservers.Mailpit(t)
	t.Logf("mailpit ready (SMTP %s, API %s) in %v", m.SMTPAddr(), m.APIURL, time.Since(start).Round(time.Millisecond))

	// Without authentication, and with any credentials (PLAIN is allowed
	// without TLS by net/smtp only towards 127.0.0.1).
	if err := smtp.SendMail(m.SMTPAddr(), nil, "campaign@example.org", []string{"mayor1@example.org"}, appeal(1)); err != nil {
		t.Fatalf("send 1: %v", err)
	}
	auth := smtp.PlainAuth("", "anyone", "anything", m.SMTPHost)
	if err := smtp.SendMail(m.SMTPAddr(), auth, "campaign@example.org", []string{"mayor2@example.org"}, appeal(2)); err != nil {
		t.Fatalf("send 2 with AUTH: %v", err)
	}
	if n := m.WaitCount(t, 2, 10*time.Second); n != 2 {
		t.Fatalf("WaitCount = %d, want 2", n)
	}

	msgs := m.Messages(t)
	if len(msgs) != 2 {
		t.Fatalf("Messages: %d, want 2: %+v", len(msgs), msgs)
	}
	for i, msg := range msgs { // oldest first
		n := i + 1
		if msg.Subject != "Appeal "+strconv.Itoa(n) || msg.MessageID != fmt.Sprintf("appeal-%d@example.org", n) ||
			msg.From != "campaign@example.org" || len(msg.To) != 1 || msg.To[0] != fmt.Sprintf("mayor%d@example.org", n) {
			t.Errorf("message %d = %+v", n, msg)
		}
	}
	raw := m.Raw(t, msgs[1].ID)
	if !bytes.Contains(raw, []byte("Message-ID: <appeal-2@example.org>")) || !bytes.Contains(raw, []byte("Dear mayor 2,")) {
		t.Errorf("Raw:\n%s", raw)
	}

	m.DeleteAll(t)
	if msgs := m.Messages(t); len(msgs) != 0 {
		t.Fatalf("after DeleteAll: %d messages", len(msgs))
	}
}

// More messages than one API page: Messages must read them all, in order.
func TestMailpitPaging(t *testing.T) {
	t.Parallel()
	m := testservers.Mailpit(t)
	const total = 450
	c, err := smtp.Dial(m.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	for n := 1; n <= total; n++ {
		if err := c.Mail("campaign@example.org"); err != nil {
			t.Fatalf("MAIL %d: %v", n, err)
		}
		if err := c.Rcpt(fmt.Sprintf("mayor%d@example.org", n)); err != nil {
			t.Fatalf("RCPT %d: %v", n, err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatalf("DATA %d: %v", n, err)
		}
		w.Write(appeal(n))
		if err := w.Close(); err != nil {
			t.Fatalf("end DATA %d: %v", n, err)
		}
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	m.WaitCount(t, total, 30*time.Second)
	t.Logf("%d messages sent and stored in %v", total, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	msgs := m.Messages(t)
	t.Logf("listed %d messages in %v", len(msgs), time.Since(start).Round(time.Millisecond))
	if len(msgs) != total {
		t.Fatalf("Messages: %d, want %d", len(msgs), total)
	}
	// Arrival order, even among the many that share a millisecond (Mailpit
	// stores Created in milliseconds).
	for i, msg := range msgs {
		if want := "Appeal " + strconv.Itoa(i+1); msg.Subject != want {
			t.Fatalf("message %d is %q, want %q", i, msg.Subject, want)
		}
	}
}
