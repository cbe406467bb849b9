package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/queue"
	"github.com/outreach-campaign/outreach/internal/store"
)

type wavesPage struct {
	staffPage
	Waves []queue.WaveStatus
}

func (s *Server) waves(w http.ResponseWriter, r *http.Request) {
	ws, err := queue.Statuses(r.Context(), s.staff.Store)
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, ws)
		return
	}
	s.renderStaff(w, http.StatusOK, "waves", wavesPage{staffPage: s.newStaffPage(r, "waves", "Waves"), Waves: ws})
}

// waveJSON is a wave with its progress, as the API and the live page get
// it: the state is the one read from the letters (done, failed).
func waveJSON(st queue.WaveStatus) map[string]any {
	return map[string]any{"wave": st.Wave, "state": st.State, "counts": countsJSON(st.Counts), "total": st.Total,
		"done": st.Done, "follow_ups_due": st.FollowUpsDue}
}

// waveForm is the wave form as posted: the same fields make the preview
// and the wave.
type waveForm struct {
	Name        string
	Countries   []string
	CampaignIDs []int64
	Template    string
	When        string // now, at, local
	At          string // datetime-local, UTC
	LocalTime   string // HH:MM
	// FollowUpDays, when not empty, asks for one follow-up to offices that
	// have not replied after that many days.
	FollowUpDays     string
	FollowUpTemplate string
	// IncludeContacted and IncludeReplied put back offices a wave leaves
	// out by default.
	IncludeContacted, IncludeReplied bool
}

func parseWaveForm(r *http.Request) (waveForm, queue.WaveSpec, error) {
	if err := r.ParseForm(); err != nil {
		return waveForm{}, queue.WaveSpec{}, err
	}
	f := waveForm{
		Name: strings.TrimSpace(r.PostForm.Get("name")), Countries: r.PostForm["country"],
		Template: r.PostForm.Get("template"), When: r.PostForm.Get("when"),
		At: r.PostForm.Get("at"), LocalTime: r.PostForm.Get("local_time"),
		FollowUpDays: strings.TrimSpace(r.PostForm.Get("follow_up_days")), FollowUpTemplate: r.PostForm.Get("follow_up_template"),
		IncludeContacted: r.PostForm.Get("include_contacted") == "yes", IncludeReplied: r.PostForm.Get("include_replied") == "yes",
	}
	for _, v := range r.PostForm["campaign"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return f, queue.WaveSpec{}, fmt.Errorf("campaign %q is not a campaign id", v)
		}
		f.CampaignIDs = append(f.CampaignIDs, id)
	}
	spec := queue.WaveSpec{Name: f.Name, Countries: f.Countries, CampaignIDs: f.CampaignIDs, Template: f.Template,
		IncludeContacted: f.IncludeContacted, IncludeReplied: f.IncludeReplied}
	// The follow-up letter is chosen in the form whether or not a follow-up
	// is asked for: it counts only with the days.
	if f.FollowUpDays != "" {
		spec.FollowUpTemplate = f.FollowUpTemplate
		days, err := strconv.Atoi(f.FollowUpDays)
		if err != nil || days < 1 || days > 365 {
			return f, spec, errors.New("the follow-up comes after 1 to 365 days")
		}
		spec.FollowUpAfter = time.Duration(days) * 24 * time.Hour
	}
	if f.Name == "" {
		return f, spec, errors.New("give the wave a name")
	}
	if len(f.Countries) == 0 && len(f.CampaignIDs) == 0 {
		return f, spec, errors.New("choose at least one country or campaign")
	}
	switch f.When {
	case "", "now":
	case "at":
		t, err := time.Parse("2006-01-02T15:04", f.At)
		if err != nil {
			return f, spec, errors.New("give the date and time to send at")
		}
		spec.At = t.UTC()
	case "local":
		if _, err := time.Parse("15:04", f.LocalTime); err != nil {
			return f, spec, errors.New("give the local time of day to send at (HH:MM)")
		}
		spec.LocalTime = f.LocalTime
	default:
		return f, spec, fmt.Errorf("%q is not a choice of when to send", f.When)
	}
	return f, spec, nil
}

