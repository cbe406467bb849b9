package cities

import (
	"errors"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

const contactsHead = "country,city,office,mayor,email,language,timezone\n"

func seedCampaigns(t *testing.T) []campaign.Campaign {
	t.Helper()
	return readTableFile(t, "testdata/campaign-page.txt")
}

func TestExampleContactsCoverEveryCity(t *testing.T) {
	cs := seedCampaigns(t)
	f, err := os.Open("../../config/contacts.example.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := ReadContacts(f, cs)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.NoAddress) != 0 {
		t.Errorf("campaigns without an address: %v", got.NoAddress)
	}
	covered := map[int64]string{}
	for _, c := range got.Contacts {
		if !strings.HasSuffix(c.Target.Email, ".example") {
			t.Errorf("%s is not under a reserved example domain", c.Target.Email)
		}
		for _, id := range c.CampaignIDs {
			covered[id] = c.Target.Email
		}
	}
	for _, c := range cs {
		if covered[c.ID] == "" {
			t.Errorf("campaign %d (%s) has no office in the example contacts", c.ID, c.City)
		}
	}
	if len(got.Contacts) != 64 {
		t.Errorf("%d offices, want 64 (71 campaigns, 7 offices with two partners)", len(got.Contacts))
	}
	// Canada: 21 campaigns, 19 offices.
	canada := 0
	for _, c := range got.Contacts {
		if c.Target.Country == "Canada" {
			canada++
		}
	}
	if canada != 19 {
		t.Errorf("%d Canadian offices, want 19", canada)
	}
	// The provinces, states, regions and assemblies of the table are
	// addressed by their holders' titles; cities by their mayors'.
	titles := map[string]campaign.Title{}
	for _, c := range got.Contacts {
		titles[c.Target.Email] = c.Target.Title
	}
	for email, want := range map[string]campaign.Title{
		"premier@bc.example": campaign.Premier, "premier@alberta.example": campaign.Premier,
		"premier@nsw.example": campaign.Premier, "premier@tasmania.example": campaign.Premier,
		"president@veneto.example": campaign.President, "office@ni-east.example": campaign.Chair,
		"mayor@aberdeen.example": campaign.LordProvost, "mayor@brisbane.example": campaign.LordMayor,
		"maire@montreal.example": campaign.Mayor, "sindaco@milano.example": campaign.Mayor,
		"mayor@calgary.example": campaign.Mayor,
	} {
		if titles[email] != want {
			t.Errorf("%s is addressed as %q, want %q", email, titles[email], want)
		}
	}
}

func TestContactsDefaultsAndSharedOffices(t *testing.T) {
	cs := seedCampaigns(t)
	in := contactsHead +
		"Italy,Milano|Milan,Comune di Milano,,sindaco@milano.example,,\n" +
		"Canada,Montreal,Cabinet,,maire@montreal.example,,\n" +
		"Australia,\"Perth, Western Australia\",,,mayor@perth.example,,\n" +
		"Canada,\"Chatham Kent, Ontario\",,,mayor@chatham-kent.example,,\n" +
		"Canada,\"Surrey, British Columbia\",,,mayor@surrey.example,en,America/Vancouver\n" +
		"United Kingdom,London,,,,,\n"
	got, err := ReadContacts(strings.NewReader(in), cs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		lang, tz string
		ids      []int64
	}{
		"sindaco@milano.example":     {"it", "Europe/Rome", []int64{8, 10}},
		"maire@montreal.example":     {"fr", "America/Toronto", []int64{19, 24}},
		"mayor@perth.example":        {"en", "Australia/Perth", []int64{45}},
		"mayor@chatham-kent.example": {"en", "America/Toronto", []int64{21, 35}},
		"mayor@surrey.example":       {"en", "America/Vancouver", []int64{23}},
	}
	if len(got.Contacts) != len(want) {
		t.Fatalf("%d contacts, want %d", len(got.Contacts), len(want))
	}
	for _, c := range got.Contacts {
		w, ok := want[c.Target.Email]
		if !ok {
			t.Errorf("unexpected contact %s", c.Target.Email)
			continue
		}
		ids := append([]int64(nil), c.CampaignIDs...)
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		if c.Target.Language != w.lang || c.Target.TimeZone != w.tz || !equalIDs(ids, w.ids) {
			t.Errorf("%s: lang %s tz %s campaigns %v, want %s %s %v", c.Target.Email, c.Target.Language, c.Target.TimeZone, ids, w.lang, w.tz, w.ids)
		}
	}
	if len(got.NoAddress) != 1 || got.NoAddress[0].ID != 1 {
		t.Errorf("NoAddress = %v, want London (campaign 1)", got.NoAddress)
	}
}

// TestContactsTitles reads the optional title and names columns, in either
// order, and gives a row without a title a mayor.
func TestContactsTitles(t *testing.T) {
	cs := seedCampaigns(t)
	in := strings.TrimSuffix(contactsHead, "\n") + ",names,title\n" +
		"Canada,British Columbia,,,premier@bc.example,,,fr=la Colombie-Britannique,premier\n" +
		"Italy,Veneto,,,president@veneto.example,,,it=il Veneto|fr=la Vénétie,President\n" +
		"United Kingdom,Northern Ireland East Assembly,,,office@ni-east.example,,,,chair\n" +
		"Canada,Montreal,,,maire@montreal.example,,,fr=Montréal,\n"
	got, err := ReadContacts(strings.NewReader(in), cs)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		email string
		title campaign.Title
		names campaign.PlaceNames
	}{
		{"premier@bc.example", campaign.Premier, "fr=la Colombie-Britannique"},
		{"president@veneto.example", campaign.President, "fr=la Vénétie|it=il Veneto"},
		{"office@ni-east.example", campaign.Chair, ""},
		{"maire@montreal.example", campaign.Mayor, "fr=Montréal"},
	}
	if len(got.Contacts) != len(want) {
		t.Fatalf("%d contacts, want %d", len(got.Contacts), len(want))
	}
	for i, w := range want {
		tg := got.Contacts[i].Target
		if tg.Email != w.email || tg.Title != w.title || tg.Names != w.names {
			t.Errorf("contact %d: %s %q %q, want %s %q %q", i, tg.Email, tg.Title, tg.Names, w.email, w.title, w.names)
		}
	}
	// A file without the columns still reads: every office is a mayor's.
	old, err := ReadContacts(strings.NewReader(contactsHead+"Italy,Rome,,,sindaco@roma.example,,\n"), cs)
	if err != nil || old.Contacts[0].Target.Title != campaign.Mayor {
		t.Errorf("a file without a title column: %+v, %v", old, err)
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestContactsBadInput(t *testing.T) {
	cs := seedCampaigns(t)
	tests := []struct {
		name, input string
		line        int
		field       string
		mention     string
	}{
		{"unknown city", contactsHead + "Italy,Rome,,,sindaco@roma.example,,\nItaly,Napoli,,,sindaco@napoli.example,,\n", 3, "city", `"Napoli"`},
		{"one unknown spelling", contactsHead + "Italy,Milano|Milann,,,sindaco@milano.example,,\n", 2, "city", `"Milann"`},
		{"CR/LF in the mayor's name", contactsHead + "Italy,Rome,,\"Jane\r\nBcc: victim@example.com\",sindaco@roma.example,,\n", 2, "mayor", "line breaks"},
		{"LF in the office", contactsHead + "Italy,Rome,\"Ufficio\nBcc: x@example.com\",,sindaco@roma.example,,\n", 2, "office", "line breaks"},
		{"bad address", contactsHead + "Italy,Rome,,,not an address,,\n", 2, "email", "not a plain"},
		{"bad language", contactsHead + "Italy,Rome,,,sindaco@roma.example,de,\n", 2, "language", `"de"`},
		{"bad time zone", contactsHead + "Italy,Rome,,,sindaco@roma.example,,Europe/Atlantis\n", 2, "timezone", "Europe/Atlantis"},
		{"campaign claimed twice", contactsHead + "Italy,Rome,,,a@roma.example,,\nItaly,Rome,,,b@roma.example,,\n", 3, "city", "already the office"},
		{"wrong header", "country,city,email\nItaly,Rome,a@roma.example\n", 1, "", "header"},
		{"unknown optional column", strings.TrimSuffix(contactsHead, "\n") + ",title,honorific\nItaly,Rome,,,a@roma.example,,,mayor,Dr\n", 1, "", "optionally followed by title and names"},
		{"column twice", strings.TrimSuffix(contactsHead, "\n") + ",title,title\nItaly,Rome,,,a@roma.example,,,mayor,mayor\n", 1, "", "header"},
		{"bad title", strings.TrimSuffix(contactsHead, "\n") + ",title\nItaly,Rome,,,a@roma.example,,,mayor\nItaly,Veneto,,,b@veneto.example,,,governor\n", 3, "title",
			`"governor" is not one of mayor, lord-mayor, lord-provost, premier, president, chair`},
		{"bad names", strings.TrimSuffix(contactsHead, "\n") + ",names\nCanada,Montreal,,,a@montreal.example,,,Montréal\n", 2, "names", "LANG=NAME"},
		{"name in an unknown language", strings.TrimSuffix(contactsHead, "\n") + ",names\nCanada,Montreal,,,a@montreal.example,,,de=Montreal\n", 2, "names", `"de"`},
		{"wrong field count", contactsHead + "Italy,Rome\n", 2, "", "fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadContacts(strings.NewReader(tt.input), cs)
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("err %v is not a LineError", err)
			}
			if le.Line != tt.line || le.Field != tt.field || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("got %q (line %d, field %q), want line %d, field %q, mentioning %s", err, le.Line, le.Field, tt.line, tt.field, tt.mention)
			}
		})
	}
}
