package inbox

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/outreach-campaign/outreach/internal/oauth"
	"github.com/outreach-campaign/outreach/internal/oauth/oauthtest"
	"github.com/outreach-campaign/outreach/internal/store"
	"github.com/outreach-campaign/outreach/internal/testservers"
)

// newOAuthHarness is a harness whose Dovecot takes OAuth2 tokens from p
// (and a store to keep the sign-in in).
func newOAuthHarness(t *testing.T, p *oauthtest.Server) *harness {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "outreach.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := testservers.Dovecot(t, testservers.DovecotOAuth2(p.IntrospectURL()))
	h := &harness{t: t, d: d, st: st, spy: &spy{RecordStore: st}, addr: d.Addr}
	h.handler = &counting{next: &Recorder{Store: h.spy, Log: quietLog()}}
	return h
}

// oauthConfig logs in with mech and tokens from src, never the password.
func (h *harness) oauthConfig(mech string, src oauth.TokenSource) Config {
	cfg := h.config(true, time.Hour)
	cfg.Password = ""
	cfg.SASL = oauth.Authenticator{Mechanism: mech, User: h.d.User, Tokens: src}.SASL
	return cfg
}

// TestPollerOAuth2 reads the mailbox of a Dovecot that takes only OAuth2
// tokens for IMAP, with each mechanism; when the access token expires
// and the connection is lost, the poller reconnects with a refreshed one
// and no reply is missed.
func TestPollerOAuth2(t *testing.T) {
	t.Parallel()
	for _, mech := range []string{oauth.AuthXOAuth2, oauth.AuthOAuthBearer} {
		t.Run(mech, func(t *testing.T) {
			t.Parallel()
			p := oauthtest.Start(t, testservers.DovecotUser)
			h := newOAuthHarness(t, p)
			proxy := testservers.Proxy(t, h.d.Addr)
			h.addr = proxy.Addr
			src := p.SignIn(t, h.st, h.d.User)
			h.appendAll("m1")
			h.start(h.oauthConfig(mech, src))
			h.waitReplies(1)

			// Two hours on, Dovecot's introspection calls the first token
			// inactive; the connection drops.
			p.Advance(2 * time.Hour)
			proxy.DropAll()
			h.appendAll("m2", "m3")
			h.waitReplies(3)
			h.checkOnce([]string{"m1", "m2", "m3"})
			if p.Refreshes() != 2 {
				t.Fatalf("%d refreshes, want 2 (one at start, one after the expiry)", p.Refreshes())
			}
		})
	}
}

// TestPollerOAuth2Refused: Dovecot refuses a token its introspection
// calls inactive, and the login fails.
func TestPollerOAuth2Refused(t *testing.T) {
	t.Parallel()
	p := oauthtest.Start(t, "someone-else")
	h := newOAuthHarness(t, p)
	for _, mech := range []string{oauth.AuthXOAuth2, oauth.AuthOAuthBearer} {
		_, err := dial(h.oauthConfig(mech, p.SignIn(t, h.st, h.d.User)), &imapclient.Options{})
		if err == nil || !strings.Contains(err.Error(), "authenticate to") {
			t.Errorf("%s with a token for another user: got %v, want a failed authentication", mech, err)
		}
	}
}

// TestPollerOAuth2Revoked: a revoked sign-in is reported once, as an
// error that says what to do; the poller keeps trying at a slowing pace,
// and reads the mailbox as soon as someone signs in again.
func TestPollerOAuth2Revoked(t *testing.T) {
	t.Parallel()
	p := oauthtest.Start(t, testservers.DovecotUser)
	h := newOAuthHarness(t, p)
	src := p.SignIn(t, h.st, h.d.User)
	p.Revoke()
	h.appendAll("m1")
	cfg := h.oauthConfig(oauth.AuthXOAuth2, src)
	cfg.ReconnectMin, cfg.ReconnectMax = 20*time.Millisecond, 160*time.Millisecond
	logs := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- (&Poller{Config: cfg, Store: h.st, Handler: h.handler, Log: slog.New(logs)}).Run(ctx)
	}()
	defer func() { cancel(); <-done }()

	waitFor(t, 30*time.Second, "five failed sign-ins", func() bool { return len(logs.find(slog.LevelDebug, "still cannot sign in")) >= 4 })
	errs := logs.find(slog.LevelError, "")
	if len(errs) != 1 {
		t.Fatalf("%d errors logged, want 1: %v", len(errs), errs)
	}
	msg := errs[0].attrs["err"]
	for _, want := range []string{"revoked", "invalid_grant", "outreach auth login"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if len(logs.find(slog.LevelWarn, "")) != 0 {
		t.Errorf("warnings logged besides the one error: %v", logs.find(slog.LevelWarn, ""))
	}
	for _, r := range logs.find(slog.LevelDebug, "still cannot sign in") {
		if d, err := time.ParseDuration(r.attrs["in"]); err != nil || d > cfg.ReconnectMax {
			t.Errorf("retry in %s: more than reconnect_max or not a duration", r.attrs["in"])
		}
	}
	if len(h.replies()) != 0 {
		t.Fatal("a reply was recorded without a sign-in")
	}

	// Signed in again (by `outreach auth login`, in another process): the
	// running poller picks the new sign-in up from the store.
	p.SignIn(t, h.st, h.d.User)
	h.waitReplies(1)
}

// recorder is a slog.Handler that keeps records, their attributes as text.
type recorder struct {
	mu   sync.Mutex
	recs []logRecord
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	lr := logRecord{level: rec.Level, msg: rec.Message, attrs: map[string]string{}}
	rec.Attrs(func(a slog.Attr) bool {
		lr.attrs[a.Key] = a.Value.String()
		return true
	})
	r.mu.Lock()
	r.recs = append(r.recs, lr)
	r.mu.Unlock()
	return nil
}

// find returns the records of that level whose message contains msg.
func (r *recorder) find(level slog.Level, msg string) []logRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []logRecord
	for _, rec := range r.recs {
		if rec.level == level && strings.Contains(rec.msg, msg) {
			out = append(out, rec)
		}
	}
	return out
}
