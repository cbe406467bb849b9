package campaign

import (
	"testing"
	"time"
)

func TestReplyRules(t *testing.T) {
	permanent := &BounceReport{Permanent: true}
	delayed := &BounceReport{Delayed: true}
	signed := []Signal{{Name: SignalMessageID, LetterID: "w1-t1", Weight: 0.95}}
	// What anyone can write: the letter's reference and the office's
	// address, or a signature that names another letter.
	unsigned := []Signal{{Name: "subject-ref", LetterID: "w1-t1", Weight: 0.7},
		{Name: "sender-address", LetterID: "w1-t1", Weight: 0.6}, {Name: SignalReplyToken, LetterID: "w1-t2", Weight: 0.95}}
	for _, tt := range []struct {
		name                           string
		r                              Reply
		date, bounced, holds, inReview bool
	}{
		{"confirmed person", Reply{Kind: ReplyHuman, Status: ReplyConfirmed, LetterID: "w1-t1", TargetID: 1}, true, false, true, false},
		{"pending person, signed", Reply{Kind: ReplyHuman, Status: ReplyPending, LetterID: "w1-t1", TargetID: 1, Signals: signed}, false, false, true, true},
		{"pending person, unsigned", Reply{Kind: ReplyHuman, Status: ReplyPending, LetterID: "w1-t1", TargetID: 1, Signals: unsigned}, false, false, false, true},
		{"confirmed by staff, unsigned", Reply{Kind: ReplyHuman, Status: ReplyConfirmed, LetterID: "w1-t1", TargetID: 1, Signals: unsigned}, true, false, true, false},
		{"rejected person", Reply{Kind: ReplyHuman, Status: ReplyRejected, LetterID: "w1-t1", TargetID: 1}, false, false, false, false},
		{"unmatched person", Reply{Kind: ReplyHuman, Status: ReplyUnmatched}, false, false, false, true},
		{"unmatched bounce", Reply{Kind: ReplyBounce, Status: ReplyUnmatched, Bounce: permanent}, false, false, false, false},
		{"auto-reply", Reply{Kind: ReplyAuto, Status: ReplyConfirmed, LetterID: "w1-t1", TargetID: 1}, false, false, false, false},
		{"permanent bounce", Reply{Kind: ReplyBounce, Status: ReplyConfirmed, LetterID: "w1-t1", TargetID: 1, Bounce: permanent}, false, true, true, false},
		{"pending permanent bounce", Reply{Kind: ReplyBounce, Status: ReplyPending, LetterID: "w1-t1", TargetID: 1, Bounce: permanent}, false, false, false, true},
		{"delay warning", Reply{Kind: ReplyBounce, Status: ReplyConfirmed, LetterID: "w1-t1", TargetID: 1, Bounce: delayed}, false, false, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			if r.SetsResponseDate() != tt.date || r.MarksBounced() != tt.bounced || r.HoldsFollowUp() != tt.holds || r.NeedsReview() != tt.inReview {
				t.Errorf("date %v bounced %v holds %v review %v, want %v %v %v %v", r.SetsResponseDate(), r.MarksBounced(),
					r.HoldsFollowUp(), r.NeedsReview(), tt.date, tt.bounced, tt.holds, tt.inReview)
			}
		})
	}
}

func TestReplyKey(t *testing.T) {
	a := Reply{MessageID: "<Abc@X.example>", SHA256: HashRaw([]byte("one"))}
	b := Reply{MessageID: "abc@x.example", SHA256: HashRaw([]byte("two"))}
	if a.Key() != b.Key() {
		t.Errorf("one Message-ID, two keys: %q %q", a.Key(), b.Key())
	}
	c, d := Reply{SHA256: HashRaw([]byte("one"))}, Reply{SHA256: HashRaw([]byte("two"))}
	if c.Key() == d.Key() || c.Key() == a.Key() {
		t.Errorf("messages without Message-ID are told apart by their hash: %q %q", c.Key(), d.Key())
	}
}

func TestResponseDay(t *testing.T) {
	at := time.Date(2017, 8, 2, 3, 0, 0, 0, time.UTC)
	if d := ResponseDay(at, "America/Toronto"); d != (Date{2017, 8, 1}) {
		t.Errorf("Toronto: %s", d)
	}
	if d := ResponseDay(at, "Asia/Seoul"); d != (Date{2017, 8, 2}) {
		t.Errorf("Seoul: %s", d)
	}
	if d := ResponseDay(at, ""); d != (Date{2017, 8, 2}) {
		t.Errorf("no zone: %s", d)
	}
}

func TestFollowUp(t *testing.T) {
	w := Wave{ID: 3, FollowUpAfter: 21 * 24 * time.Hour, FollowUpTemplate: "follow-up", LocalTime: "09:00"}
	first := Letter{ID: "w3-t7", Kind: KindWave, WaveID: 3, TargetID: 7, CampaignIDs: []int64{19, 24},
		MessageID: "w3-t7.sig@outreach.example", Email: "old@montreal.example"}
	office := Target{ID: 7, Email: "maire@montreal.example", TimeZone: "America/Toronto"}
	// Saturday 15 August 2026, noon UTC: the next working 09:00 in
	// Montreal is Monday.
	now := time.Date(2026, 8, 15, 12, 0, 0, 0, time.UTC)
	f, err := w.FollowUp(first, office, now)
	if err != nil {
		t.Fatal(err)
	}
	toronto, _ := time.LoadLocation("America/Toronto")
	if f.ID != "w3-t7-f" || f.Kind != KindFollowUp || f.InReplyTo != first.MessageID || f.Template != "follow-up" ||
		f.Email != office.Email || f.State != Planned || !f.SendAt.Equal(time.Date(2026, 8, 17, 9, 0, 0, 0, toronto)) {
		t.Errorf("follow-up %+v", f)
	}
	if _, err := (Wave{ID: 3}).FollowUp(first, office, now); err == nil {
		t.Error("a wave without follow-ups made one")
	}
	if _, err := w.FollowUp(Letter{ID: "w3-t7", Kind: KindWave}, office, now); err == nil {
		t.Error("a letter never sent was followed up")
	}
}