type waveNewPage struct {
	staffPage
	Form      waveForm
	Problem   string
	Countries []countryOption
	Campaigns []campaign.Campaign
	Templates []string
}

type countryOption struct {
	Name    string
	Count   int
	Checked bool
}

func (s *Server) waveNew(w http.ResponseWriter, r *http.Request) {
	s.showWaveForm(w, r, http.StatusOK, waveForm{Template: "appeal", When: "now", LocalTime: "09:00"}, "")
}

func (s *Server) showWaveForm(w http.ResponseWriter, r *http.Request, status int, f waveForm, problem string) {
	cs, err := s.staff.Store.Campaigns(r.Context(), store.CampaignFilter{})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	p := waveNewPage{staffPage: s.newStaffPage(r, "waves", "New wave"), Form: f, Problem: problem, Campaigns: cs,
		Templates: s.staff.Composer.Templates.WaveLetters()}
	counts := map[string]int{}
	for _, c := range cs {
		if counts[c.Country] == 0 {
			p.Countries = append(p.Countries, countryOption{Name: c.Country, Checked: slices.Contains(f.Countries, c.Country)})
		}
		counts[c.Country]++
	}
	for i := range p.Countries {
		p.Countries[i].Count = counts[p.Countries[i].Name]
	}
	slices.SortFunc(p.Countries, func(a, b countryOption) int { return strings.Compare(a.Name, b.Name) })
	s.renderStaff(w, status, "wave_new", p)
}

// previewLetter is one planned letter as the preview shows it.
type previewLetter struct {
	Target   campaign.Target
	Lang     string
	SendAt   time.Time
	Partners []string
	Subject  string
	Text     string
	HTMLURL  string
	// AsSent says the letter is the copy kept when it left.
	AsSent bool
}

type wavePreviewPage struct {
	staffPage
	Form     waveForm
	Wave     campaign.Wave
	Letters  []previewLetter
	Skipped  []campaign.Skipped
	Warnings []string
}

// wavePreview shows every letter a wave would send, in its language,
// before anything is stored or sent.
func (s *Server) wavePreview(w http.ResponseWriter, r *http.Request) {
	f, spec, err := parseWaveForm(r)
	if err != nil {
		s.showWaveForm(w, r, http.StatusUnprocessableEntity, f, err.Error())
		return
	}
	ctx := r.Context()
	wv, plan, err := queue.PlanWave(ctx, s.staff.Store, s.staff.Composer, spec, s.staff.Now())
	if err != nil {
		s.showWaveForm(w, r, http.StatusUnprocessableEntity, f, err.Error())
		return
	}
	p := wavePreviewPage{staffPage: s.newStaffPage(r, "waves", "Preview: "+wv.Name), Form: f, Wave: wv, Skipped: plan.Skipped,
		Warnings: plan.Warnings}
	for _, l := range plan.Letters {
		pl, err := s.previewOf(r, l.TargetID, l.CampaignIDs, wv.Template, "")
		if err != nil {
			s.staffFail(w, r, err)
			return
		}
		pl.SendAt = l.SendAt
		p.Letters = append(p.Letters, pl)
	}
	s.renderStaff(w, http.StatusOK, "wave_preview", p)
}

