package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

type targetRow struct {
	campaign.Target
	Campaigns []campaign.Campaign `json:"campaigns"`
}

type targetsPage struct {
	staffPage
	Targets []targetRow
	Suspect int
	DNC     int
}

func (s *Server) targets(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ts, err := s.staff.Store.Targets(ctx, store.TargetFilter{})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	cs, err := s.staff.Store.Campaigns(ctx, store.CampaignFilter{})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	byEmail := map[string][]campaign.Campaign{}
	for _, c := range cs {
		byEmail[c.TargetEmail] = append(byEmail[c.TargetEmail], c)
	}
	p := targetsPage{staffPage: s.newStaffPage(r, "targets", "Offices")}
	for _, t := range ts {
		p.Targets = append(p.Targets, targetRow{Target: t, Campaigns: byEmail[t.Email]})
		if t.Suspect {
			p.Suspect++
		}
		if t.DoNotContact {
			p.DNC++
		}
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, p.Targets)
		return
	}
	s.renderStaff(w, http.StatusOK, "targets", p)
}

type targetPage struct {
	staffPage
	Target    campaign.Target
	Campaigns []campaign.Campaign
	Letters   []campaign.Letter
}

func (s *Server) target(w http.ResponseWriter, r *http.Request) (campaign.Target, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.staffError(w, r, http.StatusNotFound, "No such office.")
		return campaign.Target{}, false
	}
	t, err := s.staff.Store.TargetByID(r.Context(), id)
	if err != nil {
		s.staffFail(w, r, err)
		return t, false
	}
	return t, true
}

func (s *Server) targetDetail(w http.ResponseWriter, r *http.Request) {
	t, ok := s.target(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	cs, err := s.staff.Store.Campaigns(ctx, store.CampaignFilter{TargetID: t.ID})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	ls, err := s.staff.Store.Letters(ctx, store.LetterFilter{TargetID: t.ID})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]any{"target": t, "campaigns": cs, "letters": ls})
		return
	}
	s.renderStaff(w, http.StatusOK, "target", targetPage{staffPage: s.newStaffPage(r, "targets", t.City), Target: t, Campaigns: cs, Letters: ls})
}

// targetDoNotContact sets or lifts an office's do-not-contact mark: form
// field (or JSON) "on" is "true" or "false".
func (s *Server) targetDoNotContact(w http.ResponseWriter, r *http.Request) {
	t, ok := s.target(w, r)
	if !ok {
		return
	}
	on, err := strconv.ParseBool(r.FormValue("on"))
	if err != nil {
		s.staffError(w, r, http.StatusUnprocessableEntity, `"on" must be true or false`)
		return
	}
	if err := s.staff.Store.SetDoNotContact(r.Context(), t.Email, on); err != nil {
		s.staffFail(w, r, err)
		return
	}
	s.log.Info("do-not-contact changed from the web", "target", t.ID, "on", on, "staff", whoFrom(r.Context()).staff.Email)
	if wantsJSON(r) {
		t.DoNotContact = on
		writeJSON(w, http.StatusOK, t)
		return
	}
	key := "dnc-off"
	if on {
		key = "dnc-on"
	}
	done(w, r, fmt.Sprintf("/targets/%d", t.ID), key, false)
}
