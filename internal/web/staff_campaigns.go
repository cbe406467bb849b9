package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/status"
	"github.com/outreach-campaign/outreach/internal/store"
)

// campaignStates are the filters of the campaigns page, in order.
var campaignStates = []struct {
	State campaign.State
	Label string
}{
	{campaign.NeverContacted, "Never contacted"},
	{campaign.Waiting, "Waiting for a reply"},
	{campaign.Replied, "Replied"},
	{campaign.Won, "Victory"},
}

type campaignRow struct {
	status.Row
	Target string `json:"office,omitempty"`
}

type campaignsPage struct {
	staffPage
	Countries []string
	Country   string
	States    []stateOption
	State     string
	Rows      []campaignRow
	Total     int
}

type stateOption struct {
	Value, Label string
	Count        int
}

// campaigns lists the campaign status table, filtered by country and
// state.
func (s *Server) campaigns(w http.ResponseWriter, r *http.Request) {
	all, err := s.staff.Store.Campaigns(r.Context(), store.CampaignFilter{})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	country, state := r.URL.Query().Get("country"), r.URL.Query().Get("state")
	p := campaignsPage{staffPage: s.newStaffPage(r, "campaigns", "Campaigns"), Country: country, State: state, Total: len(all)}
	counts := map[campaign.State]int{}
	var rows []campaignRow
	for _, c := range all {
		if !slices.Contains(p.Countries, c.Country) {
			p.Countries = append(p.Countries, c.Country)
		}
		if country != "" && !strings.EqualFold(c.Country, country) {
			continue
		}
		counts[c.State()]++
		if state != "" && string(c.State()) != state {
			continue
		}
		rows = append(rows, campaignRow{Row: status.Rows([]campaign.Campaign{c})[0], Target: c.TargetEmail})
	}
	slices.Sort(p.Countries)
	for _, st := range campaignStates {
		p.States = append(p.States, stateOption{Value: string(st.State), Label: st.Label, Count: counts[st.State]})
	}
	p.Rows = rows
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, rows)
		return
	}
	s.renderStaff(w, http.StatusOK, "campaigns", p)
}

type campaignPage struct {
	staffPage
	Campaign campaign.Campaign
	State    string
	Target   *campaign.Target
	// Partners are all the twinnings of the same office, this one among
	// them: one letter names them all.
	Partners []campaign.Campaign
	Letters  []campaign.Letter
	Replies  []replyRow
	// Signatures are the supporters' letters to this campaign's office.
	Signatures []campaign.Signature
	// FollowUp is the latest follow-up letter, if one was planned.
	FollowUp *campaign.Letter
}

func (s *Server) campaignDetail(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.staffError(w, r, http.StatusNotFound, "No such campaign.")
		return
	}
	ctx := r.Context()
	c, err := s.staff.Store.Campaign(ctx, id)
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	p := campaignPage{staffPage: s.newStaffPage(r, "campaigns", c.Number()+" "+c.City), Campaign: c, State: stateLabel(c.State())}
	p.Partners = []campaign.Campaign{c}
	if c.TargetEmail != "" {
		t, err := s.staff.Store.Target(ctx, c.TargetEmail)
		if err != nil {
			s.staffFail(w, r, err)
			return
		}
		p.Target = &t
		if p.Partners, err = s.staff.Store.Campaigns(ctx, store.CampaignFilter{TargetID: t.ID}); err != nil {
			s.staffFail(w, r, err)
			return
		}
	}
	if p.Letters, err = s.staff.Store.Letters(ctx, store.LetterFilter{CampaignID: id}); err != nil {
		s.staffFail(w, r, err)
		return
	}
	for i := range p.Letters {
		if p.Letters[i].Kind == campaign.KindFollowUp {
			p.FollowUp = &p.Letters[i]
		}
	}
	if p.Replies, err = s.repliesOfCampaign(r, id); err != nil {
		s.staffFail(w, r, err)
		return
	}
	if p.Signatures, err = s.staff.Store.Signatures(ctx, id); err != nil {
		s.staffFail(w, r, err)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]any{"campaign": c, "target": p.Target, "partners": p.Partners, "letters": p.Letters, "replies": p.Replies})
		return
	}
	s.renderStaff(w, http.StatusOK, "campaign", p)
}

func stateLabel(st campaign.State) string {
	for _, s := range campaignStates {
		if s.State == st {
			return s.Label
		}
	}
	return string(st)
}

// wantsJSON: the staff API shares its handlers with the pages; a path under
// /api/ answers JSON.
func wantsJSON(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }
