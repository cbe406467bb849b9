package auth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/outreach-campaign/outreach/internal/store"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newService(t *testing.T) (*Service, *clock, *store.SQLite) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	s := NewService(st)
	s.Now = c.now
	st.Now = c.now
	s.BcryptCost = bcrypt.MinCost
	return s, c, st
}

func TestLoginAndSession(t *testing.T) {
	s, c, _ := newService(t)
	ctx := context.Background()
	if _, err := s.AddStaff(ctx, "anna@campaign.example", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddStaff(ctx, "ANNA@campaign.example", "another password"); err == nil {
		t.Error("a second account for the same address (other case) was created")
	}
	token, sess, err := s.Login(ctx, "anna@campaign.example", "correct horse battery", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	got, staff, err := s.Session(ctx, token)
	if err != nil || staff.Email != "anna@campaign.example" || got.CSRFToken != sess.CSRFToken {
		t.Fatalf("session: %+v %+v %v", got, staff, err)
	}
	if !ValidCSRF(got, sess.CSRFToken) || ValidCSRF(got, "") || ValidCSRF(got, sess.CSRFToken+"x") {
		t.Error("CSRF check")
	}
	if _, _, err := s.Session(ctx, token+"x"); !errors.Is(err, ErrNoSession) {
		t.Errorf("a forged token: %v", err)
	}
	c.advance(13 * time.Hour)
	if _, _, err := s.Session(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Errorf("an expired session: %v", err)
	}
	token, _, _ = s.Login(ctx, "anna@campaign.example", "correct horse battery", "10.0.0.1")
	if err := s.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Errorf("after logout: %v", err)
	}
	// A new password ends the sessions of the old one.
	token, _, _ = s.Login(ctx, "anna@campaign.example", "correct horse battery", "10.0.0.1")
	if err := s.SetPassword(ctx, "anna@campaign.example", "a brand new secret"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Errorf("session after a password change: %v", err)
	}
}

func TestBadPasswords(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	for _, pw := range []string{"", "short", strings.Repeat("x", 73)} {
		if _, err := s.AddStaff(ctx, "a@campaign.example", pw); err == nil {
			t.Errorf("password %q accepted", pw)
		}
	}
	if _, err := s.AddStaff(ctx, "Anna <a@campaign.example>", "long enough password"); err == nil {
		t.Error("an address with a display name accepted")
	}
}

// TestRepeatedFailuresSlowDown: after the free failures, every login must
// wait, even with the right password; the wait doubles with each failure,
// and passes with time.
func TestRepeatedFailuresSlowDown(t *testing.T) {
	s, c, _ := newService(t)
	ctx := context.Background()
	s.AddStaff(ctx, "anna@campaign.example", "correct horse battery")
	for i := range 5 {
		_, _, err := s.Login(ctx, "anna@campaign.example", "wrong password", "10.0.0.9")
		if !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
		c.advance(time.Second)
	}
	_, _, err := s.Login(ctx, "anna@campaign.example", "correct horse battery", "10.0.0.9")
	var th *ThrottledError
	if !errors.As(err, &th) || th.RetryAfter != 29*time.Second {
		t.Fatalf("sixth attempt with the right password: %v, want to wait 29s", err)
	}
	// Another client address guessing the same account is held too.
	if _, _, err := s.Login(ctx, "anna@campaign.example", "guess", "10.0.0.77"); !errors.As(err, &th) {
		t.Errorf("another IP: %v, want throttled", err)
	}
	c.advance(30 * time.Second)
	if _, _, err := s.Login(ctx, "anna@campaign.example", "wrong again", "10.0.0.9"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("after the wait: %v", err)
	}
	_, _, err = s.Login(ctx, "anna@campaign.example", "correct horse battery", "10.0.0.9")
	if !errors.As(err, &th) || th.RetryAfter != 60*time.Second {
		t.Fatalf("after a sixth failure: %v, want to wait 60s", err)
	}
	c.advance(time.Minute)
	if _, _, err := s.Login(ctx, "anna@campaign.example", "correct horse battery", "10.0.0.9"); err != nil {
		t.Fatalf("right password after the wait: %v", err)
	}
	// A successful login clears the account's failures.
	if _, _, err := s.Login(ctx, "anna@campaign.example", "correct horse battery", "10.0.0.9"); err != nil {
		t.Errorf("second login: %v", err)
	}
	// Unknown addresses count too, and are not told apart from wrong passwords.
	if _, _, err := s.Login(ctx, "nobody@campaign.example", "whatever password", "10.0.0.3"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("unknown address: %v", err)
	}
}

func TestAPITokens(t *testing.T) {
	s, _, st := newService(t)
	ctx := context.Background()
	staff, _ := s.AddStaff(ctx, "anna@campaign.example", "correct horse battery")
	token, err := s.CreateAPIToken(ctx, "nightly export", staff.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, TokenPrefix) {
		t.Errorf("token %q lacks its prefix", token)
	}
	got, err := s.APIToken(ctx, token)
	if err != nil || got.ID != staff.ID {
		t.Fatalf("APIToken: %+v %v", got, err)
	}
	list, _ := st.APITokens(ctx)
	if len(list) != 1 || list[0].TokenHash == token || strings.Contains(list[0].TokenHash, token) {
		t.Errorf("the store keeps the token itself: %+v", list)
	}
	if _, err := s.CreateAPIToken(ctx, "nightly export", staff.ID); err == nil {
		t.Error("two tokens with one name")
	}
	if err := st.RevokeAPIToken(ctx, "nightly export"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APIToken(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Errorf("revoked token: %v", err)
	}
}
