package doctor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/outreach-campaign/outreach/internal/config"
	"github.com/outreach-campaign/outreach/internal/doctor"
	"github.com/outreach-campaign/outreach/internal/inbox"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
	"github.com/outreach-campaign/outreach/internal/store"
	"github.com/outreach-campaign/outreach/internal/testservers"
)

const (
	smtpUser = "campaign@outreach.example"
	smtpPass = "smtp-secret"
	secret   = "the-campaign-secret-0123"
)

// setup is a campaign's services for one test: a Redis, a store, the
// test Dovecot as the campaign mailbox and an SMTP server, with the
// doctor's options pointing at them.
type setup struct {
	dovecot *testservers.DovecotServer
	smtp    *smtptest.Server
	opts    doctor.Options
}

// newSetup starts Redis and Dovecot, makes a store, and starts an SMTP
// server that requires a login and, with deliver, hands every message it
// takes to the Dovecot mailbox (a relay delivering to the campaign's
// mailbox); without, it keeps them (a relay whose mail goes elsewhere).
func newSetup(t *testing.T, deliver bool) *setup {
	t.Helper()
	return newSetupInto(t, deliver, "INBOX")
}

// newSetupInto is newSetup whose relay delivers into folder.
func newSetupInto(t *testing.T, deliver bool, folder string) *setup {
	t.Helper()
	s := &setup{dovecot: testservers.Dovecot(t)}
	redisAddr := testservers.Redis(t)
	mbox := inbox.Config{Addr: s.dovecot.Addr, TLS: inbox.TLSNone, Username: s.dovecot.User, Password: s.dovecot.Password,
		Folder: "INBOX", Timeout: 10 * time.Second}
	opts := []smtptest.Option{smtptest.WithAuth(smtpUser, smtpPass)}
	if deliver {
		opts = append(opts, smtptest.WithDelivery(func(m smtptest.Message) error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			into := mbox
			into.Folder = folder
			_, err := inbox.Append(ctx, into, m.Data, time.Now())
			return err
		}))
	}
	s.smtp = smtptest.Start(t, opts...)

	dbPath := filepath.Join(t.TempDir(), "outreach.db")
	st, err := store.OpenSQLite(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	cfg := config.Default()
	cfg.Store.Path = dbPath
	cfg.Redis.Addr = redisAddr
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS = s.smtp.Host, s.smtp.Port, config.TLSNone
	cfg.SMTP.Username, cfg.SMTP.Password = smtpUser, smtpPass
	cfg.IMAP.Host, cfg.IMAP.Username, cfg.IMAP.Password = "127.0.0.1", s.dovecot.User, config.Secret(s.dovecot.Password)
	cfg.Letters.Secret = secret
	signer, err := letter.NewSigner([]byte(secret), cfg.MessageIDDomain())
	if err != nil {
		t.Fatal(err)
	}
	s.opts = doctor.Options{
		Config: cfg,
		Mailer: mailer.Config{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, TLS: cfg.SMTP.TLS, Username: smtpUser, Password: smtpPass,
			Timeout: 10 * time.Second},
		Inbox:    mbox,
		Signer:   func(context.Context) (doctor.ProbeSigner, error) { return signer, nil },
		Wait:     30 * time.Second,
		Interval: 200 * time.Millisecond,
	}
	return s
}

// checklist runs the doctor and returns its output by check: the check's
// line and, for a failure, its fix.
func checklist(t *testing.T, o doctor.Options) (lines map[string]string, fixes map[string]string, passed bool, out string) {
	t.Helper()
	var b bytes.Buffer
	passed = doctor.Run(context.Background(), &b, doctor.Plan(o))
	lines, fixes = map[string]string{}, map[string]string{}
	last := ""
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		status, rest, _ := strings.Cut(l, " ")
		rest = strings.TrimSpace(rest)
		if status == "" && strings.HasPrefix(strings.TrimSpace(l), "fix: ") {
			fixes[last] = strings.TrimPrefix(strings.TrimSpace(l), "fix: ")
			continue
		}
		name, detail, ok := strings.Cut(rest, ": ")
		if !ok {
			continue // the summary
		}
		lines[name] = status + " " + detail
		last = name
	}
	return lines, fixes, passed, b.String()
}

// wantStatus checks each named check's status, and that the detail holds
// says when given.
func wantStatus(t *testing.T, lines map[string]string, out string, want map[string]string) {
	t.Helper()
	for name, w := range want {
		status, says, _ := strings.Cut(w, " ")
		got := lines[name]
		if !strings.HasPrefix(got, status+" ") || !strings.Contains(got, says) {
			t.Errorf("%s: %q, want %s with %q\n%s", name, got, status, says, out)
		}
	}
}

