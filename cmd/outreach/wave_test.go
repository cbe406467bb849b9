package main

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/mail"
	"strconv"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
)

// TestWaveCommands: wave create refuses a letter that is not for waves and
// leaves out the office that replied in the table; wave test sends a staff
// member a copy over SMTP and changes nothing of the wave.
func TestWaveCommands(t *testing.T) {
	sink := smtptest.Start(t)
	c := newCLI(t)
	c.env = append(c.env, "OUTREACH_SMTP_HOST="+sink.Host, "OUTREACH_SMTP_PORT="+strconv.Itoa(sink.Port), "OUTREACH_SMTP_TLS=none")
	c.ok("import", "cities", citiesCSV)
	c.ok("import", "contacts", contactsCSV)

	_, errs, code := c.run("wave", "create", "--name", "oops", "--country", "Canada", "--template", "confirmation")
	if code != 1 || !strings.Contains(errs, `the "confirmation" letter is not a letter a wave can send`) {
		t.Errorf("wave create --template confirmation: exit %d, %s", code, errs)
	}
	if out := c.ok("wave", "list"); strings.Contains(out, "oops") {
		t.Errorf("a refused wave was stored:\n%s", out)
	}

	out := c.ok("wave", "create", "--name", "Canada", "--country", "Canada")
	if !strings.Contains(out, "18 letters planned for 20 campaigns") ||
		!strings.Contains(out, "left out mayor@moncton.example (campaigns #37): replied (campaign #37 has a response date, 2017-08-09)") {
		t.Errorf("wave create leaves Moncton in, or does not say why it is out:\n%s", out)
	}
	before := c.ok("letter", "list", "--wave", "1", "--json")

	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"staff", "add", "anna@campaign.example"},
		env{stdin: strings.NewReader("correct horse battery\n"), stdout: &stdout, stderr: &stderr, environ: c.env}); code != 0 {
		t.Fatalf("staff add: %s", stderr.String())
	}
	if _, errs, code := c.run("wave", "test", "1", "--to", "stranger@example.org"); code != 1 || !strings.Contains(errs, "not a staff account") {
		t.Errorf("a test to a stranger: exit %d %s", code, errs)
	}
	if _, errs, code := c.run("wave", "test", "1"); code != 2 || !strings.Contains(errs, "--to is required") {
		t.Errorf("a test without --to: exit %d %s", code, errs)
	}
	out = c.ok("wave", "test", "1", "--to", "anna@campaign.example", "--letter", "w1-t17")
	if !strings.Contains(out, "test copy of w1-t17 (to maire@montreal.example) sent to anna@campaign.example") {
		t.Errorf("wave test: %s", out)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the SMTP server got %d messages, want 1", len(msgs))
	}
	m, err := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if !strings.HasPrefix(subject, "[TEST] Votre jumelage avec Busan et Seoul") || msgs[0].To[0] != "anna@campaign.example" {
		t.Errorf("the test copy: to %v, subject %q", msgs[0].To, subject)
	}
	if after := c.ok("letter", "list", "--wave", "1", "--json"); after != before {
		t.Errorf("a test send changed the letters")
	}
	var st struct {
		State  string         `json:"state"`
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal([]byte(c.ok("wave", "status", "1", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.State != "draft" || st.Counts["planned"] != 18 {
		t.Errorf("the wave after a test: %+v", st)
	}
}
