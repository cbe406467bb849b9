package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"time"
)

// Steps of a Check, as CheckError.Step names them.
const (
	CheckConnect = "connect" // TCP, and the server's greeting
	CheckTLS     = "tls"     // the TLS handshake: implicit, or after STARTTLS
	CheckAuth    = "auth"    // logging in with the configured credentials
)

// CheckError says at which step a Check failed.
type CheckError struct {
	Step string
	Err  error
}

func (e *CheckError) Error() string { return fmt.Sprintf("mailer: check: %s: %v", e.Step, e.Err) }
func (e *CheckError) Unwrap() error { return e.Err }

// Report is what a Check saw of the server.
type Report struct {
	// Greeting is the text of the server's 220 greeting, which often
	// names its software ("... Mailpit ESMTP Service ready").
	Greeting string
	// TLS is the negotiated version ("TLS 1.3"), empty without TLS.
	TLS string
	// Authenticated is true when the server accepted the credentials; it
	// stays false when no username is configured.
	Authenticated bool
}

// Check opens one session as Send would (the same dialler, TLS policy and
// authentication), step by step so that a failure names its step, and ends
// it with QUIT. It sends no message. A first connection reaches the server
// and reads its greeting; a second runs the session up to AUTH.
func (m *Mailer) Check(ctx context.Context) (Report, error) {
	var rep Report
	addr := net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.Port))
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()

	// TCP alone first, so that an unreachable server is not taken for a
	// failed TLS handshake.
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return rep, &CheckError{CheckConnect, err}
	}
	_ = raw.Close()

	c, err := m.dialContext(ctx, "tcp", addr)
	if err != nil {
		step := CheckConnect
		if m.cfg.TLS == TLSImplicit {
			step = CheckTLS
		}
		return rep, &CheckError{step, err}
	}
	greeting, err := readGreeting(c, time.Now().Add(m.cfg.Timeout))
	_ = c.Close()
	if err != nil {
		return rep, &CheckError{CheckConnect, fmt.Errorf("greeting: %w", err)}
	}
	rep.Greeting = greeting

	slot := &dialSlot{}
	sc, err := m.client.DialToSMTPClientWithContext(context.WithValue(ctx, dialSlotKey{}, slot))
	if err != nil {
		if slot.conn != nil {
			_ = slot.conn.Close()
		}
		step := CheckConnect
		if m.cfg.TLS == TLSStartTLS {
			step = CheckTLS // greeting and EHLO went well on the first connection
		}
		return rep, &CheckError{step, err}
	}
	s := &conn{sc: sc, raw: slot.conn}
	defer func() { _ = m.quit(s) }()
	if st, ok := sc.TLSConnectionState(); ok {
		rep.TLS = tls.VersionName(st.Version)
	} else if tc, ok := slot.conn.(*tls.Conn); ok {
		rep.TLS = tls.VersionName(tc.ConnectionState().Version)
	}
	if m.cfg.TLS != TLSNone && rep.TLS == "" {
		// Cannot happen with go-mail's mandatory policy; never report a
		// session in clear as encrypted.
		return rep, &CheckError{CheckTLS, errors.New("the session is not encrypted")}
	}
	if m.cfg.Username != "" {
		if err := m.authenticate(sc); err != nil {
			return rep, &CheckError{CheckAuth, err}
		}
		rep.Authenticated = true
	}
	return rep, nil
}

// readGreeting reads the server's first reply, which must be a 220, and
// says goodbye.
func readGreeting(c net.Conn, deadline time.Time) (string, error) {
	_ = c.SetDeadline(deadline)
	tp := textproto.NewConn(c)
	_, msg, err := tp.ReadResponse(220)
	if err != nil {
		return msg, err
	}
	_ = tp.PrintfLine("QUIT")
	return msg, nil
}
