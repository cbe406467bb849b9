package auth

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
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
	// The lock is this address's from this client: the owner elsewhere
	// is not locked out by a stranger who knows the address.
	if _, _, err := s.Login(ctx, "anna@campaign.example", "correct horse battery", "10.0.0.77"); err != nil {
		t.Errorf("the right password from another IP: %v, want a login", err)
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

// TestAddressUnderAttack: failures for one address from many clients put
// it under a lock that holds every attempt for a delay; the right password
// still gets in, a wrong one still fails, and each client guessing many
// addresses is held on its own.
func TestAddressUnderAttack(t *testing.T) {
	s, c, _ := newService(t)
	ctx := context.Background()
	s.AddStaff(ctx, "anna@campaign.example", "correct horse battery")
	var slept []time.Duration
	s.Sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	for i := range s.AddressFreeFailures {
		ip := fmt.Sprintf("192.0.2.%d", i+1)
		if _, _, err := s.Login(ctx, "anna@campaign.example", "guess", ip); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("guess %d from %s: %v", i+1, ip, err)
		}
		c.advance(time.Second)
	}
	if len(slept) != 0 {
		t.Fatalf("held before the address was under attack: %v", slept)
	}
	if _, _, err := s.Login(ctx, "anna@campaign.example", "another guess", "198.51.100.1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("a guess under the lock: %v, want wrong credentials", err)
	}
	if _, _, err := s.Login(ctx, "anna@campaign.example", "correct horse battery", "198.51.100.2"); err != nil {
		t.Fatalf("the owner under the lock: %v, want a login", err)
	}
	if want := []time.Duration{s.AddressDelay, s.AddressDelay}; !slices.Equal(slept, want) {
		t.Errorf("held %v, want %v (each attempt under the lock)", slept, want)
	}
	// The owner's login forgets only the owner's own failures: the lock
	// stays while the guesses are recent.
	slept = nil
	if _, _, err := s.Login(ctx, "anna@campaign.example", "correct horse battery", "198.51.100.2"); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 1 {
		t.Errorf("after the owner's login the lock held %d times, want 1", len(slept))
	}
	// Once the guesses are older than the window, nothing is held.
	c.advance(s.FailureWindow)
	slept = nil
	if _, _, err := s.Login(ctx, "anna@campaign.example", "correct horse battery", "198.51.100.2"); err != nil || len(slept) != 0 {
		t.Errorf("after the window: %v, held %v", err, slept)
	}
	// One client spraying many addresses is held after IPFreeFailures.
	for i := range s.IPFreeFailures {
		addr := fmt.Sprintf("user%d@campaign.example", i)
		if _, _, err := s.Login(ctx, addr, "guess", "203.0.113.5"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("spray %d: %v", i, err)
		}
	}
	var th *ThrottledError
	if _, _, err := s.Login(ctx, "anna@campaign.example", "correct horse battery", "203.0.113.5"); !errors.As(err, &th) {
		t.Errorf("the spraying client: %v, want throttled", err)
	}
}

func TestAPITokens(t *testing.T) {
	s, c, st := newService(t)
	ctx := context.Background()
	staff, _ := s.AddStaff(ctx, "anna@campaign.example", "correct horse battery")
	token, made, err := s.CreateAPIToken(ctx, "nightly export", staff.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := c.now().Add(90 * 24 * time.Hour); !made.ExpiresAt.Equal(want) {
		t.Errorf("a token with no lifetime asked expires at %s, want %s (90 days)", made.ExpiresAt, want)
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
	if list[0].LastUsedAt.IsZero() || !list[0].LastUsedAt.Equal(c.now()) {
		t.Errorf("last use %v, want %v", list[0].LastUsedAt, c.now())
	}
	if _, _, err := s.CreateAPIToken(ctx, "nightly export", staff.ID, 0); err == nil {
		t.Error("two tokens with one name")
	}
	for _, ttl := range []time.Duration{-time.Hour, 400 * 24 * time.Hour} {
		if _, _, err := s.CreateAPIToken(ctx, "odd", staff.ID, ttl); err == nil {
			t.Errorf("a token lasting %s was made", ttl)
		}
	}
	if err := st.RevokeAPIToken(ctx, "nightly export"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APIToken(ctx, token); !errors.Is(err, ErrNoSession) {
		t.Errorf("revoked token: %v", err)
	}
}

// TestAPITokenEnds: a token stops working when it expires and when its
// staff member's password changes.
func TestAPITokenEnds(t *testing.T) {
	s, c, _ := newService(t)
	ctx := context.Background()
	staff, _ := s.AddStaff(ctx, "anna@campaign.example", "correct horse battery")
	short, _, err := s.CreateAPIToken(ctx, "short", staff.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	long, _, err := s.CreateAPIToken(ctx, "long", staff.ID, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c.advance(59 * time.Minute)
	if _, err := s.APIToken(ctx, short); err != nil {
		t.Fatalf("a token before its expiry: %v", err)
	}
	c.advance(time.Minute)
	if _, err := s.APIToken(ctx, short); !errors.Is(err, ErrNoSession) {
		t.Errorf("a token at its expiry: %v, want refused", err)
	}
	if _, err := s.APIToken(ctx, long); err != nil {
		t.Fatalf("an unexpired token: %v", err)
	}
	if err := s.SetPassword(ctx, "anna@campaign.example", "a brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.APIToken(ctx, long); !errors.Is(err, ErrNoSession) {
		t.Errorf("a token after a password change: %v, want refused", err)
	}
}
