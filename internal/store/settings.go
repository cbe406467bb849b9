package store

import (
	"context"
	"database/sql"
	"fmt"
)

// GeneratedSecret implements Store.
func (s *SQLite) GeneratedSecret(ctx context.Context, name string, gen func() (string, error)) (string, error) {
	var value string
	err := s.inTx(ctx, func(tx queryer) error {
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&value)
		if err == nil {
			return nil
		}
		if err != sql.ErrNoRows {
			return err
		}
		if value, err = gen(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)`, name, value)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: secret %s: %w", name, err)
	}
	return value, nil
}
