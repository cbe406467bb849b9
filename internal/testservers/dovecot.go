package testservers

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Credentials of the one IMAP user every DovecotServer has.
const (
	DovecotUser     = "campaign"
	DovecotPassword = "campaign-dev"
)

// DovecotServer is a private Dovecot IMAP server for one test.
type DovecotServer struct {
	Addr     string // "127.0.0.1:PORT", IMAP (STARTTLS with DovecotTLS, then on 127.0.0.2)
	User     string
	Password string
	Dir      string // configuration, logs and mail; removed at cleanup

	bin     string
	conf    string
	logPath string
	outPath string

	mu   sync.Mutex
	proc *process // nil while stopped

	// Set by the options DovecotTLS and DovecotSubmission (dovecot_tls.go);
	// DovecotOAuth2 is in dovecot_oauth2.go.
	TLSAddr           string // "127.0.0.2:PORT", IMAP over implicit TLS (IMAPS); empty without TLS
	SubmissionAddr    string // SMTP submission (STARTTLS when TLS is on); empty without submission
	SubmissionTLSAddr string // SMTP submission over implicit TLS (port 465-style); empty without both
	CAFile            string // PEM of the CA that signed the server's certificate; empty without TLS
	opts              dovecotOptions
}

// Dovecot starts a private Dovecot on a free 127.0.0.1 port with one user
// (DovecotUser / DovecotPassword) whose mail is stored as mdbox. IDLE is
// available and reports new mail within about a second. The server is
// stopped and its directory removed when the test ends.
//
// Options add TLS (DovecotTLS), an SMTP submission service
// (DovecotSubmission) and OAuth2 bearer tokens (DovecotOAuth2).
//
// Dovecot is looked up as `dovecot` in $PATH, then /usr/sbin/dovecot.
func Dovecot(tb testing.TB, opts ...DovecotOption) *DovecotServer {
	tb.Helper()
	bin, err := lookBinary("dovecot", "/usr/sbin/dovecot")
	if err != nil {
		tb.Fatalf("testservers: dovecot not found (%v): %s (Debian package dovecot-imapd)", err, depsHint)
	}

	// Not tb.TempDir: its parent is private (0700), and Dovecot's
	// unprivileged processes must reach the configuration, the sockets and
	// the mail. A short path also keeps the unix sockets under base_dir well
	// within the 108-byte limit whatever the test is called.
	dir, err := os.MkdirTemp("", "testservers-dovecot-")
	if err != nil {
		tb.Fatalf("testservers: start dovecot: %v", err)
	}
	tb.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			tb.Errorf("testservers: remove dovecot dir: %v", err)
		}
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatalf("testservers: start dovecot: %v", err)
	}
	d := &DovecotServer{
		User:     DovecotUser,
		Password: DovecotPassword,
		Dir:      dir,
		bin:      bin,
		conf:     filepath.Join(dir, "dovecot.conf"),
		logPath:  filepath.Join(dir, "dovecot.log"),
		outPath:  filepath.Join(dir, "dovecot.out"),
	}
	d.applyOptions(tb, opts)
	if err := d.prepareDirs(); err != nil {
		tb.Fatalf("testservers: start dovecot: %v", err)
	}
	// Stop first, then remove the directory (cleanups run last-in first-out).
	tb.Cleanup(func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.proc != nil {
			d.proc.kill()
			d.proc = nil
		}
	})

	var lastErr error
	for range portAttempts {
		ports, err := d.ports()
		if err != nil {
			tb.Fatalf("testservers: start dovecot: %v", err)
		}
		if err := d.writeConfig(ports); err != nil {
			tb.Fatalf("testservers: start dovecot: %v", err)
		}
		p, err := d.start()
		if err == nil {
			d.mu.Lock()
			d.proc = p
			d.mu.Unlock()
			return d
		}
		lastErr = err
		if p == nil || !p.portTaken() {
			break
		}
		// The next attempt's failure must not look like this one.
		_ = os.Truncate(d.logPath, 0)
		_ = os.Truncate(d.outPath, 0)
	}
	tb.Fatalf("testservers: start dovecot: %v", lastErr)
	return nil
}

