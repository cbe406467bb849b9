package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// ReplyStore is what the reply poller, the matching of replies to letters,
// the staff review and follow-ups need of the store.
type ReplyStore interface {
	// RecordReplies stores replies the poller found, applies their
	// effects, and moves the mailbox checkpoint to cp, all in one
	// transaction: a message is recorded once or not at all. A reply whose
	// key (Message-ID, or hash) is stored already is not stored again (a
	// rescan after UIDVALIDITY changed) and has no effect; its result says
	// Duplicate. Effects: a confirmed person's reply gives its campaigns
	// their response date (see ConfirmReply); a confirmed permanent bounce
	// marks its letter bounced and the office's address suspect; a reply
	// that holds follow-ups back (campaign.Reply.HoldsFollowUp) cancels
	// the office's follow-ups not yet sent.
	RecordReplies(ctx context.Context, rs []campaign.Reply, cp Checkpoint) ([]Recorded, error)
	// Checkpoint returns where the poller stands in mailbox; the zero
	// Checkpoint (with the mailbox's name) when it never recorded there.
	Checkpoint(ctx context.Context, mailbox string) (Checkpoint, error)
	// SetCheckpoint records cp without replies, as when the mailbox
	// turned out empty after its UIDVALIDITY changed.
	SetCheckpoint(ctx context.Context, cp Checkpoint) error

	// Reply returns one reply, its raw message included, or an error
	// wrapping campaign.ErrNotFound.
	Reply(ctx context.Context, id int64) (campaign.Reply, error)
	// Replies lists replies without their raw message, oldest first.
	Replies(ctx context.Context, f ReplyFilter) ([]campaign.Reply, error)
	// ConfirmReply confirms a reply's match, or corrects it, and applies
	// its effects. A person's confirmed reply sets the response date of
	// each campaign it answers that has none, or one given by a later
	// reply: the earliest reply wins. A date from the table or staff is
	// kept. A reply matched to nothing needs campaigns.
	ConfirmReply(ctx context.Context, id int64, c Confirmation) (campaign.Reply, error)
	// RejectReply marks a reply's match wrong, or the mail irrelevant,
	// undoing the response dates it gave. A confirmed permanent bounce
	// cannot be rejected: its letter is marked bounced.
	RejectReply(ctx context.Context, id int64, note string) (campaign.Reply, error)

	// MarkAutoReply corrects a reply's classification: it is an automatic
	// reply. Response dates it gave are taken back; its match is kept. A
	// confirmed permanent bounce cannot be reclassified.
	MarkAutoReply(ctx context.Context, id int64, note string) (campaign.Reply, error)
	// TargetsInDomain lists the offices whose address is at domain.
	TargetsInDomain(ctx context.Context, domain string) ([]campaign.Target, error)
	// SentLetters lists the letters that left for an office (sent,
	// uncertain or bounced), newest first.
	SentLetters(ctx context.Context, targetID int64) ([]campaign.Letter, error)

	// CreateDueFollowUps plans, in one transaction, the follow-up of every
	// wave letter whose wave asks for one and whose time has come: sent
	// at least the wave's FollowUpAfter before now, to an office that is
	// neither do-not-contact nor suspect and has no reply since that holds
	// follow-ups back (campaign.Reply.HoldsFollowUp: a pending reply on
	// unsigned signals does not). Each letter is followed up once; it
	// returns the letters planned.
	CreateDueFollowUps(ctx context.Context, now time.Time) ([]campaign.Letter, error)
}

// Checkpoint is where the poller stands in a mailbox: every message up to
// UID, under UIDVALIDITY, is recorded.
type Checkpoint struct {
	Mailbox     string
	UIDValidity uint32
	UID         uint32
}

// Recorded is what RecordReplies did with one reply.
type Recorded struct {
	ID int64
	// Duplicate: the same message was recorded before, as reply ID.
	Duplicate bool
}

