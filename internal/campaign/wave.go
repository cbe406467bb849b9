package campaign

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// WaveState is where a mailing wave stands.
type WaveState string

const (
	// WaveDraft: created, letters planned, nothing queued yet.
	WaveDraft WaveState = "draft"
	// WaveStarted: its letters are queued (or being queued) for sending.
	WaveStarted WaveState = "started"
	// WaveCancelled: letters not yet sent will not be sent.
	WaveCancelled WaveState = "cancelled"
	// WaveDone and WaveFailed are never stored: a started wave is read as
	// done, or failed, from its letters' states (see Progress).
	WaveDone   WaveState = "done"
	WaveFailed WaveState = "failed"
)

// Progress is the state staff see of w, whose letters are counted by state
// and followUpsDue of whose sent letters still wait for their follow-up. A
// started wave is done when none of its letters is planned, queued or
// sending and no follow-up is still due; failed, at that point, when none
// of its letters was sent (an uncertain letter is final but not sent). Other
// waves are in their stored state.
func (w Wave) Progress(counts map[LetterState]int, followUpsDue int) WaveState {
	if w.State != WaveStarted || followUpsDue > 0 {
		return w.State
	}
	for s, n := range counts {
		if n > 0 && !s.Final() {
			return w.State
		}
	}
	if counts[Sent]+counts[Bounced] == 0 {
		return WaveFailed
	}
	return WaveDone
}

// Wave is one mailing to many targets, triggered by staff.
type Wave struct {
	ID       int64     `json:"id"`
	Name     string    `json:"name"`
	Template string    `json:"template"`
	State    WaveState `json:"state"`
	// Countries and CampaignIDs are the selection the wave was made from;
	// both empty means every campaign.
	Countries   []string `json:"countries,omitempty"`
	CampaignIDs []int64  `json:"campaign_ids,omitempty"`
	// At, when set, is when every letter is sent; LocalTime ("09:00"),
	// when set, sends each letter at that time in its target's time zone
	// on the next working day there. Neither: as soon as started.
	At        time.Time `json:"at,omitzero"`
	LocalTime string    `json:"local_time,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	StartedAt time.Time `json:"started_at,omitzero"`
	// FollowUpAfter, when not zero, sends each office that has not
	// replied that long after its letter one follow-up letter, written
	// with FollowUpTemplate, in the same thread.
	FollowUpAfter    time.Duration `json:"follow_up_after,omitempty"`
	FollowUpTemplate string        `json:"follow_up_template,omitempty"`
}

// LetterState is where one letter stands. A letter moves planned → queued
// → sending → sent; a send that fails for good ends failed, one whose
// outcome is unknown ends uncertain (for staff to resend), one that bounced
// later ends bounced, and one whose wave was cancelled before it went out
// ends cancelled. Lifecycle lists every move allowed and its cause.
type LetterState string

const (
	Planned   LetterState = "planned"
	Queued    LetterState = "queued"
	Sending   LetterState = "sending"
	Sent      LetterState = "sent"
	Failed    LetterState = "failed"
	Uncertain LetterState = "uncertain"
	Bounced   LetterState = "bounced"
	Cancelled LetterState = "cancelled"
)

// LetterStates lists every state in the order reports show them.
var LetterStates = []LetterState{Planned, Queued, Sending, Sent, Failed, Uncertain, Bounced, Cancelled}

// Final reports whether a letter in state s needs nothing more from a
// worker. Uncertain is final: only staff move it on.
func (s LetterState) Final() bool {
	switch s {
	case Sent, Failed, Uncertain, Bounced, Cancelled:
		return true
	}
	return false
}

// LetterKind tells what a letter is, and so how its message is written.
type LetterKind string

const (
	// KindWave is a wave's letter to an office.
	KindWave LetterKind = "wave"
	// KindFollowUp is the one follow-up of a wave's letter to an office
	// that has not replied.
	KindFollowUp LetterKind = "follow-up"
)

// Letter is one e-mail sent through the queue: a wave's letter to one
// target, or another kind of message with the same guarantees.
type Letter struct {
	// ID is deterministic, "w{wave}-t{target}" for a wave's letter, so
	// that planning a wave twice, or two schedulers racing, cannot make two
	// letters.
	ID   string     `json:"id"`
	Kind LetterKind `json:"kind"`
	// WaveID and TargetID are 0 for a message outside waves or to someone
	// other than an office.
	WaveID   int64       `json:"wave_id,omitempty"`
	TargetID int64       `json:"target_id,omitempty"`
	Template string      `json:"template"`
	State    LetterState `json:"state"`
	// CampaignIDs are the twinnings the letter speaks for: every partner of
	// its target within the wave's selection.
	CampaignIDs []int64 `json:"campaign_ids"`
	// SendAt is when the letter may go; zero means as soon as queued.
	SendAt    time.Time `json:"send_at,omitzero"`
	MessageID string    `json:"message_id,omitempty"`
	// Resends counts staff resends; each gets a task of its own.
	Resends  int       `json:"resends"`
	Attempts int       `json:"attempts"`
	SentAt   time.Time `json:"sent_at,omitzero"`
	// LastError is why the last attempt failed; ServerReply is the SMTP
	// server's answer to the last attempt, kept for failures.
	LastError   string    `json:"last_error,omitempty"`
	ServerReply string    `json:"server_reply,omitempty"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
	// Email is the recipient's address when the letter was planned.
	Email string `json:"email"`
	// InReplyTo is the Message-ID (without brackets) of the letter this one
	// follows up, for threading; empty for a first letter.
	InReplyTo string `json:"in_reply_to,omitempty"`
}

