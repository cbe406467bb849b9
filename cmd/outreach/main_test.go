package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli runs outreach in-process with its store in dir.
type cli struct {
	t   *testing.T
	dir string
	env []string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	return &cli{t: t, dir: dir, env: []string{"OUTREACH_STORE_PATH=" + filepath.Join(dir, "outreach.db")}}
}

func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, environ: c.env})
	return out.String(), errb.String(), code
}

func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errs, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("outreach %s: exit %d: %s", strings.Join(args, " "), code, errs)
	}
	return out
}

func (c *cli) write(name, content string) string {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return p
}

const (
	citiesCSV   = "../../config/sister-cities.csv"
	seedPage    = "../../internal/cities/testdata/campaign-page.txt"
	contactsCSV = "../../config/contacts.example.csv"
)

func TestImportBothFormsGiveSameStatus(t *testing.T) {
	a, b := newCLI(t), newCLI(t)
	a.ok("import", "cities", citiesCSV)
	b.ok("import", "cities", seedPage)
	sa := a.ok("status", "--format", "json")
	sb := b.ok("status", "--format", "json")
	if sa != sb {
		t.Error("the CSV and the pasted page give different store contents")
	}
	out := a.ok("import", "cities", seedPage)
	if !strings.Contains(out, "0 added, 0 updated, 71 unchanged") {
		t.Errorf("importing the page over the CSV changed something: %s", out)
	}
}

