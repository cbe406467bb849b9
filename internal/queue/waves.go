package queue

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/store"
)

// WaveSpec is what staff ask for when they create a wave.
type WaveSpec struct {
	Name        string
	Countries   []string
	CampaignIDs []int64
	Template    string
	At          time.Time // send everything then
	LocalTime   string    // or send at HH:MM in each office's zone on its next working day
	// FollowUpAfter, when not zero, sends offices that have not replied
	// after that long one follow-up written with FollowUpTemplate
	// ("follow-up" when empty).
	FollowUpAfter    time.Duration
	FollowUpTemplate string
	// IncludeContacted puts back offices already written this letter in
	// a wave not cancelled; IncludeReplied offices that have answered.
	IncludeContacted, IncludeReplied bool
}

// WaveStore is what creating a wave needs of the store.
type WaveStore interface {
	Campaigns(ctx context.Context, f store.CampaignFilter) ([]campaign.Campaign, error)
	Targets(ctx context.Context, f store.TargetFilter) ([]campaign.Target, error)
	WaveHistory(ctx context.Context, template string) (map[int64]campaign.History, error)
	CreateWave(ctx context.Context, w campaign.Wave, letters []campaign.Letter) (campaign.Wave, []campaign.Letter, error)
}

// CreateWave plans and stores a wave: one letter per office of the selected
// campaigns, in the office's language, at the time the spec says. Offices
// marked do-not-contact, campaigns without an address and, unless the spec
// puts them back, offices already written this letter or that have
// answered are left out and returned in the plan's Skipped.
func CreateWave(ctx context.Context, st WaveStore, comp *letter.Composer, spec WaveSpec, now time.Time) (campaign.Wave, campaign.Plan, error) {
	w, plan, err := PlanWave(ctx, st, comp, spec, now)
	if err != nil {
		return w, plan, err
	}
	w, letters, err := st.CreateWave(ctx, w, plan.Letters)
	plan.Letters = letters
	return w, plan, err
}

// PlanWave is CreateWave without storing anything: what the wave would
// send, for a preview.
// Every letter is rendered before anything is stored: a letter that cannot
// be written refuses the wave.
func PlanWave(ctx context.Context, st WaveStore, comp *letter.Composer, spec WaveSpec, now time.Time) (campaign.Wave, campaign.Plan, error) {
	tpl := comp.Templates
	w := campaign.Wave{
		Name: strings.TrimSpace(spec.Name), Template: spec.Template, Countries: spec.Countries,
		CampaignIDs: spec.CampaignIDs, At: spec.At, LocalTime: spec.LocalTime,
		FollowUpAfter: spec.FollowUpAfter, FollowUpTemplate: spec.FollowUpTemplate,
	}
	if w.Template == "" {
		w.Template = "appeal"
	}
	switch {
	case w.FollowUpAfter < 0:
		return w, campaign.Plan{}, fmt.Errorf("a follow-up cannot come %s after the letter", w.FollowUpAfter)
	case w.FollowUpAfter == 0 && w.FollowUpTemplate != "":
		return w, campaign.Plan{}, fmt.Errorf("a follow-up template needs a time after which to send it")
	case w.FollowUpAfter > 0 && w.FollowUpTemplate == "":
		w.FollowUpTemplate = "follow-up"
	}
	if err := campaign.ValidateWaveName(w.Name); err != nil {
		return w, campaign.Plan{}, err
	}
	for _, name := range []string{w.Template, w.FollowUpTemplate} {
		if name != "" && !tpl.IsWaveLetter(name) {
			return w, campaign.Plan{}, notWaveLetter(tpl, name)
		}
	}
	if !w.At.IsZero() && w.LocalTime != "" {
		return w, campaign.Plan{}, fmt.Errorf("a wave is sent either at a time or at a local time, not both")
	}
	if !w.At.IsZero() && w.At.Before(now.Add(-time.Minute)) {
		return w, campaign.Plan{}, fmt.Errorf("the time %s is in the past", w.At.Format(time.RFC3339))
	}
	cs, err := st.Campaigns(ctx, store.CampaignFilter{Countries: spec.Countries, IDs: spec.CampaignIDs})
	if err != nil {
		return w, campaign.Plan{}, err
	}
	if len(cs) == 0 {
		return w, campaign.Plan{}, fmt.Errorf("no campaign matches the selection (countries %v, campaigns %v)", spec.Countries, spec.CampaignIDs)
	}
	if len(spec.CampaignIDs) > 0 {
		found := map[int64]bool{}
		for _, c := range cs {
			found[c.ID] = true
		}
		for _, id := range spec.CampaignIDs {
			if !found[id] {
				return w, campaign.Plan{}, fmt.Errorf("campaign %s: %w", campaign.Number(id), campaign.ErrNotFound)
			}
		}
	}
	ts, err := st.Targets(ctx, store.TargetFilter{})
	if err != nil {
		return w, campaign.Plan{}, err
	}
	byEmail := map[string]campaign.Target{}
	for _, t := range ts {
		byEmail[strings.ToLower(t.Email)] = t
	}
	history, err := st.WaveHistory(ctx, w.Template)
	if err != nil {
		return w, campaign.Plan{}, err
	}
	plan, err := campaign.PlanWave(w, cs, byEmail, campaign.PlanOptions{
		History: history, IncludeContacted: spec.IncludeContacted, IncludeReplied: spec.IncludeReplied,
	}, now)
	if err != nil {
		return w, plan, err
	}
	for _, l := range plan.Letters {
		lang := byEmail[strings.ToLower(l.Email)].Language
		for _, name := range []string{w.Template, w.FollowUpTemplate} {
			if name != "" && !tpl.Has(name, lang) {
				return w, plan, fmt.Errorf("the %q letter has no %s version, which %s needs", name, lang, l.Email)
			}
		}
	}
	byID := make(map[int64]campaign.Campaign, len(cs))
	for _, c := range cs {
		byID[c.ID] = c
	}
	if err := checkLetters(comp, w, plan.Letters, byEmail, byID); err != nil {
		return w, plan, err
	}
	return w, plan, nil
}

