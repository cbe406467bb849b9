package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

const letterColumns = `l.id, l.kind, COALESCE(l.wave_id, 0), COALESCE(l.target_id, 0), l.email, l.template, l.state,
	l.send_at, l.message_id, l.resends, l.attempts, l.sent_at, l.last_error, l.server_reply, l.in_reply_to, l.updated_at,
	(SELECT COALESCE(group_concat(campaign_id), '') FROM letter_campaigns WHERE letter_id = l.id)`

// Letter implements Store.
func (s *SQLite) Letter(ctx context.Context, id string) (campaign.Letter, error) {
	l, err := letterByID(ctx, s.reader(), id)
	if err != nil {
		return l, fmt.Errorf("store: letter %s: %w", id, err)
	}
	return l, nil
}

func letterByID(ctx context.Context, q queryer, id string) (campaign.Letter, error) {
	return one(queryLetters(ctx, q, "SELECT "+letterColumns+" FROM letters l WHERE l.id = ?", id))
}

// Letters implements Store.
func (s *SQLite) Letters(ctx context.Context, f LetterFilter) ([]campaign.Letter, error) {
	var where []string
	var args []any
	if f.WaveID != 0 {
		where = append(where, "l.wave_id = ?")
		args = append(args, f.WaveID)
	}
	if f.TargetID != 0 {
		where = append(where, "l.target_id = ?")
		args = append(args, f.TargetID)
	}
	if f.CampaignID != 0 {
		where = append(where, "l.id IN (SELECT letter_id FROM letter_campaigns WHERE campaign_id = ?)")
		args = append(args, f.CampaignID)
	}
	if len(f.Kinds) > 0 {
		where = append(where, "l.kind IN ("+placeholders(len(f.Kinds))+")")
		for _, k := range f.Kinds {
			args = append(args, string(k))
		}
	}
	if len(f.States) > 0 {
		in, inArgs := stateIn(f.States)
		where = append(where, "l.state IN ("+in+")")
		args = append(args, inArgs...)
	}
	if f.StartedWavesOnly {
		where = append(where, "l.wave_id IN (SELECT id FROM waves WHERE state = 'started')")
	}
	if !f.UpdatedBefore.IsZero() {
		where = append(where, "l.updated_at < ?")
		args = append(args, formatTime(f.UpdatedBefore))
	}
	q := "SELECT " + letterColumns + " FROM letters l"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY l.wave_id, l.target_id"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	ls, err := queryLetters(ctx, s.reader(), q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list letters: %w", err)
	}
	return ls, nil
}

// MarkQueued implements Store.
func (s *SQLite) MarkQueued(ctx context.Context, ids []string) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx queryer) (err error) {
		n, err = s.transitionAll(ctx, tx, ids, campaign.CauseQueue, "")
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: mark letters queued: %w", err)
	}
	return n, nil
}

// BeginSending implements Store.
func (s *SQLite) BeginSending(ctx context.Context, id, messageID string) error {
	return s.transitionTx(ctx, "begin sending", id, campaign.CauseSendBegan, "",
		[]set{{"message_id", messageID}, {"attempts", sql.RawBytes("attempts + 1")}})
}

// Requeue implements Store.
func (s *SQLite) Requeue(ctx context.Context, id, reason string) error {
	return s.transitionTx(ctx, "requeue", id, campaign.CauseTemporaryFailure, reason,
		[]set{{"last_error", reason}})
}