// ReplyFilter narrows Replies; zero fields match everything.
type ReplyFilter struct {
	// Pending keeps the replies waiting for staff review.
	Pending    bool
	Statuses   []campaign.ReplyStatus
	CampaignID int64
	LetterID   string
	// AfterID and BeforeID keep replies with a greater or smaller id;
	// Newest lists them newest first (the default is oldest first).
	AfterID, BeforeID int64
	Newest            bool
	Limit             int
}

// Confirmation is what staff say when they confirm a reply.
type Confirmation struct {
	// CampaignIDs, when not empty, are the campaigns the reply answers,
	// in place of those it was matched to.
	CampaignIDs []int64
	// Outcome and Note, when not empty, are recorded on those campaigns.
	Outcome campaign.Outcome
	Note    string
	// Human corrects the classification: the message is a person's.
	Human bool
}

const replyColumns = `r.id, r.mailbox, r.uid_validity, r.uid, r.message_id, r.sha256, r.kind, r.kind_reason,
	r.status, COALESCE(r.letter_id, ''), COALESCE(r.target_id, 0), r.confidence, r.signals, r.from_addr,
	r.from_name, r.subject, r.sent_date, r.received_at, r.size, r.oversized, r.new_text, r.bounce,
	r.problems, r.note, r.reviewed_at, r.created_at, r.opt_out,
	(SELECT COALESCE(group_concat(campaign_id), '') FROM reply_campaigns WHERE reply_id = r.id)`

// RecordReplies implements ReplyStore.
func (s *SQLite) RecordReplies(ctx context.Context, rs []campaign.Reply, cp Checkpoint) ([]Recorded, error) {
	if cp.Mailbox == "" {
		return nil, errors.New("store: record replies: checkpoint without a mailbox")
	}
	for i, r := range rs {
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("store: record reply %d of %d (uid %d): %w", i+1, len(rs), r.UID, err)
		}
	}
	out := make([]Recorded, len(rs))
	err := s.inTx(ctx, func(tx queryer) error {
		for i, r := range rs {
			rec, err := s.recordReply(ctx, tx, r)
			if err != nil {
				return fmt.Errorf("reply uid %d: %w", r.UID, err)
			}
			out[i] = rec
		}
		return s.setCheckpoint(ctx, tx, cp)
	})
	if err != nil {
		return nil, fmt.Errorf("store: record replies: %w", err)
	}
	return out, nil
}

func (s *SQLite) recordReply(ctx context.Context, tx queryer, r campaign.Reply) (Recorded, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM replies WHERE dedupe_key = ?`, r.Key()).Scan(&id)
	if err == nil {
		return Recorded{ID: id, Duplicate: true}, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Recorded{}, err
	}
	signals, err := json.Marshal(r.Signals)
	if err != nil {
		return Recorded{}, err
	}
	bounce := ""
	if r.Bounce != nil {
		b, err := json.Marshal(r.Bounce)
		if err != nil {
			return Recorded{}, err
		}
		bounce = string(b)
	}
	now := s.stamp()
	res, err := tx.ExecContext(ctx, `INSERT INTO replies (dedupe_key, mailbox, uid_validity, uid, message_id,
		sha256, kind, kind_reason, status, letter_id, target_id, confidence, signals, from_addr, from_name,
		subject, sent_date, received_at, size, oversized, raw, new_text, bounce, problems, created_at, updated_at, opt_out)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Key(), r.Mailbox, r.UIDValidity, r.UID, r.MessageID, r.SHA256, string(r.Kind), r.KindReason,
		string(r.Status), nullString(r.LetterID), nullID(r.TargetID), r.Confidence, string(signals), r.From,
		r.FromName, r.Subject, optTime(r.Date), formatTime(r.ReceivedAt), r.Size, r.Oversized, nonNil(r.Raw),
		r.NewText, bounce, strings.Join(r.Problems, "\n"), now, now, r.OptOut)
	if err != nil {
		return Recorded{}, err
	}
	if id, err = res.LastInsertId(); err != nil {
		return Recorded{}, err
	}
	r.ID = id
	if err := s.attachCampaigns(ctx, tx, r, r.CampaignIDs); err != nil {
		return Recorded{}, err
	}
	if r.SetsResponseDate() {
		// A new reply can only give an earlier date: no need to look at
		// every reply of its campaigns, as settleResponse does.
		if err := s.earlierResponse(ctx, tx, r); err != nil {
			return Recorded{}, err
		}
	}
	return Recorded{ID: id}, s.applyReply(ctx, tx, r, nil)
}

