package web

import (
	"net/http"
	"sort"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/chart"
	"github.com/outreach-campaign/outreach/internal/store"
)

type chartsPage struct {
	staffPage
	Weekly string
	Rates  string
	Weeks  int
	// The charts' numbers, shown as tables for those who cannot see the
	// bars (screen readers read tables, not SVG shapes).
	WeekLabels []string
	WeekSeries []chart.Series
	RateRows   []chart.Rate
}

// chartWeeks is how many weeks the weekly chart shows, ending this week.
const chartWeeks = 12

// charts draws letters sent and responses received per week, and the
// response rate by country, as SVG.
func (s *Server) charts(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sent, err := s.staff.Store.Letters(ctx, store.LetterFilter{
		Kinds: []campaign.LetterKind{campaign.KindWave}, States: []campaign.LetterState{campaign.Sent, campaign.Bounced},
	})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	cs, err := s.staff.Store.Campaigns(ctx, store.CampaignFilter{})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	weeks, sentPer, repliedPer := weekly(s.staff.Now(), sent, cs)
	labels := make([]string, len(weeks))
	for i, wk := range weeks {
		labels[i] = wk.Format("Jan 2")
	}
	p := chartsPage{staffPage: s.newStaffPage(r, "charts", "Charts"), Weeks: chartWeeks, WeekLabels: labels, RateRows: responseRates(cs)}
	p.WeekSeries = []chart.Series{
		{Name: "letters sent", Values: sentPer, Class: "a"},
		{Name: "responses received", Values: repliedPer, Class: "b"},
	}
	p.Weekly = chart.Bars("Letters sent and responses received per week", labels, p.WeekSeries, 720, 260)
	p.Rates = chart.Rates("Response rate by country", p.RateRows, 640)
	s.renderStaff(w, http.StatusOK, "charts", p)
}

// weekly counts letters sent and responses received in each of the last
// chartWeeks weeks (weeks start on Monday, UTC).
func weekly(now time.Time, sent []campaign.Letter, cs []campaign.Campaign) ([]time.Time, []float64, []float64) {
	thisWeek := weekStart(now)
	weeks := make([]time.Time, chartWeeks)
	for i := range weeks {
		weeks[i] = thisWeek.AddDate(0, 0, -7*(chartWeeks-1-i))
	}
	index := func(t time.Time) int {
		d := weekStart(t).Sub(weeks[0])
		i := int(d.Hours() / (24 * 7))
		if d < 0 || i >= chartWeeks {
			return -1
		}
		return i
	}
	sentPer := make([]float64, chartWeeks)
	repliedPer := make([]float64, chartWeeks)
	for _, l := range sent {
		if i := index(l.SentAt); i >= 0 {
			sentPer[i]++
		}
	}
	for _, c := range cs {
		if c.ResponseDate.IsZero() {
			continue
		}
		if i := index(c.ResponseDate.In(time.UTC)); i >= 0 {
			repliedPer[i]++
		}
	}
	return weeks, sentPer, repliedPer
}

func weekStart(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
}

// responseRates: per country, the campaigns that responded out of those
// contacted.
func responseRates(cs []campaign.Campaign) []chart.Rate {
	byCountry := map[string]*chart.Rate{}
	for _, c := range cs {
		if c.CampaignDate.IsZero() {
			continue
		}
		r, ok := byCountry[c.Country]
		if !ok {
			r = &chart.Rate{Label: c.Country}
			byCountry[c.Country] = r
		}
		r.Whole++
		if !c.ResponseDate.IsZero() {
			r.Part++
		}
	}
	out := make([]chart.Rate, 0, len(byCountry))
	for _, r := range byCountry {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}
