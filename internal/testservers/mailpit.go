package testservers

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Mailpit is built from source, pinned; scripts/deps.sh builds the same.
const (
	mailpitModule  = "github.com/axllent/mailpit"
	mailpitVersion = "v1.33.1"
	// mailpitPage is how many message summaries one API call returns.
	mailpitPage = 200
)

// MailpitServer is a private Mailpit: an SMTP server that keeps every
// message it receives and shows them through an HTTP API.
type MailpitServer struct {
	SMTPHost string // "127.0.0.1"
	SMTPPort int
	APIURL   string // "http://127.0.0.1:PORT", no trailing slash

	proc   *process
	client *http.Client
}

// MailpitMessage is the summary of one received message.
type MailpitMessage struct {
	ID        string // Mailpit's database ID, for Raw
	MessageID string // the Message-ID header, without angle brackets
	From      string // address only
	To        []string
	Subject   string
	Created   time.Time // when Mailpit received it
}

// Mailpit starts a private Mailpit on two free 127.0.0.1 ports with its
// database in a temporary directory. SMTP needs no authentication, but
// accepts any user name and password, without TLS, for clients that insist
// on authenticating. The server is stopped when the test ends.
//
// The binary is $OUTREACH_MAILPIT, or var/bin/mailpit under the module
// root, built there (once, under a file lock) when missing.
func Mailpit(tb testing.TB) *MailpitServer {
	tb.Helper()
	bin := mailpitBinary(tb)
	dir := tb.TempDir()

	var lastErr error
	for attempt := range portAttempts {
		smtpPort, err := freePort()
		if err != nil {
			tb.Fatalf("testservers: start mailpit: %v", err)
		}
		httpPort, err := freePort()
		if err != nil {
			tb.Fatalf("testservers: start mailpit: %v", err)
		}
		m := &MailpitServer{
			SMTPHost: "127.0.0.1",
			SMTPPort: smtpPort,
			APIURL:   "http://" + hostPort(httpPort),
			client:   &http.Client{Timeout: 10 * time.Second},
		}
		logPath := filepath.Join(dir, fmt.Sprintf("mailpit-%d.log", attempt))
		p, err := startProcess("mailpit", filepath.Join(dir, "mailpit.out"), []string{logPath},
			cleanEnv("MP_"), bin,
			"--smtp", hostPort(smtpPort),
			"--listen", hostPort(httpPort),
			"--database", filepath.Join(dir, fmt.Sprintf("mailpit-%d.db", attempt)),
			"--log-file", logPath,
			// The default keeps only the newest 500 messages, pruned in the
			// background: a bulk test would see its count shrink.
			"--max", "0",
			"--smtp-auth-accept-any",
			"--smtp-auth-allow-insecure",
			// No network here: no reverse DNS for clients, no update check.
			"--smtp-disable-rdns",
			"--disable-version-check",
		)
		if err != nil {
			tb.Fatalf("testservers: start mailpit: %v", err)
		}
		err = p.waitReady(startTimeout, m.ready)
		if err == nil {
			m.proc = p
			tb.Cleanup(p.kill)
			return m
		}
		p.kill()
		lastErr = fmt.Errorf("%w%s", err, p.logTail())
		if !p.portTaken() {
			break
		}
	}
	tb.Fatalf("testservers: start mailpit: %v", lastErr)
	return nil
}

// SMTPAddr is SMTPHost:SMTPPort.
func (m *MailpitServer) SMTPAddr() string { return hostPort(m.SMTPPort) }

// ready checks both listeners: the API reports ready before the SMTP
// server, started in its own goroutine, listens.
func (m *MailpitServer) ready() error {
	resp, err := m.client.Get(m.APIURL + "/readyz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz: %s", resp.Status)
	}
	conn, err := net.DialTimeout("tcp", m.SMTPAddr(), time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read SMTP greeting: %w", err)
	}
	if !strings.HasPrefix(line, "220") {
		return fmt.Errorf("SMTP greeting %q", strings.TrimSpace(line))
	}
	_, _ = conn.Write([]byte("QUIT\r\n"))
	return nil
}

// mailpitSummary is the part of Mailpit's message summary we read.
type mailpitSummary struct {
	ID        string
	MessageID string
	From      *mailpitAddress
	To        []mailpitAddress
	Subject   string
	Created   time.Time
}

type mailpitAddress struct {
	Name    string
	Address string
}

type mailpitList struct {
	Total    int              `json:"total"`
	Start    int              `json:"start"`
	Messages []mailpitSummary `json:"messages"`
}