// earlierResponse gives r's campaigns r's day as their response date when
// they have none, or a later one that a reply gave.
func (s *SQLite) earlierResponse(ctx context.Context, tx queryer, r campaign.Reply) error {
	_, err := tx.ExecContext(ctx, `UPDATE campaigns SET response_date = rc.day, response_reply_id = rc.reply_id, updated_at = ?
		FROM reply_campaigns rc WHERE rc.reply_id = ? AND rc.campaign_id = campaigns.id
		AND (campaigns.response_date IS NULL OR campaigns.response_date > rc.day AND EXISTS
			(SELECT 1 FROM reply_campaigns cur WHERE cur.reply_id = campaigns.response_reply_id
			 AND cur.campaign_id = campaigns.id AND cur.day = campaigns.response_date))`, s.stamp(), r.ID)
	return err
}

// attachCampaigns records the campaigns r answers for, each with the day
// r gives it as a response date.
func (s *SQLite) attachCampaigns(ctx context.Context, tx queryer, r campaign.Reply, ids []int64) error {
	for _, cid := range ids {
		var tz string
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(t.timezone, '') FROM campaigns c
			LEFT JOIN targets t ON t.id = c.target_id WHERE c.id = ?`, cid).Scan(&tz)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("campaign %d: %w", cid, errNotFound)
		}
		if err != nil {
			return err
		}
		day := campaign.ResponseDay(r.ReceivedAt, tz)
		if _, err := tx.ExecContext(ctx, `INSERT INTO reply_campaigns (reply_id, campaign_id, day) VALUES (?, ?, ?)
			ON CONFLICT (reply_id, campaign_id) DO UPDATE SET day = excluded.day`, r.ID, cid, day.String()); err != nil {
			return fmt.Errorf("campaign %d: %w", cid, err)
		}
	}
	return nil
}

// applyReply applies what r, as it now stands, means for its campaigns
// (all of touched are brought in line), its letter and its office.
func (s *SQLite) applyReply(ctx context.Context, tx queryer, r campaign.Reply, touched []int64) error {
	for _, cid := range touched {
		if err := s.settleResponse(ctx, tx, cid); err != nil {
			return fmt.Errorf("campaign %d: %w", cid, err)
		}
	}
	if r.MarksBounced() {
		reason := "bounced"
		if r.Bounce.Diagnostic != "" {
			reason += ": " + r.Bounce.Diagnostic
		}
		reason = fmt.Sprintf("%s (reply %d)", reason, r.ID)
		if _, err := s.bounce(ctx, tx, r.LetterID, reason); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE targets SET suspect = 1, suspect_reason = ?, updated_at = ?
			WHERE id = (SELECT target_id FROM letters WHERE id = ?)`, reason, s.stamp(), r.LetterID); err != nil {
			return err
		}
	}
	if r.MarksDoNotContact() {
		reason := fmt.Sprintf("asked by mail to stop (reply %d), confirmed by staff", r.ID)
		if err := markDoNotContact(ctx, tx, r.TargetID, reason, s.stamp(), s.stamp()); err != nil {
			return err
		}
	}
	if r.HoldsFollowUp() {
		in, inArgs := fromStatesIn(campaign.CauseCancel)
		ids, err := letterIDs(ctx, tx, `SELECT id FROM letters WHERE target_id = ? AND kind = ?
			AND state IN (`+in+`)`, append([]any{r.TargetID, string(campaign.KindFollowUp)}, inArgs...)...)
		if err != nil {
			return err
		}
		for _, id := range ids {
			detail := fmt.Sprintf("the office replied (reply %d)", r.ID)
			if r.Kind == campaign.ReplyBounce {
				detail = fmt.Sprintf("the office's address bounced (reply %d)", r.ID)
			}
			if _, err := s.transition(ctx, tx, id, campaign.CauseCancel, detail, []set{{"last_error", detail}}); err != nil {
				return err
			}
		}
	}
	return nil
}

