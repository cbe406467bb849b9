// Package auth lets staff in: passwords hashed with bcrypt, logins slowed
// down after repeated failures, sessions behind random tokens of which only
// hashes are stored, a CSRF token per session, and API tokens for scripts.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// Store is what auth needs of the store.
type Store interface {
	AddStaff(ctx context.Context, email, passwordHash string) (store.Staff, error)
	SetStaffPassword(ctx context.Context, email, passwordHash string) error
	StaffByEmail(ctx context.Context, email string) (store.Staff, error)
	StaffByID(ctx context.Context, id int64) (store.Staff, error)
	CreateSession(ctx context.Context, s store.Session) error
	Session(ctx context.Context, tokenHash string, now time.Time) (store.Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	CreateAPIToken(ctx context.Context, t store.APIToken) error
	APIToken(ctx context.Context, tokenHash string) (store.APIToken, error)
	TouchAPIToken(ctx context.Context, tokenHash string, at time.Time) error
	RecordLoginFailure(ctx context.Context, email, ip string, at time.Time) error
	LoginFailures(ctx context.Context, email, ip string, since time.Time) (store.LoginFailures, error)
	ClearLoginFailures(ctx context.Context, email, ip string) error
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// Errors a login can end with.
var (
	// ErrBadCredentials: unknown address or wrong password (the two are
	// not told apart, so that addresses cannot be probed).
	ErrBadCredentials = errors.New("wrong e-mail address or password")
	// ErrNoSession: no valid session or token.
	ErrNoSession = errors.New("not logged in")
)

// ThrottledError is returned for a login tried too soon after repeated
// failures, whatever the password.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed logins: try again in %s", e.RetryAfter.Round(time.Second))
}

// Service runs logins and checks sessions and tokens.
type Service struct {
	Store Store
	Now   func() time.Time
	// SessionTTL is how long a login lasts.
	SessionTTL time.Duration
	// FreeFailures is how many failed logins in FailureWindow for one
	// address from one client address pass without a wait; each further
	// failure doubles the wait, from FirstLockout up to MaxLockout, for
	// that pair whatever the password. A client trying many addresses is
	// held the same way after IPFreeFailures.
	FreeFailures   int
	IPFreeFailures int
	FailureWindow  time.Duration
	FirstLockout   time.Duration
	MaxLockout     time.Duration
	// AddressFreeFailures is how many failures for one address, from any
	// client address, pass before the address is under a lock of its
	// own. Under that lock every attempt is held for AddressDelay before
	// its password is checked, so that guessing stays slow, but the right
	// password still gets in: a stranger who knows the address cannot
	// lock its owner out.
	AddressFreeFailures int
	AddressDelay        time.Duration
	// Sleep waits for d or until ctx ends; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// bcryptCost is bcrypt's work factor; tests lower it.
	BcryptCost int
}

// NewService returns a Service with the usual policy: a session lasts 12
// hours; after 5 failures in 15 minutes, logins wait 30 seconds, then twice
// as long after each further failure, up to 15 minutes.
func NewService(st Store) *Service {
	return &Service{
		Store: st, Now: time.Now, SessionTTL: 12 * time.Hour,
		FreeFailures: 5, IPFreeFailures: 20, FailureWindow: 15 * time.Minute,
		FirstLockout: 30 * time.Second, MaxLockout: 15 * time.Minute,
		AddressFreeFailures: 10, AddressDelay: 3 * time.Second,
		Sleep: sleep, BcryptCost: bcrypt.DefaultCost,
	}
}

// sleep waits for d, or less if ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CheckPassword says what is wrong with a new password, if anything.
func CheckPassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLength {
		return fmt.Errorf("the password must be at least %d characters long", MinPasswordLength)
	}
	if len(pw) > 72 { // bcrypt reads no further
		return errors.New("the password must be at most 72 bytes long")
	}
	return nil
}

// AddStaff creates a staff account.
func (s *Service) AddStaff(ctx context.Context, email, password string) (store.Staff, error) {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != strings.TrimSpace(email) {
		return store.Staff{}, fmt.Errorf("auth: %q is not a plain e-mail address", email)
	}
	hash, err := s.hash(password)
	if err != nil {
		return store.Staff{}, err
	}
	return s.Store.AddStaff(ctx, a.Address, hash)
}

// SetPassword changes a staff member's password, ending their sessions.
func (s *Service) SetPassword(ctx context.Context, email, password string) error {
	hash, err := s.hash(password)
	if err != nil {
		return err
	}
	return s.Store.SetStaffPassword(ctx, email, hash)
}

func (s *Service) hash(password string) (string, error) {
	if err := CheckPassword(password); err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	cost := s.BcryptCost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return string(h), nil
}

