package letter

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/templates"
)

const threeParts = `{{define "subject"}}s{{end}}{{define "text"}}t{{end}}{{define "html"}}h{{end}}`

// TestTemplateKinds: the appeal and the follow-up are wave letters, the
// mails written for supporters are not; a file in the templates directory
// declares itself one with a "kind" block, and an override of one language
// keeps its letter's kind.
func TestTemplateKinds(t *testing.T) {
	tpl, err := LoadTemplates(templates.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tpl.WaveLetters(), []string{"appeal", "follow-up"}; !slices.Equal(got, want) {
		t.Errorf("embedded wave letters %v, want %v", got, want)
	}
	for _, name := range []string{"confirmation", "supporter", "digest"} {
		if tpl.IsWaveLetter(name) {
			t.Errorf("%s is a wave letter", name)
		}
	}

	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("reminder.en.tmpl", `{{define "kind"}} wave {{end}}`+threeParts)
	write("reminder.fr.tmpl", threeParts)
	write("appeal.it.tmpl", threeParts)
	write("notice.en.tmpl", threeParts)
	tpl, err = LoadTemplates(templates.FS, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tpl.WaveLetters(), []string{"appeal", "follow-up", "reminder"}; !slices.Equal(got, want) {
		t.Errorf("wave letters with the directory %v, want %v", got, want)
	}
	if tpl.IsWaveLetter("notice") || tpl.Kind("notice") != "" {
		t.Errorf("a template without a kind block is of kind %q", tpl.Kind("notice"))
	}

	write("reminder.fr.tmpl", `{{define "kind"}}supporter{{end}}`+threeParts)
	_, err = LoadTemplates(templates.FS, dir)
	if err == nil || !strings.Contains(err.Error(), "reminder.fr.tmpl") || !strings.Contains(err.Error(), "reminder.en.tmpl") {
		t.Errorf("two kinds for one letter: err = %v, want both files named", err)
	}
	write("reminder.fr.tmpl", `{{define "kind"}}{{.Nope}}{{end}}`+threeParts)
	if _, err = LoadTemplates(templates.FS, dir); err == nil || !strings.Contains(err.Error(), "reminder.fr.tmpl") {
		t.Errorf("a kind that is not a word: err = %v, want the file named", err)
	}
}
