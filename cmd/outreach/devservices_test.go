package main

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// devCopy copies the Makefile and the scripts into a directory of the
// test's own, so that their var/ is the test's, not the user's.
func devCopy(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"Makefile", "scripts/dev-services.sh", "scripts/deps.sh"} {
		b, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runIn runs a command in dir and returns its output; it fails the test
// unless the command succeeds.
func runIn(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// alive tells whether pid runs (a zombie, which no init reaped, does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// TestMakeStopLeavesNoRedisData: `make run` has a Redis of its own under
// var/ (on a port of the test's choosing here, never the system's 6379),
// and `make stop` leaves nothing of it: no process, no files, no keys.
func TestMakeStopLeavesNoRedisData(t *testing.T) {
	root := devCopy(t)
	port := freePort(t)
	env := []string{"OUTREACH_DEV_REDIS_PORT=" + strconv.Itoa(port)}
	t.Cleanup(func() { exec.Command(filepath.Join(root, "scripts/dev-services.sh"), "stop", "redis").Run() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	ctx := context.Background()

	runIn(t, root, env, "scripts/dev-services.sh", "start", "redis")
	b, err := os.ReadFile(filepath.Join(root, "var/redis/redis.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || !alive(pid) {
		t.Fatalf("pidfile %q: no running server (%v)", b, err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	if err := rdb.Set(ctx, "outreach:test:kept", "a letter", 0).Err(); err != nil {
		t.Fatal(err)
	}

	out := runIn(t, root, env, "make", "-s", "stop")
	if !strings.Contains(out, "redis: stopped") {
		t.Errorf("make stop said:\n%s", out)
	}
	if alive(pid) {
		t.Errorf("redis-server (pid %d) still runs after make stop", pid)
	}
	if _, err := os.Stat(filepath.Join(root, "var/redis")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("var/redis is still there after make stop (%v)", err)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("something still answers on %s after make stop", addr)
	}

	// Started again, it has none of the keys of before.
	runIn(t, root, env, "scripts/dev-services.sh", "start", "redis")
	if n, err := rdb.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Errorf("a new server holds %d keys (%v), want none", n, err)
	}
	runIn(t, root, env, "scripts/dev-services.sh", "stop", "redis")
}

// TestRunDepsLeaveOutTheBrowser: what `make run` installs is what running
// needs; the browser is for the tests.
func TestRunDepsLeaveOutTheBrowser(t *testing.T) {
	root := devCopy(t)
	// A Mailpit "present", so that nothing is built.
	env := []string{"OUTREACH_MAILPIT=/bin/true"}
	run := runIn(t, root, env, "scripts/deps.sh", "run")
	if strings.Contains(run, "chromium") || !strings.Contains(run, "redis-server") || !strings.Contains(run, "dovecot-imapd") {
		t.Errorf("deps.sh run:\n%s", run)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "scripts/run.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\nscripts/deps.sh run\n") {
		t.Error("scripts/run.sh does not install with scripts/deps.sh run")
	}
}
