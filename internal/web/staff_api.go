package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/queue"
)

// waveRequest is the JSON body that creates or previews a wave.
type waveRequest struct {
	Name        string    `json:"name"`
	Countries   []string  `json:"countries"`
	CampaignIDs []int64   `json:"campaign_ids"`
	Template    string    `json:"template"`
	At          time.Time `json:"at"`         // RFC 3339; zero: not at a set time
	LocalTime   string    `json:"local_time"` // HH:MM in each office's zone
	// FollowUpDays, when above 0, sends offices that have not replied after
	// that many days one follow-up (FollowUpTemplate, "follow-up" when empty).
	FollowUpDays     int    `json:"follow_up_days"`
	FollowUpTemplate string `json:"follow_up_template"`
	Start            bool   `json:"start"`
	// IncludeContacted and IncludeReplied put back offices already
	// written this letter, and offices that have answered.
	IncludeContacted bool `json:"include_contacted"`
	IncludeReplied   bool `json:"include_replied"`
}

func (s *Server) decodeWave(w http.ResponseWriter, r *http.Request) (queue.WaveSpec, bool, bool) {
	var req waveRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.staffError(w, r, http.StatusBadRequest, sentence("the body is not a wave: "+jsonProblem(err)))
		return queue.WaveSpec{}, false, false
	}
	if req.FollowUpDays < 0 || req.FollowUpDays > 365 {
		s.staffError(w, r, http.StatusUnprocessableEntity, "follow_up_days must be between 0 and 365")
		return queue.WaveSpec{}, false, false
	}
	return queue.WaveSpec{Name: req.Name, Countries: req.Countries, CampaignIDs: req.CampaignIDs,
		Template: req.Template, At: req.At, LocalTime: req.LocalTime,
		FollowUpAfter: time.Duration(req.FollowUpDays) * 24 * time.Hour, FollowUpTemplate: req.FollowUpTemplate,
		IncludeContacted: req.IncludeContacted, IncludeReplied: req.IncludeReplied}, req.Start, true
}

// plannedLetter is a letter of a wave preview, in JSON.
type plannedLetter struct {
	Target      string    `json:"target"`
	Language    string    `json:"language"`
	CampaignIDs []int64   `json:"campaign_ids"`
	SendAt      time.Time `json:"send_at,omitzero"`
	Subject     string    `json:"subject"`
	Text        string    `json:"text"`
}

func (s *Server) apiWavePreview(w http.ResponseWriter, r *http.Request) {
	spec, _, ok := s.decodeWave(w, r)
	if !ok {
		return
	}
	wv, plan, err := queue.PlanWave(r.Context(), s.staff.Store, s.staff.Composer, spec, s.staff.Now())
	if err != nil {
		s.waveRefused(w, r, err)
		return
	}
	out := []plannedLetter{}
	for _, l := range plan.Letters {
		pl, err := s.previewOf(r, l.TargetID, l.CampaignIDs, wv.Template, "")
		if err != nil {
			s.staffFail(w, r, err)
			return
		}
		out = append(out, plannedLetter{Target: l.Email, Language: pl.Lang, CampaignIDs: l.CampaignIDs, SendAt: l.SendAt, Subject: pl.Subject, Text: pl.Text})
	}
	writeJSON(w, http.StatusOK, map[string]any{"wave": wv, "letters": out, "skipped": skippedJSON(plan.Skipped),
		"warnings": nonNilStrings(plan.Warnings)})
}

func (s *Server) apiWaveCreate(w http.ResponseWriter, r *http.Request) {
	spec, start, ok := s.decodeWave(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	wv, plan, err := queue.CreateWave(ctx, s.staff.Store, s.staff.Composer, spec, s.staff.Now())
	if err != nil {
		s.waveRefused(w, r, err)
		return
	}
	queued := 0
	if start {
		if queued, err = s.staff.Scheduler.StartWave(ctx, wv.ID); err != nil {
			s.staffFail(w, r, err)
			return
		}
		wv.State = campaign.WaveStarted
	}
	writeJSON(w, http.StatusCreated, map[string]any{"wave": wv, "letters": len(plan.Letters), "queued": queued,
		"skipped": skippedJSON(plan.Skipped), "warnings": nonNilStrings(plan.Warnings)})
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func skippedJSON(sk []campaign.Skipped) []map[string]any {
	out := []map[string]any{}
	for _, s := range sk {
		out = append(out, map[string]any{"campaign_ids": s.CampaignIDs, "email": s.Email, "city": s.City, "reason": s.Reason})
	}
	return out
}

// waveRefused answers a wave that cannot be made: 422 with the reason, or
// an internal error when the reason is a failure below (a store error).
func (s *Server) waveRefused(w http.ResponseWriter, r *http.Request, err error) {
	msg := reason(err)
	if msg == "" || internal(err) {
		s.staffFail(w, r, err)
		return
	}
	s.staffError(w, r, http.StatusUnprocessableEntity, msg)
}
