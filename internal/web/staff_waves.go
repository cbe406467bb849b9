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

type waveRow struct {
	campaign.Wave
	Counts map[campaign.LetterState]int `json:"counts"`
	Total  int                          `json:"total"`
	Done   int                          `json:"done"`
}

type wavesPage struct {
	staffPage
	Waves []waveRow
}

func (s *Server) waveRow(r *http.Request, w campaign.Wave) (waveRow, error) {
	counts, err := s.staff.Store.LetterCounts(r.Context(), w.ID)
	if err != nil {
		return waveRow{}, err
	}
	row := waveRow{Wave: w, Counts: counts}
	for st, n := range counts {
		row.Total += n
		if st.Final() {
			row.Done += n
		}
	}
	return row, nil
}

func (s *Server) waves(w http.ResponseWriter, r *http.Request) {
	ws, err := s.staff.Store.Waves(r.Context())
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	p := wavesPage{staffPage: s.newStaffPage(r, "waves", "Waves")}
	for _, wv := range ws {
		row, err := s.waveRow(r, wv)
		if err != nil {
			s.staffFail(w, r, err)
			return
		}
		p.Waves = append(p.Waves, row)
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, p.Waves)
		return
	}
	s.renderStaff(w, http.StatusOK, "waves", p)
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
	}
	for _, v := range r.PostForm["campaign"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return f, queue.WaveSpec{}, fmt.Errorf("campaign %q is not a campaign id", v)
		}
		f.CampaignIDs = append(f.CampaignIDs, id)
	}
	spec := queue.WaveSpec{Name: f.Name, Countries: f.Countries, CampaignIDs: f.CampaignIDs, Template: f.Template}
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
		Templates: s.staff.Composer.Templates.Names()}
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
}

type wavePreviewPage struct {
	staffPage
	Form    waveForm
	Wave    campaign.Wave
	Letters []previewLetter
	Skipped []campaign.Skipped
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
	wv, plan, err := queue.PlanWave(ctx, s.staff.Store, s.staff.Composer.Templates, spec, s.staff.Now())
	if err != nil {
		s.showWaveForm(w, r, http.StatusUnprocessableEntity, f, err.Error())
		return
	}
	p := wavePreviewPage{staffPage: s.newStaffPage(r, "waves", "Preview: "+wv.Name), Form: f, Wave: wv, Skipped: plan.Skipped}
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
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte(rendered.HTML))
}

// waveCreate stores the wave and, unless asked not to, starts it.
func (s *Server) waveCreate(w http.ResponseWriter, r *http.Request) {
	f, spec, err := parseWaveForm(r)
	if err != nil {
		s.showWaveForm(w, r, http.StatusUnprocessableEntity, f, err.Error())
		return
	}
	ctx := r.Context()
	wv, plan, err := queue.CreateWave(ctx, s.staff.Store, s.staff.Composer.Templates, spec, s.staff.Now())
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
	done(w, r, fmt.Sprintf("/waves/%d", wv.ID), key, n, false)
}

type wavePage struct {
	staffPage
	Wave    waveRow
	Letters []campaign.Letter
}

func (s *Server) waveID(w http.ResponseWriter, r *http.Request) (campaign.Wave, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.staffError(w, r, http.StatusNotFound, "No such wave.")
		return campaign.Wave{}, false
	}
	wv, err := s.staff.Store.Wave(r.Context(), id)
	if err != nil {
		s.staffFail(w, r, err)
		return wv, false
	}
	return wv, true
}

func (s *Server) waveDetail(w http.ResponseWriter, r *http.Request) {
	wv, ok := s.waveID(w, r)
	if !ok {
		return
	}
	row, err := s.waveRow(r, wv)
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	ls, err := s.staff.Store.Letters(r.Context(), store.LetterFilter{WaveID: wv.ID})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]any{"wave": wv, "counts": countsJSON(row.Counts), "total": row.Total, "done": row.Done, "letters": ls})
		return
	}
	s.renderStaff(w, http.StatusOK, "wave", wavePage{staffPage: s.newStaffPage(r, "waves", wv.Name), Wave: row, Letters: ls})
}

// waveCounts is what the wave page polls to update its counts live.
func (s *Server) waveCounts(w http.ResponseWriter, r *http.Request) {
	wv, ok := s.waveID(w, r)
	if !ok {
		return
	}
	row, err := s.waveRow(r, wv)
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"state": wv.State, "counts": countsJSON(row.Counts), "total": row.Total, "done": row.Done})
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

func (s *Server) waveCancel(w http.ResponseWriter, r *http.Request) {
	s.waveAction(w, r, s.staff.Scheduler.CancelWave, "cancelled", "wave-cancelled")
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
	done(w, r, fmt.Sprintf("/waves/%d", wv.ID), flashKey, n, false)
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
	if l.TargetID != 0 && (l.Kind == campaign.KindWave) {
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
	done(w, r, to, "letter-resent", 0, false)
}
