package testservers

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// depsHint ends every "binary not found" failure: CI installs what is
// missing rather than skipping tests.
const depsHint = "run `make deps` (scripts/deps.sh) to install it"

const (
	// startTimeout bounds how long a server may take to come up. It is
	// generous because `go test ./...` runs many packages at once on two
	// cores; a healthy server is ready long before.
	startTimeout = 30 * time.Second
	// stopTimeout is how long a server gets to exit after SIGTERM before
	// its whole process group is killed.
	stopTimeout = 10 * time.Second
	// pollInterval is the pause between two readiness checks.
	pollInterval = 10 * time.Millisecond
	// portAttempts is how often a server is started on a new port when the
	// one FreePort returned was taken in between (a race with other tests).
	portAttempts = 3
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Another process may take it before the caller binds it; the helpers in
// this package retry on a new port when that happens.
func FreePort(tb testing.TB) int {
	tb.Helper()
	port, err := freePort()
	if err != nil {
		tb.Fatalf("testservers: %v", err)
	}
	return port
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func hostPort(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// process is a server started in its own process group, so that stopping it
// also stops the children it forked (Dovecot's login, auth and imap
// processes).
type process struct {
	name string
	cmd  *exec.Cmd
	logs []string // files shown when the server misbehaves

	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, readable once done is closed
}

// startProcess runs bin with args, its stdout and stderr appended to
// outPath. logs are extra log files the server writes itself.
func startProcess(name, outPath string, logs []string, env []string, bin string, args ...string) (*process, error) {
	out, err := os.OpenFile(outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer out.Close() // the child has its own copy

	cmd := exec.Command(bin, args...)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// When the test binary dies without running cleanups (a panic, or
		// go test's timeout), the server must not live on. Dovecot's
		// children follow their master by themselves.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{
		name: name,
		cmd:  cmd,
		logs: append([]string{outPath}, logs...),
		done: make(chan struct{}),
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL if the server is
// still there after stopTimeout. It returns once the leader has exited.
func (p *process) stop() error {
	if p.exited() {
		return nil
	}
	pgid := p.cmd.Process.Pid
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s: %w", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("stop %s: still running %v after SIGTERM, killed", p.name, stopTimeout)
	}
	// Children that outlive their master (they notice its death only on
	// their next read of the master pipe) must not keep ports or files.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	return nil
}

// kill ends the whole process group at once, for cleanup: the data is
// about to be removed, and Dovecot's orderly shutdown sometimes takes a
// second.
func (p *process) kill() {
	if !p.exited() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // children that outlived the leader
}

// waitReady polls check until it succeeds, the process exits or the
// timeout passes.
func (p *process) waitReady(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s exited before it was ready (%v); last check: %w", p.name, p.err, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %w", p.name, timeout, err)
		}
		select {
		case <-p.done:
		case <-time.After(pollInterval):
		}
	}
}

// portTaken reports whether the server's logs say its port was in use,
// the one start failure worth retrying on another port.
func (p *process) portTaken() bool {
	for _, path := range p.logs {
		b, err := os.ReadFile(path)
		if err == nil && strings.Contains(strings.ToLower(string(b)), "address already in use") {
			return true
		}
	}
	return false
}

// logTail formats the last lines of the server's log files for a failure
// message.
func (p *process) logTail() string {
	return logTail(p.logs...)
}

func logTail(paths ...string) string {
	const maxLines = 40
	var sb strings.Builder
	for _, path := range paths {
		fmt.Fprintf(&sb, "\n--- %s", path)
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintf(&sb, " (%v)", err)
			continue
		}
		var lines []string
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if len(lines) > maxLines {
				lines = lines[1:]
			}
		}
		f.Close()
		if len(lines) == 0 {
			sb.WriteString(" (empty)")
		}
		for _, l := range lines {
			sb.WriteString("\n" + l)
		}
	}
	return sb.String()
}

// lookBinary finds the first of candidates that exists: names are looked up
// in $PATH, absolute paths are taken as they are.
func lookBinary(candidates ...string) (string, error) {
	for _, c := range candidates {
		if filepath.IsAbs(c) {
			if st, err := os.Stat(c); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return c, nil
			}
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("none of %s found", strings.Join(candidates, ", "))
}

// moduleRoot walks up from the working directory (a test's package
// directory) to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// cleanEnv is the environment for a server: ours minus the variables with
// the given prefix, which would otherwise reconfigure it behind our back
// (Mailpit reads MP_*).
func cleanEnv(dropPrefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if dropPrefix != "" && strings.HasPrefix(kv, dropPrefix) {
			continue
		}
		env = append(env, kv)
	}
	return env
}
