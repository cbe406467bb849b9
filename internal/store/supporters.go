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

// SupporterStore keeps supporters' letters: their signatures, the
// confirmation mails and the letters that deliver them, and each
// campaign's delivery settings.
type SupporterStore interface {
	// SignLetter stores a supporter's letter to a campaign, keyed by
	// campaign and address, pending confirmation (version 1). When the
	// address already has a letter to the campaign, that letter is left
	// as it is: the new text becomes its draft (replacing an earlier
	// draft, whose confirmation mail is cancelled if it has not left),
	// or, when the letter is no longer replaceable, nothing is kept of
	// it. Either way it plans a confirmation mail for a new version
	// (c{id}-{version}) and returns the signature as stored with it.
	SignLetter(ctx context.Context, sig campaign.Signature) (campaign.Signature, campaign.Letter, error)
	// Signature returns one signature or an error wrapping
	// campaign.ErrNotFound.
	Signature(ctx context.Context, id int64) (campaign.Signature, error)
	// Draft returns a signature's draft or an error wrapping
	// campaign.ErrNotFound.
	Draft(ctx context.Context, signatureID int64) (Draft, error)
	// Signatures lists a campaign's signatures (0: every campaign's) in
	// the order they were first signed.
	Signatures(ctx context.Context, campaignID int64) ([]campaign.Signature, error)
	// ConfirmSignature confirms version of a signature: its own version
	// while pending, or its draft's, which then replaces the signature's
	// text, place, consent, language and version, confirmed (a delivery
	// planned but not yet being sent is cancelled, and the replaced
	// version's confirmation mail if it has not left). Anything else (an
	// earlier version, a superseded draft, a letter no longer pending or
	// replaceable) gives ErrConflict with the signature as it is.
	ConfirmSignature(ctx context.Context, id int64, version int) (campaign.Signature, error)
	// WithdrawSignature withdraws a signature not yet delivered, cancels
	// its delivery if one is planned, and erases its personal data. A
	// signature already withdrawn, expired, or on its way gives
	// ErrConflict with the signature as it is.
	WithdrawSignature(ctx context.Context, id int64) (campaign.Signature, error)
	// ExpireSignatures marks expired, and erases, the pending signatures
	// signed before signedBefore that have no draft signed since, and
	// deletes the drafts signed before it.
	ExpireSignatures(ctx context.Context, signedBefore time.Time) (int, error)
	// EraseDelivered erases the personal data of signatures delivered
	// before sentBefore, keeping them counted.
	EraseDelivered(ctx context.Context, sentBefore time.Time) (int, error)

	// WaitingSignatures lists confirmed signatures that no letter carries
	// yet, of campaigns that have an office and are not held, oldest
	// confirmation first.
	WaitingSignatures(ctx context.Context) ([]campaign.Signature, error)
	// PlanSupporterLetter stores l, a planned letter of kind supporter or
	// digest, carrying those of signatureIDs still waiting. Its id is
	// id(1), or id(2), id(3)... when the earlier ones are taken (by a
	// letter cancelled since). When none of the signatures is waiting any
	// more it stores nothing and gives ErrConflict.
	PlanSupporterLetter(ctx context.Context, l campaign.Letter, id func(attempt int) string, signatureIDs []int64) (campaign.Letter, error)
	// LetterSignatures lists the signatures a letter carries, oldest
	// confirmation first.
	LetterSignatures(ctx context.Context, letterID string) ([]campaign.Signature, error)
	// SupporterSendTimes lists the send times, within [from, to), of the
	// individual supporters' letters to an office that are not cancelled.
	SupporterSendTimes(ctx context.Context, targetID int64, from, to time.Time) ([]time.Time, error)
	// UnqueuedSupporterLetters lists planned letters of the supporters'
	// kinds, for the batcher to queue.
	UnqueuedSupporterLetters(ctx context.Context, limit int) ([]campaign.Letter, error)

	// Deliveries returns the delivery settings stored for campaigns, by
	// campaign id; zero fields mean the defaults.
	Deliveries(ctx context.Context) (map[int64]campaign.Delivery, error)
	// SetDelivery stores a campaign's mode, cap and period, keeping its
	// hold.
	SetDelivery(ctx context.Context, d campaign.Delivery) error
	// HoldDeliveries stops (held) or restarts a campaign's deliveries.
	// Holding cancels the campaign's deliveries not yet being sent and
	// puts their signatures back to wait; it returns how many letters it
	// cancelled.
	HoldDeliveries(ctx context.Context, campaignID int64, held bool) (int, error)
	// SupporterStats counts signatures per campaign (0: every campaign
	// that has any).
	SupporterStats(ctx context.Context, campaignID int64) ([]SupporterStats, error)
}