// settleResponse brings a campaign's response date in line with its
// confirmed human replies: the day of the earliest. A date the campaign got
// from the table or from staff (not from a reply, or changed since) is
// never touched. When the reply that gave the date is gone (rejected) and
// no other is left, the date goes, with the note and outcome that came
// with it.
func (s *SQLite) settleResponse(ctx context.Context, tx queryer, cid int64) error {
	var cur sql.NullString
	var curReply sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT response_date, response_reply_id FROM campaigns WHERE id = ?`, cid).Scan(&cur, &curReply)
	if errors.Is(err, sql.ErrNoRows) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	if cur.Valid {
		if !curReply.Valid {
			return nil
		}
		var day string
		err := tx.QueryRowContext(ctx, `SELECT day FROM reply_campaigns WHERE reply_id = ? AND campaign_id = ?`,
			curReply.Int64, cid).Scan(&day)
		if errors.Is(err, sql.ErrNoRows) || err == nil && day != cur.String {
			return nil // the date was set by other means since
		}
		if err != nil {
			return err
		}
	}
	var bestID int64
	var bestDay string
	err = tx.QueryRowContext(ctx, `SELECT rc.reply_id, rc.day FROM reply_campaigns rc JOIN replies r ON r.id = rc.reply_id
		WHERE rc.campaign_id = ? AND r.kind = 'human' AND r.status = 'confirmed' AND NOT r.opt_out
		ORDER BY rc.day, r.received_at, r.id LIMIT 1`, cid).Scan(&bestID, &bestDay)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if !cur.Valid {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE campaigns SET response_date = NULL, response_reply_id = NULL,
			response_note = '', outcome = '', updated_at = ? WHERE id = ?`, s.stamp(), cid)
		return err
	case err != nil:
		return err
	}
	if cur.Valid && cur.String == bestDay && curReply.Int64 == bestID {
		return nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE campaigns SET response_date = ?, response_reply_id = ?, updated_at = ?
		WHERE id = ?`, bestDay, bestID, s.stamp(), cid)
	return err
}

// Checkpoint implements ReplyStore.
func (s *SQLite) Checkpoint(ctx context.Context, mailbox string) (Checkpoint, error) {
	cp := Checkpoint{Mailbox: mailbox}
	err := s.reader().QueryRowContext(ctx, `SELECT uid_validity, last_uid FROM mailbox_checkpoints WHERE mailbox = ?`,
		mailbox).Scan(&cp.UIDValidity, &cp.UID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return cp, fmt.Errorf("store: checkpoint of %s: %w", mailbox, err)
	}
	return cp, nil
}

// SetCheckpoint implements ReplyStore.
func (s *SQLite) SetCheckpoint(ctx context.Context, cp Checkpoint) error {
	if cp.Mailbox == "" {
		return errors.New("store: set checkpoint: no mailbox")
	}
	if err := s.inTx(ctx, func(tx queryer) error { return s.setCheckpoint(ctx, tx, cp) }); err != nil {
		return fmt.Errorf("store: set checkpoint of %s: %w", cp.Mailbox, err)
	}
	return nil
}

func (s *SQLite) setCheckpoint(ctx context.Context, tx queryer, cp Checkpoint) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO mailbox_checkpoints (mailbox, uid_validity, last_uid, updated_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (mailbox) DO UPDATE SET uid_validity = excluded.uid_validity,
		last_uid = excluded.last_uid, updated_at = excluded.updated_at`, cp.Mailbox, cp.UIDValidity, cp.UID, s.stamp())
	return err
}

