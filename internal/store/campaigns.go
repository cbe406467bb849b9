package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

var errNotFound = campaign.ErrNotFound

const campaignColumns = `c.id, c.no, c.region, c.district, c.country, c.city, c.agreement_date,
	c.relationship, c.relationship_label, c.campaign_date, c.response_date, c.response_note,
	c.outcome, COALESCE(t.email, '')`

const campaignFrom = ` FROM campaigns c LEFT JOIN targets t ON t.id = c.target_id`

// ImportCampaigns implements Store.
func (s *SQLite) ImportCampaigns(ctx context.Context, cs []campaign.Campaign) (ImportStats, error) {
	var st ImportStats
	err := s.inTx(ctx, func(tx queryer) error {
		for _, c := range cs {
			if err := c.Validate(); err != nil {
				return fmt.Errorf("campaign %d: %w", c.ID, err)
			}
			old, err := campaignByID(ctx, tx, c.ID)
			switch {
			case isNotFound(err):
				if err := insertCampaign(ctx, tx, c, s.stamp()); err != nil {
					return fmt.Errorf("add campaign %d: %w", c.ID, err)
				}
				st.Added++
				continue
			case err != nil:
				return err
			}
			merged := mergeImported(old, c)
			if merged == old {
				st.Unchanged++
				continue
			}
			if err := updateCampaign(ctx, tx, merged, s.stamp()); err != nil {
				return fmt.Errorf("update campaign %d: %w", c.ID, err)
			}
			st.Updated++
		}
		return nil
	})
	if err != nil {
		return ImportStats{}, fmt.Errorf("store: import campaigns: %w", err)
	}
	return st, nil
}

// mergeImported returns the stored campaign updated with an imported one:
// the table's fields are replaced, but outreach already recorded (dates,
// note, outcome, target) is kept where the import leaves it empty, so that
// importing an older table loses nothing.
func mergeImported(old, in campaign.Campaign) campaign.Campaign {
	out := in
	out.TargetEmail = old.TargetEmail
	out.Outcome = old.Outcome
	if in.CampaignDate.IsZero() {
		out.CampaignDate = old.CampaignDate
	}
	if in.ResponseDate.IsZero() {
		out.ResponseDate = old.ResponseDate
		out.ResponseNote = old.ResponseNote
	}
	return out
}

func insertCampaign(ctx context.Context, tx queryer, c campaign.Campaign, now string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO campaigns (id, no, region, district, country, city,
		agreement_date, relationship, relationship_label, campaign_date, response_date,
		response_note, outcome, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.No, c.Partner.Region, c.Partner.District, c.Country, c.City,
		c.AgreementDate.String(), string(c.Relationship), c.RelationshipLabel,
		nullDate(c.CampaignDate), nullDate(c.ResponseDate), c.ResponseNote, string(c.Outcome), now)
	return err
}

func updateCampaign(ctx context.Context, tx queryer, c campaign.Campaign, now string) error {
	_, err := tx.ExecContext(ctx, `UPDATE campaigns SET no = ?, region = ?, district = ?,
		country = ?, city = ?, agreement_date = ?, relationship = ?, relationship_label = ?,
		campaign_date = ?, response_date = ?, response_note = ?, outcome = ?, updated_at = ?
		WHERE id = ?`,
		c.No, c.Partner.Region, c.Partner.District, c.Country, c.City,
		c.AgreementDate.String(), string(c.Relationship), c.RelationshipLabel,
		nullDate(c.CampaignDate), nullDate(c.ResponseDate), c.ResponseNote, string(c.Outcome),
		now, c.ID)
	return err
}

// Campaigns implements Store.
func (s *SQLite) Campaigns(ctx context.Context, f CampaignFilter) ([]campaign.Campaign, error) {
	var where []string
	var args []any
	if len(f.Countries) > 0 {
		where = append(where, "c.country IN ("+placeholders(len(f.Countries))+")")
		for _, c := range f.Countries {
			args = append(args, c)
		}
	}
	if len(f.IDs) > 0 {
		where = append(where, "c.id IN ("+placeholders(len(f.IDs))+")")
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	if f.TargetID != 0 {
		where = append(where, "c.target_id = ?")
		args = append(args, f.TargetID)
	}
	if f.City != "" {
		where = append(where, "c.city = ?")
		args = append(args, f.City)
	}
	q := "SELECT " + campaignColumns + campaignFrom
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY c.id"
	cs, err := queryCampaigns(ctx, s.reader(), q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list campaigns: %w", err)
	}
	return cs, nil
}

// Campaign implements Store.
func (s *SQLite) Campaign(ctx context.Context, id int64) (campaign.Campaign, error) {
	c, err := campaignByID(ctx, s.reader(), id)
	if err != nil {
		return campaign.Campaign{}, fmt.Errorf("store: campaign %d: %w", id, err)
	}
	return c, nil
}

func campaignByID(ctx context.Context, q queryer, id int64) (campaign.Campaign, error) {
	return one(queryCampaigns(ctx, q, "SELECT "+campaignColumns+campaignFrom+" WHERE c.id = ?", id))
}

func queryCampaigns(ctx context.Context, q queryer, query string, args ...any) ([]campaign.Campaign, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []campaign.Campaign
	for rows.Next() {
		var (
			c                          campaign.Campaign
			agreement, rel, outcome    string
			campaignDate, responseDate sql.NullString
		)
		if err := rows.Scan(&c.ID, &c.No, &c.Partner.Region, &c.Partner.District, &c.Country,
			&c.City, &agreement, &rel, &c.RelationshipLabel, &campaignDate, &responseDate,
			&c.ResponseNote, &outcome, &c.TargetEmail); err != nil {
			return nil, err
		}
		c.Relationship = campaign.Relationship(rel)
		c.Outcome = campaign.Outcome(outcome)
		if c.AgreementDate, err = campaign.ParseDate(agreement); err != nil {
			return nil, fmt.Errorf("campaign %d: agreement date: %w", c.ID, err)
		}
		if c.CampaignDate, err = campaign.ParseDate(campaignDate.String); err != nil {
			return nil, fmt.Errorf("campaign %d: campaign date: %w", c.ID, err)
		}
		if c.ResponseDate, err = campaign.ParseDate(responseDate.String); err != nil {
			return nil, fmt.Errorf("campaign %d: response date: %w", c.ID, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// nullDate stores the zero Date as NULL.
func nullDate(d campaign.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String()
}
