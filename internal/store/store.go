// Package store keeps the campaign's data. Store is the interface the rest
// of the program uses; SQLite implements it for one machine, with its
// schema in embedded SQL migrations. Every write that belongs to one step
// happens in one transaction.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// Store is the persistence the program needs. Implementations must be safe
// for concurrent use.
type Store interface {
	StaffStore
	SupporterStore

	// ImportCampaigns adds or updates the given campaigns, keyed by ID, in
	// one transaction. A date or note left empty in the import does not
	// erase one already stored.
	ImportCampaigns(ctx context.Context, cs []campaign.Campaign) (ImportStats, error)
	// Campaigns lists campaigns in table order.
	Campaigns(ctx context.Context, f CampaignFilter) ([]campaign.Campaign, error)
	// Campaign returns one campaign or an error wrapping campaign.ErrNotFound.
	Campaign(ctx context.Context, id int64) (campaign.Campaign, error)

	// ImportContacts adds or updates targets, keyed by e-mail address, and
	// links each to its campaigns, in one transaction. Flags staff set on a
	// target (do-not-contact, suspect) are kept.
	ImportContacts(ctx context.Context, cs []Contact) (ImportStats, error)
	// Targets lists targets ordered by country then city.
	Targets(ctx context.Context, f TargetFilter) ([]campaign.Target, error)
	// Target returns the target with that e-mail address (any case) or an
	// error wrapping campaign.ErrNotFound.
	Target(ctx context.Context, email string) (campaign.Target, error)
	// TargetByID returns a target by its id.
	TargetByID(ctx context.Context, id int64) (campaign.Target, error)
	// SetDoNotContact marks a target as one that must not be written to, or
	// clears the mark.
	SetDoNotContact(ctx context.Context, email string, on bool) error
	// OptOut marks a target do-not-contact at its own request, with the
	// reason and time; marked is false when it was marked already (its
	// reason and time are then kept).
	OptOut(ctx context.Context, targetID int64, reason string, at time.Time) (marked bool, err error)

	// CreateWave stores a new wave and its planned letters in one
	// transaction, giving the wave its id and each letter its
	// deterministic id.
	CreateWave(ctx context.Context, w campaign.Wave, letters []campaign.Letter) (campaign.Wave, []campaign.Letter, error)
	// Wave returns one wave or an error wrapping campaign.ErrNotFound.
	Wave(ctx context.Context, id int64) (campaign.Wave, error)
	// Waves lists waves, newest first.
	Waves(ctx context.Context) ([]campaign.Wave, error)
	// StartWave marks a draft wave started; starting a started wave again
	// is allowed (it re-queues what is still planned), a cancelled one is
	// an error.
	StartWave(ctx context.Context, id int64) (campaign.Wave, error)
	// CancelWave marks a wave cancelled and its letters not yet being sent
	// cancelled, returning how many letters it cancelled.
	CancelWave(ctx context.Context, id int64) (int, error)
	// LetterCounts counts a wave's letters by state.
	LetterCounts(ctx context.Context, waveID int64) (map[campaign.LetterState]int, error)
	// WaveHistory tells, per office (by target id), what a new wave of
	// template must know of its past: a letter of that template in one of
	// campaign.WrittenStates in a wave not cancelled, a campaign with a
	// response date or an outcome, a confirmed person's reply.
	WaveHistory(ctx context.Context, template string) (map[int64]campaign.History, error)
	// FollowUpsDue counts the sent letters of a wave whose follow-up is
	// still to come (the wave asks for one and the office has not replied).
	FollowUpsDue(ctx context.Context, waveID int64) (int, error)

	// Letter returns one letter with its campaigns.
	Letter(ctx context.Context, id string) (campaign.Letter, error)
	// Letters lists letters, in id order within a wave.
	Letters(ctx context.Context, f LetterFilter) ([]campaign.Letter, error)
	// MarkQueued moves planned letters to queued, leaving letters in any
	// other state alone; it returns how many moved.
	MarkQueued(ctx context.Context, ids []string) (int, error)
	// BeginSending moves a queued (or still planned) letter to sending,
	// recording its Message-ID and counting the attempt. A letter in any
	// other state gives an error wrapping ErrConflict.
	BeginSending(ctx context.Context, id, messageID string) error
	// KeepAsSent stores letter id as it is about to leave, unless a copy
	// is kept already; LetterAsSent returns it (ErrNotFound if none).
	KeepAsSent(ctx context.Context, id string, a campaign.AsSent) error
	LetterAsSent(ctx context.Context, id string) (campaign.AsSent, error)
	// Requeue moves a sending letter back to queued after a failure that
	// sent nothing.
	Requeue(ctx context.Context, id, reason string) error
	// MarkSent moves a sending letter to sent, and sets campaignDate as the
	// campaign date of each of its campaigns that has none, in the same
	// transaction.
	MarkSent(ctx context.Context, id string, at time.Time, reply string, campaignDate campaign.Date) error
	// MarkFailed moves a letter not yet sent to failed, keeping the
	// server's reply; suspect also marks the target's address suspect.
	MarkFailed(ctx context.Context, id, reason, reply string, suspect bool) error
	// MarkUncertain moves a sending letter to uncertain: it may or may not
	// have been delivered, and is not resent without staff.
	MarkUncertain(ctx context.Context, id, reason string) error
	// CancelLetter moves a letter not yet being sent to cancelled.
	CancelLetter(ctx context.Context, id, reason string) error
	// Resend moves an uncertain or failed letter back to queued for one
	// more attempt, counting the resend.
	Resend(ctx context.Context, id string) (campaign.Letter, error)
	// LetterEvents lists a letter's state changes, oldest first.
	LetterEvents(ctx context.Context, id string) ([]LetterEvent, error)

	// GeneratedSecret returns the secret kept under name, first storing
	// the one gen makes if there is none yet; concurrent callers all get
	// the one stored.
	GeneratedSecret(ctx context.Context, name string, gen func() (string, error)) (string, error)

	ReplyStore
	OAuthStore

	Close() error
}

// ImportStats counts what an import did.
type ImportStats struct {
	Added, Updated, Unchanged int
}

// CampaignFilter narrows Campaigns; zero fields match everything.
type CampaignFilter struct {
	Countries []string // any of these countries, compared without case
	IDs       []int64
	TargetID  int64
	City      string // the city as printed, compared without case
}

// TargetFilter narrows Targets; zero fields match everything.
type TargetFilter struct {
	Countries []string
	City      string // matches the target's city or one of its campaigns' cities, without case
}

// Contact is one target as imported, with the campaigns it is the office of.
type Contact struct {
	Target      campaign.Target
	CampaignIDs []int64
}

// ErrConflict is returned (wrapped) when a record is not in the state a
// change expects, as when two workers race for one letter.
var ErrConflict = errors.New("state conflict")

// LetterFilter narrows Letters; zero fields match everything.
type LetterFilter struct {
	WaveID   int64
	TargetID int64
	// CampaignID keeps letters that speak for this campaign.
	CampaignID int64
	Kinds      []campaign.LetterKind
	States     []campaign.LetterState
	// StartedWavesOnly keeps letters of started waves.
	StartedWavesOnly bool
	// UpdatedBefore keeps letters whose state has not changed since.
	UpdatedBefore time.Time
	Limit         int
}

// LetterEvent is one change of a letter's state.
type LetterEvent struct {
	At     time.Time            `json:"at,omitzero"`
	From   campaign.LetterState `json:"from"`
	To     campaign.LetterState `json:"to"`
	Detail string               `json:"detail,omitempty"`
}
