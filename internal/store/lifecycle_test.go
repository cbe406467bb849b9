package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// TestLifecycleWalk puts a letter in every state and applies every cause
// to it through the store: the store moves it exactly when
// campaign.Lifecycle allows, to the table's state, recording the event;
// every other pair is refused and changes nothing. Every transition of the
// table is applied once.
func TestLifecycleWalk(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.ImportCampaigns(ctx, sample()); err != nil {
		t.Fatal(err)
	}
	tg := campaign.Target{Email: "mayor@moncton.example", Country: "Canada", City: "Moncton",
		Language: "en", TimeZone: "America/Moncton"}
	if _, err := s.ImportContacts(ctx, []Contact{{Target: tg, CampaignIDs: []int64{37}}}); err != nil {
		t.Fatal(err)
	}
	ts, err := s.Targets(ctx, TargetFilter{})
	if err != nil || len(ts) != 1 {
		t.Fatalf("targets %v, %v", ts, err)
	}
	_, ls, err := s.CreateWave(ctx, campaign.Wave{Name: "w", Template: "appeal"},
		[]campaign.Letter{{TargetID: ts[0].ID, Email: ts[0].Email, CampaignIDs: []int64{37}}})
	if err != nil {
		t.Fatal(err)
	}
	id := ls[0].ID

	// apply applies cause to the letter through the store's method for it;
	// refused is the method's way of saying no (ErrConflict, or no letter
	// moved for the batch and helper methods).
	apply := func(cause campaign.Cause) (refused bool, err error) {
		switch cause {
		case campaign.CauseQueue:
			n, err := s.MarkQueued(ctx, []string{id})
			return n == 0, err
		case campaign.CauseSendBegan:
			err = s.BeginSending(ctx, id, id+".walk@outreach.example")
		case campaign.CauseAccepted:
			err = s.MarkSent(ctx, id, time.Now(), "250 OK", campaign.Date{})
		case campaign.CauseTemporaryFailure:
			err = s.Requeue(ctx, id, "421 try later")
		case campaign.CausePermanentRefusal:
			err = s.MarkFailed(ctx, id, "550 no such user", "550 no such user", false)
		case campaign.CauseInterrupted:
			err = s.MarkUncertain(ctx, id, "connection lost after DATA")
		case campaign.CauseBounce:
			// The path a confirmed bounce report takes (see replies.go).
			var moved bool
			err = s.inTx(ctx, func(tx queryer) (err error) {
				moved, err = s.bounce(ctx, tx, id, "bounced: 550 no such user")
				return err
			})
			return err == nil && !moved, err
		case campaign.CauseCancel:
			err = s.CancelLetter(ctx, id, "wave cancelled")
		case campaign.CauseResend:
			_, err = s.Resend(ctx, id)
		default:
			return false, fmt.Errorf("the test cannot apply cause %q", cause)
		}
		if errors.Is(err, ErrConflict) {
			return true, nil
		}
		return false, err
	}

	applied := map[campaign.Transition]bool{}
	for _, from := range campaign.LetterStates {
		for _, cause := range campaign.Causes {
			if err := s.inTx(ctx, func(tx queryer) error {
				_, err := tx.ExecContext(ctx, `UPDATE letters SET state = ? WHERE id = ?`, string(from), id)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			before, err := s.LetterEvents(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			refused, err := apply(cause)
			if err != nil {
				t.Fatalf("%s, %s: %v", from, cause, err)
			}
			l, err := s.Letter(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			after, err := s.LetterEvents(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			to, ok := campaign.Allowed(from, cause)
			switch {
			case ok && refused:
				t.Errorf("%s, %s: refused, the table allows it (to %s)", from, cause, to)
			case ok && l.State != to:
				t.Errorf("%s, %s: letter is %s, want %s", from, cause, l.State, to)
			case ok && (len(after) != len(before)+1 || after[len(after)-1].From != from || after[len(after)-1].To != to):
				t.Errorf("%s, %s: events %v, want one more from %s to %s", from, cause, after, from, to)
			case ok:
				applied[campaign.Transition{From: from, To: to, Cause: cause}] = true
			case !refused:
				t.Errorf("%s, %s: accepted (letter now %s), the table does not allow it", from, cause, l.State)
			case l.State != from || len(after) != len(before):
				t.Errorf("%s, %s: refused but the letter is now %s with %d events (was %d)", from, cause, l.State, len(after), len(before))
			}
		}
	}
	for _, tr := range campaign.Lifecycle {
		if !applied[tr] {
			t.Errorf("transition %v was not applied", tr)
		}
	}
}

// TestLetterStateCheckMatchesLifecycle: the schema's CHECK on letters.state
// lists exactly the states of campaign.LetterStates, and the lifecycle
// uses no other.
func TestLetterStateCheckMatchesLifecycle(t *testing.T) {
	s := openTest(t)
	var ddl string
	if err := s.reader().QueryRowContext(context.Background(),
		`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'letters'`).Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`state\s+TEXT\s+NOT NULL\s+CHECK\s*\(\s*state\s+IN\s*\(([^)]*)\)`).FindStringSubmatch(ddl)
	if m == nil {
		t.Fatalf("no CHECK on letters.state in:\n%s", ddl)
	}
	var checked []string
	for _, q := range strings.Split(m[1], ",") {
		checked = append(checked, strings.Trim(strings.TrimSpace(q), "'"))
	}
	var want []string
	for _, st := range campaign.LetterStates {
		want = append(want, string(st))
	}
	slices.Sort(checked)
	slices.Sort(want)
	if !slices.Equal(checked, want) {
		t.Errorf("CHECK lists %v, campaign.LetterStates %v", checked, want)
	}
	for _, tr := range campaign.Lifecycle {
		for _, st := range []campaign.LetterState{tr.From, tr.To} {
			if !slices.Contains(want, string(st)) {
				t.Errorf("transition %v: state %s is not in the schema", tr, st)
			}
		}
	}
}
