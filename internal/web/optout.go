package web

import (
	"errors"
	"net/http"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// An office's one-click opt-out (RFC 8058). Its letters carry
// List-Unsubscribe: <BASE/optout/TOKEN> and List-Unsubscribe-Post: the
// office's mail client (or provider, on its behalf) POSTs
// "List-Unsubscribe=One-Click" to the link, and the office is marked
// do-not-contact. No CSRF token can come with such a POST: the signed
// token, which names the office, is the proof. A GET, which link
// scanners make, only shows a page with a button that makes the same
// POST.

// optOutReason is what staff read on the office's page.
const optOutReason = "the office's one-click opt-out (the List-Unsubscribe link of a letter)"

type optOutPage struct {
	base
	Body, Submit, Action string
}

// optOutTarget is the office a token names, or false after answering a
// forged or unknown one.
func (s *Server) optOutTarget(w http.ResponseWriter, r *http.Request, lang string) (campaign.Target, bool) {
	id, ok := s.staff.Composer.Signer.ParseOptOutToken(r.PathValue("token"))
	if !ok {
		s.failLang(w, r, lang, http.StatusBadRequest, "error.bad_link")
		return campaign.Target{}, false
	}
	t, err := s.staff.Store.TargetByID(r.Context(), id)
	if errors.Is(err, campaign.ErrNotFound) {
		s.failLang(w, r, lang, http.StatusNotFound, "error.bad_link")
		return t, false
	}
	if err != nil {
		s.log.Error("web: opt-out: read the office", "target", id, "err", err)
		s.failLang(w, r, lang, http.StatusInternalServerError, "error.internal")
		return t, false
	}
	return t, true
}

func (s *Server) optOutForm(w http.ResponseWriter, r *http.Request) {
	t, ok := s.optOutTarget(w, r, pageLang(r))
	if !ok {
		return
	}
	lang := negotiate(r, t.Language)
	tr := translator(lang)
	if t.DoNotContact {
		s.render(w, http.StatusOK, lang, "outcome", outcomePage{base: newBase(r, lang, tr("optout.title")), Message: tr("optout.done")})
		return
	}
	s.render(w, http.StatusOK, lang, "optout", optOutPage{
		base: newBase(r, lang, tr("optout.title")), Body: tr("optout.body"), Submit: tr("optout.submit"), Action: r.URL.Path,
	})
}

func (s *Server) optOut(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	lang := pageLang(r)
	t, ok := s.optOutTarget(w, r, lang)
	if !ok {
		return
	}
	lang = negotiate(r, t.Language)
	// RFC 8058 3.1: the POST's body is "List-Unsubscribe=One-Click".
	if r.PostFormValue("List-Unsubscribe") != "One-Click" {
		s.failLang(w, r, lang, http.StatusBadRequest, "error.bad_optout")
		return
	}
	marked, err := s.staff.Store.OptOut(r.Context(), t.ID, optOutReason, s.staff.Now())
	if err != nil {
		s.log.Error("web: opt-out: mark the office", "target", t.ID, "err", err)
		s.failLang(w, r, lang, http.StatusInternalServerError, "error.internal")
		return
	}
	if marked {
		s.log.Info("web: an office opted out: marked do-not-contact", "target", t.ID, "office", t.Email)
	}
	tr := translator(lang)
	s.render(w, http.StatusOK, lang, "outcome", outcomePage{base: newBase(r, lang, tr("optout.title")), Message: tr("optout.done")})
}
