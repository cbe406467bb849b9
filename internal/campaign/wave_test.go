package campaign

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWaveProgress(t *testing.T) {
	type counts = map[LetterState]int
	for _, tt := range []struct {
		name     string
		stored   WaveState
		counts   counts
		followUp int
		want     WaveState
	}{
		{"draft", WaveDraft, counts{Planned: 3}, 0, WaveDraft},
		{"sending", WaveStarted, counts{Sent: 2, Sending: 1}, 0, WaveStarted},
		{"queued", WaveStarted, counts{Queued: 1, Sent: 2}, 0, WaveStarted},
		{"all ended", WaveStarted, counts{Sent: 2, Failed: 1, Uncertain: 1}, 0, WaveDone},
		{"bounced counts as sent", WaveStarted, counts{Bounced: 1, Failed: 2}, 0, WaveDone},
		{"follow-ups still due", WaveStarted, counts{Sent: 3}, 2, WaveStarted},
		{"none sent", WaveStarted, counts{Failed: 2, Uncertain: 1}, 0, WaveFailed},
		{"every letter cancelled", WaveStarted, counts{Cancelled: 2}, 0, WaveFailed},
		{"cancelled", WaveCancelled, counts{Sent: 1, Cancelled: 2}, 0, WaveCancelled},
	} {
		if got := (Wave{State: tt.stored}).Progress(tt.counts, tt.followUp); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestPlanWaveLeavesOutWrittenAndReplied: offices already written the
// wave's letter and offices that answered are left out with the reason,
// unless staff put them back, which a warning counts.
func TestPlanWaveLeavesOutWrittenAndReplied(t *testing.T) {
	now := time.Now()
	var cs []Campaign
	targets := map[string]Target{}
	for i, city := range []string{"Milano", "Roma", "Torino", "Venezia", "Firenze"} {
		email := strings.ToLower(city) + "@comune.example"
		cs = append(cs, Campaign{ID: int64(i + 1), City: city, Country: "Italy", TargetEmail: email})
		targets[email] = Target{ID: int64(i + 1), Email: email, City: city, Language: "it", TimeZone: "Europe/Rome"}
	}
	history := map[int64]History{
		1: {Letter: "w1-t1", LetterState: Sent, OutcomeCampaign: 1, Outcome: Victory},
		2: {Letter: "w1-t2", LetterState: Uncertain},
		3: {ResponseCampaign: 3, ResponseDate: Date{Year: 2017, Month: 8, Day: 2}},
		4: {ConfirmedReply: 12},
	}
	w := Wave{ID: 2, Template: "appeal"}
	cities := func(p Plan) []string {
		var out []string
		for _, l := range p.Letters {
			out = append(out, targets[l.Email].City)
		}
		return out
	}

	p, err := PlanWave(w, cs, targets, PlanOptions{History: history}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := cities(p); !slices.Equal(got, []string{"Firenze"}) {
		t.Errorf("letters to %v, want Firenze only", got)
	}
	wantSkipped := map[string]string{
		"milano@comune.example":  "replied (campaign #1 has the outcome victory)",
		"roma@comune.example":    "already written this letter (w1-t2, uncertain)",
		"torino@comune.example":  "replied (campaign #3 has a response date, 2017-08-02)",
		"venezia@comune.example": "replied (reply 12 confirmed)",
	}
	if len(p.Skipped) != len(wantSkipped) {
		t.Errorf("skipped %+v", p.Skipped)
	}
	for _, s := range p.Skipped {
		if wantSkipped[s.Email] != s.Reason {
			t.Errorf("%s left out because %q, want %q", s.Email, s.Reason, wantSkipped[s.Email])
		}
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings %v without anything put back", p.Warnings)
	}

	p, err = PlanWave(w, cs, targets, PlanOptions{History: history, IncludeContacted: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := cities(p); !slices.Equal(got, []string{"Firenze", "Roma"}) {
		t.Errorf("with offices written to: letters to %v, want Firenze and Roma (Milano replied)", got)
	}
	if !slices.Equal(p.Warnings, []string{"1 office already written this letter is included"}) {
		t.Errorf("warnings %q", p.Warnings)
	}

	p, err = PlanWave(w, cs, targets, PlanOptions{History: history, IncludeContacted: true, IncludeReplied: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Letters) != 5 || len(p.Skipped) != 0 {
		t.Errorf("with everyone put back: %d letters, %d left out", len(p.Letters), len(p.Skipped))
	}
	if !slices.Equal(p.Warnings, []string{"2 offices already written this letter are included", "3 offices that replied are included"}) {
		t.Errorf("warnings %q", p.Warnings)
	}

	// Every office left out: nothing to send.
	only := []Campaign{cs[0]}
	if _, err := PlanWave(w, only, targets, PlanOptions{History: history, IncludeContacted: true}, now); err != ErrEmptyWave {
		t.Errorf("a wave whose one office replied: err = %v, want ErrEmptyWave", err)
	}
}
