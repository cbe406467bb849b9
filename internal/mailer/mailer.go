// Package mailer delivers letters over SMTP with go-mail, reusing a small
// pool of connections, and shares sending rate limits between workers
// through Redis (Limiter).
//
// Its errors (*Error) sort every failure into Temporary, Permanent or
// Ambiguous, so that the queue retries what is safe to retry, gives up on
// what the server refused, and leaves to staff the letters that may or may
// not have been accepted: no letter twice, no letter lost.
package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/outreach-campaign/outreach/internal/mailtls"
	"github.com/outreach-campaign/outreach/internal/plaintext"
)

// TLS modes of Config.TLS.
const (
	TLSStartTLS = "starttls" // plain connect, then mandatory STARTTLS (submission, port 587)
	TLSImplicit = "tls"      // TLS from the first byte (submissions, port 465)
	TLSNone     = "none"     // no TLS at all: only for a relay on this machine, unless AllowPlaintext
)

const (
	defaultTimeout = 30 * time.Second

	// maxIdle is how long a pooled connection may sit unused before it is
	// closed instead of reused. Servers must wait at least five minutes
	// for the next command (RFC 5321 4.5.3.2.7) but busy ones cut idle
	// sessions much sooner; closing ours first keeps the stale-connection
	// retry in Send a rare path and frees the relay's session slots.
	maxIdle = 30 * time.Second

	// quitTimeout bounds the polite QUIT before a connection is closed.
	quitTimeout = 5 * time.Second
)

// ErrClosed is the Err of the *Error that Send returns after Close.
var ErrClosed = errors.New("mailer is closed")

// Config says how to reach and talk to the organisation's SMTP server.
type Config struct {
	Host string
	Port int // 0: 587 for starttls, 465 for tls, 25 for none
	// TLS is "starttls" (the default: STARTTLS is required, a server that
	// does not offer it is an error, never a reason to send in clear),
	// "tls" (implicit TLS) or "none" (a relay on this machine).
	TLS string
	// AllowPlaintext lets TLS "none" reach a host that is not this
	// machine (a relay on a private network); without it no connection
	// is made to such a host (see package plaintext).
	AllowPlaintext bool
	Username       string // empty: no authentication
	Password       string
	// Timeout bounds the dial with the session's greeting, EHLO,
	// STARTTLS and AUTH, and then each message's whole transaction
	// (go-mail sets one deadline per Send, from MAIL FROM to the reply to
	// the final "."). 0 means 30s.
	Timeout     time.Duration
	HELO        string      // name given in EHLO; empty: this machine's host name
	Connections int         // most SMTP sessions open at once (the pool's size); 0 means 1
	TLSConfig   *tls.Config // optional; ServerName defaults to Host
	// TLSCAFile, when set, is a PEM file of the CA (or CAs) the server's
	// certificate must chain to, instead of the system's roots
	// (smtp.tls_ca_file). TLSServerName, when set, is the name the
	// certificate must hold instead of Host (smtp.tls_server_name).
	// Certificates are always verified.
	TLSCAFile, TLSServerName string
	// SASL, when set, logs each new session in with the client it returns
	// (XOAUTH2 or OAUTHBEARER with a fresh access token: see package
	// oauth) instead of Username and Password.
	SASL func(ctx context.Context) (sasl.Client, error)
	// DKIM, when set, signs every message sent (see DKIM).
	DKIM *DKIM
}

// Mailer sends messages through a pool of up to Config.Connections SMTP
// sessions. It is safe for concurrent use.
//
// One go-mail Client is one connection whose Send is serialised, so the
// pool holds the *smtp.Client of each session while a single mail.Client
// holds the configuration and does the dialling
// (DialToSMTPClientWithContext and SendWithSMTPClient are go-mail's API for
// exactly this).
type Mailer struct {
	cfg    Config
	tls    *tls.Config // nil for TLSNone
	client *mail.Client

	slots chan struct{} // one token per session in use: the pool's size
	done  chan struct{} // closed by Close: wakes Sends waiting for a slot

	mu     sync.Mutex
	idle   []*conn // sessions ready for reuse, most recently used last
	closed bool
}

// conn is one SMTP session of the pool.
type conn struct {
	sc       *smtp.Client
	raw      net.Conn // what we dialled: closing it ends the session whatever state it is in
	lastUsed time.Time
	broken   bool // delivered a message but failed after it: not to be reused
}