// previewOf renders the letter to an office about some of its campaigns
// (all of them when ids is empty), as the worker would.
func (s *Server) previewOf(r *http.Request, targetID int64, ids []int64, tpl, lang string) (previewLetter, error) {
	ctx := r.Context()
	t, err := s.staff.Store.TargetByID(ctx, targetID)
	if err != nil {
		return previewLetter{}, err
	}
	f := store.CampaignFilter{TargetID: t.ID}
	if len(ids) > 0 {
		f = store.CampaignFilter{IDs: ids}
	}
	cs, err := s.staff.Store.Campaigns(ctx, f)
	if err != nil {
		return previewLetter{}, err
	}
	_, rendered, err := s.staff.Composer.Compose(letter.Letter{
		ID: fmt.Sprintf("preview-t%d", t.ID), Template: tpl, Target: t, Campaigns: cs, Lang: lang, Date: s.staff.Now(),
	})
	if err != nil {
		return previewLetter{}, err
	}
	if lang == "" {
		lang = t.Language
	}
	pl := previewLetter{Target: t, Lang: lang, Subject: rendered.Subject, Text: rendered.Text}
	for _, c := range cs {
		pl.Partners = append(pl.Partners, c.Partner.String())
	}
	q := url.Values{"target": {fmt.Sprint(t.ID)}, "template": {tpl}, "lang": {lang}}
	for _, id := range ids {
		q.Add("campaign", fmt.Sprint(id))
	}
	pl.HTMLURL = "/preview/html?" + q.Encode()
	return pl, nil
}

// previewHTML shows the HTML part of a letter alone, as a mail program
// would, in a page that may run nothing and load nothing.
func (s *Server) previewHTML(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Has("letter") {
		s.sentHTML(w, r, q.Get("letter"))
		return
	}
	id, err := strconv.ParseInt(q.Get("target"), 10, 64)
	if err != nil {
		s.staffError(w, r, http.StatusNotFound, "No such office.")
		return
	}
	var ids []int64
	for _, v := range q["campaign"] {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			ids = append(ids, n)
		}
	}
	tpl := q.Get("template")
	if tpl == "" {
		tpl = "appeal"
	}
	t, err := s.staff.Store.TargetByID(r.Context(), id)
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	f := store.CampaignFilter{TargetID: t.ID}
	if len(ids) > 0 {
		f = store.CampaignFilter{IDs: ids}
	}
	cs, err := s.staff.Store.Campaigns(r.Context(), f)
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	lang := q.Get("lang")
	if lang != "" && !s.staff.Composer.Templates.Has(tpl, lang) {
		s.staffError(w, r, http.StatusNotFound, "That letter is not written in that language.")
		return
	}
	_, rendered, err := s.staff.Composer.Compose(letter.Letter{
		ID: fmt.Sprintf("preview-t%d", t.ID), Template: tpl, Target: t, Campaigns: cs, Lang: lang, Date: s.staff.Now(),
	})
	if err != nil {
		s.staffError(w, r, http.StatusUnprocessableEntity, err.Error())
		return
	}
	writeLetterHTML(w, []byte(rendered.HTML))
}

// waveCreate stores the wave and, unless asked not to, starts it.
func (s *Server) waveCreate(w http.ResponseWriter, r *http.Request) {
	f, spec, err := parseWaveForm(r)
	if err != nil {
		s.showWaveForm(w, r, http.StatusUnprocessableEntity, f, err.Error())
		return
	}
	ctx := r.Context()
	wv, plan, err := queue.CreateWave(ctx, s.staff.Store, s.staff.Composer, spec, s.staff.Now())
	if err != nil {
		s.showWaveForm(w, r, http.StatusUnprocessableEntity, f, err.Error())
		return
	}
	key, n := "wave-created", len(plan.Letters)
	if r.PostForm.Get("start") != "no" {
		if n, err = s.staff.Scheduler.StartWave(ctx, wv.ID); err != nil {
			s.staffFail(w, r, err)
			return
		}
		key = "wave-started"
	}
	s.log.Info("wave created from the web", "wave", wv.ID, "staff", whoFrom(ctx).staff.Email)
	if len(plan.Skipped) > 0 {
		done(w, r, fmt.Sprintf("/waves/%d", wv.ID), key+"-out", false, n, len(plan.Skipped))
		return
	}
	done(w, r, fmt.Sprintf("/waves/%d", wv.ID), key, false, n)
}

