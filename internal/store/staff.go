package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// StaffStore keeps staff accounts, their sessions and API tokens, and
// failed logins.
type StaffStore interface {
	// AddStaff creates an account; an existing address is an error
	// wrapping ErrConflict.
	AddStaff(ctx context.Context, email, passwordHash string) (Staff, error)
	// SetStaffPassword replaces an account's password hash.
	SetStaffPassword(ctx context.Context, email, passwordHash string) error
	// StaffByEmail and StaffByID return an account or an error wrapping
	// campaign.ErrNotFound.
	StaffByEmail(ctx context.Context, email string) (Staff, error)
	StaffByID(ctx context.Context, id int64) (Staff, error)
	// StaffList lists accounts by address.
	StaffList(ctx context.Context) ([]Staff, error)

	CreateSession(ctx context.Context, s Session) error
	// Session returns an unexpired session by its token's hash.
	Session(ctx context.Context, tokenHash string, now time.Time) (Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error

	CreateAPIToken(ctx context.Context, t APIToken) error
	// APIToken returns a token that is not revoked, by its hash.
	APIToken(ctx context.Context, tokenHash string) (APIToken, error)
	// APITokens lists tokens, newest first (hashes only).
	APITokens(ctx context.Context) ([]APIToken, error)
	RevokeAPIToken(ctx context.Context, name string) error
	// TouchAPIToken records that a token was used at a time.
	TouchAPIToken(ctx context.Context, tokenHash string, at time.Time) error

	RecordLoginFailure(ctx context.Context, email, ip string, at time.Time) error
	// LoginFailures counts failures since a time for the address from
	// the IP address, from the IP address, and for the address.
	LoginFailures(ctx context.Context, email, ip string, since time.Time) (LoginFailures, error)
	// ClearLoginFailures forgets the failures of an address from one IP
	// address, after a login from there.
	ClearLoginFailures(ctx context.Context, email, ip string) error
}

// LoginFailures counts recent failed logins three ways, each with the
// time of the last one (zero when none).
type LoginFailures struct {
	// Pair: this address from this client address.
	Pair     int
	LastPair time.Time
	// IP: any address from this client address.
	IP     int
	LastIP time.Time
	// Address: this address from any client address.
	Address     int
	LastAddress time.Time
}

// Staff is an account of the staff UI.
type Staff struct {
	ID           int64
	Email        string
	PasswordHash string
	CreatedAt    time.Time
}

// Session is a logged-in browser. Only the hash of its cookie's token is
// kept; CSRFToken is what its forms must carry back.
type Session struct {
	TokenHash string
	StaffID   int64
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// APIToken lets a script call the JSON API in a staff member's name, until
// it expires, its staff member's password changes or it is revoked.
type APIToken struct {
	TokenHash  string
	Name       string
	StaffID    int64
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time // zero: never used
}

// AddStaff implements StaffStore.
func (s *SQLite) AddStaff(ctx context.Context, email, passwordHash string) (Staff, error) {
	st := Staff{Email: strings.TrimSpace(email), PasswordHash: passwordHash, CreatedAt: s.Now()}
	err := s.inTx(ctx, func(tx queryer) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM staff WHERE email = ?`, st.Email).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%s already has an account: %w", st.Email, ErrConflict)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO staff (email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?)`,
			st.Email, passwordHash, formatTime(st.CreatedAt), formatTime(st.CreatedAt))
		if err != nil {
			return err
		}
		st.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return Staff{}, fmt.Errorf("store: add staff: %w", err)
	}
	return st, nil
}

// SetStaffPassword implements StaffStore.
func (s *SQLite) SetStaffPassword(ctx context.Context, email, passwordHash string) error {
	err := s.inTx(ctx, func(tx queryer) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff SET password_hash = ?, updated_at = ? WHERE email = ?`,
			passwordHash, s.stamp(), email)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		// A new password ends every session and API token of the old one.
		if _, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE staff_id = (SELECT id FROM staff WHERE email = ?)`, email); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE api_tokens SET revoked = 1 WHERE staff_id = (SELECT id FROM staff WHERE email = ?)`, email)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set password of %s: %w", email, err)
	}
	return nil
}

const staffColumns = `id, email, password_hash, created_at`

// StaffByEmail implements StaffStore.
func (s *SQLite) StaffByEmail(ctx context.Context, email string) (Staff, error) {
	return s.staffWhere(ctx, "email = ?", email)
}

// StaffByID implements StaffStore.
func (s *SQLite) StaffByID(ctx context.Context, id int64) (Staff, error) {
	return s.staffWhere(ctx, "id = ?", id)
}

func (s *SQLite) staffWhere(ctx context.Context, where string, arg any) (Staff, error) {
	list, err := s.queryStaff(ctx, "SELECT "+staffColumns+" FROM staff WHERE "+where, arg)
	if err != nil {
		return Staff{}, fmt.Errorf("store: staff %v: %w", arg, err)
	}
	if len(list) == 0 {
		return Staff{}, fmt.Errorf("store: staff %v: %w", arg, errNotFound)
	}
	return list[0], nil
}

// StaffList implements StaffStore.
func (s *SQLite) StaffList(ctx context.Context) ([]Staff, error) {
	list, err := s.queryStaff(ctx, "SELECT "+staffColumns+" FROM staff ORDER BY email")
	if err != nil {
		return nil, fmt.Errorf("store: list staff: %w", err)
	}
	return list, nil
}

func (s *SQLite) queryStaff(ctx context.Context, q string, args ...any) ([]Staff, error) {
	rows, err := s.reader().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Staff
	for rows.Next() {
		var st Staff
		var created string
		if err := rows.Scan(&st.ID, &st.Email, &st.PasswordHash, &created); err != nil {
			return nil, err
		}
		if st.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// CreateSession implements StaffStore.
func (s *SQLite) CreateSession(ctx context.Context, ss Session) error {
	err := s.inTx(ctx, func(tx queryer) error {
		// Expired sessions go when new ones come.
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, formatTime(ss.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, staff_id, csrf_token, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, ss.TokenHash, ss.StaffID, ss.CSRFToken, formatTime(ss.CreatedAt), formatTime(ss.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// Session implements StaffStore.
func (s *SQLite) Session(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	var ss Session
	var created, expires string
	err := s.reader().QueryRowContext(ctx, `SELECT token_hash, staff_id, csrf_token, created_at, expires_at
		FROM sessions WHERE token_hash = ? AND expires_at > ?`, tokenHash, formatTime(now)).
		Scan(&ss.TokenHash, &ss.StaffID, &ss.CSRFToken, &created, &expires)
	if isNoRows(err) {
		return ss, fmt.Errorf("store: session: %w", errNotFound)
	}
	if err != nil {
		return ss, fmt.Errorf("store: session: %w", err)
	}
	if ss.CreatedAt, err = parseTime(created); err != nil {
		return ss, err
	}
	ss.ExpiresAt, err = parseTime(expires)
	return ss, err
}

// DeleteSession implements StaffStore.
func (s *SQLite) DeleteSession(ctx context.Context, tokenHash string) error {
	err := s.inTx(ctx, func(tx queryer) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// CreateAPIToken implements StaffStore.
func (s *SQLite) CreateAPIToken(ctx context.Context, t APIToken) error {
	err := s.inTx(ctx, func(tx queryer) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens WHERE name = ? AND revoked = 0`, t.Name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("a token named %q exists: %w", t.Name, ErrConflict)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (token_hash, name, staff_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			t.TokenHash, t.Name, t.StaffID, formatTime(t.CreatedAt), formatTime(t.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create API token: %w", err)
	}
	return nil
}

// APIToken implements StaffStore.
func (s *SQLite) APIToken(ctx context.Context, tokenHash string) (APIToken, error) {
	list, err := s.queryTokens(ctx, `WHERE token_hash = ? AND revoked = 0`, tokenHash)
	if err != nil {
		return APIToken{}, fmt.Errorf("store: API token: %w", err)
	}
	if len(list) == 0 {
		return APIToken{}, fmt.Errorf("store: API token: %w", errNotFound)
	}
	return list[0], nil
}

// APITokens implements StaffStore.
func (s *SQLite) APITokens(ctx context.Context) ([]APIToken, error) {
	list, err := s.queryTokens(ctx, `WHERE revoked = 0 ORDER BY created_at DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: API tokens: %w", err)
	}
	return list, nil
}

func (s *SQLite) queryTokens(ctx context.Context, where string, args ...any) ([]APIToken, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT token_hash, name, staff_id, created_at, expires_at, last_used_at FROM api_tokens `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		var t APIToken
		var created, expires, used string
		if err := rows.Scan(&t.TokenHash, &t.Name, &t.StaffID, &created, &expires, &used); err != nil {
			return nil, err
		}
		if t.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if t.ExpiresAt, err = parseTime(expires); err != nil {
			return nil, err
		}
		if t.LastUsedAt, err = parseTime(used); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken implements StaffStore.
func (s *SQLite) RevokeAPIToken(ctx context.Context, name string) error {
	err := s.inTx(ctx, func(tx queryer) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked = 1 WHERE name = ? AND revoked = 0`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: revoke API token %q: %w", name, err)
	}
	return nil
}

// TouchAPIToken implements StaffStore.
func (s *SQLite) TouchAPIToken(ctx context.Context, tokenHash string, at time.Time) error {
	err := s.inTx(ctx, func(tx queryer) error {
		_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ?`, formatTime(at), tokenHash)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: record use of API token: %w", err)
	}
	return nil
}

// RecordLoginFailure implements StaffStore.
func (s *SQLite) RecordLoginFailure(ctx context.Context, email, ip string, at time.Time) error {
	err := s.inTx(ctx, func(tx queryer) error {
		// Failures older than a day no longer matter.
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE at < ?`, formatTime(at.Add(-24*time.Hour))); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO login_failures (email, ip, at) VALUES (?, ?, ?)`, email, ip, formatTime(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: record login failure: %w", err)
	}
	return nil
}

// LoginFailures implements StaffStore.
func (s *SQLite) LoginFailures(ctx context.Context, email, ip string, since time.Time) (LoginFailures, error) {
	var f LoginFailures
	var lastPair, lastIP, lastAddr string
	// Sums over no rows are NULL: COALESCE keeps every count a number.
	err := s.reader().QueryRowContext(ctx, `SELECT
		COALESCE(sum(email = ?1 AND ip = ?2), 0), COALESCE(max(CASE WHEN email = ?1 AND ip = ?2 THEN at END), ''),
		COALESCE(sum(ip = ?2), 0), COALESCE(max(CASE WHEN ip = ?2 THEN at END), ''),
		COALESCE(sum(email = ?1), 0), COALESCE(max(CASE WHEN email = ?1 THEN at END), '')
		FROM login_failures WHERE (email = ?1 OR ip = ?2) AND at >= ?3`, email, ip, formatTime(since)).
		Scan(&f.Pair, &lastPair, &f.IP, &lastIP, &f.Address, &lastAddr)
	if err != nil {
		return f, fmt.Errorf("store: count login failures: %w", err)
	}
	for _, p := range []struct {
		s string
		t *time.Time
	}{{lastPair, &f.LastPair}, {lastIP, &f.LastIP}, {lastAddr, &f.LastAddress}} {
		if *p.t, err = parseTime(p.s); err != nil {
			return f, fmt.Errorf("store: count login failures: %w", err)
		}
	}
	return f, nil
}

// ClearLoginFailures implements StaffStore.
func (s *SQLite) ClearLoginFailures(ctx context.Context, email, ip string) error {
	err := s.inTx(ctx, func(tx queryer) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE email = ? AND ip = ?`, email, ip)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: clear login failures: %w", err)
	}
	return nil
}