// New checks cfg and prepares a Mailer; it dials nothing until the first
// Send.
func New(cfg Config) (*Mailer, error) {
	if cfg.Host == "" {
		return nil, errors.New("mailer: config: host is empty")
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.Port == 0 {
		switch cfg.TLS {
		case TLSStartTLS:
			cfg.Port = 587
		case TLSImplicit:
			cfg.Port = 465
		case TLSNone:
			cfg.Port = 25
		}
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("mailer: config: port %d out of range", cfg.Port)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("mailer: config: negative timeout %v", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Connections < 0 {
		return nil, fmt.Errorf("mailer: config: negative connections %d", cfg.Connections)
	}
	if cfg.Connections == 0 {
		cfg.Connections = 1
	}
	if strings.ContainsAny(cfg.HELO, "\r\n") {
		return nil, errors.New("mailer: config: line break in HELO")
	}
	if cfg.DKIM != nil {
		if err := cfg.DKIM.check(); err != nil {
			return nil, fmt.Errorf("mailer: config: %w", err)
		}
	}

	m := &Mailer{
		cfg:   cfg,
		slots: make(chan struct{}, cfg.Connections),
		done:  make(chan struct{}),
	}
	opts := []mail.Option{
		mail.WithPort(cfg.Port),
		mail.WithTimeout(cfg.Timeout),
		// Our own dialler: go-mail v0.8.1 leaves the connection open when
		// the greeting, EHLO or STARTTLS fail, and gives no access to it
		// afterwards; dialling ourselves lets us close it (see dial).
		mail.WithDialContextFunc(m.dialContext),
		// No NOOP before each message: it costs a round trip per letter
		// (35-65% of throughput on loopback). A session the server has
		// dropped while idle shows up at MAIL FROM instead, where Send
		// retries it once on a fresh connection.
		mail.WithoutNoop(),
		// No RSET after each message: a completed DATA already ends the
		// transaction (RFC 5321 4.1.1.4). It also removes a trap: go-mail
		// reports a failed RSET as a send error although the message was
		// accepted just before it.
		mail.WithoutRset(),
	}
	switch cfg.TLS {
	case TLSStartTLS, TLSImplicit:
		t, err := mailtls.Config(cfg.TLSConfig, cfg.Host, cfg.TLSCAFile, cfg.TLSServerName)
		if err != nil {
			return nil, fmt.Errorf("mailer: config: %w", err)
		}
		m.tls = t
		if cfg.TLS == TLSStartTLS {
			opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithTLSConfig(m.tls))
		} else {
			// With a custom dialler go-mail does not do implicit TLS
			// itself: dialContext does. WithSSL only keeps go-mail from
			// looking for STARTTLS inside the TLS session.
			opts = append(opts, mail.WithSSL())
		}
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		return nil, fmt.Errorf("mailer: config: tls %q is not starttls, tls or none", cfg.TLS)
	}
	if cfg.HELO != "" {
		opts = append(opts, mail.WithHELO(cfg.HELO))
	}
	// Authentication is not left to go-mail: see authenticate.
	client, err := mail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mailer: config: %w", err)
	}
	m.client = client
	return m, nil
}

// Send delivers msg and returns the server's reply to the end of its data
// ("250 2.0.0 Ok: queued as ..."), which usually names the relay's queue
// id. On failure the error is an *Error whose Kind says whether to retry.
//
// ctx bounds only the wait for a free connection and the dial. Once a
// session is ours the transaction runs to its end, bounded by
// Config.Timeout and not by ctx: cutting a letter off halfway through DATA
// at shutdown would turn a clean send into an Ambiguous one.
//
// A session reused from the pool that turns out dead at MAIL FROM (the
// server dropped it while it was idle) is replaced by a fresh one and the
// message sent again, once, without reporting anything: nothing of the
// message had been sent.
func (m *Mailer) Send(ctx context.Context, msg *mail.Msg) (reply string, err error) {
	if e := checkMsg(msg); e != nil {
		return "", e
	}
	if m.cfg.DKIM != nil {
		// Signed once, before any connection: the stale-session retry
		// below sends the same signed message.
		if err := m.cfg.DKIM.sign(msg); err != nil {
			return "", &Error{Kind: Permanent, Stage: StageContent, Err: err}
		}
	}
	return m.session(ctx, func(c *conn) (string, *Error) { return m.sendOn(c, msg) })
}

// session runs send on a pooled session, or on a new one when a reused
// session turns out to have died while idle.
func (m *Mailer) session(ctx context.Context, send func(c *conn) (string, *Error)) (string, error) {
	if err := m.acquire(ctx); err != nil {
		return "", connectError(err)
	}
	defer m.release()

	c, reused, err := m.get(ctx)
	if err != nil {
		return "", connectError(err)
	}
	reply, e := send(c)
	if e != nil && reused && stale(e) {
		m.discard(c, e)
		if c, err = m.dial(ctx); err != nil {
			return "", connectError(err)
		}
		reply, e = send(c)
	}
	if e != nil {
		m.discard(c, e)
		return "", e
	}
	m.put(c)
	return reply, nil
}

// stale tells a session that died while idle: its first command of a new
// transaction fails without a reply, or with the 421 a server sends when
// it times an idle session out just before closing it.
func stale(e *Error) bool {
	return e.Stage == StageMail && (e.Code == 0 || e.Code == 421)
}

// sendOn runs one transaction on c.
func (m *Mailer) sendOn(c *conn, msg *mail.Msg) (string, *Error) {
	err := m.client.SendWithSMTPClient(c.sc, msg)
	if err != nil {
		var se *mail.SendError
		if errors.As(err, &se) && se.Reason == mail.ErrSMTPReset {
			// RSET comes only after the server accepted the message
			// (and WithoutRset should keep it from being sent at
			// all): the letter is delivered, only the session is
			// suspect. Reporting an error would invite a duplicate.
			c.broken = true
			return "250 " + msg.ServerResponse(), nil
		}
		return "", classifySend(err, msg)
	}
	// go-mail keeps the text of the reply to the final "." and drops its
	// code, which can only be 250 (it reads the reply expecting exactly
	// that).
	return "250 " + msg.ServerResponse(), nil
}

// checkMsg refuses a message that no server could take, before using a
// connection for it.
func checkMsg(msg *mail.Msg) *Error {
	if msg == nil {
		return &Error{Kind: Permanent, Stage: StageMail, Err: errors.New("nil message")}
	}
	if _, err := msg.GetSender(false); err != nil {
		return &Error{Kind: Permanent, Stage: StageMail, Err: fmt.Errorf("message has no sender: %w", err)}
	}
	if _, err := msg.GetRecipients(); err != nil {
		return &Error{Kind: Permanent, Stage: StageRcpt, Err: fmt.Errorf("message has no recipient: %w", err)}
	}
	return nil
}

// acquire waits for one of the pool's slots.
func (m *Mailer) acquire(ctx context.Context) error {
	select {
	case <-m.done:
		return ErrClosed
	default:
	}
	select {
	case m.slots <- struct{}{}:
		return nil
	case <-m.done:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("waiting for a connection: %w", ctx.Err())
	}
}

func (m *Mailer) release() { <-m.slots }

// get returns an idle session, or dials a new one. reused says which, for
// the stale-session retry.
func (m *Mailer) get(ctx context.Context) (c *conn, reused bool, err error) {
	var old []*conn
	m.mu.Lock()
	for len(m.idle) > 0 && c == nil {
		last := m.idle[len(m.idle)-1]
		m.idle = m.idle[:len(m.idle)-1]
		if time.Since(last.lastUsed) > maxIdle {
			old = append(old, last)
			continue
		}
		c = last
	}
	m.mu.Unlock()
	for _, o := range old {
		_ = m.quit(o)
	}
	if c != nil {
		return c, true, nil
	}
	c, err = m.dial(ctx)
	return c, false, err
}

// put returns a healthy session to the pool, or ends it after Close.
func (m *Mailer) put(c *conn) {
	if c.broken {
		_ = m.quit(c)
		return
	}
	c.lastUsed = time.Now()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		_ = m.quit(c)
		return
	}
	m.idle = append(m.idle, c)
	m.mu.Unlock()
}

