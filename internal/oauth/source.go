package oauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// Store keeps the sign-ins (store.OAuthStore).
type Store interface {
	OAuthToken(ctx context.Context, account string) (store.OAuthToken, error)
	SaveOAuthToken(ctx context.Context, t store.OAuthToken) (store.OAuthToken, error)
}

// ErrNotSignedIn: the account has no sign-in in the store.
var ErrNotSignedIn = errors.New("not signed in")

// ErrRevoked: the provider refused the refresh token (invalid_grant): it
// was revoked, expired, or the password changed. Only a new sign-in helps.
var ErrRevoked = errors.New("the sign-in was revoked or has expired")

// DefaultMargin is how long before its expiry an access token is replaced:
// long enough for a connection to authenticate with it.
const DefaultMargin = 2 * time.Minute

// Source gives fresh access tokens for one account, refreshing them
// through the provider when they come within Margin of expiry and saving
// each refresh (and a rotated refresh token) to the store for every other
// process. It is safe for concurrent use.
type Source struct {
	Account string
	Store   Store
	Sealer  *Sealer
	// Provider returns the OAuth2 configuration of the provider a
	// sign-in was made with.
	Provider func(name string) (*oauth2.Config, error)
	Margin   time.Duration // 0: DefaultMargin
	Now      func() time.Time

	mu     sync.Mutex
	cached *oauth2.Token
}

// Token returns an access token valid for at least Margin.
func (s *Source) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached != nil && s.fresh(s.cached.Expiry) {
		return s.cached.AccessToken, nil
	}
	s.cached = nil
	// A conflict means another process refreshed at the same moment: its
	// token, saved first, is read on the next turn.
	for range 3 {
		tok, err := s.load(ctx)
		if !errors.Is(err, store.ErrConflict) {
			if err != nil {
				return "", err
			}
			s.cached = tok
			return tok.AccessToken, nil
		}
	}
	return "", fmt.Errorf("oauth: %s: the sign-in kept changing under us while refreshing", s.Account)
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Source) fresh(expiry time.Time) bool {
	margin := s.Margin
	if margin <= 0 {
		margin = DefaultMargin
	}
	// A token without an expiry is not trusted for long: refreshed each time.
	return !expiry.IsZero() && expiry.After(s.now().Add(margin))
}

// load reads the sign-in and refreshes its access token when needed.
func (s *Source) load(ctx context.Context) (*oauth2.Token, error) {
	rec, err := s.Store.OAuthToken(ctx, s.Account)
	if errors.Is(err, campaign.ErrNotFound) {
		return nil, fmt.Errorf("oauth: %s: %w: run `outreach auth login --provider google|microsoft|custom`", s.Account, ErrNotSignedIn)
	}
	if err != nil {
		return nil, err
	}
	if access, err := s.Sealer.Open(rec.AccessToken, s.Account); err == nil && len(access) > 0 && s.fresh(rec.Expiry) {
		return &oauth2.Token{AccessToken: string(access), Expiry: rec.Expiry}, nil
	}
	refresh, err := s.Sealer.Open(rec.RefreshToken, s.Account)
	if err != nil {
		return nil, fmt.Errorf("oauth: %s: %w (was letters.secret changed?): sign in again with `outreach auth login --provider %s`",
			s.Account, err, rec.Provider)
	}
	cfg, err := s.Provider(rec.Provider)
	if err != nil {
		return nil, err
	}
	// A token with no access token always refreshes.
	tok, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: string(refresh)}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			return nil, fmt.Errorf("oauth: %s at %s: %w (%s): sign in again with `outreach auth login --provider %s`",
				s.Account, rec.Provider, ErrRevoked, describe(re), rec.Provider)
		}
		return nil, fmt.Errorf("oauth: %s: refresh the access token at %s: %w", s.Account, rec.Provider, err)
	}
	rec.AccessToken = s.Sealer.Seal([]byte(tok.AccessToken), s.Account)
	if tok.RefreshToken != "" && tok.RefreshToken != string(refresh) {
		// The provider rotated it: the old one may stop working soon.
		rec.RefreshToken = s.Sealer.Seal([]byte(tok.RefreshToken), s.Account)
	}
	// The library dates the expiry on the machine's clock; Now may be
	// another (tests move it on): keep the lifetime, on Now's clock.
	rec.Expiry = time.Time{}
	if !tok.Expiry.IsZero() {
		rec.Expiry = s.now().Add(time.Until(tok.Expiry))
	}
	rec.RefreshedAt = s.now()
	rec.Version++
	if _, err := s.Store.SaveOAuthToken(ctx, rec); err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: tok.AccessToken, Expiry: rec.Expiry}, nil
}

func describe(re *oauth2.RetrieveError) string {
	if re.ErrorDescription != "" {
		return re.ErrorCode + ": " + re.ErrorDescription
	}
	return re.ErrorCode
}

// SignIn saves a new sign-in of account, replacing any before.
func SignIn(ctx context.Context, st Store, sealer *Sealer, account, provider string, tok *oauth2.Token, now time.Time) error {
	if tok.RefreshToken == "" {
		return fmt.Errorf("oauth: %s gave no refresh token, so the sign-in could not outlive the hour: "+
			"remove the application's access in the account's security settings and sign in again", provider)
	}
	_, err := st.SaveOAuthToken(ctx, store.OAuthToken{
		Account: account, Provider: provider, SignedInAt: now, Expiry: tok.Expiry,
		RefreshToken: sealer.Seal([]byte(tok.RefreshToken), account),
		AccessToken:  sealer.Seal([]byte(tok.AccessToken), account),
	})
	return err
}
