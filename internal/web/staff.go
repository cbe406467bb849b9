package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/outreach-campaign/outreach/internal/auth"
	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/queue"
	"github.com/outreach-campaign/outreach/internal/store"
)

// Staff is what the staff pages and the staff API need. Every one of their
// routes requires a session (pages, with a CSRF token on every form) or an
// API token (scripts).
type Staff struct {
	Store     store.Store
	Auth      *auth.Service
	Scheduler *queue.Scheduler
	Composer  *letter.Composer
	// Mailer sends staff their test copies of a wave's letters; without
	// one the wave page offers none.
	Mailer queue.Mailer
	// Now is the clock of the pages (wave times, charts); tests set it.
	Now func() time.Time
}

// sessionCookie holds a logged-in browser's session token.
const sessionCookie = "outreach_session"

// WithStaff adds the staff UI, the staff API and the public status page to
// the server. Their templates are parsed and checked here.
func (s *Server) WithStaff(st *Staff) error {
	if st.Now == nil {
		st.Now = time.Now
	}
	tpl, err := loadStaffPages()
	if err != nil {
		return err
	}
	s.staff, s.staffPages = st, tpl
	return nil
}

// who is the staff member a request acts for, with its session (none for
// an API token).
type who struct {
	staff   store.Staff
	session store.Session
	viaAPI  bool
}

type whoKey struct{}

func whoFrom(ctx context.Context) who {
	w, _ := ctx.Value(whoKey{}).(who)
	return w
}

// requireStaff lets a request through with a session cookie or an API
// token. Without one, a page redirects to the login page and the API
// answers 401. A request that changes something with a session must carry
// the session's CSRF token (a form field, or the X-CSRF-Token header).
func (s *Server) requireStaff(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		api := strings.HasPrefix(r.URL.Path, "/api/")
		var id who
		if h := r.Header.Get("Authorization"); h != "" {
			token, ok := strings.CutPrefix(h, "Bearer ")
			st, err := s.staff.Auth.APIToken(r.Context(), strings.TrimSpace(token))
			if !ok || err != nil {
				if err != nil && !errors.Is(err, auth.ErrNoSession) {
					s.log.Error("web: check API token", "err", err)
				}
				s.unauthorized(w, r, api)
				return
			}
			id = who{staff: st, viaAPI: true}
		} else {
			ck, _ := r.Cookie(sessionCookie)
			token := ""
			if ck != nil {
				token = ck.Value
			}
			sess, st, err := s.staff.Auth.Session(r.Context(), token)
			if err != nil {
				if !errors.Is(err, auth.ErrNoSession) {
					s.log.Error("web: check session", "err", err)
				}
				s.unauthorized(w, r, api)
				return
			}
			id = who{staff: st, session: sess}
			if unsafe(r.Method) {
				tok := r.Header.Get("X-CSRF-Token")
				if tok == "" {
					tok = r.PostFormValue(csrfField)
				}
				if !auth.ValidCSRF(sess, tok) {
					s.staffError(w, r, http.StatusForbidden, "This form has expired or did not come from this site: reload the page and try again.")
					return
				}
			}
		}
		next(w, r.WithContext(context.WithValue(r.Context(), whoKey{}, id)))
	}
}

func unsafe(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, api bool) {
	if api {
		w.Header().Set("WWW-Authenticate", `Bearer realm="outreach"`)
		writeJSON(w, http.StatusUnauthorized, apiError{Error: "unauthorized", Message: "log in, or send an API token as Authorization: Bearer TOKEN"})
		return
	}
	next := r.URL.RequestURI()
	if unsafe(r.Method) {
		next = r.Header.Get("Referer")
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(safeNext(next)), http.StatusSeeOther)
}

// safeNext keeps a redirect target on this site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	return u.RequestURI()
}

// staffPage is what every staff page shows: its title, the navigation, the
// staff member and the CSRF token for its forms.
type staffPage struct {
	Title   string
	Section string
	Email   string
	CSRF    string
	Flash   string
}

func (s *Server) newStaffPage(r *http.Request, section, title string) staffPage {
	id := whoFrom(r.Context())
	return staffPage{Title: title, Section: section, Email: id.staff.Email, CSRF: id.session.CSRFToken, Flash: flash(r.URL.Query())}
}

// staffTemplates holds the staff pages, each filling in staff/layout.html.
type staffTemplates map[string]*template.Template

var staffPageNames = []string{
	"login", "home", "campaigns", "campaign", "waves", "wave_new", "wave_preview", "wave", "letter", "targets", "target",
	"supporters", "charts", "error", "status", "replies", "reply", "reply_reject",
}

var staffFuncs = template.FuncMap{
	"date":  func(d campaign.Date) string { return d.String() },
	"when":  fmtWhen,
	"place": letter.PlaceName,
	// holder names an office's holder as staff read it: "premier of
	// British Columbia".
	"holder": func(t campaign.Target) string { return t.Title.Of("en", letter.PlaceName(t.City)) },
	"join":   strings.Join,
	"add":    func(a, b int) int { return a + b },
	"svg":    func(s string) template.HTML { return template.HTML(s) }, // our own chart SVG, escaped where it is drawn
	// ids and number write campaigns' numbers as staff see and type
	// them everywhere: "#19, #24".
	"ids":    campaign.Numbers,
	"number": campaign.Number,
	"days":   func(d time.Duration) string { return fmt.Sprintf("%d days", int(d.Hours()/24)) },
	"title":  func(s string) string { return strings.ToUpper(s[:1]) + s[1:] },
	"states": func() []campaign.LetterState {
		return campaign.LetterStates
	},
	"count": func(m map[campaign.LetterState]int, st any) int { return m[campaign.LetterState(fmt.Sprint(st))] },
}

func loadStaffPages() (staffTemplates, error) {
	layout, err := template.New("layout.html").Funcs(staffFuncs).ParseFS(templateFS, "templates/staff/layout.html", "templates/staff/partials.html")
	if err != nil {
		return nil, fmt.Errorf("web: staff templates: %w", err)
	}
	out := staffTemplates{}
	for _, name := range staffPageNames {
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, "templates/staff/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template staff/%s.html: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// renderStaff writes a staff page, rendered in full first.
func (s *Server) renderStaff(w http.ResponseWriter, status int, name string, data any) {
	var b bytes.Buffer
	if err := s.staffPages[name].Execute(&b, data); err != nil {
		s.log.Error("web: render staff page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

type staffErrorPage struct {
	staffPage
	Message string
}

// staffError answers a staff request that failed: JSON for the API, a page
// otherwise.
func (s *Server) staffError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, status, apiError{Error: strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_")), Message: msg})
		return
	}
	s.renderStaff(w, status, "error", staffErrorPage{staffPage: s.newStaffPage(r, "", http.StatusText(status)), Message: msg})
}

// staffFail maps an error from below to a status: not found, a conflict
// of states (with its reason in words), or an internal error (logged, not
// shown).
func (s *Server) staffFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, campaign.ErrNotFound):
		s.staffError(w, r, http.StatusNotFound, "Not found.")
	case errors.Is(err, store.ErrConflict):
		msg := reason(err)
		if msg == "" {
			msg = "That cannot be done in its present state."
		}
		s.staffError(w, r, http.StatusConflict, msg)
	default:
		s.log.Error("web: staff request", "path", r.URL.Path, "err", err)
		s.staffError(w, r, http.StatusInternalServerError, "Something went wrong; it has been logged.")
	}
}

func fmtWhen(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
