package web

import (
	"net/http"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/queue"
	"github.com/outreach-campaign/outreach/internal/store"
)

// homeListMax is how many replies and letters the home page lists of each
// kind; the page its heading links to has the rest.
const homeListMax = 8

// homePage is the staff's daily starting point: what waits for them, each
// with a link to where the work is done.
type homePage struct {
	staffPage
	// Pending are the replies waiting for review, newest first.
	Pending     []replyRow
	PendingMore int
	// Waves are those in progress: started, not yet done or failed.
	Waves []queue.WaveStatus
	// Troubled are failed and uncertain letters, for staff to look at.
	Troubled             []campaign.Letter
	TroubledMore         int
	Failed, Uncertain    int
	Contacted, Responded int
	Victories            int
	// Rate is Responded out of Contacted, in whole percent.
	Rate int
}

// home answers / for staff. It reads little: the pending replies, the
// waves (and the counts of those not cancelled and not finished), the
// failed and uncertain letters and the campaigns.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := homePage{staffPage: s.newStaffPage(r, "home", "Today")}
	pending, err := s.staff.Store.Replies(ctx, store.ReplyFilter{Pending: true})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	cs, err := s.staff.Store.Campaigns(ctx, store.CampaignFilter{})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	cities := map[int64]string{}
	for _, c := range cs {
		cities[c.ID] = c.City
	}
	for i := len(pending) - 1; i >= 0 && len(p.Pending) < homeListMax; i-- {
		p.Pending = append(p.Pending, replyRowOf(pending[i], cities))
	}
	p.PendingMore = len(pending) - len(p.Pending)

	ws, err := queue.Statuses(ctx, s.staff.Store)
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	for _, wv := range ws {
		if wv.State == campaign.WaveStarted || wv.State == campaign.WaveDraft {
			p.Waves = append(p.Waves, wv)
		}
	}

	troubled, err := s.staff.Store.Letters(ctx, store.LetterFilter{States: []campaign.LetterState{campaign.Failed, campaign.Uncertain}})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	for _, l := range troubled {
		if l.State == campaign.Failed {
			p.Failed++
		} else {
			p.Uncertain++
		}
	}
	p.Troubled = troubled[:min(len(troubled), homeListMax)]
	p.TroubledMore = len(troubled) - len(p.Troubled)

	for _, rt := range responseRates(cs) {
		p.Contacted += rt.Whole
		p.Responded += rt.Part
	}
	for _, c := range cs {
		if c.State() == campaign.Won {
			p.Victories++
		}
	}
	if p.Contacted > 0 {
		p.Rate = (100*p.Responded + p.Contacted/2) / p.Contacted
	}
	s.renderStaff(w, http.StatusOK, "home", p)
}