// Draft is a later signing for an address that already has a letter to
// a campaign. It replaces nothing until its own confirmation link is
// confirmed.
type Draft struct {
	SignatureID int64 `json:"signature_id"`
	// Version is the version its confirmation link names.
	Version      int       `json:"version"`
	Name         string    `json:"name"`
	Country      string    `json:"country"`
	City         string    `json:"city,omitempty"`
	Message      string    `json:"message,omitempty"`
	ReplyConsent bool      `json:"reply_consent"`
	Lang         string    `json:"lang"`
	SignedAt     time.Time `json:"signed_at"`
}

// SupporterStats counts one campaign's signatures.
type SupporterStats struct {
	CampaignID  int64  `json:"campaign_id"`
	City        string `json:"city"`
	OfficeEmail string `json:"office"`
	// Signed counts supporters (one each, however often they signed).
	Signed    int `json:"signed"`
	Pending   int `json:"pending"`
	Confirmed int `json:"confirmed"`
	// Delivered counts confirmed letters whose e-mail was sent; Waiting
	// those not yet (not batched, or planned, queued or being sent);
	// Undelivered those whose e-mail failed or ended uncertain, for staff.
	Delivered   int `json:"delivered"`
	Waiting     int `json:"waiting"`
	Undelivered int `json:"undelivered"`
	Withdrawn   int `json:"withdrawn"`
	Expired     int `json:"expired"`
	Erased      int `json:"erased"`
}

const signatureColumns = `s.id, s.campaign_id, s.name, s.email, s.country, s.city, s.message, s.reply_consent,
	s.lang, s.state, s.version, COALESCE(s.letter_id, ''), COALESCE(l.state, ''), COALESCE(l.sent_at, ''),
	s.signed_at, s.confirmed_at, s.erased_at`

const signatureFrom = ` FROM signatures s LEFT JOIN letters l ON l.id = s.letter_id`

