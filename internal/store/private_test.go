package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestDatabaseIsPrivate: the database, its WAL files and a directory the
// store makes are readable by their owner alone; files an older version
// left readable by all are tightened.
func TestDatabaseIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var")
	path := filepath.Join(dir, "outreach.db")
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	// A write, so that the WAL and shared-memory files exist.
	if _, err := s.ImportCampaigns(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	wantMode(t, dir, 0o700)
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		wantMode(t, p, 0o600)
	}
	s.Close()

	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	s, err = OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wantMode(t, path, 0o600)
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %04o, want %04o", filepath.Base(path), got, want)
	}
}
