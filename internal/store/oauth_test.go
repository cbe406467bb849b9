package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

func TestOAuthTokenSaveCompareAndSet(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.OAuthToken(ctx, "campaign@example.org"); !errors.Is(err, campaign.ErrNotFound) {
		t.Fatalf("no sign-in yet: got %v, want ErrNotFound", err)
	}
	signedIn := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	first, err := s.SaveOAuthToken(ctx, OAuthToken{Account: "campaign@example.org", Provider: "google",
		RefreshToken: []byte("sealed-refresh-1"), AccessToken: []byte("sealed-access-1"),
		Expiry: signedIn.Add(time.Hour), SignedInAt: signedIn})
	if err != nil {
		t.Fatal(err)
	}
	if first.Version != 1 {
		t.Fatalf("first save: version %d, want 1", first.Version)
	}

	// Two processes read version 1 and refresh: the first save wins, the
	// second is told to read again.
	a, b := first, first
	a.Version, b.Version = 2, 2
	a.AccessToken, b.AccessToken = []byte("sealed-access-a"), []byte("sealed-access-b")
	a.RefreshedAt = signedIn.Add(50 * time.Minute)
	if _, err := s.SaveOAuthToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveOAuthToken(ctx, b); !errors.Is(err, ErrConflict) {
		t.Fatalf("second refresh on the same version: got %v, want ErrConflict", err)
	}
	got, err := s.OAuthToken(ctx, "campaign@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if string(got.AccessToken) != "sealed-access-a" || got.Version != 2 || !got.RefreshedAt.Equal(a.RefreshedAt) ||
		!got.Expiry.Equal(signedIn.Add(time.Hour)) || got.Provider != "google" || string(got.RefreshToken) != "sealed-refresh-1" {
		t.Fatalf("stored %+v", got)
	}

	// A new sign-in (version 0) replaces whatever is there.
	again, err := s.SaveOAuthToken(ctx, OAuthToken{Account: "campaign@example.org", Provider: "microsoft",
		RefreshToken: []byte("sealed-refresh-2"), AccessToken: []byte("x"), SignedInAt: signedIn.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if again.Version != 3 {
		t.Fatalf("new sign-in: version %d, want 3", again.Version)
	}
	list, err := s.OAuthTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Provider != "microsoft" || !list[0].Expiry.IsZero() {
		t.Fatalf("list %+v", list)
	}
}
