package web

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// cityCells are the sister cities of a campaigns page, in order.
var cityCell = regexp.MustCompile(`<td><a href="/campaigns/\d+">([^<]+)</a></td>`)

func citiesOn(page []byte) string {
	var out []string
	for _, m := range cityCell.FindAllSubmatch(page, -1) {
		out = append(out, string(m[1]))
	}
	return strings.Join(out, ",")
}

// The campaigns list is searched with one text box and sorted by its
// column headers, with GET parameters that work without JavaScript.
func TestCampaignSearchAndSort(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	ctx := context.Background()
	cs, _ := h.st.Campaigns(ctx, store.CampaignFilter{})
	for i := range cs {
		switch cs[i].ID {
		case 2:
			cs[i].CampaignDate = campaign.Date{Year: 2025, Month: 1, Day: 10}
		case 3:
			cs[i].CampaignDate = campaign.Date{Year: 2024, Month: 6, Day: 1}
		}
	}
	if _, err := h.st.ImportCampaigns(ctx, cs); err != nil {
		t.Fatal(err)
	}
	s := h.login(t)
	// The seed: 1 Montreal (Seoul, Canada), 2 Milano (Busan, Italy),
	// 3 Perth (Gyeonggi-do, Australia), 4 Nowhere (Seoul, Canada).
	for _, tt := range []struct{ query, want string }{
		{"", "Montreal,Milano,Perth,Nowhere"},
		{"?q=seoul", "Montreal,Nowhere"},   // the partner
		{"?q=MILANO", "Milano"},            // the city, any case
		{"?q=australia", "Perth"},          // the country
		{"?q=canada+seoul+now", "Nowhere"}, // every word must match
		{"?q=lyon", ""},                    // nothing
		{"?q=seoul&state=never-contacted", "Montreal,Nowhere"},
		{"?sort=city", "Milano,Montreal,Nowhere,Perth"},
		{"?sort=-city", "Perth,Nowhere,Montreal,Milano"},
		{"?sort=country", "Perth,Montreal,Nowhere,Milano"},  // ties in table order
		{"?sort=-country", "Milano,Montreal,Nowhere,Perth"}, // ties in table order
		{"?sort=partner", "Milano,Perth,Montreal,Nowhere"},
		{"?sort=campaign_date", "Perth,Milano,Montreal,Nowhere"},  // campaigns never written to last
		{"?sort=-campaign_date", "Milano,Perth,Montreal,Nowhere"}, // last both ways
		{"?sort=nonsense", "Montreal,Milano,Perth,Nowhere"},
		{"?q=canada&sort=-no", "Nowhere,Montreal"},
	} {
		page := h.getPage(t, s.c, "/campaigns"+tt.query, http.StatusOK)
		if got := citiesOn(page); got != tt.want {
			t.Errorf("/campaigns%s: %s, want %s", tt.query, got, tt.want)
		}
	}
	// The headers link to the sorted list, keeping the search, and the
	// sorted column says so; its link sorts the other way.
	page := string(h.getPage(t, s.c, "/campaigns?q=canada&sort=city", http.StatusOK))
	for _, want := range []string{
		`<th aria-sort="ascending" scope="col"><a href="/campaigns?q=canada&amp;sort=-city">Sister city`,
		`<th scope="col"><a href="/campaigns?q=canada&amp;sort=partner">Korean local government</a></th>`,
		`<th scope="col"><a href="/campaigns?q=canada">Campaign</a></th>`,
		`<input type="search" name="q" value="canada"`,
		`<input type="hidden" name="sort" value="city">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the sorted page lacks %s", want)
		}
	}
	if n := strings.Count(page, "aria-sort="); n != 1 {
		t.Errorf("%d headers carry aria-sort, want 1", n)
	}
	page = string(h.getPage(t, s.c, "/campaigns?sort=-city", http.StatusOK))
	if !strings.Contains(page, `<th aria-sort="descending" scope="col"><a href="/campaigns?sort=city">Sister city`) {
		t.Error("the column sorted descending does not say so, or does not link to ascending")
	}
	// The API takes the same parameters.
	var rows []campaignRow
	if err := json.Unmarshal(h.getPage(t, s.c, "/api/v1/campaigns?q=seoul&sort=-no", http.StatusOK), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].ID != 4 || rows[1].ID != 1 {
		t.Errorf("the API's search and sort: %+v", rows)
	}
}