// LetterID is the id of the letter to target in wave.
func LetterID(waveID, targetID int64) string {
	return fmt.Sprintf("w%d-t%d", waveID, targetID)
}

// FollowUpID is the id of the follow-up of letter id: deterministic, so
// that no letter is followed up twice.
func FollowUpID(letterID string) string { return letterID + "-f" }

// FollowUp is the follow-up of a wave's letter first, sent in its thread
// (In-Reply-To its Message-ID) to the office's address today: as soon as
// queued, or at the wave's local time on the next working day in the
// office's zone when the wave was sent at a local time.
func (w Wave) FollowUp(first Letter, t Target, now time.Time) (Letter, error) {
	if first.Kind != KindWave || first.MessageID == "" {
		return Letter{}, fmt.Errorf("letter %s is not a sent wave letter", first.ID)
	}
	if w.FollowUpAfter <= 0 || w.FollowUpTemplate == "" {
		return Letter{}, fmt.Errorf("wave %d asks for no follow-up", w.ID)
	}
	l := Letter{
		ID: FollowUpID(first.ID), Kind: KindFollowUp, WaveID: w.ID, TargetID: first.TargetID,
		Template: w.FollowUpTemplate, State: Planned, CampaignIDs: first.CampaignIDs,
		Email: t.Email, InReplyTo: first.MessageID,
	}
	if w.LocalTime != "" {
		loc, err := time.LoadLocation(t.TimeZone)
		if err != nil {
			return Letter{}, fmt.Errorf("office %s: time zone %q: %w", t.Email, t.TimeZone, err)
		}
		if l.SendAt, err = NextWorkingTime(now, loc, w.LocalTime); err != nil {
			return Letter{}, err
		}
	}
	return l, nil
}

// Skipped is a target, or a campaign without one, that a wave leaves out,
// and why.
type Skipped struct {
	CampaignIDs []int64
	Email       string
	City        string
	Reason      string
}

// Plan is what a new wave would send: one letter per target, and what it
// leaves out; Warnings say what staff chose to put back in.
type Plan struct {
	Letters  []Letter
	Skipped  []Skipped
	Warnings []string
}

// WrittenStates are the states of a letter that is on its way to its office
// or gone: an office with such a letter of a wave's template, in a wave not
// cancelled, has been written that letter.
var WrittenStates = []LetterState{Planned, Queued, Sending, Sent, Uncertain}

// History is what a new wave needs to know of an office's past.
type History struct {
	// Letter is a letter of the wave's template to the office, in one of
	// WrittenStates in a wave not cancelled ("" for none), and its state.
	Letter      string
	LetterState LetterState
	// ResponseCampaign is a campaign of the office that has a response
	// date (recorded in the table or from a reply), ResponseDate that date.
	ResponseCampaign int64
	ResponseDate     Date
	// OutcomeCampaign is a campaign of the office that has an outcome.
	OutcomeCampaign int64
	Outcome         Outcome
	// ConfirmedReply is a person's reply from the office, or to one of its
	// campaigns, that staff or the matcher confirmed (0 for none).
	ConfirmedReply int64
}

// Written says why the office counts as already written the wave's letter,
// or "" when it does not.
func (h History) Written() string {
	if h.Letter == "" {
		return ""
	}
	return fmt.Sprintf("already written this letter (%s, %s)", h.Letter, h.LetterState)
}

// Replied says why the office counts as having answered, or "" when it
// does not.
func (h History) Replied() string {
	switch {
	case h.ResponseCampaign != 0:
		return fmt.Sprintf("replied (campaign %s has a response date, %s)", Number(h.ResponseCampaign), h.ResponseDate)
	case h.ConfirmedReply != 0:
		return fmt.Sprintf("replied (reply %d confirmed)", h.ConfirmedReply)
	case h.OutcomeCampaign != 0:
		return fmt.Sprintf("replied (campaign %s has the outcome %s)", Number(h.OutcomeCampaign), h.Outcome)
	}
	return ""
}

// PlanOptions are staff's choices about whom a wave leaves out.
type PlanOptions struct {
	// History is each office's past, by target id.
	History map[int64]History
	// IncludeContacted puts back offices already written the wave's
	// letter; IncludeReplied offices that have answered.
	IncludeContacted, IncludeReplied bool
}

