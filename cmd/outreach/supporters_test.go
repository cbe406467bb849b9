package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

func TestSupportersCommands(t *testing.T) {
	c := newCLI(t)
	c.ok("import", "cities", citiesCSV)
	c.ok("import", "contacts", contactsCSV)

	// Two letters to campaign 1, one confirmed, stored as the web server
	// would store them.
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(c.dir, "outreach.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"ann", "bob"} {
		sig, _, err := st.SignLetter(ctx, campaign.Signature{CampaignID: 1, Name: "=HYPERLINK(\"x\") " + who,
			Email: who + "@people.example", Country: "Canada", Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		if who == "ann" {
			if _, err := st.ConfirmSignature(ctx, sig.ID, 1); err != nil {
				t.Fatal(err)
			}
		}
	}
	st.Close()

	if out := c.ok("supporters", "mode", "--campaign", "1", "digest", "--period", "week"); !strings.Contains(out, "one digest per week") {
		t.Errorf("mode: %s", out)
	}
	if out := c.ok("supporters", "hold", "--campaign", "1"); !strings.Contains(out, "held") {
		t.Errorf("hold: %s", out)
	}
	var stats struct {
		Campaigns []struct {
			CampaignID int64  `json:"campaign_id"`
			Mode       string `json:"mode"`
			Period     string `json:"period"`
			Held       bool   `json:"held"`
			Signed     int    `json:"signed"`
			Confirmed  int    `json:"confirmed"`
			Waiting    int    `json:"waiting"`
			Pending    int    `json:"pending"`
		} `json:"campaigns"`
	}
	if err := json.Unmarshal([]byte(c.ok("supporters", "stats", "--json")), &stats); err != nil {
		t.Fatal(err)
	}
	if len(stats.Campaigns) != 1 {
		t.Fatalf("stats %+v", stats)
	}
	s := stats.Campaigns[0]
	if s.CampaignID != 1 || s.Mode != "digest" || s.Period != "week" || !s.Held || s.Signed != 2 || s.Confirmed != 1 || s.Waiting != 1 || s.Pending != 1 {
		t.Errorf("stats %+v", s)
	}
	c.ok("supporters", "release", "--campaign", "1")
	if out := c.ok("supporters", "stats", "--campaign", "1"); !strings.Contains(out, "digest per week") || strings.Contains(out, "held") {
		t.Errorf("stats table:\n%s", out)
	}

	rows, err := csv.NewReader(strings.NewReader(c.ok("supporters", "export", "--campaign", "1"))).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("export: %v %v", rows, err)
	}
	if rows[1][7] != `'=HYPERLINK("x") ann` || rows[1][8] != "ann@people.example" || rows[1][2] != "confirmed" {
		t.Errorf("export row %q", rows[1])
	}

	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"supporters", "mode", "--campaign", "1", "sometimes"}, 2},
		{[]string{"supporters", "mode", "--campaign", "1", "digest", "--period", "month"}, 2},
		{[]string{"supporters", "hold"}, 2},
		{[]string{"supporters", "hold", "--campaign", "999"}, 1},
		{[]string{"supporters", "export", "--campaign", "999"}, 1},
	} {
		if _, errs, code := c.run(tt.args...); code != tt.code || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d %q, want %d", tt.args, code, errs, tt.code)
		}
	}
}
