package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

const targetColumns = `id, email, country, city, office, mayor, title, names, language, timezone,
	do_not_contact, suspect, suspect_reason, do_not_contact_reason, do_not_contact_at`

// ImportContacts implements Store.
func (s *SQLite) ImportContacts(ctx context.Context, cs []Contact) (ImportStats, error) {
	var st ImportStats
	err := s.inTx(ctx, func(tx queryer) error {
		claimed := map[int64]string{} // campaign id -> the contact that claims it
		for _, c := range cs {
			t := c.Target
			if t.Title == "" {
				t.Title = campaign.Mayor
			}
			if err := t.Validate(); err != nil {
				return fmt.Errorf("target %s: %w", t.Email, err)
			}
			for _, id := range c.CampaignIDs {
				if other, ok := claimed[id]; ok && !strings.EqualFold(other, t.Email) {
					return fmt.Errorf("campaign %s is claimed by both %s and %s", campaign.Number(id), other, t.Email)
				}
				claimed[id] = t.Email
			}
			old, err := targetWhere(ctx, tx, "email = ?", t.Email)
			var id int64
			changed := false
			switch {
			case errors.Is(err, errNotFound):
				res, err := tx.ExecContext(ctx, `INSERT INTO targets (email, country, city, office,
					mayor, title, names, language, timezone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					t.Email, t.Country, t.City, t.Office, t.Mayor, t.Title, t.Names, t.Language, t.TimeZone, s.stamp(), s.stamp())
				if err != nil {
					return fmt.Errorf("add target %s: %w", t.Email, err)
				}
				if id, err = res.LastInsertId(); err != nil {
					return err
				}
				st.Added++
			case err != nil:
				return err
			default:
				id = old.ID
				// Staff's flags are not part of the contacts file.
				t.ID, t.DoNotContact, t.Suspect, t.SuspectReason = old.ID, old.DoNotContact, old.Suspect, old.SuspectReason
				t.DoNotContactReason, t.DoNotContactAt = old.DoNotContactReason, old.DoNotContactAt
				if t != old {
					changed = true
					if _, err := tx.ExecContext(ctx, `UPDATE targets SET email = ?, country = ?, city = ?,
						office = ?, mayor = ?, title = ?, names = ?, language = ?, timezone = ?, updated_at = ?
						WHERE id = ?`,
						t.Email, t.Country, t.City, t.Office, t.Mayor, t.Title, t.Names, t.Language, t.TimeZone, s.stamp(), id); err != nil {
						return fmt.Errorf("update target %s: %w", t.Email, err)
					}
				}
			}
			for _, cid := range c.CampaignIDs {
				res, err := tx.ExecContext(ctx, `UPDATE campaigns SET target_id = ?, updated_at = ?
					WHERE id = ? AND (target_id IS NULL OR target_id != ?)`, id, s.stamp(), cid, id)
				if err != nil {
					return fmt.Errorf("link campaign %d to %s: %w", cid, t.Email, err)
				}
				if n, _ := res.RowsAffected(); n > 0 {
					changed = true
				} else if _, err := campaignByID(ctx, tx, cid); err != nil {
					return fmt.Errorf("link campaign %d to %s: %w", cid, t.Email, err)
				}
			}
			if old.ID != 0 {
				if changed {
					st.Updated++
				} else {
					st.Unchanged++
				}
			}
		}
		return nil
	})
	if err != nil {
		return ImportStats{}, fmt.Errorf("store: import contacts: %w", err)
	}
	return st, nil
}

// Targets implements Store.
func (s *SQLite) Targets(ctx context.Context, f TargetFilter) ([]campaign.Target, error) {
	var where []string
	var args []any
	if len(f.Countries) > 0 {
		where = append(where, "country IN ("+placeholders(len(f.Countries))+")")
		for _, c := range f.Countries {
			args = append(args, c)
		}
	}
	if f.City != "" {
		where = append(where, `(city = ? OR id IN (SELECT target_id FROM campaigns WHERE city = ?))`)
		args = append(args, f.City, f.City)
	}
	q := "SELECT " + targetColumns + " FROM targets"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY country, city, email"
	ts, err := queryTargets(ctx, s.reader(), q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list targets: %w", err)
	}
	return ts, nil
}

// Target implements Store.
func (s *SQLite) Target(ctx context.Context, email string) (campaign.Target, error) {
	t, err := targetWhere(ctx, s.reader(), "email = ?", email)
	if err != nil {
		return campaign.Target{}, fmt.Errorf("store: target %s: %w", email, err)
	}
	return t, nil
}

// TargetByID implements Store.
func (s *SQLite) TargetByID(ctx context.Context, id int64) (campaign.Target, error) {
	t, err := targetWhere(ctx, s.reader(), "id = ?", id)
	if err != nil {
		return campaign.Target{}, fmt.Errorf("store: target %d: %w", id, err)
	}
	return t, nil
}

// SetDoNotContact implements Store.
func (s *SQLite) SetDoNotContact(ctx context.Context, email string, on bool) error {
	// A mark already set keeps its reason and time; lifting it clears them.
	res, err := s.wdb.ExecContext(ctx, `UPDATE targets SET
		do_not_contact_reason = CASE WHEN ? THEN (CASE WHEN do_not_contact THEN do_not_contact_reason ELSE 'marked by staff' END) ELSE '' END,
		do_not_contact_at = CASE WHEN ? THEN (CASE WHEN do_not_contact THEN do_not_contact_at ELSE ? END) ELSE '' END,
		do_not_contact = ?, updated_at = ?
		WHERE email = ?`, on, on, s.stamp(), on, s.stamp(), email)
	if err != nil {
		return fmt.Errorf("store: set do-not-contact for %s: %w", email, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: target %s: %w", email, errNotFound)
	}
	return nil
}

func targetWhere(ctx context.Context, q queryer, where string, args ...any) (campaign.Target, error) {
	return one(queryTargets(ctx, q, "SELECT "+targetColumns+" FROM targets WHERE "+where, args...))
}

func queryTargets(ctx context.Context, q queryer, query string, args ...any) ([]campaign.Target, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []campaign.Target
	for rows.Next() {
		var t campaign.Target
		var dncAt string
		if err := rows.Scan(&t.ID, &t.Email, &t.Country, &t.City, &t.Office, &t.Mayor,
			&t.Title, &t.Names, &t.Language, &t.TimeZone, &t.DoNotContact, &t.Suspect, &t.SuspectReason,
			&t.DoNotContactReason, &dncAt); err != nil {
			return nil, err
		}
		var err error
		if t.DoNotContactAt, err = parseTime(dncAt); err != nil {
			return nil, fmt.Errorf("target %d: do_not_contact_at: %w", t.ID, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// OptOut implements Store.
func (s *SQLite) OptOut(ctx context.Context, targetID int64, reason string, at time.Time) (bool, error) {
	var marked bool
	err := s.inTx(ctx, func(tx queryer) error {
		var was bool
		err := tx.QueryRowContext(ctx, `SELECT do_not_contact FROM targets WHERE id = ?`, targetID).Scan(&was)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("target %d: %w", targetID, errNotFound)
		}
		if err != nil || was {
			return err
		}
		marked = true
		return markDoNotContact(ctx, tx, targetID, reason, formatTime(at), s.stamp())
	})
	if err != nil {
		return false, fmt.Errorf("store: opt out office %d: %w", targetID, err)
	}
	return marked, nil
}

// markDoNotContact marks a target not marked yet, with why and when.
func markDoNotContact(ctx context.Context, tx queryer, targetID int64, reason, at, now string) error {
	_, err := tx.ExecContext(ctx, `UPDATE targets SET do_not_contact = 1, do_not_contact_reason = ?,
		do_not_contact_at = ?, updated_at = ? WHERE id = ? AND NOT do_not_contact`, reason, at, now, targetID)
	return err
}
