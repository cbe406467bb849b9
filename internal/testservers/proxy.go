package testservers

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// TCPProxy forwards connections from Addr to a target, and lets a test cut
// them or refuse new ones: a network failure or a dead server as the client
// under test sees it, while the real server keeps running.
type TCPProxy struct {
	Addr   string // "127.0.0.1:PORT"
	target string
	tb     testing.TB

	mu     sync.Mutex
	ln     net.Listener // nil while down
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Proxy starts a TCP proxy on a free 127.0.0.1 port to target. It is closed,
// with all its connections, when the test ends.
func Proxy(tb testing.TB, target string) *TCPProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testservers: start proxy to %s: %v", target, err)
	}
	p := &TCPProxy{
		Addr:   ln.Addr().String(),
		target: target,
		tb:     tb,
		ln:     ln,
		conns:  map[net.Conn]struct{}{},
	}
	p.wg.Go(func() { p.serve(ln) })
	tb.Cleanup(p.close)
	return p
}

// DropAll closes every open connection, on both sides: the client and the
// target each see the connection closed by the other end. New connections
// are still accepted (see SetDown).
func (p *TCPProxy) DropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// SetDown(true) stops listening, so that new connections are refused as by
// a stopped server; open connections stay (call DropAll as well to cut
// them). SetDown(false) listens again on the same address.
func (p *TCPProxy) SetDown(down bool) {
	p.tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || down == (p.ln == nil) {
		return
	}
	if down {
		p.ln.Close()
		p.ln = nil
		return
	}
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		// Someone took the port while we were down: rare, and the test
		// cannot go on meaningfully. Errorf, not Fatalf: SetDown may be
		// called from any goroutine.
		p.tb.Errorf("testservers: proxy: listen again on %s: %v", p.Addr, err)
		return
	}
	p.ln = ln
	p.wg.Go(func() { p.serve(ln) })
}

func (p *TCPProxy) serve(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return // SetDown or close
			}
			continue
		}
		p.wg.Go(func() { p.forward(client) })
	}
}

func (p *TCPProxy) forward(client net.Conn) {
	upstream, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		client.Close() // the client sees what it would see from a dead server
		return
	}
	if !p.track(client, upstream) {
		client.Close()
		upstream.Close()
		return
	}
	defer p.untrack(client, upstream)

	var wg sync.WaitGroup
	wg.Go(func() { pipe(upstream, client) })
	wg.Go(func() { pipe(client, upstream) })
	wg.Wait()
	client.Close()
	upstream.Close()
}

// pipe copies until src ends. A clean end is passed on as a half-close, so
// that a reply still in flight the other way is not lost; an error closes
// both, which also ends the copy in the other direction.
func pipe(dst, src net.Conn) {
	_, err := io.Copy(dst, src)
	if tcp, ok := dst.(*net.TCPConn); ok && err == nil {
		_ = tcp.CloseWrite()
		return
	}
	dst.Close()
	src.Close()
}

func (p *TCPProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *TCPProxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.conns, c)
	}
}

func (p *TCPProxy) close() {
	p.mu.Lock()
	p.closed = true
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