// Login checks a password and opens a session, returning the token for the
// session cookie. Failures are counted per address and client address
// (ip) together and per client address; past the free ones, every attempt
// from there must wait, which makes guessing slow whether the password is
// right or not. Failures for an address from many clients put it under a
// lock that delays every attempt but lets the right password in.
func (s *Service) Login(ctx context.Context, email, password, ip string) (string, store.Session, error) {
	now := s.Now()
	email = strings.TrimSpace(email)
	f, err := s.Store.LoginFailures(ctx, email, ip, now.Add(-s.FailureWindow))
	if err != nil {
		return "", store.Session{}, err
	}
	wait := max(s.lockout(f.Pair, s.FreeFailures, f.LastPair, now), s.lockout(f.IP, s.IPFreeFailures, f.LastIP, now))
	if wait > 0 {
		return "", store.Session{}, &ThrottledError{RetryAfter: wait}
	}
	if s.AddressFreeFailures > 0 && f.Address >= s.AddressFreeFailures && s.Sleep != nil {
		if err := s.Sleep(ctx, s.AddressDelay); err != nil {
			return "", store.Session{}, err
		}
	}
	st, err := s.Store.StaffByEmail(ctx, email)
	if err != nil && !errors.Is(err, campaign.ErrNotFound) {
		return "", store.Session{}, err
	}
	hash := st.PasswordHash
	if hash == "" {
		// Spend the same time on an unknown address as on a wrong password.
		hash = dummyHash()
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || st.ID == 0 {
		if err := s.Store.RecordLoginFailure(ctx, email, ip, now); err != nil {
			return "", store.Session{}, err
		}
		return "", store.Session{}, ErrBadCredentials
	}
	if err := s.Store.ClearLoginFailures(ctx, email, ip); err != nil {
		return "", store.Session{}, err
	}
	token := randomToken()
	sess := store.Session{
		TokenHash: HashToken(token), StaffID: st.ID, CSRFToken: randomToken(),
		CreatedAt: now, ExpiresAt: now.Add(s.SessionTTL),
	}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return "", store.Session{}, err
	}
	return token, sess, nil
}

// dummyHash is a bcrypt hash of a random password, compared against when
// the address is unknown; made on first use, not at every start.
var dummyHash = sync.OnceValue(func() string {
	h, _ := bcrypt.GenerateFromPassword([]byte(randomToken()), bcrypt.DefaultCost)
	return string(h)
})

// lockout is how long a login must still wait after n recent failures, the
// last at last, when free of them pass without a wait.
func (s *Service) lockout(n, free int, last, now time.Time) time.Duration {
	if free <= 0 || n < free || last.IsZero() {
		return 0
	}
	wait := s.FirstLockout
	for i := free; i < n && wait < s.MaxLockout; i++ {
		wait *= 2
	}
	wait = min(wait, s.MaxLockout)
	return last.Add(wait).Sub(now)
}

// Session returns the session of a cookie's token and its staff member.
func (s *Service) Session(ctx context.Context, token string) (store.Session, store.Staff, error) {
	if token == "" {
		return store.Session{}, store.Staff{}, ErrNoSession
	}
	sess, err := s.Store.Session(ctx, HashToken(token), s.Now())
	if errors.Is(err, campaign.ErrNotFound) {
		return sess, store.Staff{}, ErrNoSession
	}
	if err != nil {
		return sess, store.Staff{}, err
	}
	st, err := s.Store.StaffByID(ctx, sess.StaffID)
	if errors.Is(err, campaign.ErrNotFound) {
		return sess, st, ErrNoSession
	}
	return sess, st, err
}

// Logout ends the session of a token.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return s.Store.DeleteSession(ctx, HashToken(token))
}

// TokenPrefix starts every API token, so that one is recognised when it
// leaks into a log or a repository.
const TokenPrefix = "otk_"

// DefaultTokenTTL is how long an API token lasts unless asked otherwise,
// and MaxTokenTTL the longest it may: a token that leaks stops working.
const (
	DefaultTokenTTL = 90 * 24 * time.Hour
	MaxTokenTTL     = 366 * 24 * time.Hour
)

// tokenUseGrain is how often a token's last use is written: a script
// calling the API in a loop does not write the store on every call.
const tokenUseGrain = time.Minute

// CreateAPIToken makes a named API token for a staff member, valid for ttl
// (DefaultTokenTTL when zero), and returns it: it is shown once and only
// its hash is kept. A new password for the staff member revokes it.
func (s *Service) CreateAPIToken(ctx context.Context, name string, staffID int64, ttl time.Duration) (string, store.APIToken, error) {
	if strings.TrimSpace(name) == "" {
		return "", store.APIToken{}, errors.New("auth: an API token needs a name")
	}
	switch {
	case ttl == 0:
		ttl = DefaultTokenTTL
	case ttl < 0 || ttl > MaxTokenTTL:
		return "", store.APIToken{}, fmt.Errorf("auth: an API token lasts between a moment and %d days, not %s", MaxTokenTTL/(24*time.Hour), ttl)
	}
	token := TokenPrefix + randomToken()
	now := s.Now()
	t := store.APIToken{TokenHash: HashToken(token), Name: name, StaffID: staffID, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.Store.CreateAPIToken(ctx, t); err != nil {
		return "", store.APIToken{}, err
	}
	return token, t, nil
}

// APIToken returns the staff member an API token acts for, if the token is
// neither revoked nor expired, and records its use.
func (s *Service) APIToken(ctx context.Context, token string) (store.Staff, error) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return store.Staff{}, ErrNoSession
	}
	t, err := s.Store.APIToken(ctx, HashToken(token))
	if errors.Is(err, campaign.ErrNotFound) {
		return store.Staff{}, ErrNoSession
	}
	if err != nil {
		return store.Staff{}, err
	}
	now := s.Now()
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return store.Staff{}, ErrNoSession
	}
	if now.Sub(t.LastUsedAt) >= tokenUseGrain {
		if err := s.Store.TouchAPIToken(ctx, t.TokenHash, now); err != nil {
			return store.Staff{}, err
		}
	}
	return s.Store.StaffByID(ctx, t.StaffID)
}

// ValidCSRF reports whether a form's token is the session's, in constant
// time.
func ValidCSRF(sess store.Session, token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(sess.CSRFToken), []byte(token)) == 1
}

// HashToken is how a token is kept: its SHA-256, in hex.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
