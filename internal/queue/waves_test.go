package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	netmail "net/mail"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
	"github.com/outreach-campaign/outreach/internal/store"
	"github.com/outreach-campaign/outreach/templates"
)

// TestCreateWaveRefusesLettersNotForWaves: a wave sends only wave letters,
// as its letter or its follow-up; nothing is stored otherwise.
func TestCreateWaveRefusesLettersNotForWaves(t *testing.T) {
	h := newHarness(t)
	h.seed(2, false)
	ctx := context.Background()
	for name, spec := range map[string]WaveSpec{
		"confirmation":           {Name: "a", Template: "confirmation"},
		"digest":                 {Name: "b", Template: "digest"},
		"supporter as follow-up": {Name: "c", FollowUpAfter: time.Hour, FollowUpTemplate: "supporter"},
	} {
		_, _, err := CreateWave(ctx, h.st, h.comp, spec, time.Now())
		if !errors.Is(err, ErrNotWaveLetter) || !strings.Contains(err.Error(), "wave letters: appeal, follow-up") {
			t.Errorf("%s: err = %v, want ErrNotWaveLetter listing the wave letters", name, err)
		}
	}
	if ws, _ := h.st.Waves(ctx); len(ws) != 0 {
		t.Errorf("%d waves stored after refused letters", len(ws))
	}
}

