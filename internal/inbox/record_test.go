package inbox

import (
	"context"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/replies"
	"github.com/outreach-campaign/outreach/internal/store"
)

// captured is a RecordStore that keeps what it is given.
type captured struct {
	rs []campaign.Reply
	cp store.Checkpoint
}

func (c *captured) RecordReplies(_ context.Context, rs []campaign.Reply, cp store.Checkpoint) ([]store.Recorded, error) {
	c.rs, c.cp = append(c.rs, rs...), cp
	out := make([]store.Recorded, len(rs))
	for i := range rs {
		out[i] = store.Recorded{ID: int64(i + 1)}
	}
	return out, nil
}

// officeLookup knows one office, whose letter w1-t1 it serves; asked about
// anyone else, it fails as a broken reader would.
type officeLookup struct{}

func (officeLookup) Letter(_ context.Context, id string) (campaign.Letter, error) {
	if id == "w1-t1" {
		return campaign.Letter{ID: id, TargetID: 1, CampaignIDs: []int64{7}, SentAt: time.Unix(0, 0)}, nil
	}
	return campaign.Letter{}, campaign.ErrNotFound
}

func (officeLookup) Target(_ context.Context, email string) (campaign.Target, error) {
	switch email {
	case "mayor@office.example":
		return campaign.Target{ID: 1, Email: email}, nil
	case "trouble@office.example":
		panic("lookup failed badly")
	}
	return campaign.Target{}, campaign.ErrNotFound
}

func (officeLookup) TargetsInDomain(context.Context, string) ([]campaign.Target, error) {
	return nil, nil
}

func (l officeLookup) SentLetters(ctx context.Context, _ int64) ([]campaign.Letter, error) {
	w, _ := l.Letter(ctx, "w1-t1")
	return []campaign.Letter{w}, nil
}

func TestRecorder(t *testing.T) {
	st := &captured{}
	now := time.Date(2017, 8, 2, 10, 0, 0, 0, time.UTC)
	rec := &Recorder{Store: st, Log: quietLog(), Now: func() time.Time { return now },
		Matcher: &replies.Matcher{Lookup: officeLookup{}}}
	msg := func(from string) []byte {
		return []byte("From: " + from + "\r\nSubject: Re: appeal\r\nMessage-ID: <" + from + ">\r\n\r\nWe agree.\r\n")
	}
	batch := []Message{
		{UID: 4, Raw: msg("mayor@office.example"), Size: 80, InternalDate: now.Add(-time.Hour)},
		{UID: 5, Raw: msg("trouble@office.example"), Size: 80},
		{UID: 6, Raw: []byte("\x00 not mail"), Size: 10},
	}
	cp := store.Checkpoint{Mailbox: "m", UIDValidity: 9, UID: 6}
	if err := rec.Handle(context.Background(), batch, cp); err != nil {
		t.Fatal(err)
	}
	if len(st.rs) != 3 || st.cp != cp {
		t.Fatalf("recorded %d replies with checkpoint %+v", len(st.rs), st.cp)
	}
	// The office's address alone: matched to its letter, waiting for
	// review at the default threshold.
	if r := st.rs[0]; r.LetterID != "w1-t1" || r.Status != campaign.ReplyPending || r.NewText != "We agree." ||
		!r.ReceivedAt.Equal(now.Add(-time.Hour)) || r.UID != 4 || r.UIDValidity != 9 || r.SHA256 == "" {
		t.Errorf("office's reply recorded as %+v", r)
	}
	// A message the reader fails on, and one that is no mail at all, are
	// kept for staff with what went wrong, stamped with the clock.
	for _, r := range st.rs[1:] {
		if r.Status != campaign.ReplyUnmatched || r.Kind != campaign.ReplyHuman || len(r.Problems) == 0 ||
			r.LetterID != "" || !r.ReceivedAt.Equal(now) {
			t.Errorf("unreadable message recorded as %+v", r)
		}
	}
}

// TestRecorderSkipsSignedProbes: outreach doctor's probe, its header
// signed with letters.secret, is not a reply; a probe header anyone could
// write (a forged token, or one signed with another key) hides nothing.
func TestRecorderSkipsSignedProbes(t *testing.T) {
	ours, err := letter.NewSigner([]byte("the-campaign-secret-0123"), "outreach.example")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := letter.NewSigner([]byte("a-strangers-secret-0123"), "outreach.example")
	if err != nil {
		t.Fatal(err)
	}
	msg := func(id, probe string) []byte {
		return []byte("From: campaign@outreach.example\r\nSubject: outreach doctor\r\nMessage-ID: <" + id +
			"@outreach.example>\r\n" + ProbeHeader + ": " + probe + "\r\n\r\nA probe.\r\n")
	}
	st := &captured{}
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	rec := &Recorder{Store: st, Log: quietLog(), Now: func() time.Time { return now }, Probes: ours}
	batch := []Message{
		{UID: 1, Raw: msg("ours", ours.ProbeToken()), Size: 100, InternalDate: now},
		{UID: 2, Raw: msg("forged", "aaaaaaaaaaaaaaaa.bbbbcccccccccccccccc"), Size: 100, InternalDate: now},
		{UID: 3, Raw: msg("theirs", theirs.ProbeToken()), Size: 100, InternalDate: now},
	}
	cp := store.Checkpoint{Mailbox: "m", UIDValidity: 9, UID: 3}
	if err := rec.Handle(context.Background(), batch, cp); err != nil {
		t.Fatal(err)
	}
	if st.cp != cp {
		t.Errorf("checkpoint %+v, want %+v", st.cp, cp)
	}
	var uids []uint32
	for _, r := range st.rs {
		uids = append(uids, r.UID)
	}
	if len(uids) != 2 || uids[0] != 2 || uids[1] != 3 {
		t.Errorf("recorded the messages of UIDs %v, want 2 and 3 (the probe of UID 1 skipped)", uids)
	}

	// A batch of probes alone still moves the checkpoint past them.
	st = &captured{}
	rec.Store = st
	cp = store.Checkpoint{Mailbox: "m", UIDValidity: 9, UID: 4}
	if err := rec.Handle(context.Background(), []Message{{UID: 4, Raw: msg("again", ours.ProbeToken()), Size: 100}}, cp); err != nil {
		t.Fatal(err)
	}
	if len(st.rs) != 0 || st.cp != cp {
		t.Errorf("recorded %d replies with checkpoint %+v, want none with %+v", len(st.rs), st.cp, cp)
	}
}
