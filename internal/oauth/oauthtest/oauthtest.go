// Package oauthtest is an OAuth2 provider for tests: an authorization
// endpoint for the browser flow with PKCE, a device authorization
// endpoint, a token endpoint issuing, refreshing (and rotating) tokens,
// and an introspection endpoint (RFC 7662) a test Dovecot asks about
// the tokens it is shown.
package oauthtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/outreach-campaign/outreach/internal/oauth"
)

// ClientID is the application the server knows.
const ClientID = "outreach-test"

// Server is a running test provider.
type Server struct {
	URL string
	// Username is the mailbox the tokens are for, as introspection names it.
	Username string

	srv *httptest.Server

	mu        sync.Mutex
	offset    time.Duration // the server's clock runs this far ahead
	ttl       time.Duration
	rotate    bool
	access    map[string]time.Time // access token: when it expires
	refresh   map[string]bool      // refresh tokens issued
	codes     map[string]codeGrant // browser flow: code to its challenge
	devices   map[string]int       // device code: polls left before approval
	refreshes int
}

type codeGrant struct{ challenge, redirect string }

// Start starts a provider whose access tokens last an hour.
func Start(tb testing.TB, username string) *Server {
	tb.Helper()
	s := &Server{Username: username, ttl: time.Hour, access: map[string]time.Time{}, refresh: map[string]bool{},
		codes: map[string]codeGrant{}, devices: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", s.authorize)
	mux.HandleFunc("POST /device", s.device)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("POST /introspect", s.introspect)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// Endpoints.
func (s *Server) AuthURL() string       { return s.URL + "/authorize" }
func (s *Server) TokenURL() string      { return s.URL + "/token" }
func (s *Server) DeviceURL() string     { return s.URL + "/device" }
func (s *Server) IntrospectURL() string { return s.URL + "/introspect" }

// Now is the server's clock: the real time, moved on by Advance.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(s.offset)
}

// Advance moves the server's clock on (tokens expire by it).
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offset += d
}

// SetTTL sets how long access tokens issued from now on last (an hour by
// default). One shorter than oauth.DefaultMargin is replaced at every use.
func (s *Server) SetTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ttl = d
}

// Rotate makes every refresh issue a new refresh token too (the old one
// keeps working, as at Microsoft).
func (s *Server) Rotate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate = true
}

// Revoke makes every refresh token issued so far invalid, as when the
// account's owner removes the application's access: refreshing with one
// then fails invalid_grant. A new sign-in gets a working one.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.refresh {
		s.refresh[t] = false
	}
}

// SignIn stores a sign-in of account, as `outreach auth login` would
// after signing in here (a refresh token, no access token yet: the first
// connection refreshes), and returns a token source for it on the
// server's clock.
func (s *Server) SignIn(tb testing.TB, st oauth.Store, account string) *oauth.Source {
	tb.Helper()
	sealer, err := oauth.NewSealer([]byte("oauthtest-sealing-secret"))
	if err != nil {
		tb.Fatal(err)
	}
	tok := &oauth2.Token{RefreshToken: s.IssueRefreshToken()}
	if err := oauth.SignIn(context.Background(), st, sealer, account, oauth.Custom, tok, s.Now()); err != nil {
		tb.Fatal(err)
	}
	settings := s.Settings()
	return &oauth.Source{Account: account, Store: st, Sealer: sealer, Now: s.Now,
		Provider: func(name string) (*oauth2.Config, error) {
			p, err := oauth.Lookup(name, settings)
			if err != nil {
				return nil, err
			}
			return p.Config(settings), nil
		}}
}

// Settings are the oauth settings of a custom provider that is this server.
func (s *Server) Settings() oauth.Settings {
	return oauth.Settings{ClientID: ClientID, AuthURL: s.AuthURL(), TokenURL: s.TokenURL(), DeviceURL: s.DeviceURL(),
		Scopes: []string{"mail"}}
}

// Refreshes counts the successful refresh_token grants.
func (s *Server) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

// Valid says whether an access token was issued here and has not expired.
func (s *Server) Valid(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.access[token]
	return ok && time.Now().Add(s.offset).Before(exp)
}

// IssueRefreshToken makes a refresh token as a sign-in would have.
func (s *Server) IssueRefreshToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := "refresh-" + random()
	s.refresh[t] = true
	return t
}

func random() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != ClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("redirect_uri") == "" {
		http.Error(w, "bad authorization request (PKCE with S256 is required)", http.StatusBadRequest)
		return
	}
	code := "code-" + random()
	s.mu.Lock()
	s.codes[code] = codeGrant{challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	s.mu.Unlock()
	// The user signed in and consented: back to the application.
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := url.Values{"code": {code}, "state": {q.Get("state")}}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (s *Server) device(w http.ResponseWriter, r *http.Request) {
	if r.FormValue("client_id") != ClientID {
		oauthError(w, "invalid_client")
		return
	}
	code := "device-" + random()
	s.mu.Lock()
	s.devices[code] = 1 // the first poll finds the user still signing in
	s.mu.Unlock()
	writeJSON(w, map[string]any{"device_code": code, "user_code": "WDJB-MJHT", "verification_uri": s.URL + "/activate",
		"expires_in": 600, "interval": 1})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	id, _, ok := r.BasicAuth()
	if !ok {
		id = r.FormValue("client_id")
	}
	if id != ClientID {
		oauthError(w, "invalid_client")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.FormValue("grant_type") {
	case "authorization_code":
		g, ok := s.codes[r.FormValue("code")]
		delete(s.codes, r.FormValue("code"))
		sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
		if !ok || g.redirect != r.FormValue("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			oauthError(w, "invalid_grant")
			return
		}
		s.issue(w, true)
	case "urn:ietf:params:oauth:grant-type:device_code":
		left, ok := s.devices[r.FormValue("device_code")]
		switch {
		case !ok:
			oauthError(w, "invalid_grant")
		case left > 0:
			s.devices[r.FormValue("device_code")] = left - 1
			oauthError(w, "authorization_pending")
		default:
			delete(s.devices, r.FormValue("device_code"))
			s.issue(w, true)
		}
	case "refresh_token":
		if !s.refresh[r.FormValue("refresh_token")] {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant",
				"error_description": "Token has been expired or revoked."})
			return
		}
		s.refreshes++
		s.issue(w, s.rotate)
	default:
		oauthError(w, "unsupported_grant_type")
	}
}

// issue answers with a new access token (and refresh token); s.mu is held.
func (s *Server) issue(w http.ResponseWriter, withRefresh bool) {
	access := "access-" + random()
	s.access[access] = time.Now().Add(s.offset).Add(s.ttl)
	resp := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(s.ttl / time.Second)}
	if withRefresh {
		rt := "refresh-" + random()
		s.refresh[rt] = true
		resp["refresh_token"] = rt
	}
	writeJSON(w, resp)
}

// introspect answers as RFC 7662 says, in the form Dovecot's oauth2
// passdb reads (username_attribute = username, active_attribute = active).
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	if s.Valid(r.FormValue("token")) {
		writeJSON(w, map[string]any{"active": true, "username": s.Username})
		return
	}
	writeJSON(w, map[string]any{"active": false})
}

func oauthError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
