package mailer_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
	"github.com/outreach-campaign/outreach/internal/testcert"
	"github.com/outreach-campaign/outreach/internal/testservers"
)

// TestTLSThroughDovecotSubmission sends through a real submission server,
// Dovecot's, with TLS required and a certificate from a private CA for a
// name that is not the address connected to, as with a relay reached by
// its IP. With smtp.tls_ca_file and smtp.tls_server_name the letter goes
// through, over STARTTLS and implicit TLS; without either it is refused
// before the password is sent, with an error naming the setting.
func TestTLSThroughDovecotSubmission(t *testing.T) {
	t.Parallel()
	const name = "mail.outreach.test"
	ca := testcert.NewCA(t, "Campaign Private CA")
	relay := smtptest.Start(t)
	d := testservers.Dovecot(t, testservers.DovecotTLS(ca, name), testservers.DovecotSubmission(relay.Addr))
	otherCA := testcert.NewCA(t, "Some Other CA").WriteFile(t)

	modes := map[string]string{mailer.TLSStartTLS: d.SubmissionAddr, mailer.TLSImplicit: d.SubmissionTLSAddr}
	for _, tt := range []struct {
		name             string
		caFile, server   string
		want             []string // in the error; nil: delivered
		unknownAuthority bool
	}{
		{name: "private CA", caFile: d.CAFile, server: name},
		{name: "unknown CA", caFile: otherCA, server: name, unknownAuthority: true,
			want: []string{`"CN=Campaign Private CA,O=outreach tests"`, "set smtp.tls_ca_file"}},
		{name: "system roots", server: name, unknownAuthority: true, want: []string{"set smtp.tls_ca_file"}},
		{name: "wrong host name", caFile: d.CAFile,
			want: []string{`certificate is for mail.outreach.test, not "127.0.0.2"`, "smtp.tls_server_name"}},
	} {
		for mode, addr := range modes {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				host, port, _ := net.SplitHostPort(addr)
				p, _ := strconv.Atoi(port)
				m, err := mailer.New(mailer.Config{Host: host, Port: p, TLS: mode, Username: d.User, Password: d.Password,
					Timeout: 20 * time.Second, TLSCAFile: tt.caFile, TLSServerName: tt.server})
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				id := strings.ReplaceAll(tt.name, " ", "-") + "-" + mode + "@outreach.example"
				reply, err := m.Send(context.Background(), letter(t, "mayor@example.org", id))
				if tt.want == nil {
					if err != nil {
						t.Fatalf("send: %v", err)
					}
					if !strings.HasPrefix(reply, "250") {
						t.Errorf("reply %q", reply)
					}
					waitDelivered(t, relay, id)
					return
				}
				if err == nil {
					t.Fatal("sent, want the certificate refused")
				}
				if e := asError(t, err); e.Stage != mailer.StageConnect {
					t.Errorf("stage %q, want connect", e.Stage)
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				var ue x509.UnknownAuthorityError
				if errors.As(err, &ue) != tt.unknownAuthority {
					t.Errorf("error %v: unknown authority %v, want %v", err, !tt.unknownAuthority, tt.unknownAuthority)
				}
			})
		}
	}
	// Only the two letters sent with the private CA reached the relay.
	if n := relay.Count(); n != 2 {
		t.Errorf("relay received %d messages, want 2", n)
	}
}

// waitDelivered waits until the relay behind the submission server has
// the message id.
func waitDelivered(t *testing.T, relay *smtptest.Server, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, m := range relay.Messages() {
			if m.MessageID == "<"+id+">" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not relayed within 30s", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