// Stop shuts the server down in order, as a restart by an administrator
// would: open connections get "* BYE Server shutting down." and are closed,
// new ones are refused. The mail stays; Start brings it back. (For a cut
// without BYE, put a Proxy in front and call DropAll.) It usually takes a few
// milliseconds, but up to a second when Dovecot waits for a busy child.
func (d *DovecotServer) Stop(tb testing.TB) {
	tb.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc == nil {
		tb.Fatalf("testservers: stop dovecot: not running")
	}
	err := d.proc.stop()
	logs := d.proc.logTail()
	d.proc = nil
	if err != nil {
		tb.Fatalf("testservers: %v%s", err, logs)
	}
	// The listening socket is shared with imap-login children; wait until
	// none of them holds it, so that a test sees "refused" right away.
	if err := waitRefused(d.Addr, startTimeout); err != nil {
		tb.Fatalf("testservers: stop dovecot: %v%s", err, logs)
	}
}

// Start restarts a stopped server on the same port with the same mail.
func (d *DovecotServer) Start(tb testing.TB) {
	tb.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc != nil {
		tb.Fatalf("testservers: start dovecot: already running")
	}
	p, err := d.start()
	if err != nil {
		tb.Fatalf("testservers: restart dovecot on %s: %v", d.Addr, err)
	}
	d.proc = p
}

// start runs the master in the foreground (-F) so that it is our child and
// dies with its process group; it returns once the greeting says "ready".
// On failure the returned process, if any, has been stopped and still tells
// why.
func (d *DovecotServer) start() (*process, error) {
	p, err := startProcess("dovecot", d.outPath, []string{d.logPath}, os.Environ(),
		d.bin, "-F", "-c", d.conf)
	if err != nil {
		return nil, err
	}
	if err := p.waitReady(startTimeout, func() error { return dovecotGreeting(d.Addr) }); err != nil {
		p.kill()
		return p, fmt.Errorf("%w%s", err, p.logTail())
	}
	return p, nil
}

// dovecotGreeting succeeds once the server greets with "ready". Right after
// start it accepts connections but greets with "Waiting for authentication
// process to respond", and a LOGIN then would fail.
func dovecotGreeting(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	if !strings.HasPrefix(line, "* OK") || !strings.Contains(line, "ready") {
		return fmt.Errorf("greeting %q", strings.TrimSpace(line))
	}
	return nil
}

// waitRefused waits until nothing accepts connections on addr.
func waitRefused(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return nil
		}
		conn.Close()
		if time.Now().After(deadline) {
			return fmt.Errorf("%s still accepts connections %v after stop", addr, timeout)
		}
		time.Sleep(pollInterval)
	}
}

// Append stores raw in mailbox over IMAP, as a real delivery would look to
// a reader, and returns the new message's UID.
func (d *DovecotServer) Append(tb testing.TB, mailbox string, raw []byte) (uid uint32) {
	tb.Helper()
	c := d.login(tb)
	defer c.Close()
	cmd := c.Append(mailbox, int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		tb.Fatalf("testservers: append to %s: %v", mailbox, err)
	}
	if err := cmd.Close(); err != nil {
		tb.Fatalf("testservers: append to %s: %v", mailbox, err)
	}
	data, err := cmd.Wait()
	if err != nil {
		tb.Fatalf("testservers: append to %s: %v", mailbox, err)
	}
	if data.UID == 0 {
		tb.Fatalf("testservers: append to %s: server sent no APPENDUID", mailbox)
	}
	_ = c.Logout().Wait()
	return uint32(data.UID)
}

