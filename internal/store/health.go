package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// ErrNoDatabase is returned (wrapped) by CheckSQLite for a path where no
// database file exists.
var ErrNoDatabase = errors.New("no database file")

// Health is what CheckSQLite found of a database.
type Health struct {
	// Migrated lists the migrations applied by this check: the store was
	// written by an older version of the program.
	Migrated []string
	// Version is the last migration applied.
	Version string
}

// CheckSQLite opens the existing database at path as every command does,
// applying the migrations it lacks, and then makes sure it takes a write
// (a transaction that takes the write lock and is rolled back). It never
// creates a database, and refuses one written by a newer version of the
// program (a migration it does not know).
func CheckSQLite(ctx context.Context, path string) (Health, error) {
	var h Health
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return h, fmt.Errorf("store: %s: %w", path, ErrNoDatabase)
	} else if err != nil {
		return h, fmt.Errorf("store: %w", err)
	}
	before, err := appliedMigrations(ctx, path)
	if err != nil {
		return h, err
	}
	known := knownMigrations()
	for _, v := range before {
		if !slices.Contains(known, v) {
			return h, fmt.Errorf("store: %s: migration %s is not one this program knows: the store was written by a newer version", path, v)
		}
	}
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		return h, err
	}
	defer s.Close()
	for _, v := range known {
		if !slices.Contains(before, v) {
			h.Migrated = append(h.Migrated, v)
		}
	}
	if len(known) > 0 {
		h.Version = known[len(known)-1]
	}
	tx, err := s.wdb.BeginTx(ctx, nil) // BEGIN IMMEDIATE: takes the write lock
	if err != nil {
		return h, fmt.Errorf("store: %s takes no write: %w", path, err)
	}
	if err := tx.Rollback(); err != nil {
		return h, fmt.Errorf("store: %s: %w", path, err)
	}
	return h, nil
}

// appliedMigrations reads the migrations recorded in the database at path,
// opened read-only.
func appliedMigrations(ctx context.Context, path string) ([]string, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err != nil {
		return nil, fmt.Errorf("store: read %s: %w", path, err)
	}
	if n == 0 {
		return nil, nil // an empty file: every migration is to come
	}
	rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", path, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: read %s: %w", path, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read %s: %w", path, err)
	}
	return out, nil
}

// knownMigrations are the embedded migrations' versions, in order.
func knownMigrations() []string {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, strings.TrimSuffix(filepath.Base(n), ".sql"))
	}
	sort.Strings(out)
	return out
}
