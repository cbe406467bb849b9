package web

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestFaviconAndDescription: both layouts link the favicon, which is
// served with the static files, and the public pages describe themselves
// in their language.
func TestFaviconAndDescription(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	resp, err := http.Get(h.srv.URL + "/static/favicon.svg")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(string(body), "<svg ") {
		t.Errorf("/static/favicon.svg: %d, %q, %.20q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	const icon = `<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">`
	s := h.login(t)
	for _, c := range []struct{ path, description string }{
		{"/act/1?lang=en", "Write to the mayors of cities twinned with South Korean local governments"},
		{"/act/1?lang=it", "Scrivi ai sindaci delle città gemellate con enti locali sudcoreani"},
		{"/act/1?lang=fr", "Écrivez aux maires des villes jumelées avec des collectivités sud-coréennes"},
		{"/status", "When each letter of the Sister City Campaign was sent"},
		{"/campaigns", ""}, // a staff page: linked icon, no description needed
	} {
		page := string(h.getPage(t, s.c, c.path, http.StatusOK))
		if !strings.Contains(page, icon) {
			t.Errorf("%s does not link the favicon", c.path)
		}
		if c.description != "" && !strings.Contains(page, `<meta name="description" content="`+c.description) {
			t.Errorf("%s lacks the description %q", c.path, c.description)
		}
	}
}

// focusable finds what the keyboard may reach in a page: links, buttons,
// form fields (hidden ones too, to be strict) and elements with
// tabindex="0".
var focusable = regexp.MustCompile(`<a |<button|<select|<textarea|<input |tabindex="0"`)

// TestSkipLinkComesFirst: on every staff page the first thing the
// keyboard reaches is the link past the header to the content.
func TestSkipLinkComesFirst(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	s := h.login(t)
	const skip = `<a class="skip" href="#main">Skip to content</a>`
	for _, path := range []string{"/campaigns", "/waves", "/replies", "/targets", "/supporters", "/charts"} {
		page := string(h.getPage(t, s.c, path, http.StatusOK))
		first := focusable.FindStringIndex(page)
		if first == nil {
			t.Fatalf("%s: nothing focusable", path)
		}
		if !strings.HasPrefix(page[first[0]:], skip) {
			t.Errorf("%s: the first focusable element is not the skip link: %.80q", path, page[first[0]:])
		}
		if !strings.Contains(page, `<main id="main" tabindex="-1">`) {
			t.Errorf("%s: no <main id=\"main\"> for the skip link", path)
		}
	}
}

// TestStatusTableScrollsByKeyboard: on a phone the public table scrolls
// in its own box, which the keyboard must reach and a screen reader name.
func TestStatusTableScrollsByKeyboard(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	page := string(h.getPage(t, h.client(), "/status", http.StatusOK))
	if !strings.Contains(page, `<div class="scroll" tabindex="0" role="region" aria-label="Campaign status table">`) {
		t.Error("the status table's scroll box cannot be focused or has no name")
	}
}
