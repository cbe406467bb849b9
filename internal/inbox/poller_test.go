package inbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
	"github.com/outreach-campaign/outreach/internal/testservers"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// counting wraps a Handler and counts, per Message-ID, the messages of the
// batches it recorded: a message handed over twice after its batch was
// recorded is one processed twice.
type counting struct {
	next Handler
	// after, when set, runs after batch n (from 1) was recorded.
	after func(n int)

	mu      sync.Mutex
	batches int
	seen    map[string]int
}

func (c *counting) Handle(ctx context.Context, batch []Message, cp store.Checkpoint) error {
	if err := c.next.Handle(ctx, batch, cp); err != nil {
		return err
	}
	c.mu.Lock()
	if c.seen == nil {
		c.seen = map[string]int{}
	}
	for _, m := range batch {
		c.seen[messageID(m.Raw)]++
	}
	c.batches++
	n := c.batches
	c.mu.Unlock()
	if c.after != nil {
		c.after(n)
	}
	return nil
}

func (c *counting) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.seen)
}

// spy records what the store said of each reply.
type spy struct {
	RecordStore
	mu         sync.Mutex
	duplicates int
}

func (s *spy) RecordReplies(ctx context.Context, rs []campaign.Reply, cp store.Checkpoint) ([]store.Recorded, error) {
	recs, err := s.RecordStore.RecordReplies(ctx, rs, cp)
	s.mu.Lock()
	for _, r := range recs {
		if r.Duplicate {
			s.duplicates++
		}
	}
	s.mu.Unlock()
	return recs, err
}

func (s *spy) dups() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.duplicates
}

func messageID(raw []byte) string {
	for _, line := range strings.Split(string(raw), "\r\n") {
		if v, ok := strings.CutPrefix(line, "Message-ID: "); ok {
			return strings.Trim(v, "<>")
		}
		if line == "" {
			break
		}
	}
	return "sha256:" + campaign.HashRaw(raw)
}

// mail is a small message with Message-ID <name@office.example>; an empty
// name gives one without a Message-ID.
func mail(name string, body string) []byte {
	h := "From: Mayor <mayor@office.example>\r\nTo: campaign@outreach.example\r\nSubject: Re: appeal " + name +
		"\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\n"
	if name != "" {
		h += "Message-ID: <" + name + "@office.example>\r\n"
	}
	return []byte(h + "\r\n" + body + "\r\n")
}

type harness struct {
	t       testing.TB
	d       *testservers.DovecotServer
	st      *store.SQLite
	spy     *spy
	handler *counting
	addr    string // where the poller connects: Dovecot or a proxy
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "outreach.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	d := testservers.Dovecot(t)
	h := &harness{t: t, d: d, st: st, spy: &spy{RecordStore: st}, addr: d.Addr}
	h.handler = &counting{next: &Recorder{Store: h.spy, Log: quietLog()}}
	return h
}

func (h *harness) config(idle bool, interval time.Duration) Config {
	return Config{Addr: h.addr, TLS: TLSNone, Username: h.d.User, Password: h.d.Password, Folder: "INBOX",
		Idle: idle, PollInterval: interval, ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond}
}

// start runs a poller until the returned stop is called (or the test ends).
func (h *harness) start(cfg Config) (stop func()) {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &Poller{Config: cfg, Store: h.st, Handler: h.handler, Log: quietLog()}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					h.t.Errorf("poller: %v", err)
				}
			case <-time.After(10 * time.Second):
				h.t.Error("poller did not stop within 10s of its context ending")
			}
		})
	}
	h.t.Cleanup(stop)
	return stop
}

