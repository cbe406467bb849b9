package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCheckSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	missing := filepath.Join(dir, "missing.db")
	if _, err := CheckSQLite(ctx, missing); !errors.Is(err, ErrNoDatabase) {
		t.Errorf("missing file: err %v, want ErrNoDatabase", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Error("checking a missing store created it")
	}

	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database at all ", 200)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckSQLite(ctx, garbage); err == nil || !strings.Contains(err.Error(), "not a database") {
		t.Errorf("garbage file: err %v, want SQLite's 'not a database'", err)
	}

	// An empty file is an empty database, older than every migration:
	// the check applies them all, as any command would.
	good := filepath.Join(dir, "good.db")
	if err := os.WriteFile(good, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	known := []string{"001_campaigns", "002_waves", "003_replies", "004_supporters", "005_staff",
		"007_titles", "008_supporter_drafts", "009_api_token_expiry"}
	h, err := CheckSQLite(ctx, good)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	// Migrations added since this test was written come after these.
	if len(h.Migrated) < len(known) || !slices.Equal(h.Migrated[:len(known)], known) || h.Version != h.Migrated[len(h.Migrated)-1] {
		t.Errorf("health %+v, want the migrations %v applied now, the last one the version", h, known)
	}
	h2, err := CheckSQLite(ctx, good)
	if err != nil || len(h2.Migrated) != 0 || h2.Version != h.Version {
		t.Errorf("second check: %+v, %v; want nothing to apply, version %s", h2, err, h.Version)
	}

	newer := filepath.Join(dir, "newer.db")
	s, err := OpenSQLite(ctx, newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.wdb.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ('999_from_the_future', '2026-12-02')`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := CheckSQLite(ctx, newer); err == nil || !strings.Contains(err.Error(), "999_from_the_future") {
		t.Errorf("store of a newer version: err %v, want the unknown migration named", err)
	}
}
