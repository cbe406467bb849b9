package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

const waveColumns = `id, name, template, state, countries, campaign_ids, send_at, local_time, created_at, started_at,
	follow_up_after, follow_up_template`

// CreateWave implements Store.
func (s *SQLite) CreateWave(ctx context.Context, w campaign.Wave, letters []campaign.Letter) (campaign.Wave, []campaign.Letter, error) {
	if err := campaign.ValidateWaveName(w.Name); err != nil {
		return w, nil, fmt.Errorf("store: create wave: %w", err)
	}
	now := s.Now()
	w.State, w.CreatedAt = campaign.WaveDraft, now
	out := make([]campaign.Letter, len(letters))
	err := s.inTx(ctx, func(tx queryer) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO waves (name, template, state, countries, campaign_ids,
			send_at, local_time, created_at, follow_up_after, follow_up_template) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.Name, w.Template, string(w.State), strings.Join(w.Countries, ","), joinIDs(w.CampaignIDs),
			optTime(w.At), w.LocalTime, formatTime(now), int64(w.FollowUpAfter/time.Second), w.FollowUpTemplate)
		if err != nil {
			return err
		}
		if w.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		for i, l := range letters {
			l.Kind, l.WaveID, l.State, l.UpdatedAt = campaign.KindWave, w.ID, campaign.Planned, now
			l.ID = campaign.LetterID(w.ID, l.TargetID)
			if l.Template == "" {
				l.Template = w.Template
			}
			out[i] = l
		}
		return insertLetters(ctx, tx, out)
	})
	if err != nil {
		return w, nil, fmt.Errorf("store: create wave %q: %w", w.Name, err)
	}
	return w, out, nil
}

// insertLetter stores a new letter with its campaigns; a zero wave or
// target id is stored as NULL.
func insertLetter(ctx context.Context, tx queryer, l campaign.Letter) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO letters (id, kind, wave_id, target_id, email, template, state,
		send_at, in_reply_to, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.ID, string(l.Kind), nullID(l.WaveID), nullID(l.TargetID), l.Email, l.Template, string(l.State),
		optTime(l.SendAt), l.InReplyTo, formatTime(l.UpdatedAt)); err != nil {
		return err
	}
	for _, cid := range l.CampaignIDs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO letter_campaigns (letter_id, campaign_id) VALUES (?, ?)`, l.ID, cid); err != nil {
			return fmt.Errorf("campaign %d: %w", cid, err)
		}
	}
	return nil
}

// insertLetters stores new letters with their campaigns, many rows to a
// statement: a wave of 100,000 letters is stored in seconds, where a
// statement per row takes minutes.
func insertLetters(ctx context.Context, tx queryer, ls []campaign.Letter) error {
	const rowsPerInsert = 400 // 10 values a row, well under SQLite's limit of variables
	for start := 0; start < len(ls); start += rowsPerInsert {
		batch := ls[start:min(start+rowsPerInsert, len(ls))]
		args := make([]any, 0, len(batch)*10)
		var links []any
		for _, l := range batch {
			args = append(args, l.ID, string(l.Kind), nullID(l.WaveID), nullID(l.TargetID), l.Email, l.Template, string(l.State),
				optTime(l.SendAt), l.InReplyTo, formatTime(l.UpdatedAt))
			for _, cid := range l.CampaignIDs {
				links = append(links, l.ID, cid)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO letters (id, kind, wave_id, target_id, email, template, state,
			send_at, in_reply_to, updated_at) VALUES `+rows(len(batch), 10), args...); err != nil {
			return fmt.Errorf("letters %s to %s: %w", batch[0].ID, batch[len(batch)-1].ID, err)
		}
		for i := 0; i < len(links); i += 2 * rowsPerInsert {
			part := links[i:min(i+2*rowsPerInsert, len(links))]
			if _, err := tx.ExecContext(ctx, `INSERT INTO letter_campaigns (letter_id, campaign_id) VALUES `+rows(len(part)/2, 2), part...); err != nil {
				return fmt.Errorf("campaigns of letters %s to %s: %w", batch[0].ID, batch[len(batch)-1].ID, err)
			}
		}
	}
	return nil
}

// rows is n groups of cols placeholders: "(?, ?), (?, ?)".
func rows(n, cols int) string {
	row := "(" + placeholders(cols) + ")"
	return strings.Repeat(row+", ", n-1) + row
}

