package mailer_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
	"github.com/outreach-campaign/outreach/internal/oauth"
	"github.com/outreach-campaign/outreach/internal/oauth/oauthtest"
	"github.com/outreach-campaign/outreach/internal/store"
)

// signedIn returns a token source for user, signed in at provider p.
func signedIn(t *testing.T, p *oauthtest.Server, user string) *oauth.Source {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "oauth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return p.SignIn(t, st, user)
}

// TestSendWithOAuth2 sends letters to a server that takes only OAuth2
// bearer tokens, with each mechanism: an access token that expires between
// two letters is refreshed on the next connection and no letter fails; a
// revoked sign-in is a temporary failure that says what to do.
func TestSendWithOAuth2(t *testing.T) {
	const user = "campaign@outreach.example"
	for _, mech := range []string{oauth.AuthXOAuth2, oauth.AuthOAuthBearer} {
		t.Run(mech, func(t *testing.T) {
			ctx := context.Background()
			p := oauthtest.Start(t, user)
			src := signedIn(t, p, user)
			s := smtptest.Start(t, smtptest.WithOAuth(user, p.Valid))
			m := newMailer(t, s, mailer.Config{
				SASL: oauth.Authenticator{Mechanism: mech, User: user, Host: s.Host, Port: s.Port, Tokens: src}.SASL,
			})
			if _, err := m.Send(ctx, letter(t, "mayor@city.example", "<w1-t1@outreach.example>")); err != nil {
				t.Fatal(err)
			}
			// Two hours on, the server no longer takes the first token;
			// the session it authenticated is gone too.
			p.Advance(2 * time.Hour)
			s.DropConnections()
			if _, err := m.Send(ctx, letter(t, "mayor@town.example", "<w1-t2@outreach.example>")); err != nil {
				t.Fatalf("letter after the access token expired: %v", err)
			}
			msgs := s.Messages()
			if len(msgs) != 2 || p.Refreshes() != 2 {
				t.Fatalf("%d letters after %d refreshes, want 2 after 2", len(msgs), p.Refreshes())
			}
			want := map[string]string{oauth.AuthXOAuth2: "XOAUTH2", oauth.AuthOAuthBearer: "OAUTHBEARER"}[mech]
			for _, msg := range msgs {
				if msg.Mechanism != want {
					t.Errorf("letter %s came in over %q, want %q", msg.MessageID, msg.Mechanism, want)
				}
			}

			p.Revoke()
			p.Advance(2 * time.Hour)
			s.DropConnections()
			_, err := m.Send(ctx, letter(t, "mayor@village.example", "<w1-t3@outreach.example>"))
			var me *mailer.Error
			if !errors.As(err, &me) || me.Kind != mailer.Temporary || !errors.Is(err, oauth.ErrRevoked) {
				t.Fatalf("revoked sign-in: got %v, want a temporary failure wrapping oauth.ErrRevoked", err)
			}
			if !strings.Contains(err.Error(), "outreach auth login") {
				t.Errorf("error %q does not say how to sign in again", err)
			}
			if s.Count() != 2 {
				t.Fatalf("%d letters accepted, want still 2", s.Count())
			}
		})
	}
}

// TestSendOAuth2TokenRefused: a token the server does not accept fails at
// connect with the server's 535, not with a letter sent without login.
func TestSendOAuth2TokenRefused(t *testing.T) {
	const user = "campaign@outreach.example"
	for _, mech := range []string{oauth.AuthXOAuth2, oauth.AuthOAuthBearer} {
		t.Run(mech, func(t *testing.T) {
			p := oauthtest.Start(t, user)
			s := smtptest.Start(t, smtptest.WithOAuth(user, func(string) bool { return false }))
			m := newMailer(t, s, mailer.Config{
				SASL: oauth.Authenticator{Mechanism: mech, User: user, Tokens: signedIn(t, p, user)}.SASL,
			})
			_, err := m.Send(context.Background(), letter(t, "mayor@city.example", "<w1-t1@outreach.example>"))
			var me *mailer.Error
			if !errors.As(err, &me) || me.Stage != mailer.StageConnect || !strings.Contains(err.Error(), "auth") {
				t.Fatalf("refused token: got %v, want a failure to log in at connect", err)
			}
			if s.Count() != 0 {
				t.Fatal("a letter was accepted")
			}
		})
	}
}