// Reply implements ReplyStore.
func (s *SQLite) Reply(ctx context.Context, id int64) (campaign.Reply, error) {
	r, err := replyByID(ctx, s.reader(), id)
	if err != nil {
		return r, fmt.Errorf("store: reply %d: %w", id, err)
	}
	if err := s.reader().QueryRowContext(ctx, `SELECT raw FROM replies WHERE id = ?`, id).Scan(&r.Raw); err != nil {
		return r, fmt.Errorf("store: reply %d: %w", id, err)
	}
	return r, nil
}

func replyByID(ctx context.Context, q queryer, id int64) (campaign.Reply, error) {
	return one(queryReplies(ctx, q, "SELECT "+replyColumns+" FROM replies r WHERE r.id = ?", id))
}

// Replies implements ReplyStore.
func (s *SQLite) Replies(ctx context.Context, f ReplyFilter) ([]campaign.Reply, error) {
	var where []string
	var args []any
	if f.Pending {
		where = append(where, `(r.status = 'pending' OR r.status = 'unmatched' AND r.kind = 'human')`)
	}
	if len(f.Statuses) > 0 {
		where = append(where, "r.status IN ("+placeholders(len(f.Statuses))+")")
		for _, st := range f.Statuses {
			args = append(args, string(st))
		}
	}
	if f.CampaignID != 0 {
		where = append(where, "r.id IN (SELECT reply_id FROM reply_campaigns WHERE campaign_id = ?)")
		args = append(args, f.CampaignID)
	}
	if f.LetterID != "" {
		where = append(where, "r.letter_id = ?")
		args = append(args, f.LetterID)
	}
	if f.AfterID != 0 {
		where = append(where, "r.id > ?")
		args = append(args, f.AfterID)
	}
	if f.BeforeID != 0 {
		where = append(where, "r.id < ?")
		args = append(args, f.BeforeID)
	}
	q := "SELECT " + replyColumns + " FROM replies r"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY r.id"
	if f.Newest {
		q += " DESC"
	}
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rs, err := queryReplies(ctx, s.reader(), q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list replies: %w", err)
	}
	return rs, nil
}

