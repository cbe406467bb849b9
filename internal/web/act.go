package web

import (
	"cmp"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/supporters"
)

// maxForm bounds a posted form or JSON body: a message at its longest is
// far below it.
const maxForm = 64 << 10

// actPage is the public page of a campaign, with the form.
type actPage struct {
	base
	Campaign campaign.Campaign
	// Place, Office and Holder name the office in the page's language:
	// "la Colombie-Britannique", "premier ministre" (the holder's title),
	// "premier ministre de la Colombie-Britannique"; PlaceStart begins a
	// sentence.
	Place, PlaceStart, Office, Holder string
	Relationship                      string
	Since                             string
	Addressee                         string
	Action                            string
	CSRF                              string
	Form                              supporters.Form
	// Problems are the form's mistakes by field, in the page's language;
	// Summary lists them in the form's order, for the error summary that
	// takes the focus.
	Problems                               map[string]string
	Summary                                []problemLink
	MaxName, MaxEmail, MaxCountry, MaxCity int
	MaxMessage, KeepForDays                int
}

// problemLink is one entry of the error summary: a link to the field,
// naming it and its problem.
type problemLink struct {
	Field, Text string
}

// formFields are the form's fields in the order the page shows them, with
// the key of each one's label.
var formFields = []struct{ name, label string }{
	{"name", "field.name"}, {"email", "field.email"}, {"country", "field.country"},
	{"city", "field.city"}, {"message", "field.message"},
}

// actPage answers GET /act/{campaign}: in the language asked for with
// ?lang, else the browser's when the pages speak it, else the office's.
func (s *Server) actPage(w http.ResponseWriter, r *http.Request) {
	s.showAct(w, r, http.StatusOK, "", supporters.Form{}, nil)
}

// showAct renders the campaign's page, with a form filled in and its
// problems when it was posted with mistakes. An empty lang is negotiated,
// falling back on the office's language.
func (s *Server) showAct(w http.ResponseWriter, r *http.Request, status int, lang string, f supporters.Form, probs map[string]string) {
	id, ok := campaignID(r.PathValue("campaign"))
	if !ok {
		s.failLang(w, r, cmp.Or(lang, pageLang(r)), http.StatusNotFound, "error.no_campaign")
		return
	}
	c, t, err := s.supporters.OpenCampaign(r.Context(), id)
	if err != nil {
		s.signError(w, r, cmp.Or(lang, pageLang(r)), err)
		return
	}
	if lang == "" {
		lang = negotiate(r, t.Language)
		w.Header().Add("Vary", "Accept-Language")
	}
	tr := translator(lang)
	o := officeIn(c, t, lang)
	title := tr("act.title", o.Holder)
	var summary []problemLink
	for _, fl := range formFields {
		if msg, ok := probs[fl.name]; ok {
			label := tr(fl.label)
			if fl.name == "message" {
				label = tr(fl.label, s.supporters.MaxMessage)
			}
			summary = append(summary, problemLink{Field: fl.name, Text: tr("act.problem", label, msg)})
		}
	}
	if len(probs) > 0 {
		// The title says there was an error before anything else.
		title = tr("act.error_title", title)
	}
	p := actPage{
		base:     newBase(r, lang, title),
		Summary:  summary,
		Campaign: c,
		Place:    o.Place, PlaceStart: upperFirst(o.Place), Office: o.Title, Holder: o.Holder,
		Relationship: tr("relationship." + string(c.Relationship)),
		Since:        strconv.Itoa(c.AgreementDate.Year),
		Addressee:    addressee(t),
		Action:       "/act/" + strconv.FormatInt(c.ID, 10),
		CSRF:         s.csrf.token(w, r),
		Form:         f,
		Problems:     probs,
		MaxName:      supporters.MaxName, MaxEmail: supporters.MaxEmail, MaxCountry: supporters.MaxCountry,
		MaxCity: supporters.MaxCity, MaxMessage: s.supporters.MaxMessage, KeepForDays: s.cfg.KeepForDays,
	}
	s.render(w, status, lang, "act", p)
}

func (s *Server) actSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.fail(w, r, http.StatusRequestEntityTooLarge, "error.too_large")
			return
		}
		s.fail(w, r, http.StatusBadRequest, "error.internal")
		return
	}
	lang := r.PostFormValue("lang")
	if supporters.Language(lang) != lang {
		lang = pageLang(r)
	}
	if !s.csrf.valid(r) {
		s.failLang(w, r, lang, http.StatusForbidden, "error.csrf")
		return
	}
	id, ok := campaignID(r.PathValue("campaign"))
	if !ok {
		s.failLang(w, r, lang, http.StatusNotFound, "error.no_campaign")
		return
	}
	f := supporters.Form{
		Name: r.PostFormValue("name"), Email: r.PostFormValue("email"), Country: r.PostFormValue("country"),
		City: r.PostFormValue("city"), Message: r.PostFormValue("message"),
		ReplyConsent: r.PostFormValue("reply_consent") != "", Lang: lang, Website: r.PostFormValue("website"),
	}
	_, err := s.supporters.Sign(r.Context(), id, f, clientIP(r, s.cfg.RealIPHeader))
	var verr *supporters.ValidationError
	if errors.As(err, &verr) {
		s.showAct(w, r, http.StatusUnprocessableEntity, lang, f, problemTexts(lang, verr))
		return
	}
	if err != nil {
		s.signError(w, r, lang, err)
		return
	}
	q := url.Values{"lang": {lang}}
	http.Redirect(w, r, "/act/"+strconv.FormatInt(id, 10)+"/sent?"+q.Encode(), http.StatusSeeOther)
}

