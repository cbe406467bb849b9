package campaign

import (
	"fmt"
	"strings"
	"time"
)

// Letters that supporters' signatures give rise to. They go through the
// same queue, state machine and SMTP path as a wave's letters.
const (
	// KindConfirmation asks a supporter to confirm their address; it has no
	// office and no wave.
	KindConfirmation LetterKind = "confirmation"
	// KindSupporter carries one supporter's letter to an office.
	KindSupporter LetterKind = "supporter"
	// KindDigest carries a period's supporters' letters to an office in one
	// message.
	KindDigest LetterKind = "digest"
)

// SupporterKinds are the kinds of letters that supporters' signatures make.
var SupporterKinds = []LetterKind{KindConfirmation, KindSupporter, KindDigest}

// SignatureState is where a supporter's letter stands. A signature starts
// pending; confirming the address makes it confirmed, and only then is it
// ever delivered (its delivery is the state of the letter that carries
// it). An unconfirmed signature expires; a supporter may withdraw one not
// yet delivered.
type SignatureState string

const (
	SignaturePending   SignatureState = "pending"
	SignatureConfirmed SignatureState = "confirmed"
	SignatureWithdrawn SignatureState = "withdrawn"
	SignatureExpired   SignatureState = "expired"
)

// Signature is one supporter's letter to the office of one campaign. A
// supporter has at most one per campaign: signing again makes a draft
// that replaces it only once confirmed from the supporter's own inbox.
type Signature struct {
	ID         int64  `json:"id"`
	CampaignID int64  `json:"campaign_id"`
	Name       string `json:"name"`
	// Email is the supporter's address, lower-cased; it is never a From.
	Email   string `json:"email"`
	Country string `json:"country"`
	City    string `json:"city,omitempty"`
	Message string `json:"message,omitempty"`
	// ReplyConsent lets the office reply to the supporter directly
	// (Reply-To); without it replies reach the organisation.
	ReplyConsent bool `json:"reply_consent"`
	// Lang is the language of the page signed on, for the confirmation
	// mail.
	Lang  string         `json:"lang"`
	State SignatureState `json:"state"`
	// Version counts signings: a confirmation link names the version it
	// confirms, so a link to an earlier text does not confirm a later one.
	Version int `json:"version"`
	// LetterID is the letter that carries it to the office, once batched.
	LetterID string `json:"letter_id,omitempty"`
	// LetterState is that letter's state; Sent means delivered.
	LetterState LetterState `json:"letter_state,omitempty"`
	SignedAt    time.Time   `json:"signed_at,omitzero"`
	ConfirmedAt time.Time   `json:"confirmed_at,omitzero"`
	DeliveredAt time.Time   `json:"delivered_at,omitzero"`
	// ErasedAt is when the personal data (name, address, city, message)
	// was erased; the signature is still counted.
	ErasedAt time.Time `json:"erased_at,omitzero"`
}

// Replaceable reports whether a later signing, once confirmed, may still
// replace the letter's text: the letter has not left for the office (no
// delivery yet, or one only planned or queued, which is cancelled then).
func (s Signature) Replaceable() bool {
	return s.LetterID == "" || s.LetterState == Planned || s.LetterState == Queued
}

// ConfirmationLetterID is the id of the confirmation mail of a signature's
// version: signing again sends a new one.
func ConfirmationLetterID(signatureID int64, version int) string {
	return fmt.Sprintf("c%d-%d", signatureID, version)
}

// SupporterLetterID is the id of the letter carrying one signature; attempt
// counts deliveries planned again after a hold or withdrawal cancelled
// the first.
func SupporterLetterID(signatureID int64, attempt int) string {
	return withAttempt(fmt.Sprintf("s%d", signatureID), attempt)
}

// DigestLetterID is the id of the digest to an office for the period that
// starts on day (as "20261127"); attempt as for SupporterLetterID.
func DigestLetterID(targetID int64, period DigestPeriod, day Date, attempt int) string {
	return withAttempt(fmt.Sprintf("d%d-%s%04d%02d%02d", targetID, period.letter(), day.Year, day.Month, day.Day), attempt)
}

func withAttempt(id string, attempt int) string {
	if attempt <= 1 {
		return id
	}
	return fmt.Sprintf("%s-%d", id, attempt)
}

// DeliveryMode is how a campaign's supporters' letters reach its office.
type DeliveryMode string

const (
	// Individual sends each letter as its own e-mail, at most a daily cap
	// per office, spread over the office's working hours.
	Individual DeliveryMode = "individual"
	// Digest sends one e-mail per office per period with the period's
	// letters in its body and as a CSV attachment.
	Digest DeliveryMode = "digest"
)

