package supporters

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// queued records what would be queued; the worker's side is tested end to
// end in internal/web.
type queued struct {
	mu      sync.Mutex
	letters map[string]campaign.Letter
}

func (q *queued) EnqueueLetter(_ context.Context, l campaign.Letter) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.letters[l.ID] = l
	return nil
}

type fixture struct {
	t   *testing.T
	st  *store.SQLite
	q   *queued
	now time.Time
	b   *Batcher
	svc *Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, st: st, q: &queued{letters: map[string]campaign.Letter{}},
		now: time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)} // a Monday
	st.Now = func() time.Time { return f.now }
	var cs []campaign.Campaign
	for i, city := range []string{"Milano", "Firenze"} {
		cs = append(cs, campaign.Campaign{ID: int64(i + 1), No: fmt.Sprint(i + 1), Partner: campaign.Partner{Region: "Seoul"},
			Country: "Italy", City: city, AgreementDate: campaign.Date{Year: 2000, Month: 1, Day: 1},
			Relationship: campaign.Sister, RelationshipLabel: "Sister City"})
	}
	if _, err := st.ImportCampaigns(ctx, cs); err != nil {
		t.Fatal(err)
	}
	// One office for both campaigns: the cap is the office's.
	if _, err := st.ImportContacts(ctx, []store.Contact{{Target: campaign.Target{Email: "sindaco@comune.example",
		Country: "Italy", City: "Milano", Language: "it", TimeZone: "Europe/Rome"}, CampaignIDs: []int64{1, 2}}}); err != nil {
		t.Fatal(err)
	}
	hours, _ := campaign.ParseWorkingHours("09:00-17:00")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.b = &Batcher{Store: st, Queue: f.q, Hours: hours, ConfirmWithin: 72 * time.Hour, KeepFor: 30 * 24 * time.Hour,
		Defaults: campaign.Delivery{Mode: campaign.Individual, DailyCap: 8, Period: campaign.Daily},
		Now:      func() time.Time { return f.now }, Log: log}
	links, _ := NewLinks([]byte("batcher-test-secret-0123456789"), "http://act.example")
	f.svc = &Service{Store: st, Queue: f.q, Links: links, MaxMessage: 100, ConfirmWithin: 72 * time.Hour,
		Now: func() time.Time { return f.now }, Log: log}
	return f
}

// signConfirmed stores n confirmed letters to campaign id.
func (f *fixture) signConfirmed(id int64, n int, prefix string) []campaign.Signature {
	f.t.Helper()
	var out []campaign.Signature
	for i := range n {
		rec, err := f.svc.Sign(context.Background(), id, Form{Name: fmt.Sprintf("%s %d", prefix, i),
			Email: fmt.Sprintf("%s%d@people.example", prefix, i), Country: "Italy"}, "192.0.2.1")
		if err != nil {
			f.t.Fatal(err)
		}
		sig, err := f.st.ConfirmSignature(context.Background(), rec.Signature.ID, 1)
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, sig)
	}
	return out
}

