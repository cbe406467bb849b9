// Package letter renders the letters: it loads the templates (embedded, or
// overridden from a directory), fills them in for a target in its
// language, and composes the MIME message with the headers that let a reply
// be traced back to its letter.
package letter

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	texttemplate "text/template"
)

// Parts every template file must define.
var requiredParts = []string{"subject", "text", "html"}

// KindWave is the kind a template declares, with a {{define "kind"}}wave{{end}}
// block, to say it is a letter a wave may send to the offices (the appeal,
// the follow-up). Other letters (a supporter's confirmation mail, a
// supporter's letter, a digest) are written for one person or one batch and
// would fail, or make no sense, in a wave.
const KindWave = "wave"

// Templates holds every letter template, parsed and checked.
type Templates struct {
	sets map[string]*templateSet // key: NAME.LANG
	// kinds is the kind each letter name declares ("" when none does).
	kinds map[string]string
}

type templateSet struct {
	file string // where it came from, for error messages
	text *texttemplate.Template
	html *htmltemplate.Template
	kind string // what its "kind" block says, "" without one
}

// Rendered is a letter filled in: its subject and both parts.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

// LoadTemplates parses the embedded templates in base, with each file of
// the directory overrideDir (if not empty) taking the place of the embedded
// file of the same name. Every file is parsed and checked here, at start,
// so a broken template is found before any letter is sent.
func LoadTemplates(base fs.FS, overrideDir string) (*Templates, error) {
	files := map[string]func() ([]byte, error){}
	sources := map[string]string{}
	embedded, err := fs.Glob(base, "*.tmpl")
	if err != nil {
		return nil, fmt.Errorf("letter: list templates: %w", err)
	}
	for _, name := range embedded {
		files[name] = func() ([]byte, error) { return fs.ReadFile(base, name) }
		sources[name] = "templates/" + name + " (embedded)"
	}
	if overrideDir != "" {
		entries, err := os.ReadDir(overrideDir)
		if err != nil {
			return nil, fmt.Errorf("letter: templates directory: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".tmpl") {
				continue
			}
			p := path.Join(overrideDir, e.Name())
			files[e.Name()] = func() ([]byte, error) { return os.ReadFile(p) }
			sources[e.Name()] = p
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	t := &Templates{sets: map[string]*templateSet{}, kinds: map[string]string{}}
	kindFrom := map[string]string{} // letter name: the file that declared its kind
	for _, name := range names {
		key := strings.TrimSuffix(name, ".tmpl")
		if strings.Count(key, ".") != 1 {
			return nil, fmt.Errorf("letter: %s: a template file is named NAME.LANG.tmpl", sources[name])
		}
		body, err := files[name]()
		if err != nil {
			return nil, fmt.Errorf("letter: read %s: %w", sources[name], err)
		}
		set, err := parseSet(sources[name], string(body))
		if err != nil {
			return nil, err
		}
		t.sets[key] = set
		// A file that declares no kind takes its letter's (an override of
		// one language need not repeat it); two files that declare
		// different kinds are a mistake.
		if set.kind == "" {
			continue
		}
		letterName, _, _ := strings.Cut(key, ".")
		if k, ok := t.kinds[letterName]; ok && k != set.kind {
			return nil, fmt.Errorf("letter: template %s declares kind %q, but %s declares %q: every language of a letter is of one kind",
				sources[name], set.kind, kindFrom[letterName], k)
		}
		t.kinds[letterName], kindFrom[letterName] = set.kind, sources[name]
	}
	return t, nil
}

// kindPattern is what a "kind" block may say: one lower-case word.
var kindPattern = regexp.MustCompile(`^[a-z][a-z-]*$`)

func parseSet(file, body string) (*templateSet, error) {
	lang := ""
	if parts := strings.Split(path.Base(file), "."); len(parts) >= 3 {
		lang = parts[1]
	}
	funcs := funcsFor(lang)
	tt, err := texttemplate.New(file).Funcs(texttemplate.FuncMap(funcs)).Option("missingkey=error").Parse(body)
	if err != nil {
		return nil, fmt.Errorf("letter: template %s: %w", file, err)
	}
	ht, err := htmltemplate.New(file).Funcs(htmltemplate.FuncMap(funcs)).Option("missingkey=error").Parse(body)
	if err != nil {
		return nil, fmt.Errorf("letter: template %s: %w", file, err)
	}
	for _, part := range requiredParts {
		if tt.Lookup(part) == nil {
			return nil, fmt.Errorf("letter: template %s: no %q part ({{define %q}} ... {{end}})", file, part, part)
		}
	}
	set := &templateSet{file: file, text: tt, html: ht}
	if kt := tt.Lookup("kind"); kt != nil {
		var b bytes.Buffer
		if err := kt.Execute(&b, nil); err != nil {
			return nil, fmt.Errorf("letter: template %s: the \"kind\" part must be a plain word such as %q: %w", file, KindWave, err)
		}
		set.kind = strings.TrimSpace(b.String())
		if !kindPattern.MatchString(set.kind) {
			return nil, fmt.Errorf("letter: template %s: kind %q is not one lower-case word such as %q", file, set.kind, KindWave)
		}
	}
	return set, nil
}

// ErrNoTemplate is returned (wrapped) when no template exists for a letter
// name and language.
var ErrNoTemplate = errors.New("no such template")

// Has reports whether a template exists for name in lang.
func (t *Templates) Has(name, lang string) bool {
	_, ok := t.sets[name+"."+lang]
	return ok
}

// Names returns the names of the letters there are templates for, sorted.
func (t *Templates) Names() []string {
	var out []string
	for key := range t.sets {
		n, _, _ := strings.Cut(key, ".")
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Kind is the kind letter name declares ({{define "kind"}}...{{end}}), or ""
// when none of its files declares one.
func (t *Templates) Kind(name string) string { return t.kinds[name] }

// IsWaveLetter reports whether name is a letter a wave may send.
func (t *Templates) IsWaveLetter(name string) bool { return t.kinds[name] == KindWave }

// WaveLetters returns the names of the letters a wave may send, sorted.
func (t *Templates) WaveLetters() []string {
	var out []string
	for _, n := range t.Names() {
		if t.IsWaveLetter(n) {
			out = append(out, n)
		}
	}
	return out
}

// Languages returns the languages name is written in, sorted.
func (t *Templates) Languages(name string) []string {
	var out []string
	for key := range t.sets {
		if n, lang, _ := strings.Cut(key, "."); n == name {
			out = append(out, lang)
		}
	}
	sort.Strings(out)
	return out
}

// Render fills in the template name in lang with data.
func (t *Templates) Render(name, lang string, data any) (Rendered, error) {
	set, ok := t.sets[name+"."+lang]
	if !ok {
		return Rendered{}, fmt.Errorf("letter: %s in %q: %w (languages: %s)", name, lang, ErrNoTemplate, strings.Join(t.Languages(name), ", "))
	}
	var r Rendered
	var b bytes.Buffer
	if err := set.text.ExecuteTemplate(&b, "subject", data); err != nil {
		return r, fmt.Errorf("letter: render %s: %w", set.file, err)
	}
	// The subject is one line: a line break in it, from the template or
	// from a value, is refused when the message is composed, never folded
	// away, so that no value can smuggle in a header.
	r.Subject = strings.TrimSpace(b.String())
	b.Reset()
	if err := set.text.ExecuteTemplate(&b, "text", data); err != nil {
		return r, fmt.Errorf("letter: render %s: %w", set.file, err)
	}
	r.Text = tidyText(b.String())
	b.Reset()
	if err := set.html.ExecuteTemplate(&b, "html", data); err != nil {
		return r, fmt.Errorf("letter: render %s: %w", set.file, err)
	}
	r.HTML = strings.TrimSpace(b.String()) + "\n"
	if r.Subject == "" {
		return r, fmt.Errorf("letter: render %s: the subject is empty", set.file)
	}
	return r, nil
}

// tidyText trims the blank lines template actions leave at both ends and
// trailing spaces on each line, and collapses runs of blank lines.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var out []string
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			blank++
			continue
		}
		if blank > 0 && len(out) > 0 {
			out = append(out, "")
		}
		blank = 0
		out = append(out, l)
	}
	return strings.Join(out, "\n") + "\n"
}
