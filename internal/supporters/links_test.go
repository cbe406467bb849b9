package supporters

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLinks(t *testing.T) {
	l, err := NewLinks([]byte("links-test-secret-0123456789"), "https://act.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	c := Claim{Action: ActionConfirm, SignatureID: 42, Version: 3, Expires: now.Add(72 * time.Hour)}
	u := l.URL(c)
	if !strings.HasPrefix(u, "https://act.example.org/confirm/42.3.") {
		t.Errorf("URL %s", u)
	}
	tok := l.Token(c)
	got, err := l.Parse(ActionConfirm, tok, now)
	if err != nil || got.SignatureID != 42 || got.Version != 3 || !got.Expires.Equal(c.Expires) {
		t.Errorf("Parse: %+v %v", got, err)
	}
	if _, err := l.Parse(ActionConfirm, tok, now.Add(72*time.Hour)); !errors.Is(err, ErrLinkExpired) {
		t.Errorf("at expiry: %v", err)
	}
	other, _ := NewLinks([]byte("another-secret-0123456789"), "https://act.example.org")
	parts := strings.Split(tok, ".")
	if len(parts) != 5 {
		t.Fatalf("token %s: want ID.VERSION.EXPIRES.KEY.MAC", tok)
	}
	for name, bad := range map[string]string{
		"another action": "", // checked below as withdraw
		"another key":    other.Token(c),
		"another id":     strings.Join([]string{"43", parts[1], parts[2], parts[3], parts[4]}, "."),
		"older version":  strings.Join([]string{parts[0], "2", parts[2], parts[3], parts[4]}, "."),
		"later expiry":   strings.Join([]string{parts[0], parts[1], "4102444800", parts[3], parts[4]}, "."),
		"unknown key id": strings.Join([]string{parts[0], parts[1], parts[2], "zzzz", parts[4]}, "."),
		"empty key id":   strings.Join([]string{parts[0], parts[1], parts[2], "", parts[4]}, "."),
		"truncated":      tok[:len(tok)-1],
		"empty":          "x",
	} {
		a := ActionConfirm
		if bad == "" {
			a, bad = ActionWithdraw, tok
		}
		if _, err := l.Parse(a, bad, now); !errors.Is(err, ErrBadLink) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A forged link is bad whatever time it names, not "expired".
	expired := l.Token(Claim{Action: ActionConfirm, SignatureID: 1, Version: 1, Expires: now.Add(-time.Hour)})
	if _, err := other.Parse(ActionConfirm, expired, now); !errors.Is(err, ErrBadLink) {
		t.Errorf("forged and expired: %v", err)
	}
	for _, bad := range []string{"ftp://x.example", "act.example.org", ""} {
		if _, err := NewLinks([]byte("links-test-secret-0123456789"), bad); err == nil {
			t.Errorf("base URL %q accepted", bad)
		}
	}
}

// TestLinksKeyRotation: once web.secret is replaced (the old one kept as
// previous), links mailed before still work, both those that name their
// key and those made before links did; new links use the new key; and a
// link whose key was dropped no longer works.
func TestLinksKeyRotation(t *testing.T) {
	oldKey, newKey := []byte("links-test-secret-0123456789"), []byte("a new links secret, rotated today")
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	c := Claim{Action: ActionWithdraw, SignatureID: 7, Version: 1, Expires: now.Add(30 * 24 * time.Hour)}
	before, _ := NewLinks(oldKey, "https://act.example.org")
	after, err := NewLinks(newKey, "https://act.example.org", oldKey)
	if err != nil {
		t.Fatal(err)
	}
	old := before.Token(c)
	parts := strings.Split(old, ".")
	legacy := strings.Join([]string{parts[0], parts[1], parts[2], parts[4]}, ".") // as links were written before they named their key
	for name, tok := range map[string]string{"named key": old, "no key named": legacy} {
		if got, err := after.Parse(ActionWithdraw, tok, now); err != nil || got.SignatureID != 7 {
			t.Errorf("%s, signed with the previous key: %+v %v", name, got, err)
		}
	}
	if tok := after.Token(c); tok == old || strings.Split(tok, ".")[3] == parts[3] {
		t.Errorf("new links are signed with the previous key: %s", tok)
	}
	dropped, _ := NewLinks(newKey, "https://act.example.org")
	for _, tok := range []string{old, legacy} {
		if _, err := dropped.Parse(ActionWithdraw, tok, now); !errors.Is(err, ErrBadLink) {
			t.Errorf("link %s works once its key is dropped: %v", tok, err)
		}
	}
}