// RecreateMailbox empties mailbox by deleting and creating it again, so that
// its UIDVALIDITY changes: what a reader must detect and recover from. It
// returns the new UIDVALIDITY.
//
// IMAP forbids deleting INBOX, so INBOX is renamed away (RFC 3501: its
// messages move to the new name and INBOX is left empty) and the renamed
// mailbox deleted. Measured with Dovecot 2.3.19: both ways give a new,
// larger UIDVALIDITY, even several times within one second, because Dovecot
// hands them out from a per-user counter (dovecot-uidvalidity) seeded with
// the clock.
func (d *DovecotServer) RecreateMailbox(tb testing.TB, name string) (uidValidity uint32) {
	tb.Helper()
	c := d.login(tb)
	defer c.Close()

	var before uint32
	if st, err := c.Status(name, &imap.StatusOptions{UIDValidity: true}).Wait(); err == nil {
		before = st.UIDValidity
	}
	if strings.EqualFold(name, "INBOX") {
		old := fmt.Sprintf("testservers-old-inbox-%d", time.Now().UnixNano())
		if err := c.Rename("INBOX", old, nil).Wait(); err != nil {
			tb.Fatalf("testservers: recreate INBOX: rename: %v", err)
		}
		if err := c.Delete(old).Wait(); err != nil {
			tb.Fatalf("testservers: recreate INBOX: delete %s: %v", old, err)
		}
	} else {
		if err := c.Delete(name).Wait(); err != nil && before != 0 {
			tb.Fatalf("testservers: recreate %s: delete: %v", name, err)
		}
		if err := c.Create(name, nil).Wait(); err != nil {
			tb.Fatalf("testservers: recreate %s: create: %v", name, err)
		}
	}
	st, err := c.Status(name, &imap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		tb.Fatalf("testservers: recreate %s: status: %v", name, err)
	}
	if st.UIDValidity == before {
		tb.Fatalf("testservers: recreate %s: UIDVALIDITY stayed %d", name, before)
	}
	_ = c.Logout().Wait()
	return st.UIDValidity
}

// login dials and authenticates a fresh connection; the caller closes it.
func (d *DovecotServer) login(tb testing.TB) *imapclient.Client {
	tb.Helper()
	c, err := d.dialIMAP()
	if err != nil {
		tb.Fatalf("testservers: dial dovecot %s: %v", d.Addr, err)
	}
	if err := c.Login(d.User, d.Password).Wait(); err != nil {
		c.Close()
		tb.Fatalf("testservers: login to dovecot %s: %v%s", d.Addr, err, logTail(d.logPath))
	}
	return c
}

// prepareDirs creates the mail directory, owned by the user the imap
// processes run as, and the passwd file.
func (d *DovecotServer) prepareDirs() error {
	mailDir := filepath.Join(d.Dir, "mail")
	if err := os.Mkdir(mailDir, 0o755); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		if err := reachableByOthers(d.Dir); err != nil {
			return err
		}
		u, err := nobody()
		if err != nil {
			return err
		}
		if err := os.Chown(mailDir, u.uid, u.gid); err != nil {
			return err
		}
	}
	// A passwd-file rather than a static passdb: a static passdb lets any
	// user name in, and with username_filter the others get "temporary
	// failure" instead of a clean authentication failure.
	line := fmt.Sprintf("%s:{PLAIN}%s\n", d.User, d.Password)
	if err := os.WriteFile(filepath.Join(d.Dir, "passwd"), []byte(line), 0o644); err != nil {
		return err
	}
	return d.writeTLSFiles()
}

// account is a user the imap processes run as when Dovecot runs as root.
type account struct {
	uid, gid int
	group    string // "nogroup" on Debian, "nobody" elsewhere
}

