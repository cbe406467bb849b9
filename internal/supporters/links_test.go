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
	for name, bad := range map[string]string{
		"another action": "", // checked below as withdraw
		"another key":    other.Token(c),
		"another id":     strings.Join([]string{"43", parts[1], parts[2], parts[3]}, "."),
		"older version":  strings.Join([]string{parts[0], "2", parts[2], parts[3]}, "."),
		"later expiry":   strings.Join([]string{parts[0], parts[1], "4102444800", parts[3]}, "."),
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