// Messages returns every stored message in arrival order. Mailpit lists
// newest first, one page at a time; pages are read until the total is
// reached. Call it once sending has finished (see WaitCount): messages
// arriving while it pages may be missed.
func (m *MailpitServer) Messages(tb testing.TB) []MailpitMessage {
	tb.Helper()
	var (
		out  []MailpitMessage
		seen = map[string]bool{}
	)
	for start := 0; ; {
		var page mailpitList
		m.getJSON(tb, "/api/v1/messages?start="+strconv.Itoa(start)+"&limit="+strconv.Itoa(mailpitPage), &page)
		for _, s := range page.Messages {
			if seen[s.ID] {
				continue // shifted by a message that arrived meanwhile
			}
			seen[s.ID] = true
			msg := MailpitMessage{ID: s.ID, MessageID: s.MessageID, Subject: s.Subject, Created: s.Created}
			if s.From != nil {
				msg.From = s.From.Address
			}
			for _, a := range s.To {
				msg.To = append(msg.To, a.Address)
			}
			out = append(out, msg)
		}
		start += len(page.Messages)
		if len(page.Messages) == 0 || start >= page.Total {
			break
		}
	}
	slices.Reverse(out)
	return out
}

// Raw returns the message's source as received.
func (m *MailpitServer) Raw(tb testing.TB, id string) []byte {
	tb.Helper()
	resp, err := m.client.Get(m.APIURL + "/api/v1/message/" + url.PathEscape(id) + "/raw")
	if err != nil {
		tb.Fatalf("testservers: mailpit raw %s: %v", id, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("testservers: mailpit raw %s: %v", id, err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("testservers: mailpit raw %s: %s: %s", id, resp.Status, shorten(body))
	}
	return body
}

// WaitCount waits until Mailpit holds at least n messages and returns the
// count it saw; it fails with the count seen when timeout passes first.
func (m *MailpitServer) WaitCount(tb testing.TB, n int, timeout time.Duration) int {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var page mailpitList
		m.getJSON(tb, "/api/v1/messages?limit=1", &page)
		if page.Total >= n {
			return page.Total
		}
		if time.Now().After(deadline) {
			tb.Fatalf("testservers: mailpit: %d messages after %v, want at least %d", page.Total, timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// DeleteAll deletes every stored message.
func (m *MailpitServer) DeleteAll(tb testing.TB) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodDelete, m.APIURL+"/api/v1/messages", nil)
	if err != nil {
		tb.Fatalf("testservers: mailpit delete all: %v", err)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		tb.Fatalf("testservers: mailpit delete all: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("testservers: mailpit delete all: %s: %s", resp.Status, shorten(body))
	}
}

func (m *MailpitServer) getJSON(tb testing.TB, path string, v any) {
	tb.Helper()
	resp, err := m.client.Get(m.APIURL + path)
	if err != nil {
		tb.Fatalf("testservers: mailpit GET %s: %v%s", path, err, m.proc.logTail())
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		tb.Fatalf("testservers: mailpit GET %s: %s: %s", path, resp.Status, shorten(body))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		tb.Fatalf("testservers: mailpit GET %s: decode: %v", path, err)
	}
}

// shorten shortens a response body for a failure message.
func shorten(b []byte) string {
	const limit = 500
	s := strings.TrimSpace(string(b))
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	return s
}

// mailpitBinary returns $OUTREACH_MAILPIT, or var/bin/mailpit under the
// module root after building it there if missing.
func mailpitBinary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("OUTREACH_MAILPIT"); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("testservers: OUTREACH_MAILPIT: %v", err)
		}
		return p
	}
	root, err := moduleRoot()
	if err != nil {
		tb.Fatalf("testservers: mailpit: %v", err)
	}
	binDir := filepath.Join(root, "var", "bin")
	bin := filepath.Join(binDir, "mailpit")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		tb.Fatalf("testservers: mailpit: %v", err)
	}

	// Test binaries of several packages run at once; the lock makes one
	// build and the others wait for it. Even the existence check takes the
	// lock, so nobody runs a half-written binary.
	lock, err := os.OpenFile(filepath.Join(binDir, ".mailpit.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		tb.Fatalf("testservers: mailpit: %v", err)
	}
	defer lock.Close() // closing releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		tb.Fatalf("testservers: mailpit: lock %s: %v", lock.Name(), err)
	}
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	tb.Logf("testservers: building mailpit %s into %s (once; a minute or two)...", mailpitVersion, bin)
	start := time.Now()
	if err := buildMailpit(tb, root, binDir); err != nil {
		tb.Fatalf("testservers: build mailpit: %v\n%s", err, depsHint)
	}
	tb.Logf("testservers: built mailpit in %v", time.Since(start).Round(time.Second))
	return bin
}

// buildMailpit runs the same `go install` as scripts/deps.sh, into a
// scratch GOBIN first so that the final rename is atomic.
func buildMailpit(tb testing.TB, root, binDir string) error {
	goBin, err := lookBinary("go")
	if err != nil {
		return fmt.Errorf("go command: %w", err)
	}
	tmp, err := os.MkdirTemp(binDir, ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "install", mailpitModule+"@"+mailpitVersion)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go install %s@%s: %w\n%s", mailpitModule, mailpitVersion, err, out)
	}
	return os.Rename(filepath.Join(tmp, "mailpit"), filepath.Join(binDir, "mailpit"))
}