// ConfirmReply implements ReplyStore.
func (s *SQLite) ConfirmReply(ctx context.Context, id int64, c Confirmation) (campaign.Reply, error) {
	var r campaign.Reply
	err := s.inTx(ctx, func(tx queryer) error {
		var err error
		if r, err = replyByID(ctx, tx, id); err != nil {
			return err
		}
		if r.MarksBounced() && c.Human {
			return fmt.Errorf("it is a confirmed bounce that marked letter %s bounced: %w", r.LetterID, ErrConflict)
		}
		if c.Human && r.Kind != campaign.ReplyHuman {
			r.KindReason = fmt.Sprintf("a person's reply, said staff (classified %s: %s)", r.Kind, r.KindReason)
			r.Kind, r.Bounce = campaign.ReplyHuman, nil
		}
		if (c.Outcome != campaign.NoOutcome || c.Note != "") && r.Kind != campaign.ReplyHuman {
			return fmt.Errorf("it is %s, not a person's reply: an outcome or note needs one (confirm it with --human if it is): %w",
				article(r.Kind), ErrConflict)
		}
		if strings.ContainsAny(c.Note, "\r\n\x00") {
			return fmt.Errorf("the note must be one line, as the status table shows it")
		}
		touched := slices.Clone(r.CampaignIDs)
		if len(c.CampaignIDs) > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM reply_campaigns WHERE reply_id = ?`, id); err != nil {
				return err
			}
			if err := s.attachCampaigns(ctx, tx, r, c.CampaignIDs); err != nil {
				return err
			}
			touched = append(touched, c.CampaignIDs...)
			r.CampaignIDs = slices.Clone(c.CampaignIDs)
			if r.TargetID == 0 {
				// The office of the campaigns staff named: its follow-ups
				// are held back like any office's that replied.
				if err := tx.QueryRowContext(ctx, `SELECT COALESCE(target_id, 0) FROM campaigns WHERE id = ?`,
					c.CampaignIDs[0]).Scan(&r.TargetID); err != nil {
					return err
				}
			}
		}
		if len(r.CampaignIDs) == 0 {
			return fmt.Errorf("it was matched to no letter: say which campaigns it answers (--campaign ID): %w", ErrConflict)
		}
		r.Status, r.ReviewedAt = campaign.ReplyConfirmed, s.Now()
		bounce := ""
		if r.Bounce != nil {
			b, _ := json.Marshal(r.Bounce)
			bounce = string(b)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE replies SET status = ?, kind = ?, kind_reason = ?, bounce = ?,
			target_id = ?, note = CASE WHEN ? <> '' THEN ? ELSE note END, reviewed_at = ?, updated_at = ? WHERE id = ?`,
			string(r.Status), string(r.Kind), r.KindReason, bounce, nullID(r.TargetID), c.Note, c.Note,
			formatTime(r.ReviewedAt), s.stamp(), id); err != nil {
			return err
		}
		if err := s.applyReply(ctx, tx, r, dedupeIDs(touched)); err != nil {
			return err
		}
		for _, cid := range r.CampaignIDs {
			if c.Outcome != campaign.NoOutcome {
				if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET outcome = ?, updated_at = ? WHERE id = ?`,
					string(c.Outcome), s.stamp(), cid); err != nil {
					return err
				}
			}
			if c.Note != "" {
				if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET response_note = ?, updated_at = ?
					WHERE id = ? AND response_date IS NOT NULL`, c.Note, s.stamp(), cid); err != nil {
					return err
				}
			}
		}
		r, err = replyByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return r, fmt.Errorf("store: confirm reply %d: %w", id, err)
	}
	return r, nil
}

// RejectReply implements ReplyStore.
func (s *SQLite) RejectReply(ctx context.Context, id int64, note string) (campaign.Reply, error) {
	return s.correctReply(ctx, "reject", id, func(tx queryer, r *campaign.Reply) error {
		r.Status = campaign.ReplyRejected
		_, err := tx.ExecContext(ctx, `UPDATE replies SET status = 'rejected', note = CASE WHEN ? <> '' THEN ? ELSE note END,
			reviewed_at = ?, updated_at = ? WHERE id = ?`, note, note, s.stamp(), s.stamp(), id)
		return err
	})
}

// MarkAutoReply implements ReplyStore.
func (s *SQLite) MarkAutoReply(ctx context.Context, id int64, note string) (campaign.Reply, error) {
	return s.correctReply(ctx, "mark as an auto-reply", id, func(tx queryer, r *campaign.Reply) error {
		if r.Kind != campaign.ReplyAuto {
			r.KindReason = fmt.Sprintf("an automatic reply, said staff (classified %s: %s)", r.Kind, r.KindReason)
		}
		r.Kind, r.Bounce = campaign.ReplyAuto, nil
		if r.Status == campaign.ReplyPending || r.Status == campaign.ReplyUnmatched && r.LetterID != "" {
			r.Status = campaign.ReplyConfirmed // its match stands; an auto-reply needs no review
		}
		_, err := tx.ExecContext(ctx, `UPDATE replies SET kind = ?, kind_reason = ?, bounce = '', status = ?,
			note = CASE WHEN ? <> '' THEN ? ELSE note END, reviewed_at = ?, updated_at = ? WHERE id = ?`,
			string(r.Kind), r.KindReason, string(r.Status), note, note, s.stamp(), s.stamp(), id)
		return err
	})
}

