// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 for tests: it records what it accepted and can refuse, delay or
// drop messages on cue, so that a client's handling of each outcome is
// tested over a real TCP (and TLS) session.
//
// Each Server keeps its own state and stops at the end of its test, so
// tests using it may run in parallel.
package smtptest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Server is a running test SMTP server.
type Server struct {
	Addr string // "127.0.0.1:PORT"
	Host string // "127.0.0.1"
	Port int

	opts options

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced at every change of the fields below
	msgs     []Message
	count    int
	accepted int
	open     map[*trackedConn]struct{}
	closing  bool
	rcptN    map[string]int // RCPT attempts per lower-cased address
	dataN    map[string]int // DATA attempts per Message-ID

	done chan struct{} // closed when the server stops: ends delays
}

// Message is one message the server accepted: its DATA ended with a 250.
type Message struct {
	From      string
	To        []string
	Data      []byte    // as received, dot-unstuffed
	MessageID string    // the Message-ID header's value, angle brackets included
	Received  time.Time // when the server decided to accept it
	Conn      int       // which connection brought it: 1 for the first accepted, and so on
	TLS       bool      // whether that session was encrypted
	Mechanism string    // the SASL mechanism the session logged in with; empty: none
}

// Option changes how a Server answers.
type Option func(*options)

type options struct {
	rcptReply func(rcpt string, attempt int) *smtp.SMTPError
	dataReply func(msgID string, attempt int) *smtp.SMTPError
	drop      func(msgID string, attempt int) bool
	delay     time.Duration
	cert      *tls.Certificate
	implicit  bool
	user      string
	pass      string
	discard   bool
	idle      time.Duration
	// bearer, when set, requires XOAUTH2 or OAUTHBEARER as user with a
	// token it accepts (see WithOAuth).
	bearer  func(token string) bool
	deliver func(Message) error
}

// WithRcptReply decides the reply to each RCPT TO: nil accepts, an
// *smtp.SMTPError refuses with its code and text. attempt counts the RCPT
// commands for that address (case-insensitively), from 1.
func WithRcptReply(f func(rcpt string, attempt int) *smtp.SMTPError) Option {
	return func(o *options) { o.rcptReply = f }
}

// WithDataReply decides the reply to the end of DATA, after the whole
// message was read, per Message-ID: nil accepts. attempt counts the DATA
// transfers of that Message-ID, from 1. f may block, e.g. to hold a message
// in flight until the test lets it go.
func WithDataReply(f func(msgID string, attempt int) *smtp.SMTPError) Option {
	return func(o *options) { o.dataReply = f }
}

// WithDropInData closes the TCP connection, without a reply, once the
// message's header has been read, when f returns true: the client has sent
// (part of) the message and never hears whether it was taken. attempt is
// counted as for WithDataReply.
func WithDropInData(f func(msgID string, attempt int) bool) Option {
	return func(o *options) { o.drop = f }
}

// WithDelay waits d after reading a message before answering the end of
// its DATA, to keep letters in flight.
func WithDelay(d time.Duration) Option {
	return func(o *options) { o.delay = d }
}

// WithTLS offers STARTTLS with cert. AUTH is then offered only after
// STARTTLS, as submission servers do.
func WithTLS(cert tls.Certificate) Option {
	return func(o *options) { o.cert, o.implicit = &cert, false }
}

// WithImplicitTLS makes the listener speak TLS from the first byte (port
// 465 style).
func WithImplicitTLS(cert tls.Certificate) Option {
	return func(o *options) { o.cert, o.implicit = &cert, true }
}

// WithAuth requires AUTH PLAIN as user with pass before MAIL FROM.
func WithAuth(user, pass string) Option {
	return func(o *options) { o.user, o.pass = user, pass }
}

// WithOAuth requires AUTH XOAUTH2 or OAUTHBEARER as user, with an access
// token valid accepts (an OAuth2 provider's, such as oauthtest's), before
// MAIL FROM. A refused token gets the JSON challenge RFC 7628 describes,
// then 535.
func WithOAuth(user string, valid func(token string) bool) Option {
	return func(o *options) { o.user, o.pass, o.bearer = user, "", valid }
}

// WithIdleTimeout ends a session that sends no command for d, with
// "421 4.4.2 Idle timeout" and a close, as real servers do (Postfix's
// smtpd_timeout).
func WithIdleTimeout(d time.Duration) Option {
	return func(o *options) { o.idle = d }
}

