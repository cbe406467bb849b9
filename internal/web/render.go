package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/outreach-campaign/outreach/internal/letter"
)

//go:embed templates/*.html templates/staff/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	fileServer := http.FileServer(http.FS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fileServer.ServeHTTP(w, r)
	})
}

// pages holds every page's template in every language: each language is
// parsed with its own "t" function, so a template names words by key.
type pages struct {
	byLang map[string]map[string]*template.Template
}

// pageNames are the page templates, each filling in layout.html.
var pageNames = []string{"act", "act_index", "sent", "link", "outcome", "error", "optout"}

func loadPages() (*pages, error) {
	p := &pages{byLang: map[string]map[string]*template.Template{}}
	for _, lang := range languages {
		funcs := template.FuncMap{
			"t":     translator(lang),
			"place": letter.PlaceName,
		}
		layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		p.byLang[lang] = map[string]*template.Template{}
		for _, name := range pageNames {
			t, err := template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name+".html")
			if err != nil {
				return nil, fmt.Errorf("web: template %s.html: %w", name, err)
			}
			p.byLang[lang][name] = t
		}
	}
	return p, nil
}

// base is what every page shows: its language, title and the links to the
// same page in the other languages.
type base struct {
	Lang  string
	Title string
	Langs []langLink
}

type langLink struct {
	Code, Name, URL string
	Current         bool
}

func newBase(r *http.Request, lang, title string) base {
	b := base{Lang: lang, Title: title}
	for _, l := range languages {
		u := url.URL{Path: r.URL.Path, RawQuery: "lang=" + l}
		b.Langs = append(b.Langs, langLink{Code: l, Name: messages[l]["lang.name"], URL: u.String(), Current: l == lang})
	}
	return b
}

// render writes a page, rendered in full first so that a template error
// is a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, status int, lang, name string, data any) {
	var b bytes.Buffer
	if err := s.pages.byLang[lang][name].Execute(&b, data); err != nil {
		s.log.Error("web: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

type errorPage struct {
	base
	Message string
	Back    string
}

// fail answers a request that cannot be served: an error page in the
// page's language, or for the API a JSON error.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, key string, args ...any) {
	s.failLang(w, r, pageLang(r), status, key, args...)
}

// failLang is fail in a language already known, such as a posted form's.
func (s *Server) failLang(w http.ResponseWriter, r *http.Request, lang string, status int, key string, args ...any) {
	msg := translator(lang)(key, args...)
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, status, apiError{Error: strings.TrimPrefix(key, "error."), Message: translator("en")(key, args...)})
		return
	}
	p := errorPage{base: newBase(r, lang, translator(lang)("error.title")), Message: msg}
	if c := r.PathValue("campaign"); c != "" {
		p.Back = "/act/" + url.PathEscape(c) + "?lang=" + lang
	}
	s.render(w, status, lang, "error", p)
}