// correctReply applies a staff correction that can take effects back
// (rejecting a reply, reclassifying it): change updates the reply's row
// and r, then its campaigns' response dates are settled again, in one
// transaction. A confirmed permanent bounce cannot be corrected so: its
// letter is marked bounced.
func (s *SQLite) correctReply(ctx context.Context, what string, id int64, change func(tx queryer, r *campaign.Reply) error) (campaign.Reply, error) {
	var r campaign.Reply
	err := s.inTx(ctx, func(tx queryer) error {
		var err error
		if r, err = replyByID(ctx, tx, id); err != nil {
			return err
		}
		if r.MarksBounced() {
			return fmt.Errorf("it is a confirmed permanent bounce that marked letter %s bounced: %w", r.LetterID, ErrConflict)
		}
		if err := change(tx, &r); err != nil {
			return err
		}
		if err := s.applyReply(ctx, tx, r, r.CampaignIDs); err != nil {
			return err
		}
		r, err = replyByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return r, fmt.Errorf("store: %s reply %d: %w", what, id, err)
	}
	return r, nil
}

// TargetsInDomain implements ReplyStore.
func (s *SQLite) TargetsInDomain(ctx context.Context, domain string) ([]campaign.Target, error) {
	ts, err := queryTargets(ctx, s.reader(), "SELECT "+targetColumns+` FROM targets
		WHERE lower(substr(email, instr(email, '@') + 1)) = lower(?) ORDER BY id`, domain)
	if err != nil {
		return nil, fmt.Errorf("store: offices at %s: %w", domain, err)
	}
	return ts, nil
}

// SentLetters implements ReplyStore.
func (s *SQLite) SentLetters(ctx context.Context, targetID int64) ([]campaign.Letter, error) {
	ls, err := queryLetters(ctx, s.reader(), "SELECT "+letterColumns+` FROM letters l
		WHERE l.target_id = ? AND l.state IN ('sent', 'uncertain', 'bounced')
		ORDER BY COALESCE(NULLIF(l.sent_at, ''), l.updated_at) DESC, l.id DESC`, targetID)
	if err != nil {
		return nil, fmt.Errorf("store: letters sent to office %d: %w", targetID, err)
	}
	return ls, nil
}

// followUpCandidate is a sent wave letter whose follow-up is still to be
// planned.
type followUpCandidate struct {
	id             string
	waveID, target int64
	sentAt         string
}

// pendingFollowUps lists the letters whose follow-up is still to be
// planned (followUpPending, and narrowed by where when not empty), less
// those whose office has since sent a reply that holds follow-ups back by
// the domain's rule (campaign.Reply.HoldsFollowUp). CreateDueFollowUps
// plans those whose time has come; FollowUpsDue counts them all.
func pendingFollowUps(ctx context.Context, q queryer, where string, args ...any) ([]followUpCandidate, error) {
	if where != "" {
		where = " AND " + where
	}
	rows, err := q.QueryContext(ctx, `SELECT l.id, l.wave_id, l.target_id, l.sent_at FROM letters l
		JOIN waves w ON w.id = l.wave_id JOIN targets t ON t.id = l.target_id
		WHERE `+followUpPending+where+` ORDER BY l.wave_id, l.target_id`, args...)
	if err != nil {
		return nil, err
	}
	var cands []followUpCandidate
	for rows.Next() {
		var c followUpCandidate
		if err := rows.Scan(&c.id, &c.waveID, &c.target, &c.sentAt); err != nil {
			rows.Close()
			return nil, err
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := cands[:0]
	for _, c := range cands {
		rs, err := queryReplies(ctx, q, "SELECT "+replyColumns+` FROM replies r
			WHERE r.target_id = ? AND r.received_at >= ?`, c.target, c.sentAt)
		if err != nil {
			return nil, fmt.Errorf("replies of office %d: %w", c.target, err)
		}
		if !slices.ContainsFunc(rs, campaign.Reply.HoldsFollowUp) {
			out = append(out, c)
		}
	}
	return out, nil
}

// CreateDueFollowUps implements ReplyStore.
func (s *SQLite) CreateDueFollowUps(ctx context.Context, now time.Time) ([]campaign.Letter, error) {
	var out []campaign.Letter
	err := s.inTx(ctx, func(tx queryer) error {
		cands, err := pendingFollowUps(ctx, tx, "")
		if err != nil {
			return err
		}
		waves := map[int64]campaign.Wave{}
		for _, c := range cands {
			sentAt, err := parseTime(c.sentAt)
			if err != nil {
				return fmt.Errorf("letter %s: %w", c.id, err)
			}
			w, ok := waves[c.waveID]
			if !ok {
				ws, err := queryWaves(ctx, tx, "SELECT "+waveColumns+" FROM waves WHERE id = ?", c.waveID)
				if err != nil || len(ws) == 0 {
					return fmt.Errorf("wave %d: %w", c.waveID, errors.Join(err, errNotFound))
				}
				w = ws[0]
				waves[c.waveID] = w
			}
			if now.Before(sentAt.Add(w.FollowUpAfter)) {
				continue
			}
			first, err := letterByID(ctx, tx, c.id)
			if err != nil {
				return err
			}
			t, err := targetWhere(ctx, tx, "id = ?", c.target)
			if err != nil {
				return err
			}
			f, err := w.FollowUp(first, t, now)
			if err != nil {
				return err
			}
			f.UpdatedAt = s.Now()
			if err := insertLetter(ctx, tx, f); err != nil {
				return fmt.Errorf("follow-up %s: %w", f.ID, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO letter_events (letter_id, at, from_state, to_state, detail)
				VALUES (?, ?, '', ?, ?)`, f.ID, s.stamp(), string(f.State),
				fmt.Sprintf("follow-up of %s: no reply %s after it was sent", first.ID, w.FollowUpAfter)); err != nil {
				return err
			}
			out = append(out, f)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: plan follow-ups: %w", err)
	}
	return out, nil
}

func queryReplies(ctx context.Context, q queryer, query string, args ...any) ([]campaign.Reply, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []campaign.Reply
	for rows.Next() {
		var (
			r                                              campaign.Reply
			kind, status, signals, sentDate, received      string
			bounce, problems, reviewed, created, campaigns string
		)
		if err := rows.Scan(&r.ID, &r.Mailbox, &r.UIDValidity, &r.UID, &r.MessageID, &r.SHA256, &kind,
			&r.KindReason, &status, &r.LetterID, &r.TargetID, &r.Confidence, &signals, &r.From, &r.FromName,
			&r.Subject, &sentDate, &received, &r.Size, &r.Oversized, &r.NewText, &bounce, &problems, &r.Note,
			&reviewed, &created, &r.OptOut, &campaigns); err != nil {
			return nil, err
		}
		r.Kind, r.Status = campaign.ReplyKind(kind), campaign.ReplyStatus(status)
		if err := json.Unmarshal([]byte(signals), &r.Signals); err != nil {
			return nil, fmt.Errorf("reply %d: signals: %w", r.ID, err)
		}
		if bounce != "" {
			r.Bounce = &campaign.BounceReport{}
			if err := json.Unmarshal([]byte(bounce), r.Bounce); err != nil {
				return nil, fmt.Errorf("reply %d: bounce: %w", r.ID, err)
			}
		}
		if problems != "" {
			r.Problems = strings.Split(problems, "\n")
		}
		for _, p := range []struct {
			s   string
			dst *time.Time
		}{{sentDate, &r.Date}, {received, &r.ReceivedAt}, {reviewed, &r.ReviewedAt}, {created, &r.CreatedAt}} {
			if *p.dst, err = parseTime(p.s); err != nil {
				return nil, fmt.Errorf("reply %d: %w", r.ID, err)
			}
		}
		if r.CampaignIDs, err = splitIDs(campaigns); err != nil {
			return nil, err
		}
		slices.Sort(r.CampaignIDs)
		out = append(out, r)
	}
	return out, rows.Err()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func dedupeIDs(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

func article(k campaign.ReplyKind) string {
	if k == campaign.ReplyAuto {
		return "an auto-reply"
	}
	return "a " + string(k)
}
