package smtptest_test

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
)

func raw(id string) string {
	return "From: campaign@outreach.example\r\n" +
		"To: mayor@city.example\r\n" +
		"Message-ID: " + id + "\r\n" +
		"Subject: test\r\n" +
		"\r\n" +
		"Dear Mayor,\r\n.leading dot\r\n"
}

func dial(t *testing.T, s *smtptest.Server) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestRecordsAcceptedMessages(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t)
	c := dial(t, s)
	for _, id := range []string{"<a@test>", "<b@test>"} {
		if err := c.SendMail("campaign@outreach.example", []string{"mayor@city.example"}, strings.NewReader(raw(id))); err != nil {
			t.Fatalf("send %s: %v", id, err)
		}
	}
	s.WaitCount(t, 2, 5*time.Second)
	msgs := s.Messages()
	if len(msgs) != 2 || msgs[0].MessageID != "<a@test>" || msgs[1].MessageID != "<b@test>" {
		t.Fatalf("messages = %+v", msgs)
	}
	m := msgs[0]
	if m.From != "campaign@outreach.example" || len(m.To) != 1 || m.To[0] != "mayor@city.example" || m.Conn != 1 || m.TLS {
		t.Errorf("envelope = %+v", m)
	}
	if !strings.HasSuffix(string(m.Data), "Dear Mayor,\r\n.leading dot\r\n") {
		t.Errorf("data = %q", m.Data)
	}
	if s.Connections() != 1 || s.Open() != 1 {
		t.Errorf("connections = %d, open = %d, want 1 and 1", s.Connections(), s.Open())
	}
}

func TestRepliesOnCue(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t,
		smtptest.WithRcptReply(func(rcpt string, attempt int) *smtp.SMTPError {
			if rcpt == "nobody@city.example" {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox"}
			}
			if attempt == 1 {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Greylisted"}
			}
			return nil
		}),
		smtptest.WithDataReply(func(id string, attempt int) *smtp.SMTPError {
			if id == "<spam@test>" {
				return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Rejected"}
			}
			return nil
		}),
	)
	c := dial(t, s)
	send := func(to, id string) error {
		return c.SendMail("campaign@outreach.example", []string{to}, strings.NewReader(raw(id)))
	}
	code := func(err error) int {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return se.Code
		}
		return 0
	}
	if err := send("nobody@city.example", "<1@test>"); code(err) != 550 {
		t.Errorf("unknown mailbox: %v, want 550", err)
	}
	if err := send("Mayor@city.example", "<2@test>"); code(err) != 451 {
		t.Errorf("first attempt: %v, want 451", err)
	}
	if err := send("mayor@city.example", "<3@test>"); err != nil {
		t.Errorf("second attempt (attempts counted without case): %v", err)
	}
	if err := send("mayor@city.example", "<spam@test>"); code(err) != 554 {
		t.Errorf("end of data: %v, want 554", err)
	}
	if n := s.Count(); n != 1 {
		t.Errorf("count = %d, want 1 (only the accepted message)", n)
	}
}

func TestDropInData(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t, smtptest.WithDropInData(func(id string, attempt int) bool { return attempt == 1 }))
	c := dial(t, s)
	err := c.SendMail("campaign@outreach.example", []string{"mayor@city.example"}, strings.NewReader(raw("<x@test>")))
	var se *smtp.SMTPError
	if err == nil || errors.As(err, &se) {
		t.Fatalf("send = %v, want a connection error without a reply", err)
	}
	s.WaitOpen(t, 0, 5*time.Second)
	c2 := dial(t, s)
	if err := c2.SendMail("campaign@outreach.example", []string{"mayor@city.example"}, strings.NewReader(raw("<x@test>"))); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	if msgs := s.Messages(); len(msgs) != 1 || msgs[0].Conn != 2 {
		t.Fatalf("messages = %+v, want one, from connection 2", msgs)
	}
}

func TestTLSAndAuth(t *testing.T) {
	t.Parallel()
	cert, pool := smtptest.SelfSignedCert(t)
	s := smtptest.Start(t, smtptest.WithTLS(cert), smtptest.WithAuth("user", "secret"))
	plain := dial(t, s)
	if err := plain.Hello("client.test"); err != nil {
		t.Fatalf("ehlo: %v", err)
	}
	if ok, _ := plain.Extension("STARTTLS"); !ok {
		t.Error("STARTTLS not offered")
	}
	if ok, _ := plain.Extension("AUTH"); ok {
		t.Error("AUTH offered before STARTTLS")
	}
	c, err := smtp.DialStartTLS(s.Addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("starttls: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Mail("campaign@outreach.example", nil); err == nil {
		t.Fatal("MAIL accepted before AUTH")
	}
	if err := c.Auth(plainAuth("user", "secret")); err != nil {
		t.Fatalf("auth: %v", err)
	}
	if err := c.SendMail("campaign@outreach.example", []string{"mayor@city.example"}, strings.NewReader(raw("<t@test>"))); err != nil {
		t.Fatalf("send: %v", err)
	}
	if msgs := s.Messages(); len(msgs) != 1 || !msgs[0].TLS {
		t.Fatalf("messages = %+v, want one over TLS", msgs)
	}
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t, smtptest.WithIdleTimeout(100*time.Millisecond))
	// EHLO answered shows the session was open (the client reads the
	// greeting only with its first command); on a busy machine it may be
	// closed before a count of open connections could see it, so the test
	// waits only for what it asserts: the server closes the idle session.
	c := dial(t, s)
	if err := c.Hello("client.example"); err != nil {
		t.Fatalf("EHLO: %v", err)
	}
	s.WaitOpen(t, 0, 5*time.Second)
	if err := c.Noop(); err == nil {
		t.Error("NOOP on a connection the server closed for idling succeeded")
	}
}

func plainAuth(user, pass string) sasl.Client { return sasl.NewPlainClient("", user, pass) }
