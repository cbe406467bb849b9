package mailer_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/wneessen/go-mail"

	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
	"github.com/outreach-campaign/outreach/internal/plaintext"
)

// letter builds a small appeal to one office with a fixed Message-ID, as
// the letter package does.
func letter(tb testing.TB, to, id string) *mail.Msg {
	tb.Helper()
	m, err := newLetter(to, id)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// newLetter is letter for goroutines that may not call tb.Fatal.
func newLetter(to, id string) (*mail.Msg, error) {
	m := mail.NewMsg()
	if err := m.From("Campaign <campaign@outreach.example>"); err != nil {
		return nil, err
	}
	if err := m.To(to); err != nil {
		return nil, err
	}
	m.Subject("An appeal from your sister city's friends")
	m.SetMessageIDWithValue(id)
	m.SetBodyString(mail.TypeTextPlain, "Dear Mayor,\n\nWe write to you about your twinning.\n")
	return m, nil
}

// newMailer returns a Mailer for s, closed at the end of the test (before
// s stops, since cleanups run last-registered first).
func newMailer(tb testing.TB, s *smtptest.Server, cfg mailer.Config) *mailer.Mailer {
	tb.Helper()
	cfg.Host, cfg.Port = s.Host, s.Port
	if cfg.TLS == "" {
		cfg.TLS = mailer.TLSNone
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	m, err := mailer.New(cfg)
	if err != nil {
		tb.Fatalf("mailer.New: %v", err)
	}
	tb.Cleanup(func() {
		if err := m.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return m
}

func asError(tb testing.TB, err error) *mailer.Error {
	tb.Helper()
	var e *mailer.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %v (%T) is not a *mailer.Error", err, err)
	}
	return e
}

func TestPoolReusesConnections(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t)
	m := newMailer(t, s, mailer.Config{Connections: 2})

	const goroutines, each = 10, 5
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		msgs := make([]*mail.Msg, each)
		for i := range msgs {
			msgs[i] = letter(t, "mayor@city.example", fmt.Sprintf("w1-t%d-%d@outreach.example", g, i))
		}
		wg.Go(func() {
			for _, msg := range msgs {
				id := msg.GetMessageID()
				reply, err := m.Send(t.Context(), msg)
				if err == nil && !strings.HasPrefix(reply, "250 ") {
					err = fmt.Errorf("reply %q", reply)
				}
				if err != nil {
					errs <- fmt.Errorf("send %s: %w", id, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	msgs := s.Messages()
	if len(msgs) != goroutines*each {
		t.Fatalf("server accepted %d messages, want %d", len(msgs), goroutines*each)
	}
	ids := make(map[string]bool)
	for _, msg := range msgs {
		ids[msg.MessageID] = true
		if msg.Conn < 1 || msg.Conn > 2 {
			t.Errorf("message %s came on connection %d", msg.MessageID, msg.Conn)
		}
	}
	if len(ids) != goroutines*each {
		t.Errorf("%d distinct Message-IDs, want %d", len(ids), goroutines*each)
	}
	if n := s.Connections(); n > 2 {
		t.Errorf("server saw %d connections, want at most 2", n)
	}
}

func TestTLSModesAndAuth(t *testing.T) {
	t.Parallel()
	cert, pool := smtptest.SelfSignedCert(t)
	trust := &tls.Config{RootCAs: pool}
	tests := []struct {
		name    string
		opts    []smtptest.Option
		cfg     mailer.Config
		wantTLS bool
	}{
		{"none", nil, mailer.Config{TLS: mailer.TLSNone}, false},
		{"starttls", []smtptest.Option{smtptest.WithTLS(cert)},
			mailer.Config{TLS: mailer.TLSStartTLS, TLSConfig: trust}, true},
		{"implicit tls", []smtptest.Option{smtptest.WithImplicitTLS(cert)},
			mailer.Config{TLS: mailer.TLSImplicit, TLSConfig: trust}, true},
		{"starttls auth", []smtptest.Option{smtptest.WithTLS(cert), smtptest.WithAuth("campaign", "s3cret")},
			mailer.Config{TLS: mailer.TLSStartTLS, TLSConfig: trust, Username: "campaign", Password: "s3cret"}, true},
		{"implicit tls auth", []smtptest.Option{smtptest.WithImplicitTLS(cert), smtptest.WithAuth("campaign", "s3cret")},
			mailer.Config{TLS: mailer.TLSImplicit, TLSConfig: trust, Username: "campaign", Password: "s3cret"}, true},
		// go-mail allows PLAIN without TLS only to a relay on this machine.
		{"none auth on localhost", []smtptest.Option{smtptest.WithAuth("campaign", "s3cret")},
			mailer.Config{TLS: mailer.TLSNone, Username: "campaign", Password: "s3cret"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := smtptest.Start(t, tt.opts...)
			m := newMailer(t, s, tt.cfg)
			for i := range 2 {
				if _, err := m.Send(t.Context(), letter(t, "mayor@city.example", fmt.Sprintf("tls-%d@outreach.example", i))); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
			}
			msgs := s.Messages()
			if len(msgs) != 2 {
				t.Fatalf("server accepted %d messages, want 2", len(msgs))
			}
			for _, msg := range msgs {
				if msg.TLS != tt.wantTLS {
					t.Errorf("message %s: TLS = %v, want %v", msg.MessageID, msg.TLS, tt.wantTLS)
				}
			}
			if n := s.Connections(); n != 1 {
				t.Errorf("server saw %d connections, want 1", n)
			}
		})
	}
}

// TestConnectFailures checks that every failure to get a session is
// Temporary at the connect stage and sends nothing.
func TestConnectFailures(t *testing.T) {
	t.Parallel()
	cert, pool := smtptest.SelfSignedCert(t)
	tests := []struct {
		name     string
		opts     []smtptest.Option
		cfg      mailer.Config
		wantCode int
		check    func(error) bool
	}{
		{"wrong password", []smtptest.Option{smtptest.WithTLS(cert), smtptest.WithAuth("campaign", "s3cret")},
			mailer.Config{TLS: mailer.TLSStartTLS, TLSConfig: &tls.Config{RootCAs: pool}, Username: "campaign", Password: "wrong"},
			535, nil},
		{"untrusted certificate", []smtptest.Option{smtptest.WithTLS(cert)},
			mailer.Config{TLS: mailer.TLSStartTLS},
			0, func(err error) bool {
				var ue x509.UnknownAuthorityError
				return errors.As(err, &ue)
			}},
		{"no STARTTLS offered", nil,
			mailer.Config{TLS: mailer.TLSStartTLS, TLSConfig: &tls.Config{RootCAs: pool}},
			0, func(err error) bool { return strings.Contains(err.Error(), "STARTTLS") }},
		{"AUTH required but not configured", []smtptest.Option{smtptest.WithAuth("campaign", "s3cret")},
			mailer.Config{}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := smtptest.Start(t, tt.opts...)
			m := newMailer(t, s, tt.cfg)
			_, err := m.Send(t.Context(), letter(t, "mayor@city.example", "connect@outreach.example"))
			e := asError(t, err)
			if tt.name == "AUTH required but not configured" {
				// The server refuses MAIL FROM with a 5xx: that is a
				// transaction-stage refusal, hence Permanent.
				if e.Kind != mailer.Permanent || e.Stage != mailer.StageMail {
					t.Fatalf("got %v (kind %v, stage %q), want permanent at mail", err, e.Kind, e.Stage)
				}
				return
			}
			t.Logf("error: %v", err)
			if e.Kind != mailer.Temporary || e.Stage != mailer.StageConnect || e.Code != tt.wantCode {
				t.Fatalf("got %v (kind %v, stage %q, code %d), want temporary at connect, code %d",
					err, e.Kind, e.Stage, e.Code, tt.wantCode)
			}
			if tt.check != nil && !tt.check(err) {
				t.Errorf("error %v is not the expected cause", err)
			}
			if n := s.Count(); n != 0 {
				t.Errorf("server accepted %d messages", n)
			}
			// go-mail leaves a connection open when the handshake
			// fails; the mailer must close it.
			s.WaitOpen(t, 0, 5*time.Second)
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now

	m, err := mailer.New(mailer.Config{Host: "127.0.0.1", Port: port, TLS: mailer.TLSNone, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.Send(t.Context(), letter(t, "mayor@city.example", "refused@outreach.example"))
	e := asError(t, err)
	if e.Kind != mailer.Temporary || e.Stage != mailer.StageConnect || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v (kind %v, stage %q), want temporary at connect wrapping ECONNREFUSED", err, e.Kind, e.Stage)
	}
}

func smtpErr(code int, enhanced smtp.EnhancedCode, text string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: text}
}

// TestClassification sends one bad letter and then a good one through the
// same Mailer to each server: the bad one's error must have the right
// kind, code, stage and text, and the pool must recover for the next.
func TestClassification(t *testing.T) {
	t.Parallel()
	const bad = "<bad@outreach.example>"
	tests := []struct {
		name     string
		opts     []smtptest.Option
		timeout  time.Duration
		kind     mailer.Kind
		code     int
		enhanced string
		stage    string
		reply    string
		accepted bool // the server took the bad letter after all
	}{
		{
			name: "550 at RCPT",
			opts: []smtptest.Option{smtptest.WithRcptReply(func(rcpt string, _ int) *smtp.SMTPError {
				if rcpt == "nobody@city.example" {
					return smtpErr(550, smtp.EnhancedCode{5, 1, 1}, "Mailbox nobody does not exist")
				}
				return nil
			})},
			kind: mailer.Permanent, code: 550, enhanced: "5.1.1", stage: mailer.StageRcpt,
			reply: "5.1.1 Mailbox nobody does not exist",
		},
		{
			name: "421 at RCPT",
			opts: []smtptest.Option{smtptest.WithRcptReply(func(rcpt string, attempt int) *smtp.SMTPError {
				if rcpt == "nobody@city.example" && attempt == 1 {
					return smtpErr(421, smtp.EnhancedCode{4, 7, 0}, "Too many connections, try later")
				}
				return nil
			})},
			kind: mailer.Temporary, code: 421, enhanced: "4.7.0", stage: mailer.StageRcpt,
			reply: "4.7.0 Too many connections, try later",
		},
		{
			name: "451 at RCPT (greylisting)",
			opts: []smtptest.Option{smtptest.WithRcptReply(func(rcpt string, attempt int) *smtp.SMTPError {
				if rcpt == "nobody@city.example" && attempt == 1 {
					return smtpErr(451, smtp.EnhancedCode{4, 7, 1}, "Greylisted, please retry")
				}
				return nil
			})},
			kind: mailer.Temporary, code: 451, enhanced: "4.7.1", stage: mailer.StageRcpt,
			reply: "4.7.1 Greylisted, please retry",
		},
		{
			name: "451 at end of DATA",
			opts: []smtptest.Option{smtptest.WithDataReply(func(id string, _ int) *smtp.SMTPError {
				if id == bad {
					return smtpErr(451, smtp.EnhancedCode{4, 3, 0}, "Queue full")
				}
				return nil
			})},
			kind: mailer.Temporary, code: 451, enhanced: "4.3.0", stage: mailer.StageEndOfData,
			reply: "4.3.0 Queue full",
		},
		{
			name: "554 at end of DATA",
			opts: []smtptest.Option{smtptest.WithDataReply(func(id string, _ int) *smtp.SMTPError {
				if id == bad {
					return smtpErr(554, smtp.EnhancedCode{5, 7, 1}, "Message rejected as spam")
				}
				return nil
			})},
			kind: mailer.Permanent, code: 554, enhanced: "5.7.1", stage: mailer.StageEndOfData,
			reply: "5.7.1 Message rejected as spam",
		},
		{
			name: "connection dropped during DATA",
			opts: []smtptest.Option{smtptest.WithDropInData(func(id string, _ int) bool { return id == bad })},
			kind: mailer.Ambiguous, stage: mailer.StageEndOfData,
		},
		{
			// The server takes the message but answers after our
			// Timeout: the textbook ambiguous send.
			name:    "timeout waiting for the end of DATA",
			opts:    []smtptest.Option{smtptest.WithDelay(time.Second)},
			timeout: 300 * time.Millisecond,
			kind:    mailer.Ambiguous, stage: mailer.StageEndOfData,
			accepted: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := smtptest.Start(t, tt.opts...)
			m := newMailer(t, s, mailer.Config{Timeout: tt.timeout})
			_, err := m.Send(t.Context(), letter(t, "nobody@city.example", strings.Trim(bad, "<>")))
			e := asError(t, err)
			if e.Kind != tt.kind || e.Code != tt.code || e.Enhanced != tt.enhanced || e.Stage != tt.stage || e.Reply != tt.reply {
				t.Errorf("got kind %v, code %d, enhanced %q, stage %q, reply %q\nwant kind %v, code %d, enhanced %q, stage %q, reply %q",
					e.Kind, e.Code, e.Enhanced, e.Stage, e.Reply, tt.kind, tt.code, tt.enhanced, tt.stage, tt.reply)
			}
			if mailer.KindOf(err) != tt.kind {
				t.Errorf("KindOf = %v, want %v", mailer.KindOf(err), tt.kind)
			}
			if !strings.HasPrefix(err.Error(), "mailer: ") {
				t.Errorf("error text %q lacks the package prefix", err)
			}
			t.Logf("error: %v", err)

			if tt.accepted {
				s.WaitCount(t, 1, 5*time.Second)
				if len(s.Messages()) != 1 || s.Messages()[0].MessageID != bad {
					t.Fatalf("messages = %+v", s.Messages())
				}
				return
			}
			// The failed session was not returned to the pool: the next
			// letter goes through.
			if _, err := m.Send(t.Context(), letter(t, "mayor@city.example", "good@outreach.example")); err != nil {
				t.Fatalf("next send: %v", err)
			}
			if msgs := s.Messages(); len(msgs) != 1 || msgs[0].MessageID != "<good@outreach.example>" {
				t.Fatalf("messages = %+v, want only the good letter", msgs)
			}
		})
	}
}

// TestStaleConnectionRetried: a pooled session the server dropped while it
// was idle fails at MAIL FROM, before any of the message was sent, so the
// next Send retries on a fresh connection and reports nothing.
func TestStaleConnectionRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []smtptest.Option
		drop func(*smtptest.Server)
	}{
		// The server says "421 4.4.2 Idle timeout" and closes, as Postfix does.
		{"idle timeout", []smtptest.Option{smtptest.WithIdleTimeout(300 * time.Millisecond)}, func(*smtptest.Server) {}},
		// The connection vanishes without a word.
		{"dropped", nil, (*smtptest.Server).DropConnections},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := smtptest.Start(t, tt.opts...)
			m := newMailer(t, s, mailer.Config{})
			if _, err := m.Send(t.Context(), letter(t, "mayor@city.example", "first@outreach.example")); err != nil {
				t.Fatalf("first send: %v", err)
			}
			tt.drop(s)
			s.WaitOpen(t, 0, 10*time.Second)
			if _, err := m.Send(t.Context(), letter(t, "mayor@city.example", "second@outreach.example")); err != nil {
				t.Fatalf("send after the server closed the idle session: %v", err)
			}
			if n, c := s.Count(), s.Connections(); n != 2 || c != 2 {
				t.Fatalf("server: %d messages on %d connections, want 2 on 2", n, c)
			}
		})
	}
}

// TestInFlightLetterFinishesAfterCancel: cancelling the context of a Send
// whose DATA has started does not cut the letter off; a Send still waiting
// for a connection gives up with the context's error.
func TestInFlightLetterFinishesAfterCancel(t *testing.T) {
	t.Parallel()
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s := smtptest.Start(t, smtptest.WithDataReply(func(id string, _ int) *smtp.SMTPError {
		if id == "<held@outreach.example>" {
			once.Do(func() { close(arrived) })
			<-release
		}
		return nil
	}))
	releaseHeld := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseHeld) // before the server stops, even if the test fails
	m := newMailer(t, s, mailer.Config{Connections: 1})

	ctx, cancel := context.WithCancel(t.Context())
	type result struct {
		reply string
		err   error
	}
	done := make(chan result, 1)
	held := letter(t, "mayor@city.example", "held@outreach.example")
	go func() {
		reply, err := m.Send(ctx, held)
		done <- result{reply, err}
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the held letter never reached the server")
	}
	cancel() // shutdown begins while the letter is in flight

	// The only connection is busy: a second Send waits for it, and gives
	// up when its context ends.
	ctx2, cancel2 := context.WithCancel(t.Context())
	cancel2()
	_, err := m.Send(ctx2, letter(t, "mayor@city.example", "waiting@outreach.example"))
	if e := asError(t, err); e.Kind != mailer.Temporary || !errors.Is(err, context.Canceled) {
		t.Errorf("waiting send: %v (kind %v), want temporary wrapping context.Canceled", err, e.Kind)
	}

	releaseHeld()
	r := <-done
	if r.err != nil || !strings.HasPrefix(r.reply, "250 ") {
		t.Fatalf("in-flight send: reply %q, err %v; want it delivered", r.reply, r.err)
	}
	if n := s.Count(); n != 1 {
		t.Fatalf("server accepted %d messages, want 1", n)
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t)
	m := newMailer(t, s, mailer.Config{Connections: 2})
	if _, err := m.Send(t.Context(), letter(t, "mayor@city.example", "before-close@outreach.example")); err != nil {
		t.Fatal(err)
	}
	if n := s.Open(); n != 1 {
		t.Fatalf("%d connections open, want the pooled one", n)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	s.WaitOpen(t, 0, 5*time.Second)
	_, err := m.Send(t.Context(), letter(t, "mayor@city.example", "after-close@outreach.example"))
	if !errors.Is(err, mailer.ErrClosed) || mailer.KindOf(err) != mailer.Temporary {
		t.Fatalf("send after close: %v, want temporary ErrClosed", err)
	}
}

func TestUnsendableMessage(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t)
	m := newMailer(t, s, mailer.Config{})
	msg := mail.NewMsg()
	if err := msg.From("campaign@outreach.example"); err != nil {
		t.Fatal(err)
	}
	_, err := m.Send(t.Context(), msg)
	if e := asError(t, err); e.Kind != mailer.Permanent || e.Stage != mailer.StageRcpt {
		t.Fatalf("got %v (kind %v, stage %q), want permanent at rcpt", err, e.Kind, e.Stage)
	}
	if n := s.Connections(); n != 0 {
		t.Errorf("a message without recipients opened %d connections", n)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []mailer.Config{
		{},
		{Host: "smtp.example", TLS: "ssl"},
		{Host: "smtp.example", Port: 70000},
		{Host: "smtp.example", Timeout: -time.Second},
		{Host: "smtp.example", Connections: -1},
		{Host: "smtp.example", HELO: "a\r\nRCPT TO:<x@example>"},
		{Host: "smtp.example", TLSCAFile: "testdata/no-such-ca.pem"},
	} {
		if _, err := mailer.New(cfg); err == nil || !strings.HasPrefix(err.Error(), "mailer: config: ") {
			t.Errorf("New(%+v) = %v, want a config error", cfg, err)
		}
	}
}

// TestNoPlaintextToARemoteRelay checks that TLS "none" reaches only this
// machine: to another host no connection is made, unless AllowPlaintext.
func TestNoPlaintextToARemoteRelay(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		host    string
		allow   bool
		refused bool
	}{
		{"relay.example.org", false, true},
		{"203.0.113.1", false, true},
		// Allowed: the connection is tried (and fails, nothing listens
		// there), not refused.
		{"203.0.113.1", true, false},
	} {
		t.Run(fmt.Sprintf("%s allow=%v", tt.host, tt.allow), func(t *testing.T) {
			t.Parallel()
			m, err := mailer.New(mailer.Config{Host: tt.host, Port: 2525, TLS: mailer.TLSNone, AllowPlaintext: tt.allow,
				Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			_, err = m.Send(t.Context(), letter(t, "mayor@city.example", "plain@outreach.example"))
			e := asError(t, err)
			if e.Stage != mailer.StageConnect || errors.Is(err, plaintext.ErrRefused) != tt.refused {
				t.Errorf("got %v (stage %q), want refused %v", err, e.Stage, tt.refused)
			}
		})
	}
}
