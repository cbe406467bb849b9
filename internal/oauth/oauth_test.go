package oauth_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/outreach-campaign/outreach/internal/oauth"
	"github.com/outreach-campaign/outreach/internal/oauth/oauthtest"
	"github.com/outreach-campaign/outreach/internal/store"
)

const account = "campaign@example.org"

func openStore(t *testing.T) *store.SQLite {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "oauth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func sealer(t *testing.T) *oauth.Sealer {
	t.Helper()
	s, err := oauth.NewSealer([]byte("0123456789abcdef-letters-secret"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func custom(p *oauthtest.Server) oauth.Settings {
	return oauth.Settings{ClientID: oauthtest.ClientID, AuthURL: p.AuthURL(), TokenURL: p.TokenURL(),
		DeviceURL: p.DeviceURL(), Scopes: []string{"mail"}}
}

// source signs account in with a refresh token the provider issued and
// returns a Source on the provider's clock.
func source(t *testing.T, p *oauthtest.Server, st oauth.Store, s *oauth.Sealer) *oauth.Source {
	t.Helper()
	tok := &oauth2.Token{RefreshToken: p.IssueRefreshToken(), AccessToken: "expired-long-ago", Expiry: p.Now().Add(-time.Hour)}
	if err := oauth.SignIn(context.Background(), st, s, account, oauth.Custom, tok, p.Now()); err != nil {
		t.Fatal(err)
	}
	return newSource(p, st, s)
}

func newSource(p *oauthtest.Server, st oauth.Store, s *oauth.Sealer) *oauth.Source {
	return &oauth.Source{Account: account, Store: st, Sealer: s, Now: p.Now,
		Provider: func(name string) (*oauth2.Config, error) {
			prov, err := oauth.Lookup(name, custom(p))
			if err != nil {
				return nil, err
			}
			return prov.Config(custom(p)), nil
		}}
}

func TestSourceRefreshesBeforeExpiryAndSharesThroughTheStore(t *testing.T) {
	ctx := context.Background()
	p := oauthtest.Start(t, "campaign")
	p.Rotate()
	st, s := openStore(t), sealer(t)
	src := source(t, p, st, s)

	first, err := src.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Valid(first) || p.Refreshes() != 1 {
		t.Fatalf("first token %q valid=%v after %d refreshes; want a valid one after 1", first, p.Valid(first), p.Refreshes())
	}
	// Another process (another Source on the same store) takes the token
	// saved, without a refresh of its own.
	other := newSource(p, st, s)
	if got, err := other.Token(ctx); err != nil || got != first {
		t.Fatalf("other process: %q, %v; want %q from the store", got, err, first)
	}
	if p.Refreshes() != 1 {
		t.Fatalf("%d refreshes, want still 1", p.Refreshes())
	}
	rec, err := st.OAuthToken(ctx, account)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(rec.RefreshToken, []byte("refresh-")) || bytes.Contains(rec.AccessToken, []byte(first)) {
		t.Fatal("a token is stored in clear")
	}
	rotated, err := s.Open(rec.RefreshToken, account)
	if err != nil {
		t.Fatal(err)
	}

	// 59 minutes on, the token is within the margin of its expiry: a new one.
	p.Advance(59 * time.Minute)
	second, err := other.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second == first || !p.Valid(second) || p.Refreshes() != 2 {
		t.Fatalf("after 59 minutes: %q (first %q), %d refreshes", second, first, p.Refreshes())
	}
	// The first process, whose cached token is now too old, takes the new one.
	if got, err := src.Token(ctx); err != nil || got != second {
		t.Fatalf("first process after the other's refresh: %q, %v; want %q", got, err, second)
	}
	rec, _ = st.OAuthToken(ctx, account)
	again, _ := s.Open(rec.RefreshToken, account)
	if string(again) == string(rotated) || !strings.HasPrefix(string(again), "refresh-") {
		t.Fatalf("the rotated refresh token was not saved back: %q then %q", rotated, again)
	}
}

func TestSourceConcurrentCallersRefreshOnce(t *testing.T) {
	p := oauthtest.Start(t, "campaign")
	st, s := openStore(t), sealer(t)
	src := source(t, p, st, s)
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	for i := range tokens {
		wg.Go(func() {
			tok, err := src.Token(context.Background())
			if err != nil {
				t.Error(err)
			}
			tokens[i] = tok
		})
	}
	wg.Wait()
	for _, tok := range tokens {
		if tok != tokens[0] {
			t.Fatalf("callers got different tokens: %q", tokens)
		}
	}
	if p.Refreshes() != 1 {
		t.Fatalf("%d refreshes, want 1", p.Refreshes())
	}
}

func TestSourceRevokedAndNotSignedIn(t *testing.T) {
	ctx := context.Background()
	p := oauthtest.Start(t, "campaign")
	st, s := openStore(t), sealer(t)
	if _, err := newSource(p, st, s).Token(ctx); !errors.Is(err, oauth.ErrNotSignedIn) ||
		!strings.Contains(err.Error(), "outreach auth login") {
		t.Fatalf("no sign-in: got %v", err)
	}
	src := source(t, p, st, s)
	p.Revoke()
	_, err := src.Token(ctx)
	if !errors.Is(err, oauth.ErrRevoked) {
		t.Fatalf("revoked: got %v, want ErrRevoked", err)
	}
	for _, want := range []string{account, "invalid_grant", "outreach auth login --provider custom"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("revoked error %q does not say %q", err, want)
		}
	}
}

func TestSealerBindsAccountAndKeepsPreviousSecrets(t *testing.T) {
	old, err := oauth.NewSealer([]byte("the-old-letters-secret"))
	if err != nil {
		t.Fatal(err)
	}
	sealed := old.Seal([]byte("refresh-1"), account)
	if _, err := old.Open(sealed, "other@example.org"); !errors.Is(err, oauth.ErrUnsealable) {
		t.Fatalf("opened for another account: %v", err)
	}
	if _, err := sealer(t).Open(sealed, account); !errors.Is(err, oauth.ErrUnsealable) {
		t.Fatalf("opened with another secret: %v", err)
	}
	rotated, err := oauth.NewSealer([]byte("the-new-letters-secret"), []byte("the-old-letters-secret"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.Open(sealed, account); err != nil || string(got) != "refresh-1" {
		t.Fatalf("previous secret: %q, %v", got, err)
	}
}

func TestDeviceLogin(t *testing.T) {
	p := oauthtest.Start(t, "campaign")
	prov, err := oauth.Lookup(oauth.Custom, custom(p))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, err := oauth.DeviceLogin(ctx, prov.Config(custom(p)), &out)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Valid(tok.AccessToken) || !strings.HasPrefix(tok.RefreshToken, "refresh-") {
		t.Fatalf("token %+v", tok)
	}
	if want := "open " + p.URL + "/activate in a browser and enter the code WDJB-MJHT"; !strings.Contains(out.String(), want) {
		t.Fatalf("output %q does not say %q", out.String(), want)
	}
}

func TestBrowserLoginWithPKCE(t *testing.T) {
	p := oauthtest.Start(t, "campaign")
	prov, err := oauth.Lookup(oauth.Custom, custom(p))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	// The "browser": follows the provider's redirect to the loopback address.
	browser := func(u string) error {
		if !strings.Contains(u, "code_challenge_method=S256") || !strings.Contains(u, "redirect_uri=http%3A%2F%2F127.0.0.1%3A") {
			t.Errorf("authorization URL %s lacks PKCE or the loopback redirect", u)
		}
		// A forged redirect, without our state, is turned away and changes nothing.
		forged, err := http.Get(strings.Split(strings.Split(u, "redirect_uri=")[1], "&")[0])
		if err == nil {
			forged.Body.Close()
		}
		resp, err := http.Get(u)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("loopback page: %s", resp.Status)
		}
		return nil
	}
	tok, err := oauth.BrowserLogin(ctx, prov.Config(custom(p)), 0, &out, func(u string) error { go browser(u); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !p.Valid(tok.AccessToken) || tok.RefreshToken == "" {
		t.Fatalf("token %+v", tok)
	}
	if !strings.Contains(out.String(), p.AuthURL()+"?") {
		t.Fatalf("output %q does not show the address to open", out.String())
	}
}

func TestLookup(t *testing.T) {
	g, err := oauth.Lookup(oauth.Google, oauth.Settings{})
	if err != nil || g.DeviceURL != "" || len(g.Scopes) != 1 || g.Scopes[0] != "https://mail.google.com/" {
		t.Fatalf("google: %+v, %v", g, err)
	}
	m, err := oauth.Lookup(oauth.Microsoft, oauth.Settings{Tenant: "example.org"})
	if err != nil || m.DeviceURL != "https://login.microsoftonline.com/example.org/oauth2/v2.0/devicecode" {
		t.Fatalf("microsoft: %+v, %v", m, err)
	}
	for _, tt := range []struct {
		name string
		s    oauth.Settings
		want string
	}{
		{"yahoo", oauth.Settings{}, `provider "yahoo" is not one of google, microsoft, custom`},
		{oauth.Custom, oauth.Settings{AuthURL: "https://a", Scopes: []string{"x"}}, "oauth.token_url is empty"},
		{oauth.Custom, oauth.Settings{TokenURL: "https://t", Scopes: []string{"x"}}, "oauth.device_url"},
		{oauth.Custom, oauth.Settings{TokenURL: "https://t", DeviceURL: "https://d"}, "oauth.scopes is empty"},
	} {
		if _, err := oauth.Lookup(tt.name, tt.s); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Lookup(%s, %+v): %v, want %q", tt.name, tt.s, err, tt.want)
		}
	}
}

// racingStore lets another process refresh and save between this
// process's refresh and its save, once.
type racingStore struct {
	oauth.Store
	other func()
	once  sync.Once
}

func (r *racingStore) SaveOAuthToken(ctx context.Context, t store.OAuthToken) (store.OAuthToken, error) {
	r.once.Do(r.other)
	return r.Store.SaveOAuthToken(ctx, t)
}

// TestSourceRefreshRaceKeepsOneToken: two processes refresh at the same
// moment; the one that saves second is refused (compare-and-set) and
// takes the token the first saved, so every process uses the same one.
func TestSourceRefreshRaceKeepsOneToken(t *testing.T) {
	ctx := context.Background()
	p := oauthtest.Start(t, "campaign")
	st, s := openStore(t), sealer(t)
	source(t, p, st, s)
	var otherToken string
	race := &racingStore{Store: st}
	race.other = func() {
		var err error
		if otherToken, err = newSource(p, st, s).Token(ctx); err != nil {
			t.Error(err)
		}
	}
	got, err := newSource(p, race, s).Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != otherToken || !p.Valid(got) {
		t.Fatalf("the slower process uses %q, the other saved %q", got, otherToken)
	}
	rec, err := st.OAuthToken(ctx, account)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := s.Open(rec.AccessToken, account)
	if string(stored) != otherToken || rec.Version != 2 || p.Refreshes() != 2 {
		t.Fatalf("stored %q version %d after %d refreshes; want the first saved, version 2, 2 refreshes", stored, rec.Version, p.Refreshes())
	}
}
