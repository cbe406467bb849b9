package campaign

import (
	"slices"
	"testing"
)

// TestFromStates: each cause moves a letter from the states written out
// here, and to one state.
func TestFromStates(t *testing.T) {
	want := map[Cause]struct {
		from []LetterState
		to   LetterState
	}{
		CauseQueue:            {[]LetterState{Planned}, Queued},
		CauseSendBegan:        {[]LetterState{Planned, Queued}, Sending},
		CauseAccepted:         {[]LetterState{Sending}, Sent},
		CauseTemporaryFailure: {[]LetterState{Sending}, Queued},
		CausePermanentRefusal: {[]LetterState{Planned, Queued, Sending}, Failed},
		CauseInterrupted:      {[]LetterState{Sending}, Uncertain},
		CauseBounce:           {[]LetterState{Sent, Uncertain}, Bounced},
		CauseCancel:           {[]LetterState{Planned, Queued}, Cancelled},
		CauseResend:           {[]LetterState{Failed, Uncertain}, Queued},
	}
	if len(want) != len(Causes) {
		t.Fatalf("%d causes, the test knows %d", len(Causes), len(want))
	}
	for _, c := range Causes {
		w, ok := want[c]
		if !ok {
			t.Errorf("cause %q: not in the test", c)
			continue
		}
		if got := FromStates(c); !slices.Equal(got, w.from) {
			t.Errorf("FromStates(%q) = %v, want %v", c, got, w.from)
		}
		if got := c.To(); got != w.to {
			t.Errorf("%q.To() = %q, want %q", c, got, w.to)
		}
		for _, s := range LetterStates {
			to, ok := Allowed(s, c)
			if ok != slices.Contains(w.from, s) || (ok && to != w.to) {
				t.Errorf("Allowed(%q, %q) = %q, %v", s, c, to, ok)
			}
		}
	}
}

// TestLifecycleIsWellFormed: the table names only known states and causes,
// lists each (state, cause) pair once, and leads each cause to one state.
func TestLifecycleIsWellFormed(t *testing.T) {
	seen := map[[2]string]bool{}
	to := map[Cause]LetterState{}
	for _, tr := range Lifecycle {
		if !slices.Contains(LetterStates, tr.From) || !slices.Contains(LetterStates, tr.To) {
			t.Errorf("%v: unknown state", tr)
		}
		if !slices.Contains(Causes, tr.Cause) {
			t.Errorf("%v: unknown cause", tr)
		}
		k := [2]string{string(tr.From), string(tr.Cause)}
		if seen[k] {
			t.Errorf("%v: the pair (%s, %s) is listed twice", tr, tr.From, tr.Cause)
		}
		seen[k] = true
		if prev, ok := to[tr.Cause]; ok && prev != tr.To {
			t.Errorf("cause %q leads to both %s and %s", tr.Cause, prev, tr.To)
		}
		to[tr.Cause] = tr.To
	}
	if _, ok := Allowed(Sent, CauseCancel); ok {
		t.Error("a sent letter can be cancelled")
	}
}
