package testservers_test

import (
	"crypto/tls"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/outreach-campaign/outreach/internal/testcert"
	"github.com/outreach-campaign/outreach/internal/testservers"
)

// TestDovecotTLSAndSubmission checks what DovecotTLS and DovecotSubmission
// promise: no login before TLS, IMAP with STARTTLS and implicit TLS under
// a certificate of the test's CA, and submission over both that relays to
// the test's SMTP server.
func TestDovecotTLSAndSubmission(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t, "Dovecot Test CA")
	mp := testservers.Mailpit(t)
	d := testservers.Dovecot(t, testservers.DovecotTLS(ca), testservers.DovecotSubmission(mp.SMTPAddr()))
	if d.TLSAddr == "" || d.SubmissionAddr == "" || d.SubmissionTLSAddr == "" || d.CAFile == "" {
		t.Fatalf("addresses missing: %+v", d)
	}
	tlsCfg := &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.2"} // an address the certificate holds

	// ssl = required: LOGIN without TLS is refused even from this machine.
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(d.User, d.Password).Wait(); err == nil {
		t.Error("LOGIN without TLS succeeded, want it refused")
	}
	c.Close()

	for name, dial := range map[string]func() (*imapclient.Client, error){
		"starttls": func() (*imapclient.Client, error) {
			return imapclient.DialStartTLS(d.Addr, &imapclient.Options{TLSConfig: tlsCfg})
		},
		"implicit": func() (*imapclient.Client, error) {
			return imapclient.DialTLS(d.TLSAddr, &imapclient.Options{TLSConfig: tlsCfg})
		},
	} {
		c, err := dial()
		if err != nil {
			t.Fatalf("%s: dial: %v", name, err)
		}
		if err := c.Login(d.User, d.Password).Wait(); err != nil {
			t.Errorf("%s: login: %v", name, err)
		}
		c.Close()
	}
	// The helpers log in over TLS themselves.
	if uid := d.Append(t, "INBOX", letter(1)); uid != 1 {
		t.Errorf("UID = %d, want 1", uid)
	}

	// Submission: AUTH only after STARTTLS, then relayed to Mailpit.
	sc, err := smtp.Dial(d.SubmissionAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if err := sc.StartTLS(tlsCfg); err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	send(t, sc, d, "starttls")
	conn, err := tls.Dial("tcp", d.SubmissionTLSAddr, tlsCfg)
	if err != nil {
		t.Fatalf("implicit TLS: %v", err)
	}
	sc2, err := smtp.NewClient(conn, "127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	defer sc2.Close()
	send(t, sc2, d, "implicit")
	mp.WaitCount(t, 2, 30*time.Second)
	var subjects []string
	for _, m := range mp.Messages(t) {
		subjects = append(subjects, m.Subject)
	}
	if got := strings.Join(subjects, ","); !strings.Contains(got, "via starttls") || !strings.Contains(got, "via implicit") {
		t.Errorf("Mailpit has %q, want both messages", got)
	}
}

func send(t *testing.T, c *smtp.Client, d *testservers.DovecotServer, via string) {
	t.Helper()
	if err := c.Auth(smtp.PlainAuth("", d.User, d.Password, "127.0.0.2")); err != nil {
		t.Fatalf("%s: AUTH: %v", via, err)
	}
	if err := c.Mail("campaign@outreach.test"); err != nil {
		t.Fatalf("%s: MAIL: %v", via, err)
	}
	if err := c.Rcpt("mayor@example.org"); err != nil {
		t.Fatalf("%s: RCPT: %v", via, err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatalf("%s: DATA: %v", via, err)
	}
	_, _ = w.Write([]byte("From: campaign@outreach.test\r\nTo: mayor@example.org\r\nSubject: via " + via +
		"\r\nMessage-ID: <" + via + "@outreach.test>\r\n\r\nHello.\r\n"))
	if err := w.Close(); err != nil {
		t.Fatalf("%s: end of data: %v", via, err)
	}
	if err := c.Quit(); err != nil {
		t.Errorf("%s: QUIT: %v", via, err)
	}
}