func nobody() (account, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return account{}, fmt.Errorf("look up user nobody: %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return account{}, fmt.Errorf("user nobody: uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return account{}, fmt.Errorf("user nobody: gid %q: %w", u.Gid, err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return account{}, fmt.Errorf("user nobody: group %s: %w", u.Gid, err)
	}
	return account{uid: uid, gid: gid, group: g.Name}, nil
}

// reachableByOthers fails clearly when a parent of dir is private (a
// TMPDIR under /root, say): Dovecot would otherwise fail with a log line
// about permissions that few would trace back to this.
func reachableByOthers(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is not searchable by other users (mode %v), but Dovecot's mail processes run as nobody: set TMPDIR to a directory under a public path such as /tmp", d, st.Mode().Perm())
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}

type dovecotConfig struct {
	Dir, Log string
	Root     bool
	User     string // as root: whom mail belongs to; else: who runs everything
	Group    string

	dovecotPorts // Host and the listeners' ports
	TLS          bool
	Submission   bool
	RelayHost    string
	RelayPort    string
	OAuth2       bool // an oauth2 passdb for XOAUTH2 and OAUTHBEARER (dovecot-oauth2.conf.ext)
}

func (d *DovecotServer) writeConfig(ports dovecotPorts) error {
	cfg := dovecotConfig{Dir: d.Dir, Log: d.logPath, Root: os.Geteuid() == 0, dovecotPorts: ports}
	cfg.configureOptions(d.opts)
	if cfg.OAuth2 {
		if err := d.writeOAuth2Config(); err != nil {
			return err
		}
	}
	if cfg.Root {
		u, err := nobody()
		if err != nil {
			return err
		}
		cfg.User, cfg.Group = "nobody", u.group
	} else {
		u, err := user.Current()
		if err != nil {
			return fmt.Errorf("current user: %w", err)
		}
		g, err := user.LookupGroupId(u.Gid)
		if err != nil {
			return fmt.Errorf("current group: %w", err)
		}
		cfg.User, cfg.Group = u.Username, g.Name
	}
	var sb strings.Builder
	if err := dovecotConfTmpl.Execute(&sb, cfg); err != nil {
		return fmt.Errorf("render config: %w", err)
	}
	return os.WriteFile(d.conf, []byte(sb.String()), 0o644)
}

// dovecotConfTmpl is a complete configuration: nothing from /etc/dovecot is
// read, so the system's settings (TLS certificates, ports 143/993) cannot
// leak in. scripts/dev-services.sh writes a close copy for `make run`.
var dovecotConfTmpl = template.Must(template.New("dovecot.conf").Parse(`# Generated by internal/testservers.
protocols = imap{{if .Submission}} submission{{end}}
listen = {{.Host}}
base_dir = {{.Dir}}/run
state_dir = {{.Dir}}/state
log_path = {{.Log}}
instance_name = testservers
{{- if .TLS}}
# No LOGIN or AUTH before TLS, not even from this machine.
ssl = required
ssl_cert = <{{.Dir}}/tls/cert.pem
ssl_key = <{{.Dir}}/tls/key.pem
login_trusted_networks =
{{- else}}
ssl = no
{{- end}}
disable_plaintext_auth = no
auth_mechanisms = plain login{{if .OAuth2}} xoauth2 oauthbearer{{end}}
auth_verbose = yes
# Tests check wrong passwords: fail them at once (see also anvil below).
auth_failure_delay = 0

mail_location = mdbox:~/mdbox
# Test mail need not survive a power cut.
mail_fsync = never
first_valid_uid = 1
{{- if .Root}}
mail_uid = {{.User}}
mail_gid = {{.Group}}
{{- else}}
default_internal_user = {{.User}}
default_internal_group = {{.Group}}
default_login_user = {{.User}}
{{- end}}

# New mail during IDLE is reported within a second even where inotify does
# not work, and "still here" lines come often enough to be exercised.
mailbox_idle_check_interval = 1 secs
imap_idle_notify_interval = 2 secs

namespace inbox {
  inbox = yes
  separator = /
}

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {{.Dir}}/passwd
{{- if .OAuth2}}
  mechanisms = plain login
}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {{.Dir}}/dovecot-oauth2.conf.ext
{{- end}}
}
userdb {
  driver = static
  args = home={{.Dir}}/mail/%u
}

service imap-login {
  inet_listener imap {
    address = {{.Host}}
    port = {{.Port}}
  }
  inet_listener imaps {
{{- if .TLS}}
    address = {{.Host}}
    port = {{.TLSPort}}
    ssl = yes
{{- else}}
    port = 0
{{- end}}
  }
{{- if not .Root}}
  chroot =
{{- end}}
}

{{- if .Submission}}

# Mail submitted is relayed, as it is, to the test's SMTP server.
submission_relay_host = {{.RelayHost}}
submission_relay_port = {{.RelayPort}}
submission_relay_ssl = no
service submission-login {
  inet_listener submission {
    address = {{.Host}}
    port = {{.SubmissionPort}}
  }
{{- if .TLS}}
  inet_listener submissions {
    address = {{.Host}}
    port = {{.SubmissionTLSPort}}
    ssl = yes
  }
{{- end}}
{{- if not .Root}}
  chroot =
{{- end}}
}
{{- end}}

# Without its socket the auth process adds no penalty delay (up to 15 s)
# after failed logins from the same IP.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
{{- if not .Root}}
  chroot =
{{- end}}
}
`))
