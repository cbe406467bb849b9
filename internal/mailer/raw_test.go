package mailer_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
)

// keptLetter is a message as a letter is kept: written once, sent as is.
var keptLetter = []byte("Date: Tue, 25 Jul 2017 09:00:00 -0400\r\nMessage-ID: <w1-t17.sig@outreach.example>\r\n" +
	"Subject: Your twinning [ref W1-T17]\r\nFrom: <campaign@outreach.example>\r\nTo: <mayor@city.example>\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
	"Dear Mayor,\r\n.A line that starts with a dot.\r\n")

// TestSendRawSendsTheBytesAsKept: the server receives the kept bytes
// unchanged (dot-stuffing undone), from the envelope given; with DKIM, a
// signature a receiver verifies is put in front of the same bytes.
func TestSendRawSendsTheBytesAsKept(t *testing.T) {
	srv := smtptest.Start(t)
	m := newMailer(t, srv, mailer.Config{})
	raw := mailer.Raw{From: "campaign@outreach.example", To: []string{"mayor@city.example"}, Data: keptLetter}
	reply, err := m.SendRaw(context.Background(), raw)
	if err != nil || reply[:3] != "250" {
		t.Fatalf("SendRaw: %q %v", reply, err)
	}
	got := srv.Messages()
	if len(got) != 1 || !bytes.Equal(got[0].Data, keptLetter) || got[0].From != "campaign@outreach.example" ||
		len(got[0].To) != 1 || got[0].To[0] != "mayor@city.example" {
		t.Fatalf("received %+v\n%s", got, got[0].Data)
	}

	d, record := dkimKey(t, mailer.DKIMKeyEd25519)
	signed := smtptest.Start(t)
	m = newMailer(t, signed, mailer.Config{DKIM: d})
	if _, err := m.SendRaw(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	data := signed.Messages()[0].Data
	if !bytes.HasPrefix(data, []byte("DKIM-Signature: ")) || !bytes.HasSuffix(data, keptLetter) {
		t.Fatalf("signed message:\n%s", data)
	}
	vs, err := verify(data, record)
	if err != nil || len(vs) != 1 || vs[0].Err != nil {
		t.Fatalf("verification: %v %+v", err, vs)
	}
}

// TestSendRawClassifiesRefusals: a raw send's refusals are classified as
// a Msg's are: a 5xx to RCPT is permanent and about the recipient, a 4xx
// temporary.
func TestSendRawClassifiesRefusals(t *testing.T) {
	srv := smtptest.Start(t, smtptest.WithRcptReply(func(rcpt string, attempt int) *smtp.SMTPError {
		if rcpt == "gone@city.example" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
		}
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Greylisted"}
	}))
	m := newMailer(t, srv, mailer.Config{})
	for _, tt := range []struct {
		rcpt string
		kind mailer.Kind
		code int
	}{
		{"gone@city.example", mailer.Permanent, 550},
		{"mayor@city.example", mailer.Temporary, 451},
	} {
		_, err := m.SendRaw(context.Background(), mailer.Raw{From: "campaign@outreach.example", To: []string{tt.rcpt}, Data: keptLetter})
		e := asError(t, err)
		if e.Kind != tt.kind || e.Stage != mailer.StageRcpt || e.Code != tt.code {
			t.Errorf("%s: %+v, want %s at %s with %d", tt.rcpt, e, tt.kind, mailer.StageRcpt, tt.code)
		}
	}
	if n := srv.Count(); n != 0 {
		t.Errorf("refused messages delivered: %d", n)
	}
}