// TestCreateWaveRefusesALetterThatCannotBeWritten: every letter is rendered
// before the wave is stored; one office's failure refuses the whole wave,
// naming the office and the template's error.
func TestCreateWaveRefusesALetterThatCannotBeWritten(t *testing.T) {
	h := newHarness(t)
	h.seed(3, false)
	ctx := context.Background()
	dir := t.TempDir()
	// The subject asks for a fourth partner, which only City 2's letter
	// reaches for.
	body := `{{define "kind"}}wave{{end}}{{define "subject"}}To {{.Place}}{{if eq .Place "City 2"}} {{index .Partners 3}}{{end}}{{end}}` +
		`{{define "text"}}Text{{end}}{{define "html"}}<p>HTML</p>{{end}}`
	if err := os.WriteFile(filepath.Join(dir, "reminder.en.tmpl"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, err := letter.LoadTemplates(templates.FS, dir)
	if err != nil {
		t.Fatal(err)
	}
	comp := *h.comp
	comp.Templates = tpl
	_, _, err = CreateWave(ctx, h.st, &comp, WaveSpec{Name: "reminder", Template: "reminder"}, time.Now())
	if err == nil || !strings.Contains(err.Error(), "mayor2@city2.example") || !strings.Contains(err.Error(), "index out of range") ||
		!strings.Contains(err.Error(), "reminder.en.tmpl") {
		t.Fatalf("err = %v, want City 2's office, the template file and its error named", err)
	}
	if ws, _ := h.st.Waves(ctx); len(ws) != 0 {
		t.Errorf("%d waves stored after a letter failed to render", len(ws))
	}
	if ls, _ := h.st.Letters(ctx, store.LetterFilter{}); len(ls) != 0 {
		t.Errorf("%d letters stored after a letter failed to render", len(ls))
	}
	// Without City 2, the same letter renders for everyone.
	if _, plan, err := CreateWave(ctx, h.st, &comp, WaveSpec{Name: "reminder", Template: "reminder", CampaignIDs: []int64{1, 3}},
		time.Now()); err != nil || len(plan.Letters) != 2 {
		t.Errorf("the wave without City 2: %d letters, err %v", len(plan.Letters), err)
	}
}

// TestSecondWaveLeavesOutOfficesWrittenOrReplied: an office already sent
// the appeal, or with one planned in a wave not cancelled, is not written
// the appeal again by default, nor is an office that replied; the choices
// put them back with a warning. A cancelled wave's letters do not count,
// and another letter (the follow-up) is another matter.
func TestSecondWaveLeavesOutOfficesWrittenOrReplied(t *testing.T) {
	h := newHarness(t)
	h.seed(4, false)
	ctx := context.Background()
	h.worker(2, nil)

	first, _ := h.createWave(WaveSpec{Name: "first", CampaignIDs: []int64{1, 2}}, time.Now())
	if _, err := h.sched.StartWave(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if counts := h.waitDone(first.ID, 30*time.Second); counts[campaign.Sent] != 2 {
		t.Fatalf("first wave: %v", counts)
	}
	cancelled, _ := h.createWave(WaveSpec{Name: "cancelled", CampaignIDs: []int64{4}}, time.Now())
	if _, err := h.sched.CancelWave(ctx, cancelled.ID); err != nil {
		t.Fatal(err)
	}
	// City 3 answered: the table records a response date.
	c3, err := h.st.Campaign(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	c3.ResponseDate = campaign.DateOf(time.Now())
	if _, err := h.st.ImportCampaigns(ctx, []campaign.Campaign{c3}); err != nil {
		t.Fatal(err)
	}

	reasons := func(p campaign.Plan) map[string]string {
		out := map[string]string{}
		for _, s := range p.Skipped {
			out[s.Email] = s.Reason
		}
		return out
	}
	emails := func(p campaign.Plan) []string {
		var out []string
		for _, l := range p.Letters {
			out = append(out, l.Email)
		}
		return out
	}

	_, second := h.createWave(WaveSpec{Name: "second"}, time.Now())
	if got := emails(second); !slices.Equal(got, []string{"mayor4@city4.example"}) {
		t.Errorf("second wave writes to %v, want only office 4 (its letter in the cancelled wave does not count)", got)
	}
	want := map[string]string{
		"mayor1@city1.example": "already written this letter (w1-t1, sent)",
		"mayor2@city2.example": "already written this letter (w1-t2, sent)",
		"mayor3@city3.example": fmt.Sprintf("replied (campaign #3 has a response date, %s)", c3.ResponseDate),
	}
	if got := reasons(second); !mapsEqual(got, want) {
		t.Errorf("second wave leaves out %v, want %v", got, want)
	}

	// Office 4's letter of the second wave is only planned: it counts.
	_, third := h.createWave(WaveSpec{Name: "third", IncludeContacted: true}, time.Now())
	if got := emails(third); !slices.Equal(got, []string{"mayor1@city1.example", "mayor2@city2.example", "mayor4@city4.example"}) {
		t.Errorf("with offices written to: %v", got)
	}
	if !slices.Equal(third.Warnings, []string{"3 offices already written this letter are included"}) {
		t.Errorf("warnings %q", third.Warnings)
	}
	_, fourth := h.createWave(WaveSpec{Name: "fourth", IncludeContacted: true, IncludeReplied: true}, time.Now())
	if len(fourth.Letters) != 4 || len(fourth.Warnings) != 2 {
		t.Errorf("with everyone: %v, warnings %q", emails(fourth), fourth.Warnings)
	}
	// Nobody had the follow-up letter yet; the office that replied is
	// still left out.
	_, other := h.createWave(WaveSpec{Name: "other letter", Template: "follow-up"}, time.Now())
	if got := emails(other); len(got) != 3 || slices.Contains(got, "mayor3@city3.example") {
		t.Errorf("a wave of the follow-up letter writes to %v, want every office but 3", got)
	}
	// Everyone left out: the wave is refused, and says why.
	_, plan, err := CreateWave(ctx, h.st, h.comp, WaveSpec{Name: "again", CampaignIDs: []int64{1, 3}}, time.Now())
	if !errors.Is(err, campaign.ErrEmptyWave) || len(plan.Skipped) != 2 {
		t.Errorf("a wave of offices all left out: err %v, %d left out", err, len(plan.Skipped))
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// waitState waits until the wave's state, read as staff see it, is want.
func (h *harness) waitState(id int64, want campaign.WaveState, timeout time.Duration) WaveStatus {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st, err := Status(context.Background(), h.st, id)
		if err != nil {
			h.t.Fatal(err)
		}
		if st.State == want {
			return st
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("wave %d is %s after %s, want %s: %v", id, st.State, timeout, want, st.Counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWaveEndsDoneOrFailed: through Redis and a real SMTP server, a wave
// is started until every letter has ended, then done (some sent) or failed
// (none sent); the store keeps it started, as the letters say the rest.
func TestWaveEndsDoneOrFailed(t *testing.T) {
	h := newHarness(t, smtptest.WithRcptReply(func(rcpt string, _ int) *smtp.SMTPError {
		if strings.HasPrefix(rcpt, "mayor3@") {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
		}
		return nil
	}))
	h.seed(3, false)
	ctx := context.Background()
	w, _ := h.createWave(WaveSpec{Name: "all"}, time.Now())
	if st, err := Status(ctx, h.st, w.ID); err != nil || st.State != campaign.WaveDraft {
		t.Fatalf("a new wave: %+v %v", st, err)
	}
	if _, err := h.sched.StartWave(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if st, err := Status(ctx, h.st, w.ID); err != nil || st.State != campaign.WaveStarted {
		t.Fatalf("a started wave before any worker: %s %v", st.State, err)
	}
	h.worker(2, nil)
	st := h.waitState(w.ID, campaign.WaveDone, 30*time.Second)
	if st.Counts[campaign.Sent] != 2 || st.Counts[campaign.Failed] != 1 || st.Done != 3 || st.Total != 3 {
		t.Errorf("done wave: %+v", st)
	}
	if stored, _ := h.st.Wave(ctx, w.ID); stored.State != campaign.WaveStarted {
		t.Errorf("stored state %s: done is read from the letters, not stored", stored.State)
	}

	// A wave whose only letter is refused has failed.
	lost, _ := h.createWave(WaveSpec{Name: "refused", CampaignIDs: []int64{3}}, time.Now())
	if _, err := h.sched.StartWave(ctx, lost.ID); err != nil {
		t.Fatal(err)
	}
	h.waitState(lost.ID, campaign.WaveFailed, 30*time.Second)
	all, err := Statuses(ctx, h.st)
	if err != nil || len(all) != 2 || all[0].State != campaign.WaveFailed || all[1].State != campaign.WaveDone {
		t.Errorf("the list of waves: %+v %v", all, err)
	}
}

// TestWaveWithFollowUpsIsDoneWhenTheyAre: a wave that asks for follow-ups
// stays started while one is still to come, and is done once they went.
func TestWaveWithFollowUpsIsDoneWhenTheyAre(t *testing.T) {
	h := newHarness(t)
	h.seed(2, false)
	ctx := context.Background()
	w, _ := h.createWave(WaveSpec{Name: "with follow-ups", FollowUpAfter: 21 * 24 * time.Hour}, time.Now())
	if _, err := h.sched.StartWave(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	h.worker(2, nil)
	h.waitDone(w.ID, 30*time.Second)
	st, err := Status(ctx, h.st, w.ID)
	if err != nil || st.State != campaign.WaveStarted || st.FollowUpsDue != 2 || st.Done != st.Total {
		t.Fatalf("every letter sent, follow-ups to come: %+v %v", st, err)
	}
	later := time.Now().Add(22 * 24 * time.Hour)
	h.sched.Now = func() time.Time { return later }
	if err := h.sched.Round(ctx); err != nil {
		t.Fatal(err)
	}
	st = h.waitState(w.ID, campaign.WaveDone, 30*time.Second)
	if st.Counts[campaign.Sent] != 4 || st.FollowUpsDue != 0 {
		t.Errorf("after the follow-ups: %+v", st)
	}
}

// TestSendTestChangesNothing: a staff member's test copy of a wave's
// letter reaches a real SMTP server, marked as a test, at the staff
// member's address; the wave, its letters and campaigns are unchanged.
func TestSendTestChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.seed(2, false)
	ctx := context.Background()
	const staffAddr = "anna@campaign.example"
	if _, err := h.st.AddStaff(ctx, staffAddr, "$2a$04$not-a-real-hash"); err != nil {
		t.Fatal(err)
	}
	w, _ := h.createWave(WaveSpec{Name: "tested"}, time.Now())
	m, err := mailer.New(mailer.Config{Host: h.sink.Host, Port: h.sink.Port, TLS: "none", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	snapshot := func() string {
		ls, err := h.st.Letters(ctx, store.LetterFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var evs [][]store.LetterEvent
		for _, l := range ls {
			e, _ := h.st.LetterEvents(ctx, l.ID)
			evs = append(evs, e)
		}
		cs, _ := h.st.Campaigns(ctx, store.CampaignFilter{})
		ws, _ := h.st.Waves(ctx)
		b, _ := json.Marshal([]any{ls, evs, cs, ws})
		return string(b)
	}
	before := snapshot()

	if _, err := SendTest(ctx, h.st, h.comp, m, w.ID, "", "someone@elsewhere.example", time.Now()); err == nil ||
		!strings.Contains(err.Error(), "not a staff account") {
		t.Errorf("a test to an address that is no staff account's: err = %v", err)
	}
	for _, id := range []string{"", "w1-t2"} {
		if _, err := SendTest(ctx, h.st, h.comp, m, w.ID, id, staffAddr, time.Now()); err != nil {
			t.Fatalf("test copy of %q: %v", id, err)
		}
	}
	if _, err := SendTest(ctx, h.st, h.comp, m, w.ID, "w9-t1", staffAddr, time.Now()); !errors.Is(err, campaign.ErrNotFound) {
		t.Errorf("a letter of another wave: err = %v, want not found", err)
	}

	msgs := h.sink.Messages()
	if len(msgs) != 2 {
		t.Fatalf("the SMTP server got %d messages, want the 2 test copies", len(msgs))
	}
	for i, city := range []string{"City 1", "City 2"} {
		msg, err := netmail.ReadMessage(bytes.NewReader(msgs[i].Data))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(msgs[i].To, []string{staffAddr}) || msg.Header.Get("To") != "<"+staffAddr+">" {
			t.Errorf("test copy %d went to %v (To: %s), want %s only", i+1, msgs[i].To, msg.Header.Get("To"), staffAddr)
		}
		if subj := msg.Header.Get("Subject"); !strings.HasPrefix(subj, "[TEST] Your twinning with Seoul") {
			t.Errorf("test copy %d: subject %q", i+1, subj)
		}
		if want := fmt.Sprintf("<test-w1-t%d.", i+1); !strings.HasPrefix(msgs[i].MessageID, want) {
			t.Errorf("test copy %d: Message-ID %s, want one of its own starting %s", i+1, msgs[i].MessageID, want)
		}
		if !bytes.Contains(msgs[i].Data, []byte(city)) {
			t.Errorf("test copy %d does not speak of %s", i+1, city)
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("a test send changed the store:\nbefore %s\nafter  %s", before, after)
	}
	if st, _ := Status(ctx, h.st, w.ID); st.State != campaign.WaveDraft || st.Counts[campaign.Planned] != 2 {
		t.Errorf("the wave after test sends: %s %v", st.State, st.Counts)
	}
}

// BenchmarkCreateWave100k creates a wave of 100,000 letters to as many
// offices, every letter and its follow-up rendered before anything is
// stored, and reports how long the creation took and how much of it the
// render check was. It runs once whatever b.N (-benchtime 1x).
func BenchmarkCreateWave100k(b *testing.B) {
	const n = 100_000
	h := newHarness(b)
	ctx := context.Background()
	seedStart := time.Now()
	h.seed(n, false)
	b.Logf("seeded %d campaigns and offices in %s", n, time.Since(seedStart).Round(time.Millisecond))

	w, plan, err := PlanWave(ctx, h.st, h.comp, WaveSpec{Name: "plan", FollowUpAfter: 21 * 24 * time.Hour}, time.Now())
	if err != nil || len(plan.Letters) != n {
		b.Fatalf("%d letters planned: %v", len(plan.Letters), err)
	}
	byEmail := map[string]campaign.Target{}
	ts, _ := h.st.Targets(ctx, store.TargetFilter{})
	for _, t := range ts {
		byEmail[strings.ToLower(t.Email)] = t
	}
	cs, _ := h.st.Campaigns(ctx, store.CampaignFilter{})
	byID := map[int64]campaign.Campaign{}
	for _, c := range cs {
		byID[c.ID] = c
	}
	checkStart, checkCPU := time.Now(), cpuTime(b)
	if err := checkLetters(h.comp, w, plan.Letters, byEmail, byID); err != nil {
		b.Fatal(err)
	}
	check, checkCPU := time.Since(checkStart), cpuTime(b)-checkCPU

	start, startCPU := time.Now(), cpuTime(b)
	_, plan, err = CreateWave(ctx, h.st, h.comp, WaveSpec{Name: "bench", FollowUpAfter: 21 * 24 * time.Hour}, time.Now())
	if err != nil || len(plan.Letters) != n {
		b.Fatalf("%d letters: %v", len(plan.Letters), err)
	}
	total, totalCPU := time.Since(start), cpuTime(b)-startCPU
	b.ReportMetric(total.Seconds(), "s/create")
	b.ReportMetric(check.Seconds(), "s/render-check")
	b.ReportMetric(totalCPU.Seconds(), "cpu-s/create")
	// Wall times depend on what else the machine runs; the processor time
	// this process used does not, and divided by the cores it is the wall
	// time on an idle machine.
	b.Logf("a wave of %d letters (and their follow-ups) created in %s (%s of processor time on %d cores), "+
		"of which rendering every letter took %s (%s of processor time)",
		n, total.Round(time.Millisecond), totalCPU.Round(time.Millisecond), runtime.NumCPU(),
		check.Round(time.Millisecond), checkCPU.Round(time.Millisecond))
}

// cpuTime is the processor time (user and system) the process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