// discard ends a session after an error; it never returns to the pool,
// since after an error we cannot be sure what state it is in. A session
// whose server still answered (e.Code != 0) gets a QUIT first.
func (m *Mailer) discard(c *conn, e *Error) {
	if e.Code != 0 {
		_ = m.quit(c)
		return
	}
	_ = c.raw.Close()
}

// quit ends a session politely, then closes its connection whatever the
// server answered.
func (m *Mailer) quit(c *conn) error {
	err := c.sc.UpdateDeadline(min(m.cfg.Timeout, quitTimeout))
	if err == nil {
		err = c.sc.Quit()
	}
	if cerr := c.raw.Close(); cerr != nil && err == nil && !errors.Is(cerr, net.ErrClosed) {
		err = cerr
	}
	return err
}

// Close ends the idle sessions with QUIT and makes further Sends fail with
// ErrClosed. Sessions in use finish their message and are ended when they
// come back; Close does not wait for them.
func (m *Mailer) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	close(m.done)
	idle := m.idle
	m.idle = nil
	m.mu.Unlock()

	var errs []error
	for _, c := range idle {
		if err := m.quit(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mailer: close: %w", err)
	}
	return nil
}

// dialSlot carries the connection dialContext made back to dial, through
// the context go-mail passes along.
type dialSlot struct{ conn net.Conn }

