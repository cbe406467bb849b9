package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// world is a store with the sample campaigns, their two offices (Montreal:
// campaigns 19 and 24; Moncton: 37, whose response date came with the
// table) and a started wave whose letters were sent at sentAt.
type world struct {
	t  *testing.T
	s  *SQLite
	w  campaign.Wave
	ls map[string]campaign.Letter // by target city
	// now is the store's clock: the wave is made and started an hour
	// before sentAt; staff review after every reply of these tests.
	now time.Time
	// uid numbers the replies made, as a mailbox would.
	uid uint32
}

var sentAt = time.Date(2017, 7, 25, 13, 0, 0, 0, time.UTC)

func newWorld(t *testing.T, followUpAfter time.Duration) *world {
	t.Helper()
	ctx := context.Background()
	s := openTest(t)
	wd := &world{t: t, s: s, ls: map[string]campaign.Letter{}, now: sentAt.Add(-time.Hour)}
	s.Now = func() time.Time { return wd.now }
	if _, err := s.ImportCampaigns(ctx, sample()); err != nil {
		t.Fatal(err)
	}
	montreal := campaign.Target{Email: "maire@montreal.example", Country: "Canada", City: "Montreal",
		Language: "fr", TimeZone: "America/Toronto"}
	moncton := campaign.Target{Email: "mayor@moncton.example", Country: "Canada", City: "Moncton",
		Language: "en", TimeZone: "America/Moncton"}
	if _, err := s.ImportContacts(ctx, []Contact{{Target: montreal, CampaignIDs: []int64{19, 24}},
		{Target: moncton, CampaignIDs: []int64{37}}}); err != nil {
		t.Fatal(err)
	}
	ts, _ := s.Targets(ctx, TargetFilter{})
	var letters []campaign.Letter
	for _, tg := range ts {
		cs, _ := s.Campaigns(ctx, CampaignFilter{TargetID: tg.ID})
		var ids []int64
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		letters = append(letters, campaign.Letter{TargetID: tg.ID, Email: tg.Email, CampaignIDs: ids})
	}
	w, ls, err := s.CreateWave(ctx, campaign.Wave{Name: "w", Template: "appeal", FollowUpAfter: followUpAfter,
		FollowUpTemplate: "follow-up"}, letters)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartWave(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	wd.w = w
	for _, l := range ls {
		if err := s.BeginSending(ctx, l.ID, l.ID+".sig@outreach.example"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkSent(ctx, l.ID, sentAt, "250 OK", campaign.Date{}); err != nil {
			t.Fatal(err)
		}
		tg, _ := s.TargetByID(ctx, l.TargetID)
		wd.ls[tg.City], _ = s.Letter(ctx, l.ID)
	}
	wd.now = time.Date(2017, 10, 2, 12, 0, 0, 0, time.UTC)
	return wd
}

// reply is a reply to letter l of the given kind and status, received at.
func (wd *world) reply(city string, kind campaign.ReplyKind, status campaign.ReplyStatus, at time.Time) campaign.Reply {
	wd.uid++
	uid := wd.uid
	l := wd.ls[city]
	r := campaign.Reply{
		Mailbox: "INBOX", UIDValidity: 7, UID: uid, MessageID: fmt.Sprintf("r%d@office.example", uid),
		SHA256: fmt.Sprintf("%064d", uid), Kind: kind, Status: status, LetterID: l.ID, TargetID: l.TargetID,
		CampaignIDs: l.CampaignIDs, Confidence: 0.95, From: l.Email, Subject: "Re: appeal",
		ReceivedAt: at, Size: 10, Raw: []byte("raw"),
		Signals: []campaign.Signal{{Name: "message-id", Detail: "In-Reply-To", LetterID: l.ID, Weight: 0.95}},
	}
	if status == campaign.ReplyUnmatched {
		r.LetterID, r.TargetID, r.CampaignIDs, r.Signals, r.Confidence = "", 0, nil, nil, 0
	}
	return r
}

func (wd *world) record(rs ...campaign.Reply) []Recorded {
	wd.t.Helper()
	last := rs[len(rs)-1]
	out, err := wd.s.RecordReplies(context.Background(), rs, Checkpoint{Mailbox: last.Mailbox, UIDValidity: last.UIDValidity, UID: last.UID})
	if err != nil {
		wd.t.Fatal(err)
	}
	return out
}

func (wd *world) campaign(id int64) campaign.Campaign {
	wd.t.Helper()
	c, err := wd.s.Campaign(context.Background(), id)
	if err != nil {
		wd.t.Fatal(err)
	}
	return c
}

func TestRecordRepliesOnceWithCheckpoint(t *testing.T) {
	ctx := context.Background()
	wd := newWorld(t, 0)
	a := wd.reply("Montreal", campaign.ReplyAuto, campaign.ReplyConfirmed, sentAt.Add(time.Hour))
	b := wd.reply("Moncton", campaign.ReplyHuman, campaign.ReplyUnmatched, sentAt.Add(2*time.Hour))
	b.MessageID = "" // told apart by its hash
	got := wd.record(a, b)
	if got[0].Duplicate || got[1].Duplicate || got[0].ID == got[1].ID {
		t.Fatalf("first recording: %+v", got)
	}
	cp, err := wd.s.Checkpoint(ctx, "INBOX")
	if err != nil || cp != (Checkpoint{Mailbox: "INBOX", UIDValidity: 7, UID: b.UID}) {
		t.Fatalf("checkpoint %+v, %v", cp, err)
	}
	// A rescan under a new UIDVALIDITY finds the same messages again.
	a.UIDValidity, a.UID, b.UIDValidity, b.UID = 8, 1, 8, 2
	again := wd.record(a, b)
	if !again[0].Duplicate || !again[1].Duplicate || again[0].ID != got[0].ID || again[1].ID != got[1].ID {
		t.Errorf("rescan: %+v, want both duplicates of %+v", again, got)
	}
	if rs, _ := wd.s.Replies(ctx, ReplyFilter{}); len(rs) != 2 {
		t.Errorf("%d replies stored, want 2", len(rs))
	}
	if cp, _ := wd.s.Checkpoint(ctx, "INBOX"); cp.UIDValidity != 8 || cp.UID != 2 {
		t.Errorf("checkpoint after the rescan: %+v", cp)
	}
	r, err := wd.s.Reply(ctx, got[0].ID)
	if err != nil || string(r.Raw) != "raw" || r.Kind != campaign.ReplyAuto || len(r.Signals) != 1 || r.Signals[0].Name != "message-id" {
		t.Errorf("stored reply %+v, %v", r, err)
	}
	if pending, _ := wd.s.Replies(ctx, ReplyFilter{Pending: true}); len(pending) != 1 || pending[0].ID != got[1].ID {
		t.Errorf("review queue %v, want the unmatched person's message only", pending)
	}
}

func TestRecordRepliesBadInputChangesNothing(t *testing.T) {
	ctx := context.Background()
	wd := newWorld(t, 0)
	good := wd.reply("Montreal", campaign.ReplyHuman, campaign.ReplyConfirmed, sentAt.Add(time.Hour))
	for name, bad := range map[string]func(*campaign.Reply){
		"kind":              func(r *campaign.Reply) { r.Kind = "spam" },
		"confirmed no camp": func(r *campaign.Reply) { r.CampaignIDs = nil },
		"unknown campaign":  func(r *campaign.Reply) { r.CampaignIDs = []int64{999} },
	} {
		r := wd.reply("Moncton", campaign.ReplyHuman, campaign.ReplyConfirmed, sentAt.Add(time.Hour))
		bad(&r)
		if _, err := wd.s.RecordReplies(ctx, []campaign.Reply{good, r}, Checkpoint{Mailbox: "INBOX", UIDValidity: 7, UID: r.UID}); err == nil {
			t.Errorf("%s: recorded", name)
		}
	}
	if rs, _ := wd.s.Replies(ctx, ReplyFilter{}); len(rs) != 0 {
		t.Errorf("%d replies stored after refused batches", len(rs))
	}
	if cp, _ := wd.s.Checkpoint(ctx, "INBOX"); cp.UID != 0 {
		t.Errorf("checkpoint moved to %+v", cp)
	}
	if c := wd.campaign(19); !c.ResponseDate.IsZero() {
		t.Errorf("response date %s set by a refused batch", c.ResponseDate)
	}
}

func TestResponseDateRules(t *testing.T) {
	ctx := context.Background()
	wd := newWorld(t, 0)
	day := func(s string) campaign.Date { return mustDate(s) }

	// Auto-replies and bounces never set a response date.
	wd.record(wd.reply("Montreal", campaign.ReplyAuto, campaign.ReplyConfirmed, sentAt.Add(time.Hour)))
	if c := wd.campaign(19); !c.ResponseDate.IsZero() {
		t.Fatalf("an auto-reply set the response date %s", c.ResponseDate)
	}
	// A pending person's reply waits for staff.
	early := wd.record(wd.reply("Montreal", campaign.ReplyHuman, campaign.ReplyPending, time.Date(2017, 8, 2, 3, 0, 0, 0, time.UTC)))[0]
	if c := wd.campaign(19); !c.ResponseDate.IsZero() {
		t.Fatalf("a pending reply set the response date %s", c.ResponseDate)
	}
	// A confirmed one sets it for every campaign of the letter, on its day
	// in the office's zone (03:00 UTC is the evening before in Montreal).
	late := wd.record(wd.reply("Montreal", campaign.ReplyHuman, campaign.ReplyConfirmed, time.Date(2017, 8, 9, 15, 0, 0, 0, time.UTC)))[0]
	for _, id := range []int64{19, 24} {
		if c := wd.campaign(id); c.ResponseDate != day("2017-08-09") {
			t.Errorf("campaign %d: response date %s, want 2017-08-09", id, c.ResponseDate)
		}
	}
	// A later reply changes nothing; staff confirming the earlier pending
	// one move the date back to it: the earliest reply wins.
	wd.record(wd.reply("Montreal", campaign.ReplyHuman, campaign.ReplyConfirmed, time.Date(2017, 9, 1, 15, 0, 0, 0, time.UTC)))
	if c := wd.campaign(19); c.ResponseDate != day("2017-08-09") {
		t.Errorf("a later reply moved the date to %s", c.ResponseDate)
	}
	if _, err := wd.s.ConfirmReply(ctx, early.ID, Confirmation{Outcome: campaign.Victory, Note: "The mayor wrote to Seoul."}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{19, 24} {
		c := wd.campaign(id)
		if c.ResponseDate != day("2017-08-01") || c.Outcome != campaign.Victory || c.ResponseNote != "The mayor wrote to Seoul." {
			t.Errorf("campaign %d after confirming the earlier reply: %s %q %q", id, c.ResponseDate, c.Outcome, c.ResponseNote)
		}
	}
	// Rejecting it gives the date back to the next one.
	if _, err := wd.s.RejectReply(ctx, early.ID, "about something else"); err != nil {
		t.Fatal(err)
	}
	if c := wd.campaign(19); c.ResponseDate != day("2017-08-09") {
		t.Errorf("after rejecting the earliest reply: %s, want 2017-08-09", c.ResponseDate)
	}
	if _, err := wd.s.RejectReply(ctx, late.ID, ""); err != nil {
		t.Fatal(err)
	}
	if c := wd.campaign(19); c.ResponseDate != day("2017-09-01") {
		t.Errorf("after rejecting two: %s, want 2017-09-01", c.ResponseDate)
	}

	// A date that came with the table is never changed by mail.
	wd.record(wd.reply("Moncton", campaign.ReplyHuman, campaign.ReplyConfirmed, time.Date(2017, 8, 1, 15, 0, 0, 0, time.UTC)))
	if c := wd.campaign(37); c.ResponseDate != day("2017-08-09") || c.ResponseNote != "Response from Yeosu." {
		t.Errorf("the imported date or note changed: %s %q", c.ResponseDate, c.ResponseNote)
	}
}

func TestConfirmAndRejectRefusals(t *testing.T) {
	ctx := context.Background()
	wd := newWorld(t, 0)
	un := wd.record(wd.reply("Moncton", campaign.ReplyHuman, campaign.ReplyUnmatched, sentAt.Add(time.Hour)))[0]
	auto := wd.record(wd.reply("Montreal", campaign.ReplyAuto, campaign.ReplyConfirmed, sentAt.Add(time.Hour)))[0]
	if _, err := wd.s.ConfirmReply(ctx, un.ID, Confirmation{}); !errors.Is(err, ErrConflict) {
		t.Errorf("confirming an unmatched reply without campaigns: %v, want ErrConflict", err)
	}
	if _, err := wd.s.ConfirmReply(ctx, auto.ID, Confirmation{Outcome: campaign.Victory}); !errors.Is(err, ErrConflict) {
		t.Errorf("an outcome on an auto-reply: %v, want ErrConflict", err)
	}
	if _, err := wd.s.ConfirmReply(ctx, un.ID, Confirmation{CampaignIDs: []int64{19}, Note: "two\nlines"}); err == nil {
		t.Error("a two-line note was accepted")
	}
	if _, err := wd.s.ConfirmReply(ctx, 999, Confirmation{}); !errors.Is(err, campaign.ErrNotFound) {
		t.Errorf("confirming a missing reply: %v", err)
	}
	if c := wd.campaign(19); !c.ResponseDate.IsZero() || c.Outcome != "" {
		t.Errorf("refused confirmations changed campaign 19: %+v", c)
	}
	// Staff say which campaign the unmatched message answers; an
	// auto-reply staff recognise as a person's counts as one.
	r, err := wd.s.ConfirmReply(ctx, un.ID, Confirmation{CampaignIDs: []int64{24}})
	if err != nil || r.Status != campaign.ReplyConfirmed || len(r.CampaignIDs) != 1 || r.TargetID == 0 {
		t.Fatalf("confirm with a campaign: %+v %v", r, err)
	}
	if c := wd.campaign(24); c.ResponseDate.IsZero() {
		t.Error("no response date after confirming with --campaign")
	}
	if c := wd.campaign(19); !c.ResponseDate.IsZero() {
		t.Error("a campaign staff did not name got a date")
	}
	if r, err := wd.s.ConfirmReply(ctx, auto.ID, Confirmation{Human: true}); err != nil || r.Kind != campaign.ReplyHuman {
		t.Errorf("correcting an auto-reply: %+v %v", r, err)
	}
	if c := wd.campaign(19); c.ResponseDate.IsZero() {
		t.Error("a reply corrected to a person's gave no date")
	}
}

func TestBounceRules(t *testing.T) {
	ctx := context.Background()
	wd := newWorld(t, 0)
	delay := wd.reply("Moncton", campaign.ReplyBounce, campaign.ReplyConfirmed, sentAt.Add(time.Hour))
	delay.Bounce = &campaign.BounceReport{Recipients: []string{"mayor@moncton.example"}, Delayed: true}
	wd.record(delay)
	if l, _ := wd.s.Letter(ctx, wd.ls["Moncton"].ID); l.State != campaign.Sent {
		t.Errorf("a delay warning made the letter %s", l.State)
	}
	if tg, _ := wd.s.Target(ctx, "mayor@moncton.example"); tg.Suspect {
		t.Error("a delay warning made the address suspect")
	}
	hard := wd.reply("Moncton", campaign.ReplyBounce, campaign.ReplyConfirmed, sentAt.Add(2*time.Hour))
	hard.Bounce = &campaign.BounceReport{Recipients: []string{"mayor@moncton.example"}, Permanent: true, Status: "5.1.1",
		Diagnostic: "550 5.1.1 user unknown"}
	rec := wd.record(hard)[0]
	if l, _ := wd.s.Letter(ctx, wd.ls["Moncton"].ID); l.State != campaign.Bounced {
		t.Errorf("a permanent bounce left the letter %s", l.State)
	}
	if tg, _ := wd.s.Target(ctx, "mayor@moncton.example"); !tg.Suspect || tg.SuspectReason == "" {
		t.Errorf("a permanent bounce left the address %+v", tg)
	}
	if _, err := wd.s.RejectReply(ctx, rec.ID, ""); !errors.Is(err, ErrConflict) {
		t.Errorf("rejecting a confirmed permanent bounce: %v, want ErrConflict", err)
	}
	// A pending permanent bounce does nothing until staff confirm it.
	pend := wd.reply("Montreal", campaign.ReplyBounce, campaign.ReplyPending, sentAt.Add(time.Hour))
	pend.Bounce = &campaign.BounceReport{Permanent: true}
	prec := wd.record(pend)[0]
	if l, _ := wd.s.Letter(ctx, wd.ls["Montreal"].ID); l.State != campaign.Sent {
		t.Errorf("a pending bounce made the letter %s", l.State)
	}
	if _, err := wd.s.ConfirmReply(ctx, prec.ID, Confirmation{}); err != nil {
		t.Fatal(err)
	}
	if l, _ := wd.s.Letter(ctx, wd.ls["Montreal"].ID); l.State != campaign.Bounced {
		t.Errorf("a confirmed bounce left the letter %s", l.State)
	}
}

func TestFollowUps(t *testing.T) {
	ctx := context.Background()
	after := 21 * 24 * time.Hour
	wd := newWorld(t, after)
	if fs, err := wd.s.CreateDueFollowUps(ctx, sentAt.Add(after-time.Minute)); err != nil || len(fs) != 0 {
		t.Fatalf("before the time: %v %v", fs, err)
	}
	// An auto-reply does not hold a follow-up; a pending person's reply
	// does.
	wd.record(wd.reply("Montreal", campaign.ReplyAuto, campaign.ReplyConfirmed, sentAt.Add(time.Hour)))
	wd.record(wd.reply("Moncton", campaign.ReplyHuman, campaign.ReplyPending, sentAt.Add(time.Hour)))
	fs, err := wd.s.CreateDueFollowUps(ctx, sentAt.Add(after))
	if err != nil {
		t.Fatal(err)
	}
	first := wd.ls["Montreal"]
	if len(fs) != 1 || fs[0].ID != campaign.FollowUpID(first.ID) {
		t.Fatalf("follow-ups %+v, want Montreal's only", fs)
	}
	f, err := wd.s.Letter(ctx, fs[0].ID)
	if err != nil || f.Kind != campaign.KindFollowUp || f.State != campaign.Planned || f.InReplyTo != first.MessageID ||
		f.Template != "follow-up" || len(f.CampaignIDs) != 2 {
		t.Errorf("follow-up %+v %v", f, err)
	}
	if again, _ := wd.s.CreateDueFollowUps(ctx, sentAt.Add(2*after)); len(again) != 0 {
		t.Errorf("planned twice: %v", again)
	}
	// The office replies before it goes: it is cancelled.
	wd.record(wd.reply("Montreal", campaign.ReplyHuman, campaign.ReplyConfirmed, sentAt.Add(after+time.Hour)))
	if f, _ := wd.s.Letter(ctx, fs[0].ID); f.State != campaign.Cancelled {
		t.Errorf("follow-up %s after the office replied, want cancelled", f.State)
	}
}

func TestFollowUpsSkipDoNotContactAndBounced(t *testing.T) {
	ctx := context.Background()
	after := time.Hour
	wd := newWorld(t, after)
	if err := wd.s.SetDoNotContact(ctx, "maire@montreal.example", true); err != nil {
		t.Fatal(err)
	}
	hard := wd.reply("Moncton", campaign.ReplyBounce, campaign.ReplyConfirmed, sentAt.Add(time.Minute))
	hard.Bounce = &campaign.BounceReport{Permanent: true}
	wd.record(hard)
	if fs, err := wd.s.CreateDueFollowUps(ctx, sentAt.Add(2*after)); err != nil || len(fs) != 0 {
		t.Errorf("follow-ups %v %v, want none", fs, err)
	}
}

// TestStrangersChangeNothing records what a stranger can send without our
// signature: a person's reply carrying Montreal's reference and a fake
// permanent bounce naming its address, both waiting for review. Neither
// sets a response date, bounces the letter, marks the address suspect or
// stops the office's follow-up; a signed reply waiting for review does.
func TestStrangersChangeNothing(t *testing.T) {
	ctx := context.Background()
	after := 21 * 24 * time.Hour
	wd := newWorld(t, after)
	l := wd.ls["Montreal"]
	unsigned := func(r campaign.Reply, from string) campaign.Reply {
		r.From, r.Confidence = from, 0.88
		r.Signals = []campaign.Signal{{Name: "subject-ref", Detail: "the subject carries [ref W1-T1]", LetterID: l.ID, Weight: 0.7},
			{Name: "sender-address", Detail: "the sender is the office's address", LetterID: l.ID, Weight: 0.6}}
		return r
	}
	stranger := unsigned(wd.reply("Montreal", campaign.ReplyHuman, campaign.ReplyPending, sentAt.Add(time.Hour)), "someone@attacker.example")
	fake := unsigned(wd.reply("Montreal", campaign.ReplyBounce, campaign.ReplyPending, sentAt.Add(2*time.Hour)), "mailer-daemon@attacker.example")
	fake.Bounce = &campaign.BounceReport{Recipients: []string{"maire@montreal.example"}, Permanent: true, Status: "5.1.1"}
	wd.record(stranger, fake)

	for _, id := range []int64{19, 24} {
		if c := wd.campaign(id); !c.ResponseDate.IsZero() {
			t.Errorf("campaign %d has response date %s from a stranger", id, c.ResponseDate)
		}
	}
	if got, _ := wd.s.Letter(ctx, l.ID); got.State != campaign.Sent {
		t.Errorf("a fake bounce made the letter %s", got.State)
	}
	if tg, _ := wd.s.Target(ctx, "maire@montreal.example"); tg.Suspect {
		t.Errorf("a fake bounce made the address suspect: %s", tg.SuspectReason)
	}
	if pending, _ := wd.s.Replies(ctx, ReplyFilter{Pending: true}); len(pending) != 2 {
		t.Errorf("%d replies wait for review, want both", len(pending))
	}
	fs, err := wd.s.CreateDueFollowUps(ctx, sentAt.Add(after))
	if err != nil {
		t.Fatal(err)
	}
	planned := map[string]bool{}
	for _, f := range fs {
		planned[f.ID] = true
	}
	if !planned[campaign.FollowUpID(l.ID)] {
		t.Fatalf("follow-ups %v: Montreal's was stopped by unsigned replies", fs)
	}
	// Another unsigned reply does not cancel the follow-up planned; a
	// signed one waiting for review does.
	wd.record(unsigned(wd.reply("Montreal", campaign.ReplyHuman, campaign.ReplyPending, sentAt.Add(after+time.Hour)), "other@attacker.example"))
	if f, _ := wd.s.Letter(ctx, campaign.FollowUpID(l.ID)); f.State != campaign.Planned {
		t.Errorf("follow-up %s after an unsigned reply, want planned", f.State)
	}
	wd.record(wd.reply("Montreal", campaign.ReplyHuman, campaign.ReplyPending, sentAt.Add(after+2*time.Hour)))
	if f, _ := wd.s.Letter(ctx, campaign.FollowUpID(l.ID)); f.State != campaign.Cancelled {
		t.Errorf("follow-up %s after a signed reply waiting for review, want cancelled", f.State)
	}
}