func (f *fixture) round() {
	f.t.Helper()
	if err := f.b.Round(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) deliveries(kind campaign.LetterKind) []campaign.Letter {
	f.t.Helper()
	ls, err := f.st.Letters(context.Background(), store.LetterFilter{})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []campaign.Letter
	for _, l := range ls {
		if l.Kind == kind && l.State != campaign.Cancelled {
			out = append(out, l)
		}
	}
	return out
}

func TestIndividualLettersWithinCapAndHours(t *testing.T) {
	f := newFixture(t)
	f.signConfirmed(1, 15, "a")
	f.signConfirmed(2, 15, "b")
	rome, _ := time.LoadLocation("Europe/Rome")

	f.round() // Monday 07:00 in Rome: today's eight slots, and Tuesday's
	ls := f.deliveries(campaign.KindSupporter)
	if len(ls) != 16 {
		t.Fatalf("%d letters planned, want 8 today and 8 tomorrow", len(ls))
	}
	f.round() // nothing more fits
	if n := len(f.deliveries(campaign.KindSupporter)); n != 16 {
		t.Errorf("a second round planned %d", n-16)
	}
	f.now = f.now.Add(48 * time.Hour) // Wednesday: eight today, the last six tomorrow
	f.round()
	ls = f.deliveries(campaign.KindSupporter)
	if len(ls) != 30 {
		t.Fatalf("%d letters planned by Wednesday, want 30", len(ls))
	}
	perDay := map[campaign.Date][]time.Time{}
	for _, l := range ls {
		local := l.SendAt.In(rome)
		if !f.b.Hours.Contains(local) {
			t.Errorf("%s at %s, outside working hours", l.ID, local)
		}
		perDay[campaign.DateOf(local)] = append(perDay[campaign.DateOf(local)], local)
		if _, ok := f.q.letters[l.ID]; !ok || l.State != campaign.Queued {
			t.Errorf("%s is %s, not queued", l.ID, l.State)
		}
	}
	if len(perDay) != 4 {
		t.Errorf("letters on %d days, want 4", len(perDay))
	}
	for d, ts := range perDay {
		if want := 8; len(ts) != want && !(d.Day == 5 && len(ts) == 6) {
			t.Errorf("%s: %d letters, want the cap of %d", d, len(ts), want)
		}
		slices.SortFunc(ts, time.Time.Compare)
		for i := 1; i < len(ts); i++ {
			if gap := ts[i].Sub(ts[i-1]); gap < time.Hour {
				t.Errorf("%s: letters %s apart: not spread over the day", d, gap)
			}
		}
	}
}

func TestHoldReleaseAndSigningAgain(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sigs := f.signConfirmed(1, 3, "a")
	f.signConfirmed(2, 2, "b")
	f.round()
	if n := len(f.deliveries(campaign.KindSupporter)); n != 5 {
		t.Fatalf("%d planned", n)
	}

	// Holding campaign 1 cancels its three deliveries, not campaign 2's.
	n, err := f.st.HoldDeliveries(ctx, 1, true)
	if err != nil || n != 3 {
		t.Fatalf("hold: %d %v", n, err)
	}
	f.round()
	if ls := f.deliveries(campaign.KindSupporter); len(ls) != 2 {
		t.Errorf("%d deliveries while held, want campaign 2's 2", len(ls))
	}
	if _, err := f.st.HoldDeliveries(ctx, 1, false); err != nil {
		t.Fatal(err)
	}
	f.round()
	ls := f.deliveries(campaign.KindSupporter)
	if len(ls) != 5 {
		t.Fatalf("%d deliveries after release, want 5", len(ls))
	}
	ids := map[string]bool{}
	for _, l := range ls {
		ids[l.ID] = true
	}
	if !ids[campaign.SupporterLetterID(sigs[0].ID, 2)] {
		t.Errorf("a delivery planned again takes a new id: %v", ids)
	}

	// Signing again changes nothing until the new text is confirmed from
	// the address's inbox; then the planned delivery is cancelled and the
	// new text waits for the next batch.
	planned := campaign.SupporterLetterID(sigs[0].ID, 2)
	rec, err := f.svc.Sign(ctx, 1, Form{Name: "a 0", Email: "a0@people.example", Country: "Italy", Message: "new"}, "192.0.2.1")
	if err != nil || rec.Signature.State != campaign.SignatureConfirmed || rec.Signature.LetterID != planned ||
		rec.Confirmation.ID != campaign.ConfirmationLetterID(sigs[0].ID, 2) {
		t.Fatalf("signing again: %+v %v", rec, err)
	}
	if l, _ := f.st.Letter(ctx, planned); l.State != campaign.Queued {
		t.Errorf("signing again touched the planned delivery: %s", l.State)
	}
	sig, err := f.st.ConfirmSignature(ctx, sigs[0].ID, 2)
	if err != nil || sig.Message != "new" || sig.Version != 2 || sig.LetterID != "" {
		t.Fatalf("confirming the new text: %+v %v", sig, err)
	}
	if l, _ := f.st.Letter(ctx, planned); l.State != campaign.Cancelled {
		t.Errorf("the old delivery is %s", l.State)
	}

	// A delivery that started cannot be changed: signing again is taken
	// (the answer tells nothing), keeps no draft and confirms nothing.
	started := campaign.SupporterLetterID(sigs[1].ID, 2)
	if err := f.st.BeginSending(ctx, started, "x@outreach.example"); err != nil {
		t.Fatal(err)
	}
	rec, err = f.svc.Sign(ctx, 1, Form{Name: "a 1", Email: "a1@people.example", Country: "Italy", Message: "late"}, "192.0.2.1")
	if err != nil {
		t.Fatalf("signing again while sending: %v", err)
	}
	if _, err := f.st.Draft(ctx, sigs[1].ID); !errors.Is(err, campaign.ErrNotFound) {
		t.Errorf("a draft kept for a letter being sent: %v", err)
	}
	if _, err := f.st.ConfirmSignature(ctx, sigs[1].ID, 2); !errors.Is(err, store.ErrConflict) {
		t.Errorf("confirming a signing for a letter being sent: %v", err)
	}
	if _, err := f.st.HoldDeliveries(ctx, 1, true); err != nil {
		t.Fatal(err)
	}
	if l, _ := f.st.Letter(ctx, started); l.State != campaign.Sending {
		t.Errorf("holding touched a letter being sent: %s", l.State)
	}
}

func TestDigestOncePerOfficePerDay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for id := int64(1); id <= 2; id++ {
		if err := f.st.SetDelivery(ctx, campaign.Delivery{CampaignID: id, Mode: campaign.Digest, Period: campaign.Daily}); err != nil {
			t.Fatal(err)
		}
	}
	f.now = time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC) // Friday 13:00 in Rome
	f.signConfirmed(1, 4, "a")
	f.signConfirmed(2, 3, "b")
	// Friday afternoon, the weekend and Monday before 09:00: none.
	for f.now.Before(time.Date(2026, 3, 9, 7, 59, 0, 0, time.UTC)) {
		f.round()
		f.now = f.now.Add(time.Hour)
	}
	if ls := f.deliveries(campaign.KindDigest); len(ls) != 0 {
		t.Fatalf("digests outside working hours: %v", ls)
	}
	f.now = time.Date(2026, 3, 9, 8, 30, 0, 0, time.UTC) // Monday 09:30 in Rome
	f.round()
	f.now = f.now.Add(time.Hour)
	f.round()
	ls := f.deliveries(campaign.KindDigest)
	if len(ls) != 1 || ls[0].ID != "d1-20260308" {
		t.Fatalf("digests %v, want one for the period that ended", ls)
	}
	sigs, err := f.st.LetterSignatures(ctx, ls[0].ID)
	if err != nil || len(sigs) != 7 || len(ls[0].CampaignIDs) != 2 {
		t.Errorf("the digest carries %d letters of campaigns %v, want 7 of both (%v)", len(sigs), ls[0].CampaignIDs, err)
	}
}