func (h *harness) replies() []campaign.Reply {
	h.t.Helper()
	rs, err := h.st.Replies(context.Background(), store.ReplyFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	return rs
}

// waitReplies waits until the store holds n replies.
func (h *harness) waitReplies(n int) {
	h.t.Helper()
	waitFor(h.t, 30*time.Second, fmt.Sprintf("%d replies recorded", n), func() bool { return len(h.replies()) >= n })
	if got := len(h.replies()); got != n {
		h.t.Fatalf("%d replies recorded, want %d", got, n)
	}
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkOnce fails unless every name was handed over and recorded exactly
// once, and the store holds one reply for each.
func (h *harness) checkOnce(names []string) {
	h.t.Helper()
	// The wrapper counts a batch once the recorder has committed it, so
	// the store (which waitReplies watches) may hold the last batch before
	// it is counted: wait for the count itself.
	var counts map[string]int
	waitFor(h.t, 30*time.Second, "count of every message handed over", func() bool {
		counts = h.handler.counts()
		for _, n := range names {
			if counts[n+"@office.example"] == 0 {
				return false
			}
		}
		return true
	})
	for _, n := range names {
		if c := counts[n+"@office.example"]; c != 1 {
			h.t.Errorf("%s processed %d times, want once", n, c)
		}
	}
	if len(counts) != len(names) {
		h.t.Errorf("%d distinct messages processed, want %d: %v", len(counts), len(names), counts)
	}
	byID := map[string]int{}
	for _, r := range h.replies() {
		byID[r.MessageID]++
	}
	for _, n := range names {
		if byID[n+"@office.example"] != 1 {
			h.t.Errorf("store holds %d replies for %s", byID[n+"@office.example"], n)
		}
	}
}

func names(prefix string, from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

func (h *harness) appendAll(names ...string) {
	h.t.Helper()
	for _, n := range names {
		h.d.Append(h.t, "INBOX", mail(n, "We support the appeal."))
	}
}

func TestPollerResumesAfterRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cfg := h.config(false, 50*time.Millisecond)
	h.appendAll(names("m", 1, 3)...)
	stop := h.start(cfg)
	h.waitReplies(3)
	stop()
	// Mail that comes while no poller runs is read by the next one, and
	// nothing read before is read again.
	h.appendAll(names("m", 4, 6)...)
	h.start(cfg)
	h.waitReplies(6)
	h.appendAll(names("m", 7, 8)...)
	h.waitReplies(8)
	h.checkOnce(names("m", 1, 8))
	cp, err := h.st.Checkpoint(context.Background(), cfg.Mailbox())
	if err != nil || cp.UID != 8 || cp.UIDValidity == 0 {
		t.Errorf("checkpoint %+v, %v; want UID 8", cp, err)
	}
}

func TestPollerSurvivesDroppedConnections(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	proxy := testservers.Proxy(t, h.d.Addr)
	h.addr = proxy.Addr
	cfg := h.config(true, time.Hour) // IDLE, and no poll to fall back on
	cfg.BatchSize = 10
	// The connection is cut at two moments: right after a batch was
	// recorded (before its messages are marked and the next is fetched)
	// and while the next batch is being recorded.
	h.handler.after = func(n int) {
		if n == 2 || n == 4 {
			proxy.DropAll()
		}
	}
	h.appendAll(names("m", 1, 60)...)
	h.start(cfg)
	h.waitReplies(60)
	// Cut while idle: new mail is read after the reconnection.
	proxy.DropAll()
	h.appendAll(names("m", 61, 65)...)
	h.waitReplies(65)
	h.checkOnce(names("m", 1, 65))
	if h.spy.dups() != 0 {
		t.Errorf("%d messages handed over again after they were recorded", h.spy.dups())
	}
}

func TestPollerUIDValidityChange(t *testing.T) {
	t.Parallel()
	for _, idle := range []bool{false, true} {
		t.Run(fmt.Sprintf("idle=%v", idle), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			cfg := h.config(idle, 100*time.Millisecond)
			h.appendAll("a", "b", "c")
			h.start(cfg)
			h.waitReplies(3)
			before, _ := h.st.Checkpoint(context.Background(), cfg.Mailbox())
			validity := h.d.RecreateMailbox(t, "INBOX")
			// The new mailbox holds two of the messages again (restored
			// from a backup, say), a new one, and one without a
			// Message-ID, twice.
			h.appendAll("a", "b", "d")
			noID := mail("", "A message without a Message-ID.")
			h.d.Append(t, "INBOX", noID)
			h.d.Append(t, "INBOX", noID)
			// The spy counts a batch's duplicates after the store has
			// committed it (and its checkpoint): wait for both.
			waitFor(t, 30*time.Second, "rescan", func() bool {
				cp, _ := h.st.Checkpoint(context.Background(), cfg.Mailbox())
				return cp.UIDValidity == validity && cp.UID == 5 && h.spy.dups() >= 3
			})
			rs := h.replies()
			if len(rs) != 5 {
				t.Fatalf("%d replies, want a, b, c, d and the one without Message-ID", len(rs))
			}
			if h.spy.dups() != 3 {
				t.Errorf("%d duplicates recognised, want 3 (a, b, and the second copy without Message-ID)", h.spy.dups())
			}
			if before.UIDValidity == validity {
				t.Fatal("the test did not change UIDVALIDITY")
			}
		})
	}
}

func TestPollerIdleAndPolling(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		idle     bool
		interval time.Duration
	}{
		// With an hour between looks, only IDLE can tell of new mail.
		{"idle", true, time.Hour},
		{"polling", false, 50 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.appendAll("first")
			h.start(h.config(tc.idle, tc.interval))
			h.waitReplies(1)
			for i, n := range names("next", 1, 3) {
				h.appendAll(n)
				h.waitReplies(2 + i)
			}
			h.checkOnce(append([]string{"first"}, names("next", 1, 3)...))
		})
	}
}

