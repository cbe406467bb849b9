package cities

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// expectedRow is one row of testdata/expected-table.json: the seed page's
// 71 rows written out by hand, field by field.
type expectedRow struct {
	ID                int64  `json:"id"`
	No                string `json:"no"`
	Region            string `json:"region"`
	District          string `json:"district"`
	Country           string `json:"country"`
	City              string `json:"city"`
	AgreementDate     string `json:"agreement_date"`
	Relationship      string `json:"relationship"`
	RelationshipLabel string `json:"relationship_label"`
	CampaignDate      string `json:"campaign_date"`
	ResponseDate      string `json:"response_date"`
	ResponseNote      string `json:"response_note"`
}

func loadExpected(t *testing.T) []expectedRow {
	t.Helper()
	b, err := os.ReadFile("testdata/expected-table.json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []expectedRow
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 71 {
		t.Fatalf("fixture has %d rows, want 71", len(rows))
	}
	return rows
}

func rowOf(c campaign.Campaign) expectedRow {
	return expectedRow{
		ID: c.ID, No: c.No, Region: c.Partner.Region, District: c.Partner.District,
		Country: c.Country, City: c.City, AgreementDate: c.AgreementDate.String(),
		Relationship: string(c.Relationship), RelationshipLabel: c.RelationshipLabel,
		CampaignDate: c.CampaignDate.String(), ResponseDate: c.ResponseDate.String(),
		ResponseNote: c.ResponseNote,
	}
}

// compareRows reports every field that differs from the fixture.
func compareRows(t *testing.T, source string, got []campaign.Campaign, want []expectedRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", source, len(got), len(want))
	}
	for i := range want {
		g, w := rowOf(got[i]), want[i]
		gm, wm := toMap(t, g), toMap(t, w)
		for k, wv := range wm {
			if gm[k] != wv {
				t.Errorf("%s: row %d (no. %s) %s = %v, want %v", source, i+1, w.No, k, gm[k], wv)
			}
		}
	}
}

func toMap(t *testing.T, r expectedRow) map[string]any {
	b, _ := json.Marshal(r)
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func readTableFile(t *testing.T, path string) []campaign.Campaign {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cs, err := ReadTable(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cs
}

func TestReadTableMatchesFixture(t *testing.T) {
	want := loadExpected(t)
	compareRows(t, "pasted page", readTableFile(t, "testdata/campaign-page.txt"), want)
	compareRows(t, "config CSV", readTableFile(t, "../../config/sister-cities.csv"), want)
}

func TestTableQuirks(t *testing.T) {
	cs := readTableFile(t, "testdata/campaign-page.txt")
	nine := 0
	for _, c := range cs {
		if c.No == "9" {
			nine++
		}
	}
	if nine != 2 {
		t.Errorf("rows numbered 9: %d, want 2", nine)
	}
	byCity := map[string]int{}
	for _, c := range cs {
		byCity[c.Country+"/"+c.City]++
	}
	for _, city := range []string{"Canada/Montreal", "Canada/Chatham Kent, Ontario", "Australia/Manly, New South Wales", "Italy/Veneto", "Australia/Queensland"} {
		if byCity[city] != 2 {
			t.Errorf("%s has %d partners, want 2", city, byCity[city])
		}
	}
}

func TestWriteTableRoundTrip(t *testing.T) {
	cs := readTableFile(t, "testdata/campaign-page.txt")
	var b strings.Builder
	if err := WriteTable(&b, cs); err != nil {
		t.Fatal(err)
	}
	again, err := ReadTable(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	compareRows(t, "round trip", again, loadExpected(t))
}

func TestReadTableBadInput(t *testing.T) {
	header := strings.Join(TableHeader, ",") + "\n"
	good := "1,1,Seoul,,United Kingdom,London,2015-12-04,friendship,Friendship City,2017-07-18,2017-08-01,\n"
	tests := []struct {
		name, input string
		line        int
		field       string
	}{
		{"bad agreement date", header + good + "2,2,Seoul,,Italy,Rome,2000-13-18,sister,Sister City,,,\n", 3, "agreement_date"},
		{"American date", header + good + "2,2,Seoul,,Italy,Rome,2000-03-18,sister,Sister City,7/18/2017,,\n", 3, "campaign_date"},
		{"bad relationship", header + "1,1,Seoul,,Italy,Rome,2000-03-18,cousin,,,,\n", 2, "relationship"},
		{"label contradicts", header + "1,1,Seoul,,Italy,Rome,2000-03-18,sister,Friendship City,,,\n", 2, "relationship_label"},
		{"note without date", header + "1,1,Seoul,,Italy,Rome,2000-03-18,sister,Sister,,,Good news\n", 2, "response_note"},
		{"missing city", header + "1,1,Seoul,,Italy,,2000-03-18,sister,Sister,,,\n", 2, "city"},
		{"duplicate id", header + good + good, 3, "id"},
		{"too few fields", header + "1,1,Seoul\n", 2, ""},
		{"bad id", header + "x,1,Seoul,,Italy,Rome,2000-03-18,sister,Sister,,,\n", 2, "id"},
		{"page row without country", "No. Korean Local Government Country\n1 Seoul Atlantis London 2015-12-04 Friendship City\n", 2, "country"},
		{"page row without date", "No. Korean Local Government Country\n1 Seoul United Kingdom London Friendship City\n", 2, "agreement_date"},
		{"page row bad label", "No. Korean Local Government Country\n1 Seoul United Kingdom London 2015-12-04 Cousin City\n", 2, "relationship"},
		{"page row bad campaign date", "No. Korean Local Government Country\n1 Seoul United Kingdom London 2015-12-04 Sister 2/30/2017\n", 2, "campaign_date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadTable(strings.NewReader(tt.input))
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error %v is not a LineError", err)
			}
			if le.Line != tt.line || le.Field != tt.field {
				t.Errorf("error at line %d field %q (%v), want line %d field %q", le.Line, le.Field, err, tt.line, tt.field)
			}
		})
	}
}

func TestReadTableNoTable(t *testing.T) {
	_, err := ReadTable(strings.NewReader("just some text\n"))
	if err == nil || !strings.Contains(err.Error(), "header") {
		t.Fatalf("err = %v, want one that names the missing header", err)
	}
}

func TestWithFile(t *testing.T) {
	err := WithFile(&LineError{Line: 17, Field: "agreement_date", Reason: "bad"}, "cities.csv")
	if got, want := err.Error(), "cities.csv:17: agreement_date: bad"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
