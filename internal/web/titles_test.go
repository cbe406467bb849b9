package web

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
	"github.com/outreach-campaign/outreach/internal/supporters"
)

// TestActPageNamesTheHolder checks that a campaign's page asks supporters
// to write to its office's holder by title: a province's premier, a
// region's president, an assembly's chair and a city's mayor, in the
// page's language and with the office's name for its place there.
func TestActPageNamesTheHolder(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	addTitledOffices(t, h)
	c := h.client()
	for _, tt := range []struct {
		path string
		want []string
	}{
		{"/act/27?lang=en", []string{"<title>Write to the premier of British Columbia", "<h1>Write to the premier of British Columbia</h1>",
			"Ask the premier to write to their Korean partner", "Your letter asks the premier to write to Gyeonggi-do",
			"The premier&#39;s office may reply to me directly"}},
		{"/act/27?lang=fr", []string{"<h1>Écrivez au premier ministre de la Colombie-Britannique</h1>",
			"Un jumelage unit la Colombie-Britannique à Gyeonggi-do", "La Colombie-Britannique et Gyeonggi-do : ville jumelle depuis 2008", "Votre lettre demande au premier ministre d&#39;écrire à Gyeonggi-do"}},
		{"/act/27?lang=it", []string{"<h1>Scrivi al premier della Columbia Britannica</h1>"}},
		{"/act/13?lang=it", []string{"<h1>Scrivi al presidente del Veneto</h1>", "Un gemellaggio unisce il Veneto a Gangwon-do", "Il Veneto e Gangwon-do: città amica dal 2011",
			"Chiedi al presidente di scrivere", "L&#39;ufficio del presidente può rispondermi direttamente"}},
		{"/act/13?lang=en", []string{"<h1>Write to the president of Veneto</h1>"}},
		{"/act/5?lang=en", []string{"<h1>Write to the chair of Northern Ireland East Assembly</h1>", "Ask the chair to write"}},
		{"/act/1?lang=en", []string{"<h1>Write to the mayor of Montreal</h1>", "Ask the mayor to write"}},
		{"/act/1?lang=fr", []string{"<h1>Écrivez au maire de Montreal</h1>", "Le cabinet du maire peut me répondre"}},
		{"/act/27/sent?lang=en", []string{"confirm your letter to the premier of British Columbia"}},
		{"/act/13/sent?lang=it", []string{"confermare la tua lettera al presidente del Veneto"}},
	} {
		code, page := h.get(c, h.srv.URL+tt.path)
		if code != http.StatusOK {
			t.Errorf("%s: %d", tt.path, code)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(page, w) && !strings.Contains(html.UnescapeString(page), html.UnescapeString(w)) {
				t.Errorf("%s lacks %q:\n%s", tt.path, w, page)
			}
		}
		if strings.Contains(page, "mayor of British Columbia") || strings.Contains(page, "mayor of Veneto") ||
			strings.Contains(page, "mayor of Northern Ireland") {
			t.Errorf("%s calls a premier, president or chair a mayor", tt.path)
		}
	}

	// The confirmation link's pages name the premier too.
	rec, err := h.sup.Sign(context.Background(), 27, supporters.Form{Name: "Jane Doe", Email: "jane@people.example",
		Country: "Canada", Lang: "en"}, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	confirm, _ := h.sup.ConfirmationLinks(rec.Signature)
	if code, page := h.get(c, confirm); code != http.StatusOK || !strings.Contains(page, "Once confirmed, it is delivered to the office of the premier of British Columbia.") {
		t.Errorf("confirmation page: %d\n%s", code, page)
	}
	if code, page := h.follow(confirm); code != http.StatusOK || !strings.Contains(page, "delivered to the office of the premier of British Columbia.") {
		t.Errorf("confirmed page: %d\n%s", code, page)
	}
}

// addTitledOffices adds the table's province of British Columbia (27), the
// region of Veneto (13) and the Northern Ireland East Assembly (5), with
// their holders' titles, to the harness's store.
func addTitledOffices(tb testing.TB, h *harness) {
	tb.Helper()
	ctx := context.Background()
	cs := []campaign.Campaign{
		{ID: 27, No: "26", Partner: campaign.Partner{Region: "Gyeonggi-do"}, Country: "Canada", City: "British Columbia",
			AgreementDate: campaign.Date{Year: 2008, Month: 5, Day: 19}, Relationship: campaign.Sister, RelationshipLabel: "Sister City"},
		{ID: 13, No: "12", Partner: campaign.Partner{Region: "Gangwon-do"}, Country: "Italy", City: "Veneto",
			AgreementDate: campaign.Date{Year: 2011, Month: 10, Day: 25}, Relationship: campaign.Friendship, RelationshipLabel: "Friendship City"},
		{ID: 5, No: "5", Partner: campaign.Partner{Region: "Gyeonggi-do"}, Country: "United Kingdom", City: "Northern Ireland East Assembly",
			AgreementDate: campaign.Date{Year: 1996, Month: 6, Day: 1}, Relationship: campaign.Sister, RelationshipLabel: "Sister City"},
	}
	if _, err := h.st.ImportCampaigns(ctx, cs); err != nil {
		tb.Fatal(err)
	}
	if _, err := h.st.ImportContacts(ctx, []store.Contact{
		{Target: campaign.Target{Email: "premier@bc.example", Country: "Canada", City: "British Columbia", Title: campaign.Premier,
			Names: "fr=la Colombie-Britannique|it=la Columbia Britannica", Language: "en", TimeZone: "America/Vancouver"}, CampaignIDs: []int64{27}},
		{Target: campaign.Target{Email: "president@veneto.example", Country: "Italy", City: "Veneto", Title: campaign.President,
			Names: "fr=la Vénétie|it=il Veneto", Language: "it", TimeZone: "Europe/Rome"}, CampaignIDs: []int64{13}},
		{Target: campaign.Target{Email: "office@ni-east.example", Country: "United Kingdom", City: "Northern Ireland East Assembly",
			Title: campaign.Chair, Language: "en", TimeZone: "Europe/London"}, CampaignIDs: []int64{5}},
	}); err != nil {
		tb.Fatal(err)
	}
}

// TestStaffPagesNameTheHolder checks that the staff's office and campaign
// pages say who letters are written to.
func TestStaffPagesNameTheHolder(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	addTitledOffices(t, h)
	s := h.login(t)
	bc, err := h.st.Target(context.Background(), "premier@bc.example")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/targets/" + itoa(bc.ID): "the premier of British Columbia: name not known (letters open “Dear Premier”)",
		"/campaigns/27":           "to the premier of British Columbia;",
		"/campaigns/13":           "to the president of Veneto;",
		"/campaigns/5":            "to the chair of Northern Ireland East Assembly;",
		"/campaigns/1":            "to the mayor of Montreal, Valérie Plante;",
		"/targets":                "premier@bc.example",
	} {
		page := string(h.getPage(t, s.c, path, http.StatusOK))
		if !strings.Contains(html.UnescapeString(page), want) {
			t.Errorf("%s lacks %q", path, want)
		}
	}
	if page := html.UnescapeString(string(h.getPage(t, s.c, "/targets", http.StatusOK))); !strings.Contains(page, "(premier)") ||
		!strings.Contains(page, "(chair)") || !strings.Contains(page, "(president)") || !strings.Contains(page, "(mayor)") {
		t.Errorf("the offices list does not show each holder's title:\n%s", page)
	}
}