// Wave implements Store.
func (s *SQLite) Wave(ctx context.Context, id int64) (campaign.Wave, error) {
	ws, err := queryWaves(ctx, s.reader(), "SELECT "+waveColumns+" FROM waves WHERE id = ?", id)
	if err != nil {
		return campaign.Wave{}, fmt.Errorf("store: wave %d: %w", id, err)
	}
	if len(ws) == 0 {
		return campaign.Wave{}, fmt.Errorf("store: wave %d: %w", id, errNotFound)
	}
	return ws[0], nil
}

// Waves implements Store.
func (s *SQLite) Waves(ctx context.Context) ([]campaign.Wave, error) {
	ws, err := queryWaves(ctx, s.reader(), "SELECT "+waveColumns+" FROM waves ORDER BY id DESC")
	if err != nil {
		return nil, fmt.Errorf("store: list waves: %w", err)
	}
	return ws, nil
}

// StartWave implements Store.
func (s *SQLite) StartWave(ctx context.Context, id int64) (campaign.Wave, error) {
	var w campaign.Wave
	err := s.inTx(ctx, func(tx queryer) error {
		ws, err := queryWaves(ctx, tx, "SELECT "+waveColumns+" FROM waves WHERE id = ?", id)
		if err != nil {
			return err
		}
		if len(ws) == 0 {
			return errNotFound
		}
		w = ws[0]
		switch w.State {
		case campaign.WaveCancelled:
			return fmt.Errorf("it was cancelled: %w", ErrConflict)
		case campaign.WaveStarted:
			return nil
		}
		w.State, w.StartedAt = campaign.WaveStarted, s.Now()
		_, err = tx.ExecContext(ctx, `UPDATE waves SET state = ?, started_at = ? WHERE id = ?`,
			string(w.State), formatTime(w.StartedAt), id)
		return err
	})
	if err != nil {
		return w, fmt.Errorf("store: start wave %d: %w", id, err)
	}
	return w, nil
}

// CancelWave implements Store.
func (s *SQLite) CancelWave(ctx context.Context, id int64) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx queryer) error {
		res, err := tx.ExecContext(ctx, `UPDATE waves SET state = 'cancelled' WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return errNotFound
		}
		in, inArgs := fromStatesIn(campaign.CauseCancel)
		ids, err := letterIDs(ctx, tx, `SELECT id FROM letters WHERE wave_id = ? AND state IN (`+in+`)`,
			append([]any{id}, inArgs...)...)
		if err != nil {
			return err
		}
		n, err = s.transitionAll(ctx, tx, ids, campaign.CauseCancel, "wave cancelled")
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: cancel wave %d: %w", id, err)
	}
	return n, nil
}

// LetterCounts implements Store.
func (s *SQLite) LetterCounts(ctx context.Context, waveID int64) (map[campaign.LetterState]int, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT state, count(*) FROM letters WHERE wave_id = ? GROUP BY state`, waveID)
	if err != nil {
		return nil, fmt.Errorf("store: count letters of wave %d: %w", waveID, err)
	}
	defer rows.Close()
	out := map[campaign.LetterState]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[campaign.LetterState(st)] = n
	}
	return out, rows.Err()
}

