package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/outreach-campaign/outreach/internal/auth"
)

type loginPage struct {
	staffPage
	Next    string
	Typed   string // the address as typed, shown again after a failure
	Problem string
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.showLogin(w, r, http.StatusOK, "", "")
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request, status int, email, problem string) {
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostFormValue("next")
	}
	p := loginPage{staffPage: staffPage{Title: "Log in", CSRF: s.csrf.token(w, r)}, Next: safeNext(next), Typed: email, Problem: problem}
	s.renderStaff(w, status, "login", p)
}

// login checks the password and opens a session. The form is protected by
// the double-submit CSRF cookie (there is no session yet), so that another
// site cannot log a browser into an account of its choosing.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.csrf.valid(r) {
		s.showLogin(w, r, http.StatusForbidden, "", "This form has expired: please try again.")
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	token, sess, err := s.staff.Auth.Login(r.Context(), email, r.PostFormValue("password"), clientIP(r, s.cfg.RealIPHeader))
	var th *auth.ThrottledError
	switch {
	case errors.As(err, &th):
		secs := int(math.Ceil(th.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		s.showLogin(w, r, http.StatusTooManyRequests, email, fmt.Sprintf("Too many failed logins. Try again in %d seconds.", secs))
		return
	case errors.Is(err, auth.ErrBadCredentials):
		s.showLogin(w, r, http.StatusUnauthorized, email, "Wrong e-mail address or password.")
		return
	case err != nil:
		s.log.Error("web: login", "err", err)
		s.showLogin(w, r, http.StatusInternalServerError, email, "Logging in failed; it has been logged.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		// MaxAge, not Expires: the browser's clock need not agree with ours.
		Name: sessionCookie, Value: token, Path: "/", MaxAge: int(sess.ExpiresAt.Sub(sess.CreatedAt).Seconds()),
		HttpOnly: true, Secure: s.csrf.secure, SameSite: http.SameSiteLaxMode,
	})
	s.log.Info("staff logged in", "staff", email)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if err := s.staff.Auth.Logout(r.Context(), ck.Value); err != nil {
			s.log.Error("web: logout", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.csrf.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
