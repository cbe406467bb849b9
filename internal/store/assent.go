package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// KeepAsSent implements Store. The first copy of a letter stays: a retry or
// resend sends it again rather than a new rendering.
func (s *SQLite) KeepAsSent(ctx context.Context, id string, a campaign.AsSent) error {
	err := s.inTx(ctx, func(tx queryer) error {
		_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO letters_as_sent (letter_id, subject, text, message, whole)
			VALUES (?, ?, ?, ?, ?)`, id, a.Subject, a.Text, a.Message, a.Whole)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: keep letter %s as sent: %w", id, err)
	}
	return nil
}

// LetterAsSent implements Store.
func (s *SQLite) LetterAsSent(ctx context.Context, id string) (campaign.AsSent, error) {
	var a campaign.AsSent
	err := s.reader().QueryRowContext(ctx, `SELECT subject, text, message, whole FROM letters_as_sent WHERE letter_id = ?`, id).
		Scan(&a.Subject, &a.Text, &a.Message, &a.Whole)
	if errors.Is(err, sql.ErrNoRows) {
		err = errNotFound
	}
	if err != nil {
		return a, fmt.Errorf("store: letter %s as sent: %w", id, err)
	}
	return a, nil
}

// eraseAsSent takes a supporter's personal data out of the kept copy of
// letter id (their letter, or a digest carrying it): secrets are replaced
// wherever they appear, and the copy is cut to its headers and text.
func eraseAsSent(ctx context.Context, tx queryer, id string, secrets ...string) error {
	var a campaign.AsSent
	err := tx.QueryRowContext(ctx, `SELECT subject, text, message, whole FROM letters_as_sent WHERE letter_id = ?`, id).
		Scan(&a.Subject, &a.Text, &a.Message, &a.Whole)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	a = a.Without(secrets...)
	_, err = tx.ExecContext(ctx, `UPDATE letters_as_sent SET subject = ?, text = ?, message = ?, whole = ? WHERE letter_id = ?`,
		a.Subject, a.Text, a.Message, a.Whole, id)
	return err
}