type wavePage struct {
	staffPage
	Wave    queue.WaveStatus
	Letters []waveLetter
	// Uncertain lists the letters that may or may not have arrived, for
	// staff to look at.
	Uncertain []waveLetter
	// Confirm asks, before cancelling, whether staff mean it.
	Confirm bool
	// CanTest offers a test copy (the server has a mail server).
	CanTest bool
}

// waveLetter is a letter of the wave page: its office's city rather than
// campaign ids, and why it failed.
type waveLetter struct {
	campaign.Letter
	City    string
	Country string
	Reason  string
}

func (s *Server) waveID(w http.ResponseWriter, r *http.Request) (queue.WaveStatus, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.staffError(w, r, http.StatusNotFound, "No such wave.")
		return queue.WaveStatus{}, false
	}
	st, err := queue.Status(r.Context(), s.staff.Store, id)
	if err != nil {
		s.staffFail(w, r, err)
		return st, false
	}
	return st, true
}

func (s *Server) waveDetail(w http.ResponseWriter, r *http.Request) {
	s.showWave(w, r, false)
}

func (s *Server) showWave(w http.ResponseWriter, r *http.Request, confirm bool) {
	wv, ok := s.waveID(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	ls, err := s.staff.Store.Letters(ctx, store.LetterFilter{WaveID: wv.ID})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	if wantsJSON(r) {
		out := waveJSON(wv)
		out["letters"] = ls
		writeJSON(w, http.StatusOK, out)
		return
	}
	ts, err := s.staff.Store.Targets(ctx, store.TargetFilter{})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	byID := make(map[int64]campaign.Target, len(ts))
	for _, t := range ts {
		byID[t.ID] = t
	}
	p := wavePage{staffPage: s.newStaffPage(r, "waves", wv.Name), Wave: wv, Confirm: confirm, CanTest: s.staff.Mailer != nil}
	for _, l := range ls {
		t := byID[l.TargetID]
		wl := waveLetter{Letter: l, City: t.City, Country: t.Country}
		if l.State == campaign.Failed || l.State == campaign.Uncertain || l.State == campaign.Bounced {
			wl.Reason = firstNonEmpty(l.ServerReply, l.LastError)
		}
		p.Letters = append(p.Letters, wl)
		if l.State == campaign.Uncertain {
			p.Uncertain = append(p.Uncertain, wl)
		}
	}
	if confirm {
		p.Title = "Cancel " + wv.Name + "?"
	}
	s.renderStaff(w, http.StatusOK, "wave", p)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// waveCounts is what the wave page polls to update its counts live.
func (s *Server) waveCounts(w http.ResponseWriter, r *http.Request) {
	wv, ok := s.waveID(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"state": wv.State, "counts": countsJSON(wv.Counts), "total": wv.Total,
		"done": wv.Done, "follow_ups_due": wv.FollowUpsDue})
}

func countsJSON(c map[campaign.LetterState]int) map[string]int {
	out := map[string]int{}
	for _, st := range campaign.LetterStates {
		out[string(st)] = c[st]
	}
	return out
}

func (s *Server) waveStart(w http.ResponseWriter, r *http.Request) {
	s.waveAction(w, r, s.staff.Scheduler.StartWave, "queued", "wave-started")
}

// waveCancel cancels a wave. A page's form must say it was confirmed
// (confirm=yes, from the confirmation page): a cancel that arrives without
// it shows that page, so that one stray click cancels nothing. A script
// with a token cancels at once.
func (s *Server) waveCancel(w http.ResponseWriter, r *http.Request) {
	if !wantsJSON(r) && r.PostFormValue("confirm") != "yes" {
		s.showWave(w, r, true)
		return
	}
	s.waveAction(w, r, s.staff.Scheduler.CancelWave, "cancelled", "wave-cancelled")
}

// waveCancelConfirm asks whether staff mean to cancel the wave.
func (s *Server) waveCancelConfirm(w http.ResponseWriter, r *http.Request) {
	s.showWave(w, r, true)
}

// waveTest sends the staff member who asks a test copy of one letter of
// the wave (its first unless the form names one), changing nothing of it.
func (s *Server) waveTest(w http.ResponseWriter, r *http.Request) {
	wv, ok := s.waveID(w, r)
	if !ok {
		return
	}
	if s.staff.Mailer == nil {
		s.staffError(w, r, http.StatusServiceUnavailable, "This server has no mail server to send a test with.")
		return
	}
	ctx := r.Context()
	to := whoFrom(ctx).staff.Email
	l, err := queue.SendTest(ctx, s.staff.Store, s.staff.Composer, s.staff.Mailer, wv.ID, r.FormValue("letter"), to, s.staff.Now())
	if errors.Is(err, campaign.ErrNotFound) {
		s.staffFail(w, r, err)
		return
	}
	if err != nil {
		s.log.Warn("web: test copy not sent", "wave", wv.ID, "err", err)
		s.staffError(w, r, http.StatusBadGateway, "The test copy could not be sent: "+err.Error())
		return
	}
	s.log.Info("test copy sent from the web", "wave", wv.ID, "letter", l.ID, "staff", to)
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]any{"letter": l.ID, "to": to})
		return
	}
	done(w, r, fmt.Sprintf("/waves/%d", wv.ID), "wave-test-sent", false)
}