func TestPollerOversizedAndUnreadable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cfg := h.config(false, 50*time.Millisecond)
	cfg.MaxMessageBytes = 4096
	big := mail("big", strings.Repeat("A scanned letter, in a very long attachment. ", 500))
	h.d.Append(t, "INBOX", big)
	h.d.Append(t, "INBOX", mail("small", "Yes."))
	h.d.Append(t, "INBOX", []byte("\x00\x01 not a mail message at all"))
	h.start(cfg)
	h.waitReplies(3)
	rs := h.replies()
	full, err := h.st.Reply(context.Background(), rs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !full.Oversized || full.Size != int64(len(big)) || bytes.Contains(full.Raw, []byte("scanned letter")) ||
		!bytes.Contains(full.Raw, []byte("Message-ID: <big@office.example>")) || len(full.Problems) == 0 {
		t.Errorf("oversized message recorded as %+v (raw %d bytes)", full, len(full.Raw))
	}
	if rs[1].Oversized || rs[1].NewText != "Yes." {
		t.Errorf("small message recorded as %+v", rs[1])
	}
	if rs[2].Status != campaign.ReplyUnmatched || rs[2].Kind != campaign.ReplyHuman || len(rs[2].Problems) == 0 {
		t.Errorf("unreadable message recorded as %+v", rs[2])
	}
	if pending, _ := h.st.Replies(context.Background(), store.ReplyFilter{Pending: true}); len(pending) != 3 {
		t.Errorf("%d replies wait for review, want all three (matched to nothing)", len(pending))
	}
}

func TestPollerMovesOrMarksAndNeverDeletes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ moveTo, keyword string }{{"Processed", ""}, {"", "outreach-done"}} {
		t.Run(tc.moveTo+tc.keyword, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			cfg := h.config(true, time.Hour)
			cfg.MoveTo, cfg.Keyword = tc.moveTo, tc.keyword
			h.appendAll(names("m", 1, 3)...)
			h.start(cfg)
			h.waitReplies(3)
			h.appendAll("m4")
			h.waitReplies(4)
			c, err := imapclient.DialInsecure(h.d.Addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Login(h.d.User, h.d.Password).Wait(); err != nil {
				t.Fatal(err)
			}
			count := func(mailbox string) uint32 {
				st, err := c.Status(mailbox, &imap.StatusOptions{NumMessages: true}).Wait()
				if err != nil {
					t.Fatalf("STATUS %s: %v", mailbox, err)
				}
				return *st.NumMessages
			}
			if tc.moveTo != "" {
				waitFor(t, 10*time.Second, "messages moved", func() bool { return count("INBOX") == 0 })
				if n := count(tc.moveTo); n != 4 {
					t.Errorf("%s holds %d messages, want 4", tc.moveTo, n)
				}
				return
			}
			if n := count("INBOX"); n != 4 {
				t.Errorf("INBOX holds %d messages, want 4", n)
			}
			if _, err := c.Select("INBOX", nil).Wait(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 10*time.Second, "keyword on every message", func() bool {
				data, err := c.Search(&imap.SearchCriteria{Flag: []imap.Flag{imap.Flag(tc.keyword)}}, nil).Wait()
				return err == nil && len(data.AllSeqNums()) == 4
			})
			msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true}).Collect()
			if err != nil || len(msgs) != 1 || slices.Contains(msgs[0].Flags, imap.FlagSeen) {
				t.Errorf("processed message flags %v (%v): must not be marked seen", msgs, err)
			}
		})
	}
}