// sentPage says to look for the confirmation mail.
type sentPage struct {
	base
	Campaign campaign.Campaign
	Holder   string
	Hours    int
}

func (s *Server) actSent(w http.ResponseWriter, r *http.Request) {
	lang := pageLang(r)
	id, ok := campaignID(r.PathValue("campaign"))
	if !ok {
		s.failLang(w, r, lang, http.StatusNotFound, "error.no_campaign")
		return
	}
	c, t, err := s.supporters.OpenCampaign(r.Context(), id)
	if err != nil {
		s.signError(w, r, lang, err)
		return
	}
	s.render(w, http.StatusOK, lang, "sent", sentPage{
		base:     newBase(r, lang, translator(lang)("sent.title")),
		Campaign: c, Holder: officeIn(c, t, lang).Holder,
		Hours: int(math.Round(s.supporters.ConfirmWithin.Hours())),
	})
}

// signError answers a signing that failed for a reason other than the
// form's mistakes.
func (s *Server) signError(w http.ResponseWriter, r *http.Request, lang string, err error) {
	var rl *supporters.RateLimitError
	switch {
	case errors.Is(err, supporters.ErrNoCampaign):
		s.failLang(w, r, lang, http.StatusNotFound, "error.no_campaign")
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(rl.RetryAfter.Seconds()))))
		s.failLang(w, r, lang, http.StatusTooManyRequests, "error.rate_limited", retryMinutes(rl.RetryAfter))
	default:
		s.log.Error("web: sign letter", "path", r.URL.Path, "err", err)
		s.failLang(w, r, lang, http.StatusInternalServerError, "error.internal")
	}
}

// problemTexts words a form's problems in lang, by field.
func problemTexts(lang string, verr *supporters.ValidationError) map[string]string {
	tr := translator(lang)
	out := map[string]string{}
	for _, p := range verr.Problems {
		key := "problem." + p.Code
		if p.Code == supporters.CodeCharacters && p.Field == "name" {
			key += ".name"
		}
		if p.Code == supporters.CodeTooLong {
			out[p.Field] = tr(key, p.Limit)
		} else {
			out[p.Field] = tr(key)
		}
	}
	return out
}

func campaignID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

func campaignPlace(c campaign.Campaign) string {
	return letter.PlaceName(c.City)
}

// officeWords name a campaign's office in a page's language.
type officeWords struct{ Place, Title, Holder string }

// officeIn names the office campaign c writes to, t, in lang: its place (the
// office's own name for it in lang, else the table's), its holder's title
// and the holder ("premier of British Columbia").
func officeIn(c campaign.Campaign, t campaign.Target, lang string) officeWords {
	place := t.PlaceIn(lang, campaignPlace(c))
	return officeWords{Place: place, Title: t.Title.Noun(lang), Holder: t.Title.Of(lang, place)}
}

// upperFirst capitalises a name that begins a sentence ("La
// Colombie-Britannique et Gyeonggi-do : …").
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// addressee is who a campaign's letters are addressed to.
func addressee(t campaign.Target) string {
	switch {
	case t.Mayor != "":
		return t.Mayor
	case t.Office != "":
		return t.Office
	}
	return t.City
}

// indexPage lists the campaigns supporters can write for.
type indexPage struct {
	base
	Campaigns []indexEntry
	// Status links to the public status table, when it is served.
	Status bool
}

type indexEntry struct {
	URL, Place, Country, Partner, Signed string
}

// actIndex answers /act without a campaign: the campaigns one can write
// for (those whose office may be written to), with how many signed each.
func (s *Server) actIndex(w http.ResponseWriter, r *http.Request) {
	lang := pageLang(r)
	ctx := r.Context()
	open, err := s.supporters.OpenCampaigns(ctx)
	if err != nil {
		s.log.Error("web: campaigns open to letters", "err", err)
		s.failLang(w, r, lang, http.StatusInternalServerError, "error.internal")
		return
	}
	signed, err := s.supporters.SignedCounts(ctx)
	if err != nil {
		s.log.Error("web: campaigns open to letters", "err", err)
		s.failLang(w, r, lang, http.StatusInternalServerError, "error.internal")
		return
	}
	tr := translator(lang)
	p := indexPage{base: newBase(r, lang, tr("index.title")), Status: s.staff != nil}
	for _, oc := range open {
		u := "/act/" + strconv.FormatInt(oc.Campaign.ID, 10)
		if r.URL.Query().Get("lang") != "" {
			u += "?lang=" + lang
		}
		e := indexEntry{URL: u, Place: campaignPlace(oc.Campaign), Country: oc.Campaign.Country, Partner: oc.Campaign.Partner.String()}
		switch n := signed[oc.Campaign.ID]; n {
		case 0:
			e.Signed = tr("index.signed.none")
		case 1:
			e.Signed = tr("index.signed.one")
		default:
			e.Signed = tr("index.signed", n)
		}
		p.Campaigns = append(p.Campaigns, e)
	}
	if r.URL.Query().Get("lang") == "" {
		w.Header().Add("Vary", "Accept-Language")
	}
	s.render(w, http.StatusOK, lang, "act_index", p)
}

// retryMinutes rounds a wait up to whole minutes, at least one.
func retryMinutes(d time.Duration) int { return max(1, int(math.Ceil(d.Minutes()))) }