// ParseDeliveryMode reads "individual" or "digest".
func ParseDeliveryMode(s string) (DeliveryMode, error) {
	switch m := DeliveryMode(strings.ToLower(strings.TrimSpace(s))); m {
	case Individual, Digest:
		return m, nil
	}
	return "", fmt.Errorf("%q is not a delivery mode (individual or digest)", s)
}

// DigestPeriod is how often a digest goes to an office.
type DigestPeriod string

const (
	Daily  DigestPeriod = "day"
	Weekly DigestPeriod = "week"
)

// ParseDigestPeriod reads "day" or "week".
func ParseDigestPeriod(s string) (DigestPeriod, error) {
	switch p := DigestPeriod(strings.ToLower(strings.TrimSpace(s))); p {
	case Daily, Weekly:
		return p, nil
	}
	return "", fmt.Errorf("%q is not a digest period (day or week)", s)
}

func (p DigestPeriod) letter() string {
	if p == Weekly {
		return "w"
	}
	return ""
}

// Bounds returns the period of p that holds t, in t's location: the day,
// or the week from Monday.
func (p DigestPeriod) Bounds(t time.Time) (start, end time.Time) {
	start = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	if p == Weekly {
		start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7))
		return start, start.AddDate(0, 0, 7)
	}
	return start, start.AddDate(0, 0, 1)
}

// Delivery is how a campaign's supporters' letters are delivered. Zero
// fields take the configured defaults.
type Delivery struct {
	CampaignID int64        `json:"campaign_id"`
	Mode       DeliveryMode `json:"mode,omitempty"`
	// DailyCap is the most individual letters an office gets in a day.
	DailyCap int          `json:"daily_cap,omitempty"`
	Period   DigestPeriod `json:"period,omitempty"`
	// Held stops the campaign's deliveries until released.
	Held bool `json:"held"`
}

// Or fills the zero fields of d from def.
func (d Delivery) Or(def Delivery) Delivery {
	if d.Mode == "" {
		d.Mode = def.Mode
	}
	if d.DailyCap <= 0 {
		d.DailyCap = def.DailyCap
	}
	if d.Period == "" {
		d.Period = def.Period
	}
	return d
}

// WorkingHours is the part of an office's working days (Monday to Friday)
// when letters arrive, in its time zone.
type WorkingHours struct {
	Start, End time.Duration // since midnight
}

// ParseWorkingHours reads "09:00-17:00".
func ParseWorkingHours(s string) (WorkingHours, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if ok {
		a, errA := time.Parse("15:04", strings.TrimSpace(from))
		b, errB := time.Parse("15:04", strings.TrimSpace(to))
		if errA == nil && errB == nil {
			h := WorkingHours{
				Start: time.Duration(a.Hour())*time.Hour + time.Duration(a.Minute())*time.Minute,
				End:   time.Duration(b.Hour())*time.Hour + time.Duration(b.Minute())*time.Minute,
			}
			if h.End > h.Start {
				return h, nil
			}
		}
	}
	return WorkingHours{}, fmt.Errorf("%q is not working hours of the form 09:00-17:00", s)
}

// String formats h as "09:00-17:00".
func (h WorkingHours) String() string {
	f := func(d time.Duration) string { return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60) }
	return f(h.Start) + "-" + f(h.End)
}

// On returns the working hours of the day of t in t's location, and
// whether that day is a working day.
func (h WorkingHours) On(t time.Time) (start, end time.Time, working bool) {
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	wd := day.Weekday()
	return addClock(day, h.Start), addClock(day, h.End), wd != time.Saturday && wd != time.Sunday
}

// Contains reports whether t falls within working hours on a working day,
// in t's location.
func (h WorkingHours) Contains(t time.Time) bool {
	start, end, working := h.On(t)
	return working && !t.Before(start) && t.Before(end)
}

// Next returns t when it is within working hours, else the start of the
// next working hours, in t's location. Public holidays are not known.
func (h WorkingHours) Next(t time.Time) time.Time {
	for d := 0; d < 8; d++ {
		day := t.AddDate(0, 0, d)
		start, end, working := h.On(day)
		if !working || !t.Before(end) {
			continue
		}
		if t.Before(start) {
			return start
		}
		return t
	}
	panic("unreachable: a week always has working hours")
}

// addClock is the wall-clock time d after midnight of day, so that a day on
// which the clocks change still starts work at 09:00.
func addClock(day time.Time, d time.Duration) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), int(d/time.Hour), int(d%time.Hour/time.Minute), 0, 0, day.Location())
}