// WithDelivery hands every message the server is about to accept to f,
// as a relay hands mail on (a test can append it to a mailbox): an error
// refuses the message with a 451, as a relay that cannot hand it on does.
func WithDelivery(f func(Message) error) Option {
	return func(o *options) { o.deliver = f }
}

// Discard counts accepted messages without keeping them (Messages stays
// empty), for benchmarks.
func Discard() Option {
	return func(o *options) { o.discard = true }
}

// Start starts a Server on a free port of 127.0.0.1. It is stopped, its
// connections closed and its goroutines ended, when tb's test ends.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{
		changed: make(chan struct{}),
		open:    make(map[*trackedConn]struct{}),
		rcptN:   make(map[string]int),
		dataN:   make(map[string]int),
		done:    make(chan struct{}),
	}
	for _, o := range opts {
		o(&s.opts)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("smtptest: listen: %v", err)
	}
	tcpAddr := ln.Addr().(*net.TCPAddr)
	s.Addr, s.Host, s.Port = tcpAddr.String(), tcpAddr.IP.String(), tcpAddr.Port

	srv := smtp.NewServer(backend{s})
	srv.Domain = "smtptest.localhost"
	// A dropped connection or a client hanging up is what these tests
	// are about; go-smtp would log each to stderr.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout = s.opts.idle
	srv.AllowInsecureAuth = true
	var l net.Listener = &listener{Listener: ln, s: s}
	if s.opts.cert != nil {
		cfg := &tls.Config{Certificates: []tls.Certificate{*s.opts.cert}, MinVersion: tls.VersionTLS12}
		if s.opts.implicit {
			l = tls.NewListener(l, cfg)
		} else {
			srv.TLSConfig = cfg
			srv.AllowInsecureAuth = false
		}
	}

	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(l)
	}()
	tb.Cleanup(func() {
		close(s.done)
		s.mu.Lock()
		s.closing = true
		conns := make([]*trackedConn, 0, len(s.open))
		for c := range s.open {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
		// Shutdown closes the listener and waits for the connections'
		// goroutines, all of which now see closed connections.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("smtptest: shutdown: %v", err)
		}
		// Shutdown closes only the listeners Serve has registered: if
		// the test was quicker than the Serve goroutine's start, ours
		// is not among them yet.
		_ = ln.Close()
		<-served
	})
	return s
}

// Messages returns the accepted messages, in the order they were accepted.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.msgs))
	for i, m := range s.msgs {
		m.To = slices.Clone(m.To)
		m.Data = slices.Clone(m.Data)
		out[i] = m
	}
	return out
}

// Count returns the number of messages accepted so far.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Connections returns the number of connections accepted so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Open returns the number of connections open now.
func (s *Server) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

// WaitCount waits until at least n messages were accepted, and fails the
// test, with the count it saw, if that takes longer than timeout. Call it
// from the test's goroutine.
func (s *Server) WaitCount(tb testing.TB, n int, timeout time.Duration) {
	tb.Helper()
	if !s.waitFor(timeout, func() bool { return s.count >= n }) {
		tb.Fatalf("smtptest: after %v, %d messages accepted, want %d", timeout, s.Count(), n)
	}
}

// WaitOpen waits until exactly n connections are open, and fails the test
// if that takes longer than timeout. Call it from the test's goroutine.
func (s *Server) WaitOpen(tb testing.TB, n int, timeout time.Duration) {
	tb.Helper()
	if !s.waitFor(timeout, func() bool { return len(s.open) == n }) {
		tb.Fatalf("smtptest: after %v, %d connections open, want %d", timeout, s.Open(), n)
	}
}

// DropConnections closes every open connection at once, without a word:
// the server vanished, or a firewall forgot the sessions.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := make([]*trackedConn, 0, len(s.open))
	for c := range s.open {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// waitFor waits until cond, evaluated with s.mu held, is true.
func (s *Server) waitFor(timeout time.Duration, cond func() bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		ok, changed := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-timer.C:
			return false
		}
	}
}

// notify wakes the waiters; s.mu must be held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) deliver(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	if !s.opts.discard {
		s.msgs = append(s.msgs, m)
	}
	s.notify()
}

func (s *Server) attempt(counts map[string]int, key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	counts[key]++
	return counts[key]
}

