// Package web is the HTTP side of outreach: the supporters' pages (a page
// per campaign with its form, and the confirmation and withdrawal pages
// that links in mails open) and the JSON API. Pages are rendered on the
// server from templates embedded in the binary, parsed once at start; they
// work without JavaScript and load nothing from elsewhere.
//
// A Server holds what the handlers share; routes.go lists every route,
// and each page has a file of its own. Middleware (middleware.go) sets
// security headers on every response and refuses cross-origin form posts;
// forms also carry a CSRF token (csrf.go).
package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/outreach-campaign/outreach/internal/supporters"
)

// Config is what the server needs to know of its settings.
type Config struct {
	// BaseURL is where people reach the server; an https URL turns on
	// Secure cookies and HSTS.
	BaseURL string
	// RealIPHeader names the header a reverse proxy puts the client's
	// address in, and the proxies it is believed from; zero: the
	// connection's address.
	RealIPHeader ProxyHeader
	// Secret keys the CSRF tokens (at least 16 bytes).
	Secret []byte
	// KeepForDays is how long supporters' data is kept after delivery,
	// as the privacy note says.
	KeepForDays int
	Log         *slog.Logger
}

// Server serves the pages and the API.
type Server struct {
	cfg        Config
	supporters *supporters.Service
	pages      *pages
	csrf       *csrf
	log        *slog.Logger
	// staff and staffPages serve the staff UI, once WithStaff is called.
	staff      *Staff
	staffPages staffTemplates
}

// New returns a Server taking supporters' letters through sup. Its
// templates are parsed and checked here.
func New(cfg Config, sup *supporters.Service) (*Server, error) {
	if len(cfg.Secret) < 16 {
		return nil, errors.New("web: the secret must be at least 16 bytes")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Host == "" {
		return nil, errors.New("web: the base URL is not a URL")
	}
	pg, err := loadPages()
	if err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	secure := strings.EqualFold(u.Scheme, "https")
	return &Server{
		cfg: cfg, supporters: sup, pages: pg, log: log,
		csrf: &csrf{key: cfg.Secret, secure: secure},
	}, nil
}

// Handler returns the server's handler: every route behind the
// middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	if s.staff != nil {
		s.staffRoutes(mux)
	}
	cop := http.NewCrossOriginProtection()
	// An office's opt-out is posted by its mail client or provider from
	// anywhere (RFC 8058); its signed token is the proof, not the origin.
	cop.AddInsecureBypassPattern("POST /optout/{token}")
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusForbidden, "error.csrf")
	}))
	return s.recoverer(s.securityHeaders(cop.Handler(mux)))
}
