package web

import (
	"net/http"

	"github.com/outreach-campaign/outreach/internal/status"
	"github.com/outreach-campaign/outreach/internal/store"
)

type statusPage struct {
	staffPage
	Rows []status.Row
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
			s.renderStaff(w, http.StatusOK, "status", statusPage{staffPage: staffPage{Title: "Sister City Campaign Status"}, Rows: status.Rows(cs)})
			return
		}
		if err := status.Write(w, format, cs, status.Options{}); err != nil {
			s.log.Error("web: status table", "err", err)
		}
	}
}