// ErrNotWaveLetter is returned (wrapped) for a template a wave may not send.
var ErrNotWaveLetter = errors.New("not a letter a wave can send")

func notWaveLetter(tpl *letter.Templates, name string) error {
	if !slices.Contains(tpl.Names(), name) {
		return fmt.Errorf("there is no %q letter (wave letters: %s)", name, strings.Join(tpl.WaveLetters(), ", "))
	}
	return fmt.Errorf("the %q letter is %w (wave letters: %s; a template becomes one with {{define \"kind\"}}wave{{end}})",
		name, ErrNotWaveLetter, strings.Join(tpl.WaveLetters(), ", "))
}

// checkLetters renders every letter of a plan, and its follow-up, as the
// worker will: a wave whose letter to one office cannot be written is
// refused, naming the office and the template's error. Letters render on
// every core at once, so that a wave of 100,000 letters is checked in
// seconds; the first failure found stops the check and is reported.
func checkLetters(comp *letter.Composer, w campaign.Wave, ls []campaign.Letter, targets map[string]campaign.Target, cs map[int64]campaign.Campaign) error {
	errs := make([]error, len(ls))
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range max(runtime.GOMAXPROCS(0), 1) {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= len(ls) {
					return
				}
				l := ls[i]
				t := targets[strings.ToLower(l.Email)]
				ocs := make([]campaign.Campaign, 0, len(l.CampaignIDs))
				for _, id := range l.CampaignIDs {
					ocs = append(ocs, cs[id])
				}
				for _, name := range []string{w.Template, w.FollowUpTemplate} {
					if name == "" {
						continue
					}
					if err := comp.Check(letter.Letter{ID: l.ID, Template: name, Target: t, Campaigns: ocs}); err != nil {
						errs[i] = fmt.Errorf("the %q letter to %s (%s) cannot be written: %w", name, t.Email, t.City, err)
						failed.Store(true)
						break
					}
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// StatusStore is what reading a wave's progress needs of the store.
type StatusStore interface {
	Wave(ctx context.Context, id int64) (campaign.Wave, error)
	Waves(ctx context.Context) ([]campaign.Wave, error)
	LetterCounts(ctx context.Context, waveID int64) (map[campaign.LetterState]int, error)
	FollowUpsDue(ctx context.Context, waveID int64) (int, error)
}

// WaveStatus is a wave as staff see it: its letters counted by state and
// its state read from them (done or failed once every letter has ended).
// The CLI, the pages and the API all show this.
type WaveStatus struct {
	campaign.Wave
	Counts map[campaign.LetterState]int `json:"counts"`
	// Total counts the letters, Done those in a final state.
	Total int `json:"total"`
	Done  int `json:"done"`
	// FollowUpsDue counts sent letters whose follow-up is still to come.
	FollowUpsDue int `json:"follow_ups_due"`
}

// Status reads the progress of wave id.
func Status(ctx context.Context, st StatusStore, id int64) (WaveStatus, error) {
	w, err := st.Wave(ctx, id)
	if err != nil {
		return WaveStatus{}, err
	}
	return statusOf(ctx, st, w)
}

// Statuses reads the progress of every wave, newest first.
func Statuses(ctx context.Context, st StatusStore) ([]WaveStatus, error) {
	ws, err := st.Waves(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]WaveStatus, 0, len(ws))
	for _, w := range ws {
		s, err := statusOf(ctx, st, w)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func statusOf(ctx context.Context, st StatusStore, w campaign.Wave) (WaveStatus, error) {
	counts, err := st.LetterCounts(ctx, w.ID)
	if err != nil {
		return WaveStatus{}, err
	}
	s := WaveStatus{Wave: w, Counts: counts}
	for state, n := range counts {
		s.Total += n
		if state.Final() {
			s.Done += n
		}
	}
	if w.State == campaign.WaveStarted && w.FollowUpAfter > 0 {
		if s.FollowUpsDue, err = st.FollowUpsDue(ctx, w.ID); err != nil {
			return WaveStatus{}, err
		}
	}
	s.State = w.Progress(counts, s.FollowUpsDue)
	return s, nil
}

// TestSendStore is what a test send needs of the store.
type TestSendStore interface {
	Wave(ctx context.Context, id int64) (campaign.Wave, error)
	Letters(ctx context.Context, f store.LetterFilter) ([]campaign.Letter, error)
	TargetByID(ctx context.Context, id int64) (campaign.Target, error)
	Campaigns(ctx context.Context, f store.CampaignFilter) ([]campaign.Campaign, error)
	StaffByEmail(ctx context.Context, email string) (store.Staff, error)
}

// TestSubjectPrefix marks a test copy's subject.
const TestSubjectPrefix = "[TEST] "

// SendTest sends a staff member a copy of one letter of wave waveID (its
// first when letterID is empty), written as the office will get it, with
// TestSubjectPrefix before its subject. It goes straight to the SMTP
// server, not through the queue, and records nothing: the wave, its
// letters and its campaigns are as they were. Its Message-ID and reply
// token are those of a letter id no letter has ("test-w1-t17"), so that a
// reply to it is never matched to the office's letter. Only a staff
// account's address receives it: nobody else is sent mail through us. It
// returns the letter copied.
func SendTest(ctx context.Context, st TestSendStore, comp *letter.Composer, m Mailer, waveID int64, letterID, to string, now time.Time) (campaign.Letter, error) {
	staff, err := st.StaffByEmail(ctx, strings.TrimSpace(to))
	if errors.Is(err, campaign.ErrNotFound) {
		return campaign.Letter{}, fmt.Errorf("%q is not a staff account's address: a test goes only to staff (see outreach staff list)", to)
	}
	if err != nil {
		return campaign.Letter{}, err
	}
	if _, err := st.Wave(ctx, waveID); err != nil {
		return campaign.Letter{}, err
	}
	ls, err := st.Letters(ctx, store.LetterFilter{WaveID: waveID})
	if err != nil {
		return campaign.Letter{}, err
	}
	i := slices.IndexFunc(ls, func(l campaign.Letter) bool {
		return l.ID == letterID || letterID == "" && l.Kind == campaign.KindWave
	})
	if i < 0 && letterID == "" {
		return campaign.Letter{}, fmt.Errorf("wave %d has no letter", waveID)
	}
	if i < 0 {
		return campaign.Letter{}, fmt.Errorf("wave %d has no letter %s: %w", waveID, letterID, campaign.ErrNotFound)
	}
	l := ls[i]
	t, err := st.TargetByID(ctx, l.TargetID)
	if err != nil {
		return l, err
	}
	cs, err := st.Campaigns(ctx, store.CampaignFilter{IDs: l.CampaignIDs})
	if err != nil {
		return l, err
	}
	msg, _, err := comp.Compose(letter.Letter{
		ID: "test-" + l.ID, Template: l.Template, Target: t, Campaigns: cs, Date: now,
		To: staff.Email, SubjectPrefix: TestSubjectPrefix,
	})
	if err != nil {
		return l, err
	}
	if _, err := m.Send(ctx, msg); err != nil {
		return l, fmt.Errorf("queue: test copy of %s to %s: %w", l.ID, staff.Email, err)
	}
	return l, nil
}
