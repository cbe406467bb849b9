package testservers_test

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/testservers"
)

// echoServer answers every line with the same line; it stops with the test.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			})
		}
	})
	return ln.Addr().String()
}

func echo(t *testing.T, conn net.Conn, r *bufio.Reader, msg string) {
	t.Helper()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte(msg + "\n")); err != nil {
		t.Fatalf("write through proxy: %v", err)
	}
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read through proxy: %v", err)
	}
	if got := strings.TrimSpace(line); got != msg {
		t.Fatalf("echo = %q, want %q", got, msg)
	}
}

func TestProxy(t *testing.T) {
	t.Parallel()
	p := testservers.Proxy(t, echoServer(t))

	conn, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	echo(t, conn, r, "hello")

	// DropAll: the open connection ends, a new one works.
	p.DropAll()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("read after DropAll succeeded, want the connection closed")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("connection still open 5s after DropAll")
	}
	conn2, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatalf("dial after DropAll: %v", err)
	}
	defer conn2.Close()
	r2 := bufio.NewReader(conn2)
	echo(t, conn2, r2, "again")

	// SetDown: new connections refused, the open one untouched; back up on
	// the same address.
	p.SetDown(true)
	if c, err := net.DialTimeout("tcp", p.Addr, time.Second); err == nil {
		c.Close()
		t.Fatal("dial while down succeeded, want refused")
	}
	echo(t, conn2, r2, "still here")
	p.SetDown(false)
	conn3, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatalf("dial after SetDown(false): %v", err)
	}
	defer conn3.Close()
	echo(t, conn3, bufio.NewReader(conn3), "back")
}

// A half-close from the client must not lose the reply still on its way.
func TestProxyHalfClose(t *testing.T) {
	t.Parallel()
	p := testservers.Proxy(t, echoServer(t))
	conn, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	if err != nil || string(got) != "last words" {
		t.Fatalf("read = %q, %v; want the echo then EOF", got, err)
	}
}

func TestProxyTargetDown(t *testing.T) {
	t.Parallel()
	p := testservers.Proxy(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(testservers.FreePort(t))))
	conn, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("read succeeded with the target down, want the connection closed")
	}
}

func TestFreePort(t *testing.T) {
	t.Parallel()
	port := testservers.FreePort(t)
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("FreePort returned %d, which cannot be listened on: %v", port, err)
	}
	ln.Close()
}
