package web

import (
	"html/template"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestEveryMessageInEveryLanguage(t *testing.T) {
	for key := range messages["en"] {
		for _, lang := range languages {
			if messages[lang][key] == "" {
				t.Errorf("%s has no %q", lang, key)
			}
			if strings.Count(messages[lang][key], "%") != strings.Count(messages["en"][key], "%") {
				t.Errorf("%s %q takes other arguments than the English", lang, key)
			}
		}
	}
	for _, lang := range languages {
		if len(messages[lang]) != len(messages["en"]) {
			t.Errorf("%s has %d messages, English %d", lang, len(messages[lang]), len(messages["en"]))
		}
	}
}

// Templates are parsed once and shared by every request.
func TestPagesRenderConcurrently(t *testing.T) {
	s := &Server{log: quietLog()}
	var err error
	if s.pages, err = loadPages(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			lang := languages[i%len(languages)]
			w := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/confirm/x?lang="+lang, nil)
			s.fail(w, r, 400, "error.bad_link")
			if w.Code != 400 || !strings.Contains(w.Body.String(), template.HTMLEscapeString(translator(lang)("error.bad_link"))) {
				t.Errorf("%s: %d %s", lang, w.Code, w.Body.String())
			}
		})
	}
	wg.Wait()
}
