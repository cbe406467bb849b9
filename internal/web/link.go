package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/supporters"
)

// linkKind is one of the two links of a confirmation mail.
type linkKind struct {
	action              supporters.Action
	title, body, submit string // message keys
	done, again         string
}

var (
	linkConfirm = linkKind{action: supporters.ActionConfirm, title: "confirm.title", body: "confirm.body",
		submit: "confirm.submit", done: "confirm.done", again: "confirm.again"}
	linkWithdraw = linkKind{action: supporters.ActionWithdraw, title: "withdraw.title", body: "withdraw.body",
		submit: "withdraw.submit", done: "withdraw.done", again: "withdraw.again"}
)

// linkPage asks the supporter to press the button; nothing changes until
// they do.
type linkPage struct {
	base
	Body, Submit, Action, CSRF string
	// Letter is what a confirmation link confirms, shown before its
	// button so that nobody confirms words they have not read.
	Letter *letterView
}

// letterView is a supporter's letter as the confirmation page shows it.
type letterView struct {
	Office, Name, Place string
	Paragraphs          []string
	// Replaces says what confirming it does to the address's earlier
	// letter, if any.
	Replaces string
}

func newLetterView(tr func(string, ...any) string, o supporters.Outcome) *letterView {
	l := o.Letter
	v := &letterView{Office: addressee(o.Target) + ", " + campaignPlace(o.Campaign), Name: l.Name, Place: l.Country}
	if l.City != "" {
		v.Place = l.City + ", " + l.Country
	}
	for _, p := range strings.Split(l.Message, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			v.Paragraphs = append(v.Paragraphs, p)
		}
	}
	switch {
	case !o.Replaces:
		v.Replaces = tr("confirm.replaces_none")
	case o.Signature.State == campaign.SignatureConfirmed:
		v.Replaces = tr("confirm.was_confirmed", campaign.DateOf(o.Signature.ConfirmedAt.UTC()).String())
	default:
		v.Replaces = tr("confirm.was_pending")
	}
	return v
}

// outcomePage says what pressing it did.
type outcomePage struct {
	base
	Message string
}

func (s *Server) linkPage(k linkKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := pageLang(r)
		o, err := s.supporters.Check(r.Context(), k.action, r.PathValue("token"))
		if err != nil {
			s.linkError(w, r, lang, err)
			return
		}
		tr := translator(lang)
		p := linkPage{
			base: newBase(r, lang, tr(k.title)), Body: tr(k.body, s.holder(r, o.Campaign, lang)),
			Submit: tr(k.submit), Action: r.URL.Path, CSRF: s.csrf.token(w, r),
		}
		if k.action == supporters.ActionConfirm {
			p.Letter = newLetterView(tr, o)
		}
		s.render(w, http.StatusOK, lang, "link", p)
	}
}

func (s *Server) linkSubmit(k linkKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		lang := r.PostFormValue("lang")
		if supporters.Language(lang) != lang {
			lang = pageLang(r)
		}
		if !s.csrf.valid(r) {
			s.failLang(w, r, lang, http.StatusForbidden, "error.csrf")
			return
		}
		do := s.supporters.Confirm
		if k.action == supporters.ActionWithdraw {
			do = s.supporters.Withdraw
		}
		o, err := do(r.Context(), r.PathValue("token"))
		if err != nil {
			s.linkError(w, r, lang, err)
			return
		}
		tr := translator(lang)
		msg := tr(k.done, s.holder(r, o.Campaign, lang))
		if o.Replaces {
			msg = tr("confirm.replaced", s.holder(r, o.Campaign, lang))
		}
		if o.Again {
			msg = tr(k.again)
		}
		s.render(w, http.StatusOK, lang, "outcome", outcomePage{base: newBase(r, lang, tr(k.title)), Message: msg})
	}
}

// linkError answers a link that does nothing, saying why.
func (s *Server) linkError(w http.ResponseWriter, r *http.Request, lang string, err error) {
	switch {
	case errors.Is(err, supporters.ErrBadLink):
		s.failLang(w, r, lang, http.StatusBadRequest, "error.bad_link")
	case errors.Is(err, supporters.ErrLinkExpired):
		s.failLang(w, r, lang, http.StatusGone, "error.expired")
	case errors.Is(err, supporters.ErrSuperseded):
		s.failLang(w, r, lang, http.StatusConflict, "error.superseded")
	case errors.Is(err, supporters.ErrWithdrawn):
		s.failLang(w, r, lang, http.StatusGone, "error.withdrawn")
	case errors.Is(err, supporters.ErrAlreadySent):
		s.failLang(w, r, lang, http.StatusConflict, "error.already_sent")
	default:
		s.log.Error("web: follow link", "err", err)
		s.failLang(w, r, lang, http.StatusInternalServerError, "error.internal")
	}
}

// holder names who campaign c's letters go to, in lang; a campaign whose
// office cannot be read is named as a mayor's.
func (s *Server) holder(r *http.Request, c campaign.Campaign, lang string) string {
	_, t, err := s.supporters.OpenCampaign(r.Context(), c.ID)
	if err != nil {
		s.log.Warn("web: read a campaign's office", "campaign", c.ID, "err", err)
	}
	return officeIn(c, t, lang).Holder
}