// ErrEmptyWave is returned when a selection has no target to write to.
var ErrEmptyWave = errors.New("the selection has no office to write to")

// PlanWave groups the selected campaigns by target, one letter each, in
// target order. Targets marked do-not-contact and campaigns without an
// office address are left out and listed in Skipped; so are, unless opt
// puts them back, offices already written the wave's letter and offices
// that have answered (a warning counts those put back). The letters' send
// times follow the wave's At or LocalTime, from now.
func PlanWave(w Wave, cs []Campaign, targets map[string]Target, opt PlanOptions, now time.Time) (Plan, error) {
	var p Plan
	var includedWritten, includedReplied int
	byTarget := map[string][]int64{}
	var order []string
	for _, c := range cs {
		key := strings.ToLower(c.TargetEmail)
		if key == "" {
			p.Skipped = append(p.Skipped, Skipped{CampaignIDs: []int64{c.ID}, City: c.City, Reason: "no office address"})
			continue
		}
		if _, ok := byTarget[key]; !ok {
			order = append(order, key)
		}
		byTarget[key] = append(byTarget[key], c.ID)
	}
	sort.Strings(order)
	for _, key := range order {
		t, ok := targets[key]
		if !ok {
			return p, fmt.Errorf("campaigns %v name office %s, which is not in the store", byTarget[key], key)
		}
		if t.DoNotContact {
			reason := "do-not-contact"
			if t.DoNotContactReason != "" {
				reason += ": " + t.DoNotContactReason
			}
			p.Skipped = append(p.Skipped, Skipped{CampaignIDs: byTarget[key], Email: t.Email, City: t.City, Reason: reason})
			continue
		}
		h := opt.History[t.ID]
		written, replied := h.Written(), h.Replied()
		switch {
		case replied != "" && !opt.IncludeReplied:
			p.Skipped = append(p.Skipped, Skipped{CampaignIDs: byTarget[key], Email: t.Email, City: t.City, Reason: replied})
			continue
		case written != "" && !opt.IncludeContacted:
			p.Skipped = append(p.Skipped, Skipped{CampaignIDs: byTarget[key], Email: t.Email, City: t.City, Reason: written})
			continue
		}
		if replied != "" {
			includedReplied++
		}
		if written != "" {
			includedWritten++
		}
		sendAt, err := w.SendTime(t, now)
		if err != nil {
			return p, err
		}
		p.Letters = append(p.Letters, Letter{
			ID: LetterID(w.ID, t.ID), Kind: KindWave, WaveID: w.ID, TargetID: t.ID, Template: w.Template,
			State: Planned, CampaignIDs: byTarget[key], SendAt: sendAt, Email: t.Email,
		})
	}
	if includedWritten > 0 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s already written this letter %s included", offices(includedWritten), isAre(includedWritten)))
	}
	if includedReplied > 0 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s that replied %s included", offices(includedReplied), isAre(includedReplied)))
	}
	if len(p.Letters) == 0 {
		return p, ErrEmptyWave
	}
	return p, nil
}

func offices(n int) string {
	if n == 1 {
		return "1 office"
	}
	return fmt.Sprintf("%d offices", n)
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// SendTime is when the wave's letter to t goes: the wave's At, or its
// LocalTime on the next working day in t's time zone, or zero (now).
func (w Wave) SendTime(t Target, now time.Time) (time.Time, error) {
	switch {
	case !w.At.IsZero():
		return w.At, nil
	case w.LocalTime != "":
		loc, err := time.LoadLocation(t.TimeZone)
		if err != nil {
			return time.Time{}, fmt.Errorf("office %s: time zone %q: %w", t.Email, t.TimeZone, err)
		}
		return NextWorkingTime(now, loc, w.LocalTime)
	}
	return time.Time{}, nil
}

// NextWorkingTime is the first moment after now that is hh:mm on a working
// day (Monday to Friday) in loc. Public holidays are not known.
func NextWorkingTime(now time.Time, loc *time.Location, hhmm string) (time.Time, error) {
	clock, err := time.Parse("15:04", hhmm)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a time of day HH:MM", hhmm)
	}
	local := now.In(loc)
	for d := 0; d < 8; d++ {
		day := local.AddDate(0, 0, d)
		at := time.Date(day.Year(), day.Month(), day.Day(), clock.Hour(), clock.Minute(), 0, 0, loc)
		if !at.After(now) {
			continue
		}
		if wd := at.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		return at, nil
	}
	panic("unreachable: a week always has a working day")
}

// ValidateWaveName refuses an empty or multi-line name.
func ValidateWaveName(name string) error {
	if strings.TrimSpace(name) == "" {
		return fieldErr("name", "missing")
	}
	if err := CheckHeaderText(name); err != nil {
		return &FieldError{Field: "name", Err: err}
	}
	return nil
}