// waveAction starts or cancels a wave: act returns how many letters it
// changed, reported under key (JSON) or in the flash message flashKey (the
// page).
func (s *Server) waveAction(w http.ResponseWriter, r *http.Request, act func(context.Context, int64) (int, error), key, flashKey string) {
	wv, ok := s.waveID(w, r)
	if !ok {
		return
	}
	n, err := act(r.Context(), wv.ID)
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	s.log.Info("wave changed from the web", "wave", wv.ID, key, n, "staff", whoFrom(r.Context()).staff.Email)
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]any{key: n})
		return
	}
	done(w, r, fmt.Sprintf("/waves/%d", wv.ID), flashKey, false, n)
}

type letterPage struct {
	staffPage
	Letter  campaign.Letter
	Events  []store.LetterEvent
	Preview *previewLetter
}

func (s *Server) letterDetail(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	l, err := s.staff.Store.Letter(ctx, r.PathValue("id"))
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	evs, err := s.staff.Store.LetterEvents(ctx, l.ID)
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	p := letterPage{staffPage: s.newStaffPage(r, "waves", "Letter "+l.ID), Letter: l, Events: evs}
	// A letter that began to leave is shown as it was written then; one
	// not sent yet, as today's templates would write it. (A copy is kept
	// just before the send begins: one of a letter cancelled in between
	// never left.)
	sent, err := s.staff.Store.LetterAsSent(ctx, l.ID)
	switch {
	case err == nil && l.Attempts > 0:
		p.Preview = &previewLetter{Subject: sent.Subject, Text: sent.Text, AsSent: true,
			HTMLURL: "/preview/html?" + url.Values{"letter": {l.ID}}.Encode()}
	case err != nil && !errors.Is(err, campaign.ErrNotFound):
		s.staffFail(w, r, err)
		return
	case l.TargetID != 0 && l.Kind == campaign.KindWave:
		if pl, err := s.previewOf(r, l.TargetID, l.CampaignIDs, l.Template, ""); err == nil {
			p.Preview = &pl
		}
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]any{"letter": l, "events": evs})
		return
	}
	s.renderStaff(w, http.StatusOK, "letter", p)
}

// letterResend sends an uncertain or failed letter once more.
func (s *Server) letterResend(w http.ResponseWriter, r *http.Request) {
	l, err := s.staff.Scheduler.Resend(r.Context(), r.PathValue("id"))
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	s.log.Info("letter resent from the web", "letter", l.ID, "staff", whoFrom(r.Context()).staff.Email)
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, l)
		return
	}
	to := "/letters/" + url.PathEscape(l.ID)
	if back := r.PostFormValue("back"); back != "" {
		to = safeNext(back)
	}
	done(w, r, to, "letter-resent", false)
}
