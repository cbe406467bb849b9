package inbox

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/outreach-campaign/outreach/internal/store"
	"github.com/outreach-campaign/outreach/internal/testcert"
	"github.com/outreach-campaign/outreach/internal/testservers"
)

// tlsName is the only name on the TLS Dovecot's certificate: not the
// address connected to, as with a server reached by its IP.
const tlsName = "imap.outreach.test"

// newTLSHarness is a harness on a Dovecot that requires TLS, with a
// certificate from the test's own CA for tlsName.
func newTLSHarness(t *testing.T, d *testservers.DovecotServer) *harness {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "outreach.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, d: d, st: st, spy: &spy{RecordStore: st}, addr: d.Addr}
	h.handler = &counting{next: &Recorder{Store: h.spy, Log: quietLog()}}
	return h
}

// TestPollerOverVerifiedTLS reads a reply over STARTTLS and over implicit
// TLS from a Dovecot with `ssl = required`, trusting its private CA through
// imap.tls_ca_file and checking the name imap.tls_server_name gives.
func TestPollerOverVerifiedTLS(t *testing.T) {
	t.Parallel()
	d := testservers.Dovecot(t, testservers.DovecotTLS(testcert.NewCA(t, "Campaign Private CA"), tlsName))
	d.Append(t, "INBOX", mail("tls1", "We support the appeal."))
	for mode, addr := range map[string]string{TLSStartTLS: d.Addr, TLSImplicit: d.TLSAddr} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h := newTLSHarness(t, d) // a store of its own: each mode reads the mailbox from the start
			cfg := h.config(false, 50*time.Millisecond)
			cfg.Addr, cfg.TLS, cfg.TLSCAFile, cfg.TLSServerName = addr, mode, d.CAFile, tlsName
			h.start(cfg)
			h.waitReplies(1)
			h.checkOnce([]string{"tls1"})
		})
	}
}

// TestTLSRefusals checks that a certificate from a CA that is not trusted,
// or for another name, is refused before logging in, with an error that
// says which setting to change; and that the poller reports it.
func TestTLSRefusals(t *testing.T) {
	t.Parallel()
	d := testservers.Dovecot(t, testservers.DovecotTLS(testcert.NewCA(t, "Campaign Private CA"), tlsName))
	otherCA := testcert.NewCA(t, "Some Other CA").WriteFile(t)
	for _, tt := range []struct {
		name, caFile, server string
		want                 []string
		unknownAuthority     bool
	}{
		{"unknown CA", otherCA, tlsName, []string{`"CN=Campaign Private CA,O=outreach tests"`, "set imap.tls_ca_file"}, true},
		{"system roots", "", tlsName, []string{"set imap.tls_ca_file"}, true},
		{"wrong host name", d.CAFile, "", []string{`certificate is for imap.outreach.test, not "127.0.0.2"`, "imap.tls_server_name"}, false},
		{"another name", d.CAFile, "mail.outreach.test", []string{`not "mail.outreach.test"`, "imap.tls_server_name"}, false},
	} {
		for mode, addr := range map[string]string{TLSStartTLS: d.Addr, TLSImplicit: d.TLSAddr} {
			c, err := dial(Config{Addr: addr, TLS: mode, Username: d.User, Password: d.Password,
				TLSCAFile: tt.caFile, TLSServerName: tt.server, Timeout: 20 * time.Second}, &imapclient.Options{})
			if err == nil {
				c.Close()
				t.Errorf("%s/%s: logged in, want the certificate refused", tt.name, mode)
				continue
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s/%s: error %q does not say %q", tt.name, mode, err, w)
				}
			}
			var ue x509.UnknownAuthorityError
			if errors.As(err, &ue) != tt.unknownAuthority {
				t.Errorf("%s/%s: %v: unknown authority %v, want %v", tt.name, mode, err, !tt.unknownAuthority, tt.unknownAuthority)
			}
		}
	}
	if _, err := dial(Config{Addr: d.TLSAddr, TLS: TLSImplicit, TLSCAFile: filepath.Join(t.TempDir(), "none.pem")},
		&imapclient.Options{}); err == nil || !strings.Contains(err.Error(), "none.pem") {
		t.Errorf("missing CA file: %v, want an error naming it", err)
	}

	// What the poller's log says, again and again, while it cannot connect.
	var logs syncBuffer
	p := &Poller{Log: slog.New(slog.NewTextHandler(&logs, nil)),
		Config: Config{Addr: d.TLSAddr, TLS: TLSImplicit, Username: d.User, Password: d.Password, TLSCAFile: otherCA, TLSServerName: tlsName,
			ReconnectMin: 10 * time.Millisecond, ReconnectMax: 50 * time.Millisecond}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, 30*time.Second, "log line naming imap.tls_ca_file", func() bool {
		return strings.Contains(logs.String(), "set imap.tls_ca_file")
	})
	cancel()
	if err := <-done; err != nil {
		t.Errorf("poller: %v", err)
	}
}

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