// SignLetter implements SupporterStore.
func (s *SQLite) SignLetter(ctx context.Context, sig campaign.Signature) (campaign.Signature, campaign.Letter, error) {
	var conf campaign.Letter
	sig.Email = normalEmail(sig.Email)
	now := s.Now()
	err := s.inTx(ctx, func(tx queryer) error {
		old, err := signatureWhere(ctx, tx, "s.campaign_id = ? AND s.email = ? AND s.erased_at = ''", sig.CampaignID, sig.Email)
		version := 1
		switch {
		case errors.Is(err, errNotFound):
			res, err := tx.ExecContext(ctx, `INSERT INTO signatures (campaign_id, email, name, city, message, country,
				reply_consent, lang, state, version, issued, signed_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 1, 1, ?, ?)`,
				sig.CampaignID, sig.Email, sig.Name, sig.City, sig.Message, sig.Country, sig.ReplyConsent, sig.Lang,
				formatTime(now), formatTime(now))
			if err != nil {
				return err
			}
			if sig.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			// Whoever signed may not own the address: the letter stays as
			// it is, and only a confirmation from the address's inbox
			// makes the new text its own.
			if version, err = s.issue(ctx, tx, old.ID); err != nil {
				return err
			}
			if err := s.dropDraft(ctx, tx, old.ID, "superseded by a later signing"); err != nil {
				return err
			}
			if old.Replaceable() {
				if _, err := tx.ExecContext(ctx, `INSERT INTO signature_drafts (signature_id, version, name, city,
					message, country, reply_consent, lang, signed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					old.ID, version, sig.Name, sig.City, sig.Message, sig.Country, sig.ReplyConsent, sig.Lang,
					formatTime(now)); err != nil {
					return err
				}
			}
			sig.ID = old.ID
		}
		conf = campaign.Letter{
			ID: campaign.ConfirmationLetterID(sig.ID, version), Kind: campaign.KindConfirmation,
			Email: sig.Email, Template: "confirmation", State: campaign.Planned,
			CampaignIDs: []int64{sig.CampaignID}, UpdatedAt: now,
		}
		if err := insertLetter(ctx, tx, conf); err != nil {
			return fmt.Errorf("confirmation %s: %w", conf.ID, err)
		}
		sig, err = signatureWhere(ctx, tx, "s.id = ?", sig.ID)
		return err
	})
	if err != nil {
		return sig, conf, fmt.Errorf("store: sign letter to campaign %d: %w", sig.CampaignID, err)
	}
	return sig, conf, nil
}

// issue takes the next version of a signature for a new confirmation
// mail.
func (s *SQLite) issue(ctx context.Context, tx queryer, id int64) (int, error) {
	var v int
	err := tx.QueryRowContext(ctx, `UPDATE signatures SET issued = max(issued, version) + 1, updated_at = ?
		WHERE id = ? RETURNING issued`, s.stamp(), id).Scan(&v)
	return v, err
}

// dropDraft deletes a signature's draft, if any, and cancels its
// confirmation mail if it has not left: its link must not confirm text
// that is no longer kept.
func (s *SQLite) dropDraft(ctx context.Context, tx queryer, id int64, reason string) error {
	var v int
	err := tx.QueryRowContext(ctx, `DELETE FROM signature_drafts WHERE signature_id = ? RETURNING version`, id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := s.transition(ctx, tx, campaign.ConfirmationLetterID(id, v),
		campaign.CauseCancel, reason, nil); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// Draft implements SupporterStore.
func (s *SQLite) Draft(ctx context.Context, signatureID int64) (Draft, error) {
	d, err := draftOf(ctx, s.reader(), signatureID)
	if err != nil {
		return d, fmt.Errorf("store: draft of signature %d: %w", signatureID, err)
	}
	return d, nil
}

func draftOf(ctx context.Context, q queryer, id int64) (Draft, error) {
	d := Draft{SignatureID: id}
	var signed string
	err := q.QueryRowContext(ctx, `SELECT version, name, city, message, country, reply_consent, lang, signed_at
		FROM signature_drafts WHERE signature_id = ?`, id).Scan(&d.Version, &d.Name, &d.City, &d.Message, &d.Country,
		&d.ReplyConsent, &d.Lang, &signed)
	if errors.Is(err, sql.ErrNoRows) {
		return d, errNotFound
	}
	if err != nil {
		return d, err
	}
	d.SignedAt, err = parseTime(signed)
	return d, err
}

// unbatch cancels a delivery that has not started and sends its
// signatures back to wait. A delivery that started is an ErrConflict.
func (s *SQLite) unbatch(ctx context.Context, tx queryer, letterID, reason string) error {
	ok, err := s.transition(ctx, tx, letterID, campaign.CauseCancel, reason, nil)
	if err != nil {
		return err
	}
	if !ok {
		var st string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM letters WHERE id = ?`, letterID).Scan(&st); err != nil {
			return err
		}
		return fmt.Errorf("its letter to the office is %s: %w", st, ErrConflict)
	}
	_, err = tx.ExecContext(ctx, `UPDATE signatures SET letter_id = NULL, updated_at = ? WHERE letter_id = ?`, s.stamp(), letterID)
	return err
}

// Signature implements SupporterStore.
func (s *SQLite) Signature(ctx context.Context, id int64) (campaign.Signature, error) {
	sig, err := signatureWhere(ctx, s.reader(), "s.id = ?", id)
	if err != nil {
		return sig, fmt.Errorf("store: signature %d: %w", id, err)
	}
	return sig, nil
}

// Signatures implements SupporterStore.
func (s *SQLite) Signatures(ctx context.Context, campaignID int64) ([]campaign.Signature, error) {
	q := "SELECT " + signatureColumns + signatureFrom
	var args []any
	if campaignID != 0 {
		q += " WHERE s.campaign_id = ?"
		args = append(args, campaignID)
	}
	out, err := querySignatures(ctx, s.reader(), q+" ORDER BY s.id", args...)
	if err != nil {
		return nil, fmt.Errorf("store: list signatures: %w", err)
	}
	return out, nil
}

// ConfirmSignature implements SupporterStore.
func (s *SQLite) ConfirmSignature(ctx context.Context, id int64, version int) (campaign.Signature, error) {
	var sig campaign.Signature
	err := s.inTx(ctx, func(tx queryer) error {
		var err error
		if sig, err = signatureWhere(ctx, tx, "s.id = ?", id); err != nil {
			return err
		}
		now := s.stamp()
		if version == sig.Version {
			if sig.State != campaign.SignaturePending {
				return fmt.Errorf("signature is %s at version %d: %w", sig.State, sig.Version, ErrConflict)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE signatures SET state = 'confirmed', confirmed_at = ?, updated_at = ?
				WHERE id = ?`, now, now, id); err != nil {
				return err
			}
		} else {
			if err := s.confirmDraft(ctx, tx, sig, version); err != nil {
				return err
			}
		}
		sig, err = signatureWhere(ctx, tx, "s.id = ?", id)
		return err
	})
	if err != nil {
		return sig, fmt.Errorf("store: confirm signature %d: %w", id, err)
	}
	return sig, nil
}

// confirmDraft makes version, the signature's draft, its confirmed text.
func (s *SQLite) confirmDraft(ctx context.Context, tx queryer, sig campaign.Signature, version int) error {
	d, err := draftOf(ctx, tx, sig.ID)
	if isNotFound(err) || err == nil && d.Version != version {
		return fmt.Errorf("no draft at version %d: %w", version, ErrConflict)
	}
	if err != nil {
		return err
	}
	live := sig.State == campaign.SignaturePending || sig.State == campaign.SignatureConfirmed
	if !live || !sig.ErasedAt.IsZero() || !sig.Replaceable() {
		return fmt.Errorf("signature is %s, its letter %s: %w", sig.State, sig.LetterState, ErrConflict)
	}
	if sig.LetterID != "" {
		if err := s.unbatch(ctx, tx, sig.LetterID, "the supporter confirmed a new text"); err != nil {
			return err
		}
	}
	// The replaced version's link must not confirm text no longer kept.
	if _, err := s.transition(ctx, tx, campaign.ConfirmationLetterID(sig.ID, sig.Version),
		campaign.CauseCancel, "replaced by a confirmed draft", nil); err != nil && !isNotFound(err) {
		return err
	}
	now := s.stamp()
	if _, err := tx.ExecContext(ctx, `UPDATE signatures SET name = ?, city = ?, message = ?, country = ?,
		reply_consent = ?, lang = ?, state = 'confirmed', version = ?, letter_id = NULL, signed_at = ?,
		confirmed_at = ?, updated_at = ? WHERE id = ?`,
		d.Name, d.City, d.Message, d.Country, d.ReplyConsent, d.Lang, d.Version, formatTime(d.SignedAt),
		now, now, sig.ID); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM signature_drafts WHERE signature_id = ?`, sig.ID)
	return err
}

// WithdrawSignature implements SupporterStore.
func (s *SQLite) WithdrawSignature(ctx context.Context, id int64) (campaign.Signature, error) {
	var sig campaign.Signature
	err := s.inTx(ctx, func(tx queryer) error {
		var err error
		if sig, err = signatureWhere(ctx, tx, "s.id = ?", id); err != nil {
			return err
		}
		if !sig.ErasedAt.IsZero() || (sig.State != campaign.SignaturePending && sig.State != campaign.SignatureConfirmed) {
			return fmt.Errorf("signature is %s: %w", sig.State, ErrConflict)
		}
		if sig.LetterID != "" {
			if err := s.unbatch(ctx, tx, sig.LetterID, "a supporter withdrew their letter"); err != nil {
				return err
			}
		}
		if err := s.erase(ctx, tx, sig, campaign.SignatureWithdrawn); err != nil {
			return err
		}
		sig, err = signatureWhere(ctx, tx, "s.id = ?", id)
		return err
	})
	if err != nil {
		return sig, fmt.Errorf("store: withdraw signature %d: %w", id, err)
	}
	return sig, nil
}

// erase empties a signature's personal data, moving it to state, deletes
// its draft, takes it out of the kept copy of the letter that carried it,
// and empties the supporter's address from its confirmation mails
// (cancelling any not yet sent, deleting the copies of those sent), so
// that only counts remain.
func (s *SQLite) erase(ctx context.Context, tx queryer, sig campaign.Signature, state campaign.SignatureState) error {
	now := s.stamp()
	if err := s.dropDraft(ctx, tx, sig.ID, "the supporter's data was erased"); err != nil {
		return err
	}
	if sig.LetterID != "" {
		if err := eraseAsSent(ctx, tx, sig.LetterID, sig.Name, sig.Email, sig.Message); err != nil {
			return err
		}
	}
	var issued int
	if err := tx.QueryRowContext(ctx, `UPDATE signatures SET state = ?, email = '', name = '', city = '', message = '',
		letter_id = CASE WHEN ? = 'confirmed' THEN letter_id END, erased_at = ?, updated_at = ? WHERE id = ?
		RETURNING max(issued, version)`, string(state), string(state), now, now, sig.ID).Scan(&issued); err != nil {
		return err
	}
	for v := 1; v <= issued; v++ {
		id := campaign.ConfirmationLetterID(sig.ID, v)
		if _, err := s.transition(ctx, tx, id, campaign.CauseCancel, "the supporter's data was erased", nil); err != nil && !isNotFound(err) {
			return err
		}
		// A server's reply may quote the address it refused.
		if _, err := tx.ExecContext(ctx, `UPDATE letters SET email = '', last_error = '', server_reply = ''
			WHERE id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE letter_events SET detail = '' WHERE letter_id = ?`, id); err != nil {
			return err
		}
		// The copy kept of a mail to the supporter is all theirs.
		if _, err := tx.ExecContext(ctx, `DELETE FROM letters_as_sent WHERE letter_id = ?`, id); err != nil {
			return err
		}
	}
	return nil
}

// ExpireSignatures implements SupporterStore.
func (s *SQLite) ExpireSignatures(ctx context.Context, signedBefore time.Time) (int, error) {
	before := formatTime(signedBefore)
	err := s.inTx(ctx, func(tx queryer) error {
		rows, err := tx.QueryContext(ctx, `SELECT signature_id FROM signature_drafts WHERE signed_at < ?`, before)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if err := s.dropDraft(ctx, tx, id, "not confirmed in time"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: expire drafts: %w", err)
	}
	// A pending letter whose draft is still valid lives as long: confirming
	// the draft replaces it.
	return s.eraseWhere(ctx, "expire signatures", campaign.SignatureExpired,
		`s.state = 'pending' AND s.signed_at < ? AND NOT EXISTS (SELECT 1 FROM signature_drafts d
			WHERE d.signature_id = s.id)`, before)
}

// EraseDelivered implements SupporterStore.
func (s *SQLite) EraseDelivered(ctx context.Context, sentBefore time.Time) (int, error) {
	return s.eraseWhere(ctx, "erase delivered signatures", campaign.SignatureConfirmed,
		"s.state = 'confirmed' AND s.erased_at = '' AND l.state = 'sent' AND l.sent_at < ?", formatTime(sentBefore))
}

// eraseBatch bounds the signatures erased in one transaction, so that a
// large backlog does not hold the write lock for long.
const eraseBatch = 500

func (s *SQLite) eraseWhere(ctx context.Context, what string, state campaign.SignatureState, where string, args ...any) (int, error) {
	total := 0
	for {
		n := 0
		err := s.inTx(ctx, func(tx queryer) error {
			sigs, err := querySignatures(ctx, tx, "SELECT "+signatureColumns+signatureFrom+" WHERE "+where+
				fmt.Sprintf(" ORDER BY s.id LIMIT %d", eraseBatch), args...)
			if err != nil {
				return err
			}
			for _, sig := range sigs {
				if err := s.erase(ctx, tx, sig, state); err != nil {
					return err
				}
			}
			n = len(sigs)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("store: %s: %w", what, err)
		}
		total += n
		if n < eraseBatch {
			return total, nil
		}
	}
}

// WaitingSignatures implements SupporterStore.
func (s *SQLite) WaitingSignatures(ctx context.Context) ([]campaign.Signature, error) {
	out, err := querySignatures(ctx, s.reader(), "SELECT "+signatureColumns+signatureFrom+`
		JOIN campaigns c ON c.id = s.campaign_id
		LEFT JOIN supporter_delivery d ON d.campaign_id = s.campaign_id
		WHERE s.state = 'confirmed' AND s.letter_id IS NULL AND s.erased_at = ''
			AND c.target_id IS NOT NULL AND COALESCE(d.held, 0) = 0
		ORDER BY s.confirmed_at, s.id`)
	if err != nil {
		return nil, fmt.Errorf("store: waiting signatures: %w", err)
	}
	return out, nil
}

// PlanSupporterLetter implements SupporterStore.
func (s *SQLite) PlanSupporterLetter(ctx context.Context, l campaign.Letter, id func(attempt int) string, signatureIDs []int64) (campaign.Letter, error) {
	l.State, l.UpdatedAt = campaign.Planned, s.Now()
	err := s.inTx(ctx, func(tx queryer) error {
		for attempt := 1; ; attempt++ {
			l.ID = id(attempt)
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM letters WHERE id = ?`, l.ID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				break
			}
		}
		// The letter's campaigns are those of the signatures it takes, which
		// are known only once they are taken: insert it bare first.
		l.CampaignIDs = nil
		if err := insertLetter(ctx, tx, l); err != nil {
			return err
		}
		args := []any{l.ID, s.stamp()}
		for _, sid := range signatureIDs {
			args = append(args, sid)
		}
		res, err := tx.ExecContext(ctx, `UPDATE signatures SET letter_id = ?, updated_at = ?
			WHERE id IN (`+placeholders(len(signatureIDs))+`) AND state = 'confirmed' AND letter_id IS NULL AND erased_at = ''`, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("none of its signatures is waiting: %w", ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO letter_campaigns (letter_id, campaign_id)
			SELECT DISTINCT ?, campaign_id FROM signatures WHERE letter_id = ?`, l.ID, l.ID); err != nil {
			return err
		}
		got, err := letterByID(ctx, tx, l.ID)
		l = got
		return err
	})
	if err != nil {
		return l, fmt.Errorf("store: plan supporters' letter: %w", err)
	}
	return l, nil
}

// LetterSignatures implements SupporterStore.
func (s *SQLite) LetterSignatures(ctx context.Context, letterID string) ([]campaign.Signature, error) {
	out, err := querySignatures(ctx, s.reader(), "SELECT "+signatureColumns+signatureFrom+
		" WHERE s.letter_id = ? ORDER BY s.confirmed_at, s.id", letterID)
	if err != nil {
		return nil, fmt.Errorf("store: signatures of letter %s: %w", letterID, err)
	}
	return out, nil
}

// SupporterSendTimes implements SupporterStore.
func (s *SQLite) SupporterSendTimes(ctx context.Context, targetID int64, from, to time.Time) ([]time.Time, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT send_at FROM letters WHERE kind = ? AND target_id = ?
		AND state != 'cancelled' AND send_at >= ? AND send_at < ? ORDER BY send_at`,
		string(campaign.KindSupporter), targetID, formatTime(from), formatTime(to))
	if err != nil {
		return nil, fmt.Errorf("store: send times of office %d: %w", targetID, err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		t, err := parseTime(v)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// UnqueuedSupporterLetters implements SupporterStore.
func (s *SQLite) UnqueuedSupporterLetters(ctx context.Context, limit int) ([]campaign.Letter, error) {
	args := []any{}
	for _, k := range campaign.SupporterKinds {
		args = append(args, string(k))
	}
	q := "SELECT " + letterColumns + " FROM letters l WHERE l.state = 'planned' AND l.kind IN (" +
		placeholders(len(args)) + ") ORDER BY l.updated_at, l.id"
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	ls, err := queryLetters(ctx, s.reader(), q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: unqueued supporters' letters: %w", err)
	}
	return ls, nil
}

// Deliveries implements SupporterStore.
func (s *SQLite) Deliveries(ctx context.Context) (map[int64]campaign.Delivery, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT campaign_id, mode, daily_cap, period, held FROM supporter_delivery`)
	if err != nil {
		return nil, fmt.Errorf("store: delivery settings: %w", err)
	}
	defer rows.Close()
	out := map[int64]campaign.Delivery{}
	for rows.Next() {
		var d campaign.Delivery
		var mode, period string
		if err := rows.Scan(&d.CampaignID, &mode, &d.DailyCap, &period, &d.Held); err != nil {
			return nil, err
		}
		d.Mode, d.Period = campaign.DeliveryMode(mode), campaign.DigestPeriod(period)
		out[d.CampaignID] = d
	}
	return out, rows.Err()
}

// SetDelivery implements SupporterStore.
func (s *SQLite) SetDelivery(ctx context.Context, d campaign.Delivery) error {
	err := s.inTx(ctx, func(tx queryer) error {
		if _, err := campaignByID(ctx, tx, d.CampaignID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO supporter_delivery (campaign_id, mode, daily_cap, period, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (campaign_id) DO UPDATE SET mode = excluded.mode,
			daily_cap = excluded.daily_cap, period = excluded.period, updated_at = excluded.updated_at`,
			d.CampaignID, string(d.Mode), d.DailyCap, string(d.Period), s.stamp())
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set delivery of campaign %d: %w", d.CampaignID, err)
	}
	return nil
}

// HoldDeliveries implements SupporterStore.
func (s *SQLite) HoldDeliveries(ctx context.Context, campaignID int64, held bool) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx queryer) error {
		if _, err := campaignByID(ctx, tx, campaignID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO supporter_delivery (campaign_id, held, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (campaign_id) DO UPDATE SET held = excluded.held, updated_at = excluded.updated_at`,
			campaignID, held, s.stamp()); err != nil {
			return err
		}
		if !held {
			return nil
		}
		// A digest may carry other campaigns' letters too: it is cancelled
		// whole, and those wait for the next batch without this campaign.
		in, inArgs := fromStatesIn(campaign.CauseCancel)
		ids, err := letterIDs(ctx, tx, `SELECT DISTINCT l.id FROM signatures s JOIN letters l ON l.id = s.letter_id
			WHERE s.campaign_id = ? AND l.state IN (`+in+`)`, append([]any{campaignID}, inArgs...)...)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := s.unbatch(ctx, tx, id, "deliveries held by staff"); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: hold deliveries of campaign %d: %w", campaignID, err)
	}
	return n, nil
}

// SupporterStats implements SupporterStore.
func (s *SQLite) SupporterStats(ctx context.Context, campaignID int64) ([]SupporterStats, error) {
	// count(*) FILTER, not sum(condition): a condition on the letter is
	// NULL while a confirmed signature waits for its batch (no letter
	// yet), and a sum of nothing but NULLs is NULL, where a count is 0.
	q := `SELECT s.campaign_id, c.city, COALESCE(t.email, ''), count(*),
		count(*) FILTER (WHERE s.state = 'pending'),
		count(*) FILTER (WHERE s.state = 'confirmed'),
		count(*) FILTER (WHERE s.state = 'confirmed' AND l.state = 'sent'),
		count(*) FILTER (WHERE s.state = 'confirmed' AND (l.id IS NULL OR l.state IN ('planned', 'queued', 'sending'))),
		count(*) FILTER (WHERE s.state = 'confirmed' AND l.state IN ('failed', 'uncertain', 'bounced', 'cancelled')),
		count(*) FILTER (WHERE s.state = 'withdrawn'),
		count(*) FILTER (WHERE s.state = 'expired'),
		count(*) FILTER (WHERE s.erased_at != '')
		FROM signatures s JOIN campaigns c ON c.id = s.campaign_id
		LEFT JOIN targets t ON t.id = c.target_id
		LEFT JOIN letters l ON l.id = s.letter_id`
	var args []any
	if campaignID != 0 {
		q += " WHERE s.campaign_id = ?"
		args = append(args, campaignID)
	}
	rows, err := s.reader().QueryContext(ctx, q+" GROUP BY s.campaign_id ORDER BY s.campaign_id", args...)
	if err != nil {
		return nil, fmt.Errorf("store: supporter counts: %w", err)
	}
	defer rows.Close()
	var out []SupporterStats
	for rows.Next() {
		var st SupporterStats
		if err := rows.Scan(&st.CampaignID, &st.City, &st.OfficeEmail, &st.Signed, &st.Pending, &st.Confirmed,
			&st.Delivered, &st.Waiting, &st.Undelivered, &st.Withdrawn, &st.Expired, &st.Erased); err != nil {
			return nil, fmt.Errorf("store: supporter counts: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

func signatureWhere(ctx context.Context, q queryer, where string, args ...any) (campaign.Signature, error) {
	return one(querySignatures(ctx, q, "SELECT "+signatureColumns+signatureFrom+" WHERE "+where, args...))
}

func querySignatures(ctx context.Context, q queryer, query string, args ...any) ([]campaign.Signature, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []campaign.Signature
	for rows.Next() {
		var (
			sig                       campaign.Signature
			state, letterState, sent  string
			signed, confirmed, erased string
		)
		if err := rows.Scan(&sig.ID, &sig.CampaignID, &sig.Name, &sig.Email, &sig.Country, &sig.City, &sig.Message,
			&sig.ReplyConsent, &sig.Lang, &state, &sig.Version, &sig.LetterID, &letterState, &sent,
			&signed, &confirmed, &erased); err != nil {
			return nil, err
		}
		sig.State, sig.LetterState = campaign.SignatureState(state), campaign.LetterState(letterState)
		for _, p := range []struct {
			s   string
			dst *time.Time
		}{{signed, &sig.SignedAt}, {confirmed, &sig.ConfirmedAt}, {erased, &sig.ErasedAt}} {
			if *p.dst, err = parseTime(p.s); err != nil {
				return nil, err
			}
		}
		if sig.LetterState == campaign.Sent {
			if sig.DeliveredAt, err = parseTime(sent); err != nil {
				return nil, err
			}
		}
		out = append(out, sig)
	}
	return out, rows.Err()
}

// normalEmail is how addresses are compared: the whole address lower-cased.
func normalEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }
