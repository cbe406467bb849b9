package web

import (
	"net/http"

	"github.com/outreach-campaign/outreach/internal/status"
	"github.com/outreach-campaign/outreach/internal/store"
)

type statusPage struct {
	staffPage
	// Org is the organisation's name (organisation.name), which the page
	// carries in its header and title.
	Org  string
	Rows []statusRow
}

// statusRow is a row of the public table; Act is set when its campaign
// takes supporters' letters, and its city links to the campaign's page.
type statusRow struct {
	status.Row
	Act bool
}

// publicStatus publishes the campaign status table, as the campaign page
// did by hand, with CSV and JSON downloads. It needs no login.
func (s *Server) publicStatus(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cs, err := s.staff.Store.Campaigns(r.Context(), store.CampaignFilter{})
		if err != nil {
			s.log.Error("web: status table", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		switch format {
		case "csv":
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="sister-city-campaign-status.csv"`)
		case "json":
			w.Header().Set("Content-Type", "application/json")
		default:
			open, err := s.supporters.OpenCampaigns(r.Context())
			if err != nil {
				s.log.Error("web: status table", "err", err)
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			p := statusPage{staffPage: staffPage{Title: "Campaign status"}, Org: s.staff.Composer.Org.Name}
			act := map[int64]bool{}
			for _, oc := range open {
				act[oc.Campaign.ID] = true
			}
			for _, row := range status.Rows(cs) {
				p.Rows = append(p.Rows, statusRow{Row: row, Act: act[row.ID]})
			}
			s.renderStaff(w, http.StatusOK, "status", p)
			return
		}
		if err := status.Write(w, format, cs, status.Options{}); err != nil {
			s.log.Error("web: status table", "err", err)
		}
	}
}