func TestDoctorPassesWithRoundTrip(t *testing.T) {
	t.Parallel()
	s := newSetup(t, true)
	lines, _, passed, out := checklist(t, s.opts)
	if !passed {
		t.Errorf("the doctor failed a chain that works:\n%s", out)
	}
	wantStatus(t, lines, out, map[string]string{
		"settings":   "ok letters from campaign@outreach.example",
		"redis":      "ok answers",
		"store":      "ok opens and takes writes",
		"smtp":       "ok logged in as " + smtpUser,
		"imap":       "ok logged in as campaign",
		"round trip": "ok the probe sent to replies+probe@outreach.example arrived in INBOX",
	})
	if !strings.HasSuffix(out, "every check passed\n") {
		t.Errorf("summary: %q", out)
	}

	// The probe went through the SMTP server into the mailbox, signed,
	// and is now flagged.
	msgs := s.smtp.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "replies+probe@outreach.example" ||
		msgs[0].From != "campaign@outreach.example" {
		t.Fatalf("the SMTP server took %d messages: %+v", len(msgs), msgs)
	}
	signer, _ := s.opts.Signer(context.Background())
	tok := headerValue(msgs[0].Data, inbox.ProbeHeader)
	if v, ok := signer.(*letter.Signer); !ok || !v.VerifyProbe(tok) {
		t.Errorf("the probe's %s %q does not verify", inbox.ProbeHeader, tok)
	}
	flags := probeFlags(t, s.dovecot)
	if len(flags) != 1 || !hasFlag(flags[0], inbox.ProbeKeyword) || !hasFlag(flags[0], imap.FlagSeen) {
		t.Errorf("flags of the messages in INBOX: %v; want one message flagged %s and \\Seen", flags, inbox.ProbeKeyword)
	}
}

func headerValue(raw []byte, name string) string {
	for _, l := range strings.Split(string(raw), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
		if l == "" {
			break
		}
	}
	return ""
}

