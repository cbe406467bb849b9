package main

import (
	"os"
	"strings"
	"testing"
)

// TestImportReportsEveryBadRow: both files, in every form, report each bad
// row as FILE:LINE: field: reason, and nothing of a bad file is stored.
func TestImportReportsEveryBadRow(t *testing.T) {
	c := newCLI(t)
	src, err := os.ReadFile(citiesCSV)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	// Lines 3, 10 and 17 (the header is line 1) go bad; line 2 changes
	// and must not be stored either.
	lines[1] = strings.Replace(lines[1], "London", "Londinium", 1)
	lines[2] = strings.Replace(lines[2], ",friendship,", ",cousin,", 1)
	lines[9] = strings.Join(strings.Split(lines[9], ",")[:3], ",")
	lines[16] = strings.Replace(lines[16], "2008-10-15", "2008-10-35", 1)
	bad := c.write("bad.csv", strings.Join(lines, "\n"))
	_, errs, code := c.run("import", "cities", bad)
	if code != 1 {
		t.Fatalf("import of a CSV with three bad rows: exit %d", code)
	}
	want := []string{
		"outreach: " + bad + ":3: relationship: ",
		bad + ":10: wrong number of fields",
		bad + ":17: agreement_date: \"2008-10-35\" is not a date of the form YYYY-MM-DD",
	}
	if got := strings.Split(strings.TrimSuffix(errs, "\n"), "\n"); len(got) != len(want) {
		t.Errorf("%d lines of error, want %d:\n%s", len(got), len(want), errs)
	} else {
		for i := range want {
			if !strings.HasPrefix(got[i], want[i]) {
				t.Errorf("error line %d is %q, want it to start %q", i+1, got[i], want[i])
			}
		}
	}
	if out := c.ok("status", "--format", "csv"); strings.Contains(out, "Londinium") || strings.Count(out, "\n") > 1 {
		t.Errorf("a rejected file was stored:\n%s", out)
	}

	// The same from the pasted page.
	page := c.write("page.txt", "No. Korean Local Government Country City Date\n"+
		"1 Seoul United Kingdom London 2015-12-04 Friendship City\n"+
		"2 Seoul Atlantis Rome 2000-03-18 Sister City\n"+
		"3 Busan Italy Milano 2000-03-18 Cousin City\n")
	_, errs, code = c.run("import", "cities", page)
	if code != 1 || !strings.Contains(errs, page+":3: country: ") || !strings.Contains(errs, page+":4: relationship: ") {
		t.Errorf("pasted page with two bad rows: exit %d\n%s", code, errs)
	}

	// Contacts: three bad rows among good ones.
	c.ok("import", "cities", citiesCSV)
	contacts := c.write("contacts.csv", "country,city,office,mayor,email,language,timezone\n"+
		"Italy,Milano,,,sindaco@milano.example,,\n"+
		"Italy,Atlantis,,,mayor@atlantis.example,,\n"+
		"Canada,Montreal,,,not an address,,\n"+
		"Italy,Verona,,,sindaco@verona.example,de,\n")
	_, errs, code = c.run("import", "contacts", contacts)
	for _, w := range []string{contacts + ":3: city: ", contacts + ":4: email: ", contacts + ":5: language: "} {
		if code != 1 || !strings.Contains(errs, w) {
			t.Errorf("contacts: exit %d, error lacks %q:\n%s", code, w, errs)
		}
	}
	if out := c.ok("targets", "list"); strings.Contains(out, "milano") {
		t.Errorf("a rejected contacts file was stored:\n%s", out)
	}
}