func TestRetentionErasesButCounts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sigs := f.signConfirmed(1, 2, "a")
	f.round()
	l := f.deliveries(campaign.KindSupporter)[0]
	if err := f.st.BeginSending(ctx, l.ID, "x@outreach.example"); err != nil {
		t.Fatal(err)
	}
	if err := f.st.MarkSent(ctx, l.ID, f.now, "250 ok", campaign.Date{}); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(29 * 24 * time.Hour)
	f.round()
	if sig, _ := f.st.Signature(ctx, sigs[0].ID); sig.Name == "" {
		t.Fatal("erased before its time")
	}
	f.now = f.now.Add(2 * 24 * time.Hour)
	f.round()
	sig, _ := f.st.Signature(ctx, sigs[0].ID)
	if sig.Name != "" || sig.Email != "" || sig.ErasedAt.IsZero() || sig.LetterState != campaign.Sent {
		t.Errorf("after keep_for: %+v", sig)
	}
	if conf, _ := f.st.Letter(ctx, campaign.ConfirmationLetterID(sigs[0].ID, 1)); conf.Email != "" {
		t.Errorf("the confirmation mail still names %s", conf.Email)
	}
	stats, _ := f.st.SupporterStats(ctx, 1)
	if len(stats) != 1 || stats[0].Signed != 2 || stats[0].Delivered != 1 || stats[0].Erased != 1 {
		t.Errorf("counts after erasure: %+v", stats)
	}
	// The same person may sign again: a new letter.
	rec, err := f.svc.Sign(ctx, 1, Form{Name: "a 0", Email: "a0@people.example", Country: "Italy"}, "192.0.2.1")
	if err != nil || rec.Signature.Version != 1 || rec.Signature.ID == sigs[0].ID {
		t.Errorf("signing after erasure: %+v %v", rec, err)
	}
}

