package inbox

import (
	"context"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
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
