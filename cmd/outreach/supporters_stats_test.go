package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// TestSupportersStatsAligned: the stats table's columns line up, whatever
// the length of a city's name or an office's address, and counts of
// several digits.
func TestSupportersStatsAligned(t *testing.T) {
	c := newCLI(t)
	c.ok("import", "cities", citiesCSV)
	c.ok("import", "contacts", contactsCSV)
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(c.dir, "outreach.db"))
	if err != nil {
		t.Fatal(err)
	}
	// Campaign 1 (London) gets twelve supporters, 19 (Montreal) one:
	// counts of one and two digits under one another.
	for i := range 13 {
		id := int64(1)
		if i == 12 {
			id = 19
		}
		sig, _, err := st.SignLetter(ctx, campaign.Signature{CampaignID: id, Name: fmt.Sprint("Supporter ", i),
			Email: fmt.Sprintf("s%d@people.example", i), Country: "Canada", Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := st.ConfirmSignature(ctx, sig.ID, sig.Version); err != nil {
				t.Fatal(err)
			}
		}
	}
	st.Close()
	out := c.ok("supporters", "stats")
	t.Logf("\n%s", out)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want a header, two campaigns and the total:\n%s", len(lines), out)
	}
	// Every column starts at the same place on every line (in runes: the
	// width a terminal shows).
	starts := func(line string) []int {
		var at []int
		runes := []rune(line)
		for i, r := range runes {
			if r != ' ' && (i == 0 || i >= 2 && runes[i-1] == ' ' && runes[i-2] == ' ') {
				at = append(at, i)
			}
		}
		return at
	}
	want := starts(lines[0])
	if len(want) != 12 {
		t.Fatalf("header has %d columns, want 12: %q", len(want), lines[0])
	}
	for _, l := range lines[1:3] {
		if got := starts(l); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("columns start at %v, the header's at %v:\n%s", got, want, out)
		}
	}
	// The total has no city, office or delivery: its counts stand under
	// the counts' headings.
	if got := starts(lines[3]); fmt.Sprint(got) != fmt.Sprint(append([]int{want[0]}, want[4:]...)) {
		t.Errorf("the total's columns start at %v, the header's at %v:\n%s", got, want, out)
	}
}
