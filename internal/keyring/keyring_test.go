package keyring

import (
	"bytes"
	"testing"
)

func TestRing(t *testing.T) {
	a, b := []byte("0123456789abcdef-old"), []byte("fedcba9876543210-new")
	r, err := New(b, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Current().ID) != IDLen || r.Current().ID == r.All()[1].ID {
		t.Fatalf("ids %q %q", r.Current().ID, r.All()[1].ID)
	}
	old, ok := r.Key(r.All()[1].ID)
	if !ok || !bytes.Equal(old.MAC("x"), mustRing(t, a).Current().MAC("x")) {
		t.Error("the previous key does not verify as it did when it was current")
	}
	if _, ok := r.Key("zzzz"); ok {
		t.Error("an unknown id names a key")
	}
	// An id depends on the secret alone.
	if mustRing(t, a).Current().ID != old.ID {
		t.Error("a key's id changed when it became previous")
	}
	for _, bad := range [][][]byte{{[]byte("short")}, {b, []byte("short")}, {b, b}} {
		if _, err := New(bad[0], bad[1:]...); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
}

func TestSplitSecrets(t *testing.T) {
	got := SplitSecrets(" one-secret-0123456789, two-secret-0123456789\nthree ")
	if len(got) != 3 || string(got[0]) != "one-secret-0123456789" || string(got[2]) != "three" {
		t.Errorf("%q", got)
	}
}

func mustRing(t *testing.T, s []byte) *Ring {
	t.Helper()
	r, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