// TestStatusCSVMatchesSeed compares "status --format csv" right after the
// import with the seed's 71 rows as written out in the fixture.
func TestStatusCSVMatchesSeed(t *testing.T) {
	c := newCLI(t)
	c.ok("import", "cities", citiesCSV)
	out := c.ok("status", "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHead := []string{"No.", "Korean Local Government", "Country", "Sister City", "Agreement Date", "Sister/Friendship", "Campaign Date", "Victory/Response received", "Response note"}
	if strings.Join(recs[0], "|") != strings.Join(wantHead, "|") {
		t.Errorf("header %q", recs[0])
	}
	b, err := os.ReadFile("../../internal/cities/testdata/expected-table.json")
	if err != nil {
		t.Fatal(err)
	}
	var want []map[string]any
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	rows := recs[1:]
	if len(rows) != 71 || len(want) != 71 {
		t.Fatalf("%d rows, fixture %d; want 71", len(rows), len(want))
	}
	for i, w := range want {
		partner := w["region"].(string)
		if d := w["district"].(string); d != "" {
			partner += " " + d
		}
		wantRow := []string{w["no"].(string), partner, w["country"].(string), w["city"].(string),
			w["agreement_date"].(string), w["relationship_label"].(string), w["campaign_date"].(string),
			w["response_date"].(string), w["response_note"].(string)}
		if strings.Join(rows[i], "|") != strings.Join(wantRow, "|") {
			t.Errorf("row %d:\n got %q\nwant %q", i+1, rows[i], wantRow)
		}
	}
}

func TestBadDateOnLine17ChangesNothing(t *testing.T) {
	c := newCLI(t)
	c.ok("import", "cities", citiesCSV)
	before := c.ok("status", "--format", "json")

	src, err := os.ReadFile(citiesCSV)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	// Line 17 (the header is line 1) is Verona, campaign 16: give it an
	// impossible date and change another row, which must not be stored.
	if !strings.Contains(lines[16], "Verona") {
		t.Fatalf("line 17 is %q, expected Verona's row", lines[16])
	}
	lines[16] = strings.Replace(lines[16], "2008-10-15", "2008-10-35", 1)
	lines[1] = strings.Replace(lines[1], "London", "Londinium", 1)
	bad := c.write("bad.csv", strings.Join(lines, "\n"))

	_, errs, code := c.run("import", "cities", bad)
	if code == 0 {
		t.Fatal("a CSV with a malformed date was imported")
	}
	if want := bad + ":17: agreement_date:"; !strings.Contains(errs, want) {
		t.Errorf("error %q does not start with %q", errs, want)
	}
	if n := strings.Count(strings.TrimSpace(errs), "\n"); n != 0 {
		t.Errorf("error is %d lines, want one: %q", n+1, errs)
	}
	if after := c.ok("status", "--format", "json"); after != before {
		t.Error("the store changed after a rejected import")
	}
}

func TestContactsImportAndPreview(t *testing.T) {
	c := newCLI(t)
	c.ok("import", "cities", citiesCSV)
	out := c.ok("import", "contacts", contactsCSV)
	if !strings.Contains(out, "64 offices: 64 added") {
		t.Errorf("import contacts: %s", out)
	}
	if strings.Contains(out, "no office yet") {
		t.Errorf("the example contacts leave campaigns without an office: %s", out)
	}
	out = c.ok("import", "contacts", contactsCSV)
	if !strings.Contains(out, "0 added, 0 updated, 64 unchanged") {
		t.Errorf("second import changed something: %s", out)
	}

	mime := c.ok("preview", "--city", "Montreal")
	for _, want := range []string{"To: =?utf-8?q?Cabinet_de_la_mairie_de_Montr=C3=A9al?="[4:], "<maire@montreal.example>",
		"Content-Type: text/plain; charset=UTF-8", "Content-Type: text/html; charset=UTF-8",
		"Message-ID: <preview-t", "Busan, ville jumelle depuis le 19 septembre 2000"} {
		if !strings.Contains(mime, want) && !strings.Contains(decodeQP(t, mime), want) {
			t.Errorf("preview lacks %q:\n%s", want, mime)
		}
	}
	en := c.ok("preview", "--target", "maire@montreal.example", "--lang", "en")
	if !strings.Contains(en, "Subject: Your twinning with Busan and Seoul") {
		t.Errorf("--lang en preview:\n%s", en)
	}
	if _, errs, code := c.run("preview", "--target", "maire@montreal.example", "--lang", "de"); code == 0 || !strings.Contains(errs, "en, fr, it") {
		t.Errorf("--lang de: exit %d, %s", code, errs)
	}
	if _, errs, code := c.run("preview", "--city", "Atlantis"); code == 0 || !strings.Contains(errs, "Atlantis") {
		t.Errorf("unknown city: exit %d, %s", code, errs)
	}
}

// decodeQP undoes the quoted-printable encoding of a message's parts.
func decodeQP(t *testing.T, s string) string {
	t.Helper()
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(s)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestContactsErrorsChangeNothing(t *testing.T) {
	c := newCLI(t)
	c.ok("import", "cities", citiesCSV)
	c.ok("import", "contacts", contactsCSV)
	before := c.ok("targets", "list")

	head := "country,city,office,mayor,email,language,timezone\n"
	unknown := c.write("unknown.csv", head+"Italy,Rome,,,new-rome@rome.example,,\nItaly,Atlantis,,,x@atlantis.example,,\n")
	_, errs, code := c.run("import", "contacts", unknown)
	if code == 0 || !strings.Contains(errs, unknown+":3: city:") || !strings.Contains(errs, `"Atlantis"`) {
		t.Errorf("unknown city: exit %d, %q", code, errs)
	}
	inject := c.write("inject.csv", head+"Italy,Rome,,\"Jane\r\nBcc: victim@example.com\",sindaco@rome.example,,\n")
	_, errs, code = c.run("import", "contacts", inject)
	if code == 0 || !strings.Contains(errs, inject+":2: mayor:") || !strings.Contains(errs, "line breaks") {
		t.Errorf("CR/LF in the mayor's name: exit %d, %q", code, errs)
	}
	if after := c.ok("targets", "list"); after != before {
		t.Errorf("targets changed after refused imports:\n%s\n%s", before, after)
	}
}

func TestDoNotContact(t *testing.T) {
	c := newCLI(t)
	c.ok("import", "cities", citiesCSV)
	c.ok("import", "contacts", contactsCSV)
	c.ok("targets", "do-not-contact", "mayor@london.example")
	if out := c.ok("targets", "list", "--country", "United Kingdom"); !strings.Contains(out, "do-not-contact") {
		t.Errorf("targets list does not show the mark:\n%s", out)
	}
	c.ok("targets", "do-not-contact", "mayor@london.example", "--off")
	if out := c.ok("targets", "list", "--country", "United Kingdom"); strings.Contains(out, "do-not-contact") {
		t.Errorf("mark not lifted:\n%s", out)
	}
	if _, errs, code := c.run("targets", "do-not-contact", "nobody@nowhere.example"); code == 0 || !strings.Contains(errs, "not found") {
		t.Errorf("unknown target: exit %d %q", code, errs)
	}
}

func TestStatusFormats(t *testing.T) {
	c := newCLI(t)
	c.ok("import", "cities", citiesCSV)
	table := c.ok("status", "--country", "Canada")
	if n := strings.Count(table, "\n"); n != 22 {
		t.Errorf("Canada table has %d lines, want a header and 21 rows", n)
	}
	if !strings.Contains(table, "2017-08-09 Response from Yeosu.") {
		t.Errorf("table lacks the response note:\n%s", table)
	}
	html := c.ok("status", "--format", "html")
	if strings.Count(html, "<tr><td>") != 71 || !strings.Contains(html, "뉴사우스웨일주 윌로비시(Willoughby/)") {
		t.Errorf("html table wrong:\n%s", html)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(c.ok("status", "--format", "json", "--country", "italy")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 14 {
		t.Errorf("%d Italian rows, want 14", len(rows))
	}
	if _, errs, code := c.run("status", "--format", "xml"); code != 2 || !strings.Contains(errs, "table, csv, json, html") {
		t.Errorf("bad format: exit %d %q", code, errs)
	}
}

func TestHelpForEveryCommand(t *testing.T) {
	c := newCLI(t)
	root := (&app{}).rootCommand()
	out := c.ok("--help")
	for _, sub := range root.Commands() {
		if !sub.Hidden && !strings.Contains(out, sub.Name()) {
			t.Errorf("outreach --help does not list %s", sub.Name())
		}
		for _, leaf := range append(sub.Commands(), sub) {
			args := []string{sub.Name()}
			if leaf != sub {
				args = append(args, leaf.Name())
			}
			help := c.ok(append(args, "--help")...)
			if !strings.Contains(help, "Usage:") || leaf.Short == "" {
				t.Errorf("outreach %s --help: no usage or description", strings.Join(args, " "))
			}
		}
	}
}

func TestErrorsAreOneLine(t *testing.T) {
	c := newCLI(t)
	_, errs, code := c.run("import", "cities", filepath.Join(c.dir, "missing.csv"))
	if code != 1 || strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "outreach: ") {
		t.Errorf("missing file: exit %d %q", code, errs)
	}
	_, errs, code = c.run("import", "contacts", contactsCSV)
	if code != 1 || !strings.Contains(errs, "import cities") {
		t.Errorf("contacts before cities: exit %d %q", code, errs)
	}
	_, errs, code = c.run("import", "cities")
	if code != 2 || !strings.Contains(errs, "FILE") {
		t.Errorf("missing argument: exit %d %q", code, errs)
	}
}

func TestStaffAccounts(t *testing.T) {
	c := newCLI(t)
	run := func(stdin string, args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, environ: c.env})
		return out.String(), errb.String(), code
	}
	if out, errs, code := run("correct horse battery\n", "staff", "add", "anna@campaign.example"); code != 0 || !strings.Contains(out, "created") {
		t.Fatalf("staff add: %d %s %s", code, out, errs)
	}
	if _, errs, code := run("short\n", "staff", "add", "bob@campaign.example"); code == 0 || !strings.Contains(errs, "at least 10 characters") {
		t.Errorf("short password: %d %s", code, errs)
	}
	if out := c.ok("staff", "list"); !strings.Contains(out, "anna@campaign.example") || strings.Contains(out, "bob@") {
		t.Errorf("staff list: %s", out)
	}
	token, errs, code := run("", "staff", "token", "create", "export", "--staff", "anna@campaign.example")
	if code != 0 || !strings.HasPrefix(token, "otk_") {
		t.Fatalf("token create: %d %q %s", code, token, errs)
	}
	if out := c.ok("staff", "token", "list"); !strings.Contains(out, "export") || strings.Contains(out, strings.TrimSpace(token)) {
		t.Errorf("token list shows %q", out)
	}
	c.ok("staff", "token", "revoke", "export")
}

// TestContactsTitleRefusedChangesNothing: a title outside the set is
// refused with its file, line and the titles there are, and nothing of the
// file is imported; the example contacts address British Columbia's
// premier, Veneto's president and the assembly's chair.
func TestContactsTitleRefusedChangesNothing(t *testing.T) {
	c := newCLI(t)
	c.ok("import", "cities", citiesCSV)
	head := "country,city,office,mayor,email,language,timezone,title\n"
	bad := c.write("titles.csv", head+"Canada,British Columbia,,,premier@bc.example,,,premier\n"+
		"Canada,Alberta,,,premier@alberta.example,,,governor\n")
	_, errs, code := c.run("import", "contacts", bad)
	want := bad + `:3: title: "governor" is not one of mayor, lord-mayor, lord-provost, premier, president, chair`
	if code != 1 || !strings.Contains(errs, want) {
		t.Errorf("bad title: exit %d, %q; want %q", code, errs, want)
	}
	if out := c.ok("targets", "list"); strings.Contains(out, "@") {
		t.Errorf("offices stored after a refused import:\n%s", out)
	}

	c.ok("import", "contacts", contactsCSV)
	for city, want := range map[string]string{
		"British Columbia": "Dear Premier,", "Veneto": "Gentile Presidente,",
		"Northern Ireland East Assembly": "Dear Chair,", "Calgary": "Dear Mayor,",
	} {
		if mime := decodeQP(t, c.ok("preview", "--city", city)); !strings.Contains(mime, want) {
			t.Errorf("preview for %s lacks %q:\n%s", city, want, mime)
		}
	}
	if mime := decodeQP(t, c.ok("preview", "--city", "Veneto")); !strings.Contains(mime, "in qualità di presidente del Veneto") {
		t.Errorf("the Veneto's letter does not name its president:\n%s", mime)
	}
	if mime := decodeQP(t, c.ok("preview", "--city", "Montreal")); !strings.Contains(mime, "en tant que maire de Montréal") {
		t.Errorf("Montreal's French letter does not write Montréal:\n%s", mime)
	}
}

// TestCampaignNumberInCommands: commands print a campaign as staff type
// it, "#19" for Montreal's row 19, with the table's printed No. (18)
// beside it.
func TestCampaignNumberInCommands(t *testing.T) {
	c := newCLI(t)
	c.ok("import", "cities", citiesCSV)
	c.ok("import", "contacts", contactsCSV)
	montreal := ""
	for _, line := range strings.Split(c.ok("status", "--ids", "--country", "Canada"), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[0] == "#19" {
			montreal = line
			if f[1] != "18" || f[2] != "Seoul" || f[4] != "Montreal" {
				t.Errorf("status --ids: row #19 is %q, want printed No. 18, Seoul, Canada, Montreal", line)
			}
		}
	}
	if montreal == "" {
		t.Errorf("status --ids has no row #19")
	}
	csvOut := c.ok("status", "--ids", "--format", "csv", "--country", "Canada")
	if !strings.HasPrefix(csvOut, "Campaign,No.,") || !strings.Contains(csvOut, "\n#19,18,Seoul,Canada,Montreal,") {
		t.Errorf("status --ids --format csv:\n%s", csvOut)
	}
	if out := c.ok("targets", "list", "--country", "Canada"); !strings.Contains(out, "#19, #24") {
		t.Errorf("targets list does not give Montreal's campaigns as #19, #24:\n%s", out)
	}
	if out := c.ok("supporters", "hold", "--campaign", "19"); !strings.HasPrefix(out, "campaign #19: ") {
		t.Errorf("supporters hold --campaign 19: %q", out)
	}
}