type dialSlotKey struct{}

// dial opens one session: TCP (and TLS for TLSImplicit) in dialContext,
// then go-mail's greeting, EHLO and STARTTLS, then our AUTH.
func (m *Mailer) dial(ctx context.Context) (*conn, error) {
	// Credentials first: without them the server is not bothered.
	var auth sasl.Client
	if m.cfg.SASL != nil {
		var err error
		if auth, err = m.cfg.SASL(ctx); err != nil {
			return nil, fmt.Errorf("connect to %s: auth: %w", m.client.ServerAddr(), err)
		}
	}
	slot := &dialSlot{}
	sc, err := m.client.DialToSMTPClientWithContext(context.WithValue(ctx, dialSlotKey{}, slot))
	if err != nil {
		if slot.conn != nil {
			_ = slot.conn.Close()
		}
		// A refused certificate is a setting to change, not a network
		// hiccup: say which.
		return nil, fmt.Errorf("connect to %s: %w", m.client.ServerAddr(), mailtls.Explain(err, "smtp"))
	}
	if slot.conn == nil {
		// Cannot happen: go-mail dials through dialContext.
		return nil, errors.New("dialled connection not seen")
	}
	if auth != nil {
		if err := authenticateSASL(sc, auth); err != nil {
			_ = slot.conn.Close()
			return nil, fmt.Errorf("connect to %s: %w", m.client.ServerAddr(), err)
		}
	} else if m.cfg.Username != "" {
		if err := m.authenticate(sc); err != nil {
			_ = slot.conn.Close()
			return nil, fmt.Errorf("connect to %s: %w", m.client.ServerAddr(), err)
		}
	}
	return &conn{sc: sc, raw: slot.conn}, nil
}

func (m *Mailer) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if m.cfg.TLS == TLSNone {
		if err := plaintext.Check(m.cfg.Host, m.cfg.AllowPlaintext); err != nil {
			return nil, fmt.Errorf("letters would travel in clear: %w", err)
		}
	}
	var d net.Dialer
	var c net.Conn
	var err error
	if m.cfg.TLS == TLSImplicit {
		c, err = (&tls.Dialer{NetDialer: &d, Config: m.tls}).DialContext(ctx, network, addr)
	} else {
		c, err = d.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, err
	}
	if slot, ok := ctx.Value(dialSlotKey{}).(*dialSlot); ok {
		slot.conn = c
	}
	return c, nil
}

// authenticate logs in with PLAIN, or LOGIN when the server offers only
// that (some large providers do).
//
// go-mail's own choices do not fit here. SMTPAuthAutoDiscover refuses
// PLAIN and LOGIN on any connection it does not consider encrypted, which
// includes a relay on localhost, and it judges encryption by a flag that is
// set only when go-mail dialled TLS itself: with our dialler an implicit TLS
// session would look unencrypted. A fixed SMTPAuthPlain fails on
// LOGIN-only servers. The mechanisms used here (go-mail's smtp.PlainAuth
// and smtp.LoginAuth) still refuse to send the password unless the session
// is TLS or the host is literally localhost, 127.0.0.1 or ::1, so a
// misconfigured "none" never leaks it over the network.
func (m *Mailer) authenticate(sc *smtp.Client) error {
	ok, offered := sc.Extension("AUTH")
	if !ok {
		return errors.New("auth: server offers no AUTH (over TLS only, perhaps?)")
	}
	mechs := strings.Fields(strings.ToUpper(offered))
	var a smtp.Auth
	switch {
	case slices.Contains(mechs, "PLAIN"):
		a = smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.cfg.Host, false)
	case slices.Contains(mechs, "LOGIN"):
		a = smtp.LoginAuth(m.cfg.Username, m.cfg.Password, m.cfg.Host, false)
	default:
		return fmt.Errorf("auth: server offers neither PLAIN nor LOGIN (%s)", offered)
	}
	if err := sc.Auth(a); err != nil {
		return fmt.Errorf("auth as %s: %w", m.cfg.Username, err)
	}
	return nil
}
