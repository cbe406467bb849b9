package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/chart"
)

// TestChartsShowTheirNumbers: each chart's numbers are also a table, with
// a header per column and per row, which screen readers can read.
func TestChartsShowTheirNumbers(t *testing.T) {
	tpl, err := loadStaffPages()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{staffPages: tpl, log: quietLog()}
	p := chartsPage{staffPage: staffPage{Title: "Charts", Email: staffEmail}, Weeks: 2,
		WeekLabels: []string{"Nov 23", "Nov 30"},
		WeekSeries: []chart.Series{
			{Name: "letters sent", Values: []float64{19, 0}, Class: "a"},
			{Name: "responses received", Values: []float64{0, 2}, Class: "b"},
		},
		RateRows: []chart.Rate{{Label: "Canada", Part: 2, Whole: 19}, {Label: "Italy", Part: 1, Whole: 2}},
	}
	w := httptest.NewRecorder()
	s.renderStaff(w, http.StatusOK, "charts", p)
	page := w.Body.String()
	for _, want := range []string{
		`<thead><tr><th scope="col">Week of</th><th scope="col">Letters sent</th><th scope="col">Responses received</th></tr></thead>`,
		`<tr><th scope="row">Nov 23</th><td>19</td><td>0</td></tr>`,
		`<tr><th scope="row">Nov 30</th><td>0</td><td>2</td></tr>`,
		`<thead><tr><th scope="col">Country</th><th scope="col">Responses</th><th scope="col">Contacted</th><th scope="col">Rate</th></tr></thead>`,
		`<tr><th scope="row">Canada</th><td>2</td><td>19</td><td>11%</td></tr>`,
		`<tr><th scope="row">Italy</th><td>1</td><td>2</td><td>50%</td></tr>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the charts page lacks %s", want)
		}
	}
}