// MarkSent implements Store.
func (s *SQLite) MarkSent(ctx context.Context, id string, at time.Time, reply string, campaignDate campaign.Date) error {
	err := s.inTx(ctx, func(tx queryer) error {
		ok, err := s.transition(ctx, tx, id, campaign.CauseAccepted, reply,
			[]set{{"sent_at", formatTime(at)}, {"server_reply", reply}, {"last_error", ""}})
		if err != nil {
			return err
		}
		if !ok {
			return conflict(ctx, tx, id)
		}
		if campaignDate.IsZero() {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE campaigns SET campaign_date = ?, updated_at = ?
			WHERE campaign_date IS NULL AND id IN (SELECT campaign_id FROM letter_campaigns WHERE letter_id = ?)`,
			campaignDate.String(), s.stamp(), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: mark %s sent: %w", id, err)
	}
	return nil
}

// MarkFailed implements Store.
func (s *SQLite) MarkFailed(ctx context.Context, id, reason, reply string, suspect bool) error {
	err := s.inTx(ctx, func(tx queryer) error {
		ok, err := s.transition(ctx, tx, id, campaign.CausePermanentRefusal, reason,
			[]set{{"last_error", reason}, {"server_reply", reply}})
		if err != nil {
			return err
		}
		if !ok {
			return conflict(ctx, tx, id)
		}
		if !suspect {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE targets SET suspect = 1, suspect_reason = ?, updated_at = ?
			WHERE id = (SELECT target_id FROM letters WHERE id = ?)`, firstLine(reply, reason), s.stamp(), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: mark %s failed: %w", id, err)
	}
	return nil
}

// MarkUncertain implements Store.
func (s *SQLite) MarkUncertain(ctx context.Context, id, reason string) error {
	return s.transitionTx(ctx, "mark uncertain", id, campaign.CauseInterrupted, reason,
		[]set{{"last_error", reason}})
}

// CancelLetter implements Store.
func (s *SQLite) CancelLetter(ctx context.Context, id, reason string) error {
	return s.transitionTx(ctx, "cancel", id, campaign.CauseCancel, reason,
		[]set{{"last_error", reason}})
}

// Resend implements Store.
func (s *SQLite) Resend(ctx context.Context, id string) (campaign.Letter, error) {
	var l campaign.Letter
	err := s.inTx(ctx, func(tx queryer) error {
		ok, err := s.transition(ctx, tx, id, campaign.CauseResend, "resent by staff", []set{{"resends", sql.RawBytes("resends + 1")}})
		if err != nil {
			return err
		}
		if !ok {
			return conflict(ctx, tx, id)
		}
		l, err = letterByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return l, fmt.Errorf("store: resend %s: %w", id, err)
	}
	return l, nil
}

// LetterEvents implements Store.
func (s *SQLite) LetterEvents(ctx context.Context, id string) ([]LetterEvent, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT at, from_state, to_state, detail FROM letter_events
		WHERE letter_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: events of %s: %w", id, err)
	}
	defer rows.Close()
	var out []LetterEvent
	for rows.Next() {
		var e LetterEvent
		var at, from, to string
		if err := rows.Scan(&at, &from, &to, &e.Detail); err != nil {
			return nil, err
		}
		e.From, e.To = campaign.LetterState(from), campaign.LetterState(to)
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// set is one column a transition changes; a sql.RawBytes value is an SQL
// expression rather than a value.
type set struct {
	column string
	value  any
}

// transition moves letter id as cause does (campaign.Lifecycle) if it is
// in a state cause may move it from, changing the given columns too and
// recording the event. It reports false, changing nothing, when the letter
// is in another state. The event
// is recorded first, from the letter's row, so that one statement both
// checks the state and keeps the state it came from.
func (s *SQLite) transition(ctx context.Context, tx queryer, id string, cause campaign.Cause, detail string, sets []set) (bool, error) {
	from, to := campaign.FromStates(cause), cause.To()
	if len(from) == 0 {
		return false, fmt.Errorf("letter %s: no transition for %q", id, cause)
	}
	now := s.stamp()
	in, inArgs := stateIn(from)
	res, err := tx.ExecContext(ctx, `INSERT INTO letter_events (letter_id, at, from_state, to_state, detail)
		SELECT id, ?, state, ?, ? FROM letters WHERE id = ? AND state IN (`+in+`)`,
		append([]any{now, string(to), detail, id}, inArgs...)...)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var exists int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM letters WHERE id = ?`, id).Scan(&exists)
		if errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("letter %s: %w", id, errNotFound)
		}
		return false, err
	}
	cols := []string{"state = ?", "updated_at = ?"}
	args := []any{string(to), now}
	for _, st := range sets {
		if expr, ok := st.value.(sql.RawBytes); ok {
			cols = append(cols, st.column+" = "+string(expr))
			continue
		}
		cols = append(cols, st.column+" = ?")
		args = append(args, st.value)
	}
	args = append(args, id)
	_, err = tx.ExecContext(ctx, "UPDATE letters SET "+strings.Join(cols, ", ")+" WHERE id = ?", args...)
	return err == nil, err
}

// transitionAll applies one transition to several letters, counting those
// that were in a state it applies to.
func (s *SQLite) transitionAll(ctx context.Context, tx queryer, ids []string, cause campaign.Cause, detail string) (int, error) {
	n := 0
	for _, id := range ids {
		ok, err := s.transition(ctx, tx, id, cause, detail, nil)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// transitionTx runs one transition in a transaction of its own; a letter in
// another state is an ErrConflict.
func (s *SQLite) transitionTx(ctx context.Context, what, id string, cause campaign.Cause, detail string, sets []set) error {
	err := s.inTx(ctx, func(tx queryer) error {
		ok, err := s.transition(ctx, tx, id, cause, detail, sets)
		if err != nil {
			return err
		}
		if !ok {
			return conflict(ctx, tx, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: %s %s: %w", what, id, err)
	}
	return nil
}

// stateIn is the placeholders and arguments of an SQL "state IN (...)"
// list of states.
func stateIn(states []campaign.LetterState) (string, []any) {
	args := make([]any, len(states))
	for i, st := range states {
		args[i] = string(st)
	}
	return placeholders(len(states)), args
}

// fromStatesIn is the "IN (...)" list, and its arguments, of the states
// cause may move a letter from: for queries that pick the letters a
// transition will apply to.
func fromStatesIn(cause campaign.Cause) (string, []any) {
	return stateIn(campaign.FromStates(cause))
}

func conflict(ctx context.Context, q queryer, id string) error {
	var st string
	if err := q.QueryRowContext(ctx, `SELECT state FROM letters WHERE id = ?`, id).Scan(&st); err != nil {
		return err
	}
	return fmt.Errorf("letter is %s: %w", st, ErrConflict)
}

func firstLine(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			line, _, _ := strings.Cut(v, "\n")
			return line
		}
	}
	return ""
}

func queryLetters(ctx context.Context, q queryer, query string, args ...any) ([]campaign.Letter, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []campaign.Letter
	for rows.Next() {
		var (
			l                                         campaign.Letter
			kind, state, sendAt, sent, upd, campaigns string
		)
		if err := rows.Scan(&l.ID, &kind, &l.WaveID, &l.TargetID, &l.Email, &l.Template, &state, &sendAt, &l.MessageID,
			&l.Resends, &l.Attempts, &sent, &l.LastError, &l.ServerReply, &l.InReplyTo, &upd, &campaigns); err != nil {
			return nil, err
		}
		l.Kind, l.State = campaign.LetterKind(kind), campaign.LetterState(state)
		for _, p := range []struct {
			s   string
			dst *time.Time
		}{{sendAt, &l.SendAt}, {sent, &l.SentAt}, {upd, &l.UpdatedAt}} {
			if *p.dst, err = parseTime(p.s); err != nil {
				return nil, err
			}
		}
		if l.CampaignIDs, err = splitIDs(campaigns); err != nil {
			return nil, err
		}
		slices.Sort(l.CampaignIDs)
		out = append(out, l)
	}
	return out, rows.Err()
}

// bounce marks letter id bounced, as a confirmed bounce report does; it
// reports false, changing nothing, for a letter in a state a bounce does
// not move (a bounce of a letter never sent says nothing of it).
func (s *SQLite) bounce(ctx context.Context, tx queryer, id, reason string) (bool, error) {
	return s.transition(ctx, tx, id, campaign.CauseBounce, reason, []set{{"last_error", reason}})
}
