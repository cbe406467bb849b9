package web

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// TestCampaignNumberOnStaffPages: staff see a campaign by one number, its
// id ("#19"), on every page, with the table's printed No. beside it where
// it differs. Montreal's row 19 is printed No. 18; before, the campaign
// page called it "No. 18" and the next screen "campaign 19".
func TestCampaignNumberOnStaffPages(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	ctx := context.Background()
	if _, err := h.st.ImportCampaigns(ctx, []campaign.Campaign{{ID: 19, No: "18", Partner: campaign.Partner{Region: "Busan"},
		Country: "Canada", City: "Montreal", AgreementDate: campaign.Date{Year: 2000, Month: 9, Day: 19},
		Relationship: campaign.Sister, RelationshipLabel: "Sister City"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.ImportContacts(ctx, []store.Contact{{Target: campaign.Target{Email: "mayor@montreal.example",
		Country: "Canada", City: "Montreal", Mayor: "Valérie Plante", Language: "fr", TimeZone: "America/Toronto"},
		CampaignIDs: []int64{1, 19}}}); err != nil {
		t.Fatal(err)
	}
	montreal, err := h.st.Target(ctx, "mayor@montreal.example")
	if err != nil {
		t.Fatal(err)
	}
	s := h.login(t)
	for path, wants := range map[string][]string{
		"/campaigns":                    {`<td>#19 <span class="muted">(No. 18 in the table)</span></td><td><a href="/campaigns/19">Montreal</a>`},
		"/campaigns/19":                 {`<title>#19 Montreal`, `Campaigns</a> › #19</p>`, `<h1>#19 Montreal`, `#19 (No. 18 in the table); its public page is <a href="/act/19">/act/19</a>`},
		"/campaigns/1":                  {`<a href="/campaigns/19">#19 Busan</a>`},
		"/targets/" + itoa(montreal.ID): {`<a href="/campaigns/19">#19 Busan</a>`},
		"/targets":                      {`<a href="/campaigns/19">#19 Busan</a>`},
		"/waves/new":                    {`> #19 Montreal, Canada — Busan`},
	} {
		page := html.UnescapeString(string(h.getPage(t, s.c, path, http.StatusOK)))
		for _, w := range wants {
			if !strings.Contains(page, html.UnescapeString(w)) {
				t.Errorf("%s lacks %s", path, w)
			}
		}
		if strings.Contains(page, "No. 18</") || strings.Contains(page, "campaign 19") {
			t.Errorf("%s names campaign 19 another way", path)
		}
	}
	// A campaign whose printed No. is its number shows the number alone.
	if page := string(h.getPage(t, s.c, "/campaigns/1", http.StatusOK)); !strings.Contains(page, "<dd>#1; its public page") {
		t.Errorf("/campaigns/1 does not say #1 alone")
	}
}
