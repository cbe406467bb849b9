// Package store keeps the campaign's data. Store is the interface the rest
// of the program uses; SQLite implements it for one machine, with its
// schema in embedded SQL migrations. Every write that belongs to one step
// happens in one transaction.
package store

import (
	"context"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// Store is the persistence the program needs. Implementations must be safe
// for concurrent use.
type Store interface {
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

	// GeneratedSecret returns the secret kept under name, first storing
	// the one gen makes if there is none yet; concurrent callers all get
	// the one stored.
	GeneratedSecret(ctx context.Context, name string, gen func() (string, error)) (string, error)

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