func queryWaves(ctx context.Context, q queryer, query string, args ...any) ([]campaign.Wave, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []campaign.Wave
	for rows.Next() {
		var (
			w                     campaign.Wave
			state, countries, ids string
			at, created, started  string
			followUpSeconds       int64
		)
		if err := rows.Scan(&w.ID, &w.Name, &w.Template, &state, &countries, &ids, &at, &w.LocalTime, &created, &started,
			&followUpSeconds, &w.FollowUpTemplate); err != nil {
			return nil, err
		}
		w.FollowUpAfter = time.Duration(followUpSeconds) * time.Second
		w.State = campaign.WaveState(state)
		if countries != "" {
			w.Countries = strings.Split(countries, ",")
		}
		if w.CampaignIDs, err = splitIDs(ids); err != nil {
			return nil, err
		}
		if w.At, err = parseTime(at); err != nil {
			return nil, err
		}
		if w.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if w.StartedAt, err = parseTime(started); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func optTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

func splitIDs(s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	var out []int64
	for _, p := range strings.Split(s, ",") {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad id list %q", s)
		}
		out = append(out, id)
	}
	return out, nil
}

func letterIDs(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// WaveHistory implements Store.
func (s *SQLite) WaveHistory(ctx context.Context, template string) (map[int64]campaign.History, error) {
	out := map[int64]campaign.History{}
	q := s.reader()
	args := []any{template}
	for _, st := range campaign.WrittenStates {
		args = append(args, string(st))
	}
	// Each query names, per office, the first record that counts; the
	// domain decides what they mean for a wave.
	steps := []struct {
		query string
		args  []any
		apply func(h *campaign.History, id int64, value string) error
	}{
		{`SELECT l.target_id, 0, l.id || ' ' || l.state FROM letters l JOIN waves w ON w.id = l.wave_id
			WHERE l.target_id IS NOT NULL AND l.template = ? AND l.state IN (` + placeholders(len(campaign.WrittenStates)) + `)
			  AND w.state <> 'cancelled' ORDER BY l.wave_id DESC, l.id`, args,
			func(h *campaign.History, _ int64, v string) error {
				id, state, _ := strings.Cut(v, " ")
				h.Letter, h.LetterState = id, campaign.LetterState(state)
				return nil
			}},
		{`SELECT target_id, id, response_date FROM campaigns
			WHERE target_id IS NOT NULL AND response_date IS NOT NULL AND response_date <> '' ORDER BY id`, nil,
			func(h *campaign.History, id int64, v string) error {
				d, err := campaign.ParseDate(v)
				h.ResponseCampaign, h.ResponseDate = id, d
				return err
			}},
		{`SELECT target_id, id, outcome FROM campaigns WHERE target_id IS NOT NULL AND outcome <> '' ORDER BY id`, nil,
			func(h *campaign.History, id int64, v string) error {
				h.OutcomeCampaign, h.Outcome = id, campaign.Outcome(v)
				return nil
			}},
		{`SELECT target_id, id, '' FROM replies WHERE target_id IS NOT NULL AND kind = 'human' AND status = 'confirmed' AND NOT opt_out
			UNION SELECT c.target_id, r.id, '' FROM reply_campaigns rc JOIN replies r ON r.id = rc.reply_id
			JOIN campaigns c ON c.id = rc.campaign_id
			WHERE c.target_id IS NOT NULL AND r.kind = 'human' AND r.status = 'confirmed' AND NOT r.opt_out ORDER BY 2`, nil,
			func(h *campaign.History, id int64, _ string) error {
				h.ConfirmedReply = id
				return nil
			}},
	}
	for i, step := range steps {
		rows, err := q.QueryContext(ctx, step.query, step.args...)
		if err != nil {
			return nil, fmt.Errorf("store: offices' history: %w", err)
		}
		seen := map[int64]bool{}
		for rows.Next() {
			var target, id int64
			var v string
			if err := rows.Scan(&target, &id, &v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: offices' history: %w", err)
			}
			if seen[target] {
				continue
			}
			seen[target] = true
			h := out[target]
			if err := step.apply(&h, id, v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: offices' history (%d), office %d: %w", i, target, err)
			}
			out[target] = h
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: offices' history: %w", err)
		}
	}
	return out, nil
}

// followUpPending is the condition, on a letter l joined to its wave w and
// target t, of a sent wave letter whose follow-up may still be planned:
// its wave asks for one, the office may be written to and has no
// follow-up yet. Whether a reply since holds it back is the domain's rule,
// applied by pendingFollowUps.
const followUpPending = `l.kind = 'wave' AND l.state = 'sent' AND l.sent_at <> ''
	AND w.state = 'started' AND w.follow_up_after > 0 AND w.follow_up_template <> ''
	AND t.do_not_contact = 0 AND t.suspect = 0
	AND NOT EXISTS (SELECT 1 FROM letters f WHERE f.wave_id = l.wave_id AND f.target_id = l.target_id
	                AND f.kind = 'follow-up')`

// FollowUpsDue implements Store.
func (s *SQLite) FollowUpsDue(ctx context.Context, waveID int64) (int, error) {
	cands, err := pendingFollowUps(ctx, s.reader(), "l.wave_id = ?", waveID)
	if err != nil {
		return 0, fmt.Errorf("store: follow-ups due in wave %d: %w", waveID, err)
	}
	return len(cands), nil
}