func probeFlags(t *testing.T, d *testservers.DovecotServer) [][]imap.Flag {
	t.Helper()
	c, err := imapclient.DialInsecure(d.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(d.User, d.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]imap.Flag
	for _, m := range msgs {
		out = append(out, m.Flags)
	}
	return out
}

func hasFlag(flags []imap.Flag, f imap.Flag) bool {
	for _, x := range flags {
		if strings.EqualFold(string(x), string(f)) {
			return true
		}
	}
	return false
}

// TestRoundTripFindsProbeMovedAway: with imap.move_to, a running poller
// may move the probe out of the folder before the doctor looks; it is
// found there.
func TestRoundTripFindsProbeMovedAway(t *testing.T) {
	t.Parallel()
	s := newSetupInto(t, true, "Processed")
	c, err := imapclient.DialInsecure(s.dovecot.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(s.dovecot.User, s.dovecot.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Create("Processed", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	s.opts.Inbox.MoveTo = "Processed"
	lines, _, passed, out := checklist(t, s.opts)
	if !passed {
		t.Errorf("the doctor failed:\n%s", out)
	}
	wantStatus(t, lines, out, map[string]string{"round trip": "ok the probe sent to replies+probe@outreach.example arrived in Processed"})
}

// TestDoctorSkipsRoundTripThroughMailpit: make run's services (Mailpit,
// Dovecot): every check passes, and the round trip is skipped, since
// Mailpit keeps the probe rather than deliver it.
func TestDoctorSkipsRoundTripThroughMailpit(t *testing.T) {
	t.Parallel()
	s := newSetup(t, false)
	mp := testservers.Mailpit(t)
	s.opts.Config.SMTP.Host, s.opts.Config.SMTP.Port, s.opts.Config.SMTP.Username = mp.SMTPHost, mp.SMTPPort, ""
	s.opts.Config.SMTP.Password = ""
	s.opts.Mailer = mailer.Config{Host: mp.SMTPHost, Port: mp.SMTPPort, TLS: mailer.TLSNone, Timeout: 10 * time.Second}
	lines, _, passed, out := checklist(t, s.opts)
	if !passed {
		t.Errorf("the doctor failed make run's services:\n%s", out)
	}
	wantStatus(t, lines, out, map[string]string{
		"smtp":       "ok no login",
		"imap":       "ok logged in",
		"round trip": "skipped the SMTP server is Mailpit",
	})
	if n := len(mp.Messages(t)); n != 0 {
		t.Errorf("Mailpit holds %d messages: the doctor sent a probe it knew could not arrive", n)
	}
}

// TestDoctorNamesTheFailingStep breaks one thing at a time and checks that
// the checklist fails that step, says what to change, and skips what
// depends on it.
func TestDoctorNamesTheFailingStep(t *testing.T) {
	t.Parallel()
	// The SMTP server keeps what it takes: the round trip, skipped by
	// default here, can only fail.
	base := newSetup(t, false)
	base.opts.NoRoundTrip = true
	garbage := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("this is no database "), 300), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		change func(o *doctor.Options)
		want   map[string]string
		fix    string // in the failing check's fix
	}{
		{"wrong SMTP password", func(o *doctor.Options) { o.Mailer.Password = "wrong" },
			map[string]string{"smtp": "FAILED refused the login as " + smtpUser, "round trip": "skipped needs smtp"}, "smtp.password"},
		{"wrong IMAP password", func(o *doctor.Options) { o.Inbox.Password = "wrong" },
			map[string]string{"imap": "FAILED refused the login as campaign", "smtp": "ok", "round trip": "skipped needs imap"}, "imap.password"},
		{"SMTP without the TLS required", func(o *doctor.Options) { o.Mailer.TLS = mailer.TLSStartTLS },
			map[string]string{"smtp": "FAILED TLS (starttls) failed", "round trip": "skipped"}, "smtp.tls"},
		{"IMAP without the TLS required", func(o *doctor.Options) { o.Inbox.TLS = inbox.TLSStartTLS },
			map[string]string{"imap": "FAILED TLS (starttls) failed", "round trip": "skipped"}, "imap.tls"},
		{"IMAP implicit TLS on a plain port", func(o *doctor.Options) { o.Inbox.TLS = inbox.TLSImplicit },
			map[string]string{"imap": "FAILED TLS (tls) failed"}, "imap.tls to starttls"},
		{"unknown folder", func(o *doctor.Options) { o.Inbox.Folder = "Replies" },
			map[string]string{"imap": `FAILED the folder "Replies" cannot be read`, "round trip": "skipped"}, "imap.folder"},
		{"probe not received", func(o *doctor.Options) { o.NoRoundTrip, o.Wait = false, 2*time.Second },
			map[string]string{"smtp": "ok", "imap": "ok", "round trip": "FAILED the probe sent to replies+probe@outreach.example was not seen in INBOX within 2s"},
			"letters.reply_to"},
		{"Redis down", func(o *doctor.Options) { o.Config.Redis.Addr = fmt.Sprintf("127.0.0.1:%d", testservers.FreePort(t)) },
			map[string]string{"redis": "FAILED no answer from 127.0.0.1:", "smtp": "ok"}, "redis.addr"},
		{"store unreadable", func(o *doctor.Options) { o.Config.Store.Path = garbage },
			map[string]string{"store": "FAILED not a database", "round trip": "skipped needs store"}, "store.path"},
		{"no store", func(o *doctor.Options) { o.Config.Store.Path = filepath.Join(t.TempDir(), "none.db") },
			map[string]string{"store": "FAILED none.db does not exist"}, "outreach import cities"},
		{"SMTP server not there", func(o *doctor.Options) { o.Mailer.Port = testservers.FreePort(t) },
			map[string]string{"smtp": "FAILED no SMTP server answers"}, "smtp.port"},
		{"settings refused", func(o *doctor.Options) {
			o.ConfigErr = errors.New("config: smtp.tls: \"ssl\" is not one of starttls, tls, none")
		},
			map[string]string{"settings": "FAILED smtp.tls", "redis": "skipped needs settings", "round trip": "skipped"}, "OUTREACH_"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := base.opts
			c.change(&o)
			lines, fixes, passed, out := checklist(t, o)
			t.Log("\n" + out)
			if passed {
				t.Errorf("the doctor passed:\n%s", out)
			}
			wantStatus(t, lines, out, c.want)
			var failing []string
			for name, l := range lines {
				if strings.HasPrefix(l, "FAILED ") {
					failing = append(failing, name)
				}
			}
			if len(failing) != 1 {
				t.Errorf("failing checks %v, want exactly one\n%s", failing, out)
			} else if !strings.Contains(fixes[failing[0]], c.fix) {
				t.Errorf("%s: fix %q does not mention %q", failing[0], fixes[failing[0]], c.fix)
			}
		})
	}
}