// listener numbers and tracks the connections it accepts.
type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accepted++
	tc := &trackedConn{Conn: c, s: s, id: s.accepted}
	if s.closing {
		_ = c.Close()
		return tc, nil
	}
	s.open[tc] = struct{}{}
	s.notify()
	return tc, nil
}

type trackedConn struct {
	net.Conn
	s    *Server
	id   int
	once sync.Once
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		delete(c.s.open, c)
		c.s.notify()
	})
	return err
}

// tracked finds our connection under go-smtp's, which may be a *tls.Conn
// around it.
func tracked(c *smtp.Conn) *trackedConn {
	nc := c.Conn()
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	t, _ := nc.(*trackedConn)
	return t
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	ss := &session{s: b.s, c: c}
	if t := tracked(c); t != nil {
		ss.conn = t.id
	}
	_, ss.tls = c.TLSConnectionState()
	return ss, nil
}

// session is one SMTP session; go-smtp calls it from the connection's
// goroutine only.
type session struct {
	s      *Server
	c      *smtp.Conn
	conn   int
	tls    bool
	authed bool
	mech   string
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	switch {
	case ss.s.opts.user == "":
		return nil
	case ss.s.opts.bearer != nil:
		return []string{xoauth2, sasl.OAuthBearer}
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	o := &ss.s.opts
	if o.bearer != nil {
		return ss.bearerAuth(mech)
	}
	if o.user == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if (identity != "" && identity != username) || username != o.user || password != o.pass {
			return smtp.ErrAuthFailed
		}
		ss.authed, ss.mech = true, sasl.Plain
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.user != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	n := ss.s.attempt(ss.s.rcptN, strings.ToLower(to))
	if f := ss.s.opts.rcptReply; f != nil {
		if e := f(to, n); e != nil {
			return e
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

var errDropped = errors.New("smtptest: connection dropped on purpose")

func (ss *session) Data(r io.Reader) error {
	s := ss.s
	o := &s.opts
	var buf bytes.Buffer
	var id string
	var n int
	if !o.discard || o.dataReply != nil || o.drop != nil {
		br := bufio.NewReader(r)
		header, err := readHeader(br)
		if err != nil {
			return err
		}
		id = messageID(header)
		n = s.attempt(s.dataN, id)
		if o.drop != nil && o.drop(id, n) {
			// Close the TCP connection itself, under any TLS, so that
			// not even a TLS alert answers.
			if t := tracked(ss.c); t != nil {
				_ = t.Close()
			} else {
				_ = ss.c.Close()
			}
			return errDropped
		}
		buf.Write(header)
		r = br
	}
	var dst io.Writer = &buf
	if o.discard {
		dst = io.Discard
	}
	if _, err := io.Copy(dst, r); err != nil {
		return err
	}
	if o.delay > 0 {
		t := time.NewTimer(o.delay)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
		}
	}
	if o.dataReply != nil {
		if e := o.dataReply(id, n); e != nil {
			return e
		}
	}
	// Accepted: go-smtp sends the 250 when Data returns nil. Recording
	// before that reply is written is what a real server does too (it
	// queues, then answers), which is why a reply lost on the way makes
	// the client's outcome ambiguous.
	m := Message{From: ss.from, To: slices.Clone(ss.to), MessageID: id, Received: time.Now(), Conn: ss.conn, TLS: ss.tls,
		Mechanism: ss.mech}
	if !o.discard {
		m.Data = buf.Bytes()
	}
	if o.deliver != nil {
		if err := o.deliver(m); err != nil {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "cannot deliver: " + err.Error()}
		}
	}
	s.deliver(m)
	return nil
}

func (ss *session) Reset() {
	ss.from = ""
	ss.to = nil
}

func (ss *session) Logout() error { return nil }

// readHeader reads the message's header up to and including the empty line
// that ends it (or to the end of a message without a body).
func readHeader(br *bufio.Reader) ([]byte, error) {
	var h []byte
	for {
		line, err := br.ReadBytes('\n')
		h = append(h, line...)
		if err == io.EOF {
			return h, nil
		}
		if err != nil {
			return h, err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return h, nil
		}
	}
}

func messageID(header []byte) string {
	h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(header))).ReadMIMEHeader()
	return strings.TrimSpace(h.Get("Message-Id"))
}
