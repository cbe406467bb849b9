package inbox

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/devreply"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/replies"
	"github.com/outreach-campaign/outreach/internal/store"
	"github.com/outreach-campaign/outreach/internal/testservers"
)

// stuckLookup is officeLookup whose lookup of stuck@office.example never
// returns until the test ends, whatever its context says: a reading that
// runs away.
type stuckLookup struct {
	officeLookup
	release chan struct{}
	once    sync.Once
	entered chan struct{}
}

func (s *stuckLookup) Target(ctx context.Context, email string) (campaign.Target, error) {
	if email == "stuck@office.example" {
		s.once.Do(func() { close(s.entered) })
		<-s.release
		return campaign.Target{}, campaign.ErrNotFound
	}
	return s.officeLookup.Target(ctx, email)
}

func newStuckLookup(t *testing.T) *stuckLookup {
	s := &stuckLookup{release: make(chan struct{}), entered: make(chan struct{})}
	t.Cleanup(func() { close(s.release) })
	return s
}

// handle runs rec.Handle and waits for it, for at most a minute.
func handle(t *testing.T, ctx context.Context, rec *Recorder, batch []Message, cp store.Checkpoint) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- rec.Handle(ctx, batch, cp) }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("Handle did not return within a minute: a message held up the batch")
		return nil
	}
}

func TestRecorderMessageDeadline(t *testing.T) {
	t.Parallel()
	msg := func(from string) []byte {
		return []byte("From: " + from + "\r\nSubject: Re: appeal\r\nMessage-ID: <" + from + ">\r\n\r\nWe agree.\r\n")
	}
	batch := []Message{
		{UID: 1, Raw: msg("stuck@office.example"), Size: 80, InternalDate: time.Now()},
		{UID: 2, Raw: msg("mayor@office.example"), Size: 80, InternalDate: time.Now()},
	}
	cp := store.Checkpoint{Mailbox: "m", UIDValidity: 9, UID: 2}

	t.Run("past the deadline the message is kept unread and the batch goes on", func(t *testing.T) {
		t.Parallel()
		st := &captured{}
		rec := &Recorder{Store: st, Log: quietLog(), MessageDeadline: 50 * time.Millisecond,
			Matcher: &replies.Matcher{Lookup: newStuckLookup(t)}}
		if err := handle(t, context.Background(), rec, batch, cp); err != nil {
			t.Fatal(err)
		}
		if len(st.rs) != 2 || st.cp != cp {
			t.Fatalf("recorded %d replies with checkpoint %+v, want both and %+v", len(st.rs), st.cp, cp)
		}
		stuck, mayor := st.rs[0], st.rs[1]
		if stuck.Status != campaign.ReplyUnmatched || stuck.KindReason != "unreadable, kept for staff" ||
			!strings.Contains(strings.Join(stuck.Problems, "; "), "not read within 50ms (imap.message_deadline)") {
			t.Errorf("the message past its deadline recorded as %+v", stuck)
		}
		if mayor.LetterID != "w1-t1" || mayor.Status != campaign.ReplyPending || mayor.NewText != "We agree." {
			t.Errorf("the next message recorded as %+v", mayor)
		}
	})

	t.Run("stopping is not a deadline", func(t *testing.T) {
		t.Parallel()
		st := &captured{}
		lookup := newStuckLookup(t)
		rec := &Recorder{Store: st, Log: quietLog(), MessageDeadline: time.Hour, Matcher: &replies.Matcher{Lookup: lookup}}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-lookup.entered
			cancel()
		}()
		err := handle(t, ctx, rec, batch, cp)
		if !errors.Is(err, context.Canceled) || len(st.rs) != 0 {
			t.Errorf("Handle while stopping: %v, %d replies recorded; want context.Canceled and none (the batch comes again)", err, len(st.rs))
		}
	})
}

// TestPollerHostileMail is the poller against a real Dovecot, with the
// default size limit: a 9.5 MiB flood of angle brackets (under the limit,
// so read whole), fake bounces flooded with addresses, then a real reply.
// The reply must be recorded, and its campaign's response date set, within
// the per-message deadline times the number of hostile messages, and
// every message must be recorded.
func TestPollerHostileMail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := testservers.Dovecot(t)
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "outreach.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	comp := benchComposer(t)
	sent := time.Now().Add(-48 * time.Hour)
	orig := sentLetter(t, st, comp, sent)

	const bounces = 4
	flood := angleBracketFlood(19 << 19) // 9.5 MiB
	if limit := (Config{}).withDefaults().MaxMessageBytes; int64(len(flood)) >= limit {
		t.Fatalf("the flood is %d bytes, not under the default limit of %d", len(flood), limit)
	}
	d.Append(t, "INBOX", flood)
	for i := range bounces {
		d.Append(t, "INBOX", addressFloodBounce(i, 64<<10))
	}
	reply := devreply.Human(orig, time.Now())
	d.Append(t, "INBOX", reply)

	rec := &Recorder{Store: st, Log: quietLog(), Matcher: &replies.Matcher{
		Lookup: st, Verifier: comp.Signer, RefPattern: letter.RefPattern}}
	p := &Poller{Store: st, Handler: rec, Log: quietLog(), Config: Config{Addr: d.Addr, TLS: TLSNone,
		Username: d.User, Password: d.Password, Idle: true, PollInterval: time.Hour}}
	runCtx, cancel := context.WithCancel(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- p.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		<-stopped
	})

	within := DefaultMessageDeadline * (1 + bounces)
	waitFor(t, within, "real reply recorded with its campaign's response date set", func() bool {
		cs, err := st.Campaigns(ctx, store.CampaignFilter{IDs: []int64{1}})
		return err == nil && len(cs) == 1 && !cs[0].ResponseDate.IsZero()
	})
	rs, err := st.Replies(ctx, store.ReplyFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2+bounces {
		t.Fatalf("%d messages recorded, want all %d", len(rs), 2+bounces)
	}
	for _, r := range rs[:1+bounces] {
		t.Logf("uid %d, %d bytes: %s, %s (%s)", r.UID, r.Size, r.Kind, r.Status, r.KindReason)
		// The bounces name the office's address among thousands: matched
		// to its letter at most for review, never confirmed.
		if r.Status == campaign.ReplyConfirmed {
			t.Errorf("hostile message uid %d confirmed (%s, letter %s, %v)", r.UID, r.Kind, r.LetterID, r.Signals)
		}
	}
	if r := rs[1+bounces]; r.Kind != campaign.ReplyHuman || r.Status != campaign.ReplyConfirmed || r.LetterID != "w1-t1" {
		t.Errorf("the real reply recorded as %s, %s, letter %q", r.Kind, r.Status, r.LetterID)
	}
}

// sentLetter stores an office, its campaign and wave 1's letter to it,
// sent at sent, and returns the letter as the office got it.
func sentLetter(t *testing.T, st *store.SQLite, comp *letter.Composer, sent time.Time) devreply.Letter {
	t.Helper()
	ctx := context.Background()
	c := benchCampaign(1)
	tg := campaign.Target{ID: 1, Email: "mayor@city1.example", Country: "Canada", City: "City 1", Language: "en",
		TimeZone: "America/Toronto"}
	id := campaign.LetterID(1, tg.ID)
	_, r, err := comp.Compose(letter.Letter{ID: id, Template: "appeal", Target: tg, Campaigns: []campaign.Campaign{c}, Date: sent})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ImportCampaigns(ctx, []campaign.Campaign{c}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ImportContacts(ctx, []store.Contact{{Target: tg, CampaignIDs: []int64{c.ID}}}); err != nil {
		t.Fatal(err)
	}
	w, planned, err := st.CreateWave(ctx, campaign.Wave{Name: "hostile", Template: "appeal"},
		[]campaign.Letter{{ID: id, TargetID: tg.ID, CampaignIDs: []int64{c.ID}, Email: tg.Email}})
	if err != nil || len(planned) != 1 || planned[0].ID != id {
		t.Fatalf("wave planned %v: %v", planned, err)
	}
	if _, err := st.StartWave(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	msgID := comp.Signer.MessageID(id)
	if err := st.BeginSending(ctx, id, msgID); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkSent(ctx, id, sent, "250 OK", campaign.Date{}); err != nil {
		t.Fatal(err)
	}
	replyTo, _ := comp.Signer.PlusAddress(comp.ReplyTo, id)
	return devreply.Letter{MessageID: msgID, Subject: r.Subject, Text: r.Text, SentAt: sent, FromName: comp.Org.Name,
		From: comp.Org.Address, ReplyTo: replyTo, To: tg.Email, Language: tg.Language}
}

// angleBracketFlood is an HTML mail of about n bytes, nearly all "<".
func angleBracketFlood(n int) []byte {
	head := "From: Someone <someone@stranger.example>\r\nTo: campaign@outreach.example\r\nSubject: Hello\r\n" +
		"Message-ID: <flood@stranger.example>\r\nContent-Type: text/html\r\n\r\n<p>"
	return []byte(head + strings.Repeat("<", n-len(head)))
}

// addressFloodBounce is a fake delivery failure of about n bytes whose
// notice names thousands of addresses on one line.
func addressFloodBounce(i, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Mail Delivery System <MAILER-DAEMON@mx.stranger.example>\r\nTo: campaign@outreach.example\r\n"+
		"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce-%d@mx.stranger.example>\r\n\r\n"+
		"Delivery to the following recipients failed permanently: ", i)
	for j := 0; b.Len() < n; j++ {
		fmt.Fprintf(&b, "user%d@host.example, mayor@city1.example, ", j)
	}
	return []byte(b.String())
}
