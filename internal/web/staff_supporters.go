package web

import (
	"net/http"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

type supporterRow struct {
	store.SupporterStats
	Delivery campaign.Delivery `json:"delivery"`
	// Planned counts the office's supporters' e-mails planned or queued:
	// its waiting batches.
	Planned int `json:"planned"`
}

type supportersPage struct {
	staffPage
	Rows []supporterRow
}

// supporters shows, per campaign and office, how many supporters signed,
// confirmed and were delivered, and what waits.
func (s *Server) supportersStats(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	stats, err := s.staff.Store.SupporterStats(ctx, 0)
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	deliveries, err := s.staff.Store.Deliveries(ctx)
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	planned, err := s.staff.Store.Letters(ctx, store.LetterFilter{
		Kinds:  []campaign.LetterKind{campaign.KindSupporter, campaign.KindDigest},
		States: []campaign.LetterState{campaign.Planned, campaign.Queued},
	})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	perCampaign := map[int64]int{}
	for _, l := range planned {
		for _, id := range l.CampaignIDs {
			perCampaign[id]++
		}
	}
	p := supportersPage{staffPage: s.newStaffPage(r, "supporters", "Supporters")}
	for _, st := range stats {
		p.Rows = append(p.Rows, supporterRow{SupporterStats: st, Delivery: deliveries[st.CampaignID], Planned: perCampaign[st.CampaignID]})
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, p.Rows)
		return
	}
	s.renderStaff(w, http.StatusOK, "supporters", p)
}
