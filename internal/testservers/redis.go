package testservers

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Redis starts a private redis-server on a free 127.0.0.1 port, with its
// files in a temporary directory and no persistence, and returns its
// address ("127.0.0.1:PORT"). The server is stopped when the test ends.
//
// A private server rather than the shared one on 6379 lets tests flush it,
// fill it and kill it without disturbing other packages running at the same
// time.
func Redis(tb testing.TB) string {
	tb.Helper()
	bin, err := lookBinary("redis-server", "/usr/bin/redis-server")
	if err != nil {
		tb.Fatalf("testservers: redis-server not found (%v): %s", err, depsHint)
	}
	dir := tb.TempDir()

	var lastErr error
	for attempt := range portAttempts {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("testservers: start redis: %v", err)
		}
		addr := hostPort(port)
		logPath := filepath.Join(dir, fmt.Sprintf("redis-%d.log", attempt))
		p, err := startProcess("redis-server", filepath.Join(dir, "redis.out"), []string{logPath},
			os.Environ(), bin,
			"--port", strconv.Itoa(port),
			"--bind", "127.0.0.1",
			"--dir", dir,
			"--save", "",
			"--appendonly", "no",
			"--daemonize", "no",
			"--logfile", logPath,
		)
		if err != nil {
			tb.Fatalf("testservers: start redis: %v", err)
		}
		err = p.waitReady(startTimeout, func() error { return redisPing(addr) })
		if err == nil {
			tb.Cleanup(p.kill)
			return addr
		}
		p.kill()
		lastErr = fmt.Errorf("%w%s", err, p.logTail())
		if !p.portTaken() {
			break
		}
	}
	tb.Fatalf("testservers: start redis: %v", lastErr)
	return ""
}

// redisPing speaks just enough RESP to tell that the server answers, so
// that this package needs no Redis client.
func redisPing(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line = strings.TrimSpace(line); line != "+PONG" {
		return fmt.Errorf("PING answered %q", line) // e.g. -LOADING while starting
	}
	return nil
}
