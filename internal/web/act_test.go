package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// getLang fetches a public page with an Accept-Language header.
func getLang(t *testing.T, h *harness, path, accept string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
	if accept != "" {
		req.Header.Set("Accept-Language", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

var htmlLang = regexp.MustCompile(`<html lang="([a-z]+)">`)

// A campaign's page speaks ?lang, else the browser's language when the
// pages speak it, else the office's, and links to the other languages.
func TestActPageLanguage(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	// Offices: 1 Montreal (fr), 2 Milano (it), 3 Perth (en).
	for _, tt := range []struct{ path, accept, want string }{
		{"/act/1", "", "fr"},
		{"/act/2", "", "it"},
		{"/act/3", "", "en"},
		{"/act/1", "en-GB,en;q=0.9", "en"},
		{"/act/1", "de-DE, it;q=0.8, en;q=0.5", "it"}, // German is not spoken; Italian is preferred to English
		{"/act/3", "fr;q=0.2, it;q=0.9", "it"},        // by q-value, not order
		{"/act/2", "de, es;q=0.8", "it"},              // none spoken: the office's
		{"/act/1", "en;q=0", "fr"},                    // q=0 is "not English"
		{"/act/1?lang=it", "en", "it"},
		{"/act/3?lang=xx", "", "en"},
	} {
		resp, page := getLang(t, h, tt.path, tt.accept)
		m := htmlLang.FindStringSubmatch(page)
		if resp.StatusCode != http.StatusOK || m == nil || m[1] != tt.want {
			t.Errorf("%s with %q: %d %v, want %s", tt.path, tt.accept, resp.StatusCode, m, tt.want)
			continue
		}
		if !strings.Contains(tt.path, "lang=") && !strings.Contains(resp.Header.Get("Vary"), "Accept-Language") {
			t.Errorf("%s: a page chosen by Accept-Language does not say Vary: Accept-Language", tt.path)
		}
	}
	// The switch: links to the page in the other languages.
	_, page := getLang(t, h, "/act/1", "")
	for _, want := range []string{`<strong lang="fr">Français</strong>`, `<a href="/act/1?lang=en" lang="en" hreflang="en">English</a>`,
		`<a href="/act/1?lang=it" lang="it" hreflang="it">Italiano</a>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the language switch lacks %s", want)
		}
	}
}

func TestBrowserLang(t *testing.T) {
	for accept, want := range map[string]string{
		"": "", "de": "", "pt-BR, es;q=0.5": "", "fr-CA": "fr", "en-US,en;q=0.9": "en",
		"en;q=0.1, it;q=0.9": "it", "de;q=1, fr;q=0.4": "fr", "not a header;;": "",
	} {
		if got := browserLang(accept); got != want {
			t.Errorf("browserLang(%q) = %q, want %q", accept, got, want)
		}
	}
}

// /act without a campaign lists those one can write for, with how many
// signed each.
func TestActIndex(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	for _, sig := range []struct {
		campaign int64
		email    string
	}{{1, "a@people.example"}, {1, "b@people.example"}, {2, "c@people.example"}} {
		if code, body := h.signJSON(sig.campaign, map[string]any{"name": "Jane Doe", "email": sig.email, "country": "Canada"}); code != http.StatusAccepted {
			t.Fatalf("sign: %d %v", code, body)
		}
	}
	// Perth's office is not to be written to; campaign 4 has no office.
	if err := h.st.SetDoNotContact(context.Background(), "mayor@perth.example", true); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/act", "/act/"} {
		resp, page := getLang(t, h, path, "en")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		for _, want := range []string{"<h1>Write to a mayor</h1>",
			`<a href="/act/1">Montreal</a> <span class="country">(Canada)</span>`, "twinned with Seoul · 2 letters signed",
			`<a href="/act/2">Milano</a> <span class="country">(Italy)</span>`, "twinned with Busan · 1 letter signed"} {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %s", path, want)
			}
		}
		for _, unwanted := range []string{"/act/3", "Perth", "/act/4", "Nowhere"} {
			if strings.Contains(page, unwanted) {
				t.Errorf("%s lists %s, which takes no letters", path, unwanted)
			}
		}
	}
	_, page := getLang(t, h, "/act?lang=it", "en")
	for _, want := range []string{"<h1>Scrivi a un sindaco</h1>", `<a href="/act/1?lang=it">Montreal</a>`, "2 lettere firmate", "1 lettera firmata"} {
		if !strings.Contains(page, want) {
			t.Errorf("the Italian index lacks %s", want)
		}
	}
}

// After a failed submit, the page's title starts with "Error: " and an
// error summary, linking to each field, takes the focus without script.
func TestActFailedSubmitFocusesTheSummary(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.client()
	for _, tt := range []struct{ lang, title, heading, nameProblem, emailProblem string }{
		{"en", "<title>Error: Write to the mayor of Perth", "Please correct the fields marked below.",
			"Your name: Please fill this in.", "Your e-mail address: This is not an e-mail address."},
		{"fr", "<title>Erreur : Écrivez au maire de Perth", "Veuillez corriger les champs signalés ci-dessous.",
			"Votre nom : Veuillez remplir ce champ.", "Votre adresse électronique : Ce n&#39;est pas une adresse électronique."},
	} {
		_, page := h.get(c, h.srv.URL+"/act/3?lang="+tt.lang)
		token := csrfRe.FindStringSubmatch(page)[1]
		if strings.Contains(page, "error-summary") || strings.Contains(page, tt.title) {
			t.Errorf("%s: the page before submitting shows an error", tt.lang)
		}
		code, page, _ := h.postForm(c, h.srv.URL+"/act/3", url.Values{"csrf_token": {token}, "lang": {tt.lang},
			"name": {""}, "email": {"nope"}, "country": {"Australia"}})
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("%s: %d, want 422", tt.lang, code)
		}
		if !strings.Contains(page, tt.title) {
			t.Errorf("%s: the title does not start with the error: %s", tt.lang, regexp.MustCompile(`<title>[^<]*`).FindString(page))
		}
		summary := regexp.MustCompile(`(?s)<div class="notice error summary" id="error-summary" role="alert" tabindex="-1" autofocus aria-labelledby="error-summary-title">\s*<h2 id="error-summary-title">([^<]*)</h2>\s*<ul>(.*?)</ul>`).FindStringSubmatch(page)
		if summary == nil || summary[1] != tt.heading {
			t.Fatalf("%s: no focused error summary:\n%s", tt.lang, page)
		}
		// The fields in the form's order, each linking to its field.
		links := regexp.MustCompile(`<a href="#([a-z]+)">([^<]*)</a>`).FindAllStringSubmatch(summary[2], -1)
		if len(links) != 2 || links[0][1] != "name" || links[1][1] != "email" ||
			links[0][2] != tt.nameProblem || links[1][2] != tt.emailProblem {
			t.Errorf("%s: the summary links to %q, want name then email, each with its label and problem", tt.lang, links)
		}
		if strings.Index(page, `id="error-summary"`) > strings.Index(page, "<form") {
			t.Errorf("%s: the summary comes after the form", tt.lang)
		}
	}
}

// The public status table carries the organisation's name and links each
// campaign that takes letters to its page.
func TestPublicStatusPage(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	if err := h.st.SetDoNotContact(context.Background(), "mayor@perth.example", true); err != nil {
		t.Fatal(err)
	}
	_, page := getLang(t, h, "/status", "")
	for _, want := range []string{"<title>Campaign status · Sister City Campaign</title>", `<span class="brand">Sister City Campaign</span>`,
		`<td><a href="/act/1">Montreal</a></td>`, `<td><a href="/act/2">Milano</a></td>`, "<td>Perth</td>", "<td>Nowhere</td>",
		`<a href="/act">`} {
		if !strings.Contains(page, want) {
			t.Errorf("the public status page lacks %s", want)
		}
	}
	for _, unwanted := range []string{"outreach", `href="/act/3"`, `href="/act/4"`, `href="/campaigns"`} {
		if strings.Contains(page, unwanted) {
			t.Errorf("the public status page has %q", unwanted)
		}
	}
}