// TestDraftsExpire: an unconfirmed draft is deleted after confirm_within
// and its link no longer confirms; a pending letter lives as long as a
// draft of it does; erasing a letter erases its draft and the address on
// the draft's mail.
func TestDraftsExpire(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sign := func(email, message string) Receipt {
		t.Helper()
		rec, err := f.svc.Sign(ctx, 1, Form{Name: "Ann", Email: email, Country: "Italy", Message: message}, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	// Ann's letter is confirmed; a draft of it waits.
	ann := f.signConfirmed(1, 1, "ann")[0]
	sign(ann.Email, "a new text")
	// Bob's letter is pending; two days later a draft of it is made.
	bob := sign("bob@people.example", "first").Signature
	f.now = f.now.Add(48 * time.Hour)
	bobDraft := sign("bob@people.example", "second").Confirmation

	// Three days on: Ann's draft is gone, her letter is as it was; Bob's
	// letter, pending past its own time, lives with its draft.
	f.now = f.now.Add(25 * time.Hour)
	f.round()
	if _, err := f.st.Draft(ctx, ann.ID); !errors.Is(err, campaign.ErrNotFound) {
		t.Errorf("Ann's draft after its time: %v", err)
	}
	if sig, _ := f.st.Signature(ctx, ann.ID); sig.State != campaign.SignatureConfirmed || sig.Message != "" || sig.Name != "ann 0" {
		t.Errorf("Ann's letter after her draft expired: %+v", sig)
	}
	if _, err := f.st.ConfirmSignature(ctx, ann.ID, 2); !errors.Is(err, store.ErrConflict) {
		t.Errorf("confirming an expired draft: %v", err)
	}
	if sig, _ := f.st.Signature(ctx, bob.ID); sig.State != campaign.SignaturePending || sig.Message != "first" {
		t.Errorf("Bob's letter, whose draft is still valid: %+v", sig)
	}

	// Bob withdraws: his draft goes, and the address leaves its mail.
	if _, err := f.st.WithdrawSignature(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Draft(ctx, bob.ID); !errors.Is(err, campaign.ErrNotFound) {
		t.Errorf("Bob's draft after withdrawal: %v", err)
	}
	if l, _ := f.st.Letter(ctx, bobDraft.ID); l.Email != "" {
		t.Errorf("the draft's confirmation mail still names %s", l.Email)
	}

	// A signing after Ann's draft expired takes a version of its own.
	rec := sign(ann.Email, "a third text")
	if rec.Confirmation.ID != campaign.ConfirmationLetterID(ann.ID, 3) {
		t.Errorf("a signing after an expired draft: %s, want version 3", rec.Confirmation.ID)
	}
}
