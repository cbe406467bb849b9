package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// OAuthToken is the OAuth2 sign-in of one mailbox account, its tokens
// sealed by the caller (the store keeps them as opaque bytes).
type OAuthToken struct {
	Account  string // the mailbox's user name, as SMTP and IMAP log in
	Provider string // google, microsoft or custom
	// RefreshToken and AccessToken are encrypted.
	RefreshToken, AccessToken []byte
	Expiry                    time.Time // of the access token
	SignedInAt                time.Time
	RefreshedAt               time.Time // zero until the first refresh
	// Version counts the saves; SaveOAuthToken compares it.
	Version int64
}

// OAuthStore keeps the mailboxes' OAuth2 sign-ins, shared by every
// process (a refresh done by one serves all).
type OAuthStore interface {
	// OAuthToken returns an account's sign-in, or an error wrapping
	// campaign.ErrNotFound.
	OAuthToken(ctx context.Context, account string) (OAuthToken, error)
	// OAuthTokens lists every sign-in, by account.
	OAuthTokens(ctx context.Context) ([]OAuthToken, error)
	// SaveOAuthToken stores t when the stored version is still
	// t.Version-1 (0: a new sign-in replaces whatever was there) and
	// returns t with its new version; otherwise it returns an error
	// wrapping ErrConflict: another process saved first.
	SaveOAuthToken(ctx context.Context, t OAuthToken) (OAuthToken, error)
}

const oauthColumns = `account, provider, refresh_token, access_token, expiry, signed_in_at, refreshed_at, version`

// OAuthToken implements OAuthStore.
func (s *SQLite) OAuthToken(ctx context.Context, account string) (OAuthToken, error) {
	row := s.reader().QueryRowContext(ctx, `SELECT `+oauthColumns+` FROM oauth_tokens WHERE account = ?`, account)
	t, err := scanOAuth(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = errNotFound
	}
	if err != nil {
		return OAuthToken{}, fmt.Errorf("store: OAuth sign-in of %s: %w", account, err)
	}
	return t, nil
}

// OAuthTokens implements OAuthStore.
func (s *SQLite) OAuthTokens(ctx context.Context) ([]OAuthToken, error) {
	rows, err := s.reader().QueryContext(ctx, `SELECT `+oauthColumns+` FROM oauth_tokens ORDER BY account`)
	if err != nil {
		return nil, fmt.Errorf("store: OAuth sign-ins: %w", err)
	}
	defer rows.Close()
	var out []OAuthToken
	for rows.Next() {
		t, err := scanOAuth(rows)
		if err != nil {
			return nil, fmt.Errorf("store: OAuth sign-ins: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: OAuth sign-ins: %w", err)
	}
	return out, nil
}

// SaveOAuthToken implements OAuthStore.
func (s *SQLite) SaveOAuthToken(ctx context.Context, t OAuthToken) (OAuthToken, error) {
	err := s.inTx(ctx, func(tx queryer) error {
		var stored int64
		err := tx.QueryRowContext(ctx, `SELECT version FROM oauth_tokens WHERE account = ?`, t.Account).Scan(&stored)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			stored = 0
		case err != nil:
			return err
		}
		if t.Version == 0 {
			t.Version = stored + 1 // a new sign-in wins over any refresh
		} else if t.Version != stored+1 {
			return fmt.Errorf("saved by another process meanwhile (version %d): %w", stored, ErrConflict)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO oauth_tokens (`+oauthColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account) DO UPDATE SET provider = excluded.provider, refresh_token = excluded.refresh_token,
			access_token = excluded.access_token, expiry = excluded.expiry, signed_in_at = excluded.signed_in_at,
			refreshed_at = excluded.refreshed_at, version = excluded.version`,
			t.Account, t.Provider, t.RefreshToken, t.AccessToken, optTime(t.Expiry), formatTime(t.SignedInAt),
			optTime(t.RefreshedAt), t.Version)
		return err
	})
	if err != nil {
		return OAuthToken{}, fmt.Errorf("store: save OAuth sign-in of %s: %w", t.Account, err)
	}
	return t, nil
}

func scanOAuth(row interface{ Scan(...any) error }) (OAuthToken, error) {
	var t OAuthToken
	var expiry, signedIn, refreshed string
	if err := row.Scan(&t.Account, &t.Provider, &t.RefreshToken, &t.AccessToken, &expiry, &signedIn, &refreshed, &t.Version); err != nil {
		return OAuthToken{}, err
	}
	var err error
	if t.Expiry, err = parseTime(expiry); err != nil {
		return OAuthToken{}, err
	}
	if t.SignedInAt, err = parseTime(signedIn); err != nil {
		return OAuthToken{}, err
	}
	if t.RefreshedAt, err = parseTime(refreshed); err != nil {
		return OAuthToken{}, err
	}
	return t, nil
}
