package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// post sends a staff form with the session's token.
func (s staffSession) post(t testing.TB, base, path string, form url.Values) (int, string, http.Header) {
	t.Helper()
	form.Set("csrf_token", s.csrf)
	resp, err := s.c.PostForm(base+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// apiCall calls the staff API with a token of the test's staff account.
func (h *harness) apiCall(t testing.TB, method, path, body string) (int, map[string]any) {
	t.Helper()
	ctx := context.Background()
	st, err := h.st.StaffByEmail(ctx, staffEmail)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := h.auth.CreateAPIToken(ctx, "t"+time.Now().Format("150405.000000000"), st.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := h.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestWaveFormOffersOnlyWaveLetters: the form offers the wave letters
// only, and a letter that is not one (the supporters' confirmation mail)
// is refused with a clear message by the form and by the API, not with a
// 500.
func TestWaveFormOffersOnlyWaveLetters(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	s := h.login(t)
	page := string(h.getPage(t, s.c, "/waves/new", http.StatusOK))
	options := regexp.MustCompile(`<select id="template" name="template">(?s:(.*?))</select>`).FindStringSubmatch(page)
	if options == nil {
		t.Fatalf("no letter to choose on the form:\n%s", page)
	}
	if got := regexp.MustCompile(`value="([^"]+)"`).FindAllStringSubmatch(options[1], -1); len(got) != 2 ||
		got[0][1] != "appeal" || got[1][1] != "follow-up" {
		t.Errorf("the form offers %q, want appeal and follow-up", got)
	}
	code, body, _ := s.post(t, h.srv.URL, "/waves/preview", url.Values{"name": {"x"}, "country": {"Canada"}, "template": {"confirmation"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "not a letter a wave can send") {
		t.Errorf("preview of the confirmation mail as a wave: %d, want 422 saying it is not a wave letter", code)
	}
	code, out := h.apiCall(t, "POST", "/api/v1/waves", `{"name": "x", "countries": ["Canada"], "template": "confirmation"}`)
	if code != http.StatusUnprocessableEntity || !strings.Contains(out["message"].(string), "not a letter a wave can send") {
		t.Errorf("API wave of the confirmation mail: %d %v", code, out)
	}
	if ws, _ := h.st.Waves(context.Background()); len(ws) != 0 {
		t.Errorf("%d waves stored", len(ws))
	}
}

// TestWaveLeavesOutOfficesWrittenUnlessAsked: through the API and the
// form, a second wave leaves out the office written by the first, and the
// choice to include it comes with a warning.
func TestWaveLeavesOutOfficesWrittenUnlessAsked(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	s := h.login(t)
	code, out := h.apiCall(t, "POST", "/api/v1/waves", `{"name": "first", "countries": ["Canada", "Italy"]}`)
	if code != http.StatusCreated || out["letters"] != float64(2) {
		t.Fatalf("first wave: %d %v", code, out)
	}
	code, out = h.apiCall(t, "POST", "/api/v1/waves", `{"name": "second", "countries": ["Canada"]}`)
	if code != http.StatusUnprocessableEntity {
		t.Errorf("a second wave to the one Canadian office: %d %v, want 422", code, out)
	}
	code, out = h.apiCall(t, "POST", "/api/v1/waves", `{"name": "second", "countries": ["Canada", "Australia"]}`)
	skipped, _ := out["skipped"].([]any)
	var reasons []string
	for _, sk := range skipped {
		reasons = append(reasons, sk.(map[string]any)["reason"].(string))
	}
	if code != http.StatusCreated || out["letters"] != float64(1) ||
		!strings.Contains(strings.Join(reasons, "; "), "already written this letter (w1-t1, planned)") {
		t.Errorf("second wave: %d %v, want Perth only, Montreal left out as written", code, out)
	}
	code, out = h.apiCall(t, "POST", "/api/v1/waves", `{"name": "third", "countries": ["Canada"], "include_contacted": true}`)
	warnings, _ := out["warnings"].([]any)
	if code != http.StatusCreated || out["letters"] != float64(1) || len(warnings) != 1 ||
		warnings[0] != "1 office already written this letter is included" {
		t.Errorf("with include_contacted: %d %v", code, out)
	}

	// The form: the same choice, carried from the preview to the wave.
	form := url.Values{"name": {"fourth"}, "country": {"Italy"}, "template": {"appeal"}, "when": {"now"}}
	code, body, _ := s.post(t, h.srv.URL, "/waves/preview", form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "no office to write to") {
		t.Errorf("preview of a wave to Milano again: %d", code)
	}
	form.Set("include_contacted", "yes")
	code, body, _ = s.post(t, h.srv.URL, "/waves/preview", form)
	if code != http.StatusOK || !strings.Contains(body, "1 office already written this letter is included") ||
		!strings.Contains(body, `name="include_contacted" value="yes"`) {
		t.Errorf("preview with the office put back: %d\n%s", code, body)
	}
	form.Set("start", "no")
	if code, body, _ := s.post(t, h.srv.URL, "/waves", form); code != http.StatusSeeOther {
		t.Errorf("create with the office put back: %d\n%s", code, body)
	}
}

// TestWaveCancelAsksFirst: "Cancel the wave" opens a confirmation (no
// script needed); a post without the confirmation cancels nothing.
func TestWaveCancelAsksFirst(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	s := h.login(t)
	ctx := context.Background()
	if code, body, _ := s.post(t, h.srv.URL, "/waves", url.Values{"name": {"to cancel"}, "country": {"Canada"},
		"template": {"appeal"}, "start": {"no"}}); code != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", code, body)
	}
	page := string(h.getPage(t, s.c, "/waves/1", http.StatusOK))
	if !strings.Contains(page, `href="/waves/1/cancel"`) || strings.Contains(page, `action="/waves/1/cancel"`) {
		t.Errorf("the wave page cancels from a form rather than asking first")
	}
	code, body, _ := s.post(t, h.srv.URL, "/waves/1/cancel", url.Values{})
	if code != http.StatusOK || !strings.Contains(body, "Cancel this wave?") {
		t.Errorf("a cancel without confirmation: %d, want the question", code)
	}
	if w, _ := h.st.Wave(ctx, 1); w.State != campaign.WaveDraft {
		t.Fatalf("a cancel without confirmation made the wave %s", w.State)
	}
	page = string(h.getPage(t, s.c, "/waves/1/cancel", http.StatusOK))
	if !strings.Contains(page, "Cancel this wave?") || !strings.Contains(page, `name="confirm" value="yes"`) ||
		!strings.Contains(page, "No, keep it") {
		t.Errorf("the confirmation page:\n%s", page)
	}
	code, _, hdr := s.post(t, h.srv.URL, "/waves/1/cancel", url.Values{"confirm": {"yes"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/waves/1") {
		t.Fatalf("confirmed cancel: %d %s", code, hdr.Get("Location"))
	}
	if w, _ := h.st.Wave(ctx, 1); w.State != campaign.WaveCancelled {
		t.Errorf("after a confirmed cancel the wave is %s", w.State)
	}
	page = string(h.getPage(t, s.c, "/waves/1", http.StatusOK))
	if !regexp.MustCompile(`id="wave-cancel"[^>]* hidden`).MatchString(page) {
		t.Errorf("a cancelled wave still offers to cancel it")
	}
	// The new routes need a login like the others.
	c := h.client()
	for _, rt := range []struct{ method, path string }{{"GET", "/waves/1/cancel"}, {"POST", "/waves/1/test"}} {
		req, _ := http.NewRequest(rt.method, h.srv.URL+rt.path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s %s without a session: %d", rt.method, rt.path, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/waves/1/test", nil)
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the test API without a token: %v %v", resp.StatusCode, err)
	}
}

// TestWavePageForPeople: the wave page names each letter's city and a
// failed letter's reason, lists uncertain letters, gives the progress bar
// a name, has no empty table header, and announces only its state.
func TestWavePageForPeople(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	s := h.login(t)
	ctx := context.Background()
	if code, out := h.apiCall(t, "POST", "/api/v1/waves", `{"name": "world", "countries": ["Canada", "Italy", "Australia"]}`); code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, out)
	}
	if err := h.st.MarkFailed(ctx, "w1-t1", "refused", "550 5.1.1 <mayor@montreal.example>: no such user", false); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.MarkQueued(ctx, []string{"w1-t3"}); err != nil {
		t.Fatal(err)
	}
	if err := h.st.BeginSending(ctx, "w1-t3", "m@x"); err != nil {
		t.Fatal(err)
	}
	if err := h.st.MarkUncertain(ctx, "w1-t3", "connection lost after DATA"); err != nil {
		t.Fatal(err)
	}
	page := string(h.getPage(t, s.c, "/waves/1", http.StatusOK))
	for _, want := range []string{">Montreal</a>, Canada", ">Milano</a>, Italy", ">Perth</a>, Australia",
		"550 5.1.1 &lt;mayor@montreal.example&gt;: no such user", "Uncertain letters", "connection lost after DATA",
		`aria-label="Letters done"`, `role="status"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the wave page lacks %q", want)
		}
	}
	if strings.Contains(page, "<th></th>") {
		t.Error("the wave page has an empty table header")
	}
	if strings.Contains(page, "aria-live") {
		t.Error("the wave page's counts are a live region: each update would be read out")
	}
	if strings.Contains(page, "<th>Campaigns</th>") {
		t.Error("the wave page lists campaign ids rather than cities")
	}
	var counts map[string]any
	resp, err := s.c.Get(h.srv.URL + "/waves/1/counts")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&counts)
	resp.Body.Close()
	if counts["state"] != "draft" || counts["done"] != float64(2) || counts["total"] != float64(3) {
		t.Errorf("the live counts: %v", counts)
	}
}

// TestWaveTestSendFromThePage: the page's button sends the staff member a
// test copy through Mailpit, marked as a test, and changes nothing of the
// wave; the API does the same.
func TestWaveTestSendFromThePage(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true, mail: true})
	s := h.login(t)
	ctx := context.Background()
	if code, out := h.apiCall(t, "POST", "/api/v1/waves", `{"name": "tested", "countries": ["Canada", "Italy"]}`); code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, out)
	}
	before, _ := h.st.Letters(ctx, store.LetterFilter{})
	page := string(h.getPage(t, s.c, "/waves/1", http.StatusOK))
	if !strings.Contains(page, `action="/waves/1/test"`) || !strings.Contains(page, `<option value="w1-t2">Milano`) {
		t.Fatalf("the wave page offers no test copy:\n%s", page)
	}
	code, _, hdr := s.post(t, h.srv.URL, "/waves/1/test", url.Values{"letter": {"w1-t2"}})
	if code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "done=wave-test-sent") {
		t.Fatalf("test send: %d %s", code, hdr.Get("Location"))
	}
	if code, out := h.apiCall(t, "POST", "/api/v1/waves/1/test", ""); code != http.StatusOK || out["letter"] != "w1-t1" || out["to"] != staffEmail {
		t.Errorf("test send by the API: %d %v", code, out)
	}
	if n := h.mailpit.WaitCount(t, 2, 10*time.Second); n != 2 {
		t.Fatalf("Mailpit got %d messages, want the 2 test copies", n)
	}
	subjects := map[string]bool{}
	for _, m := range h.mailpit.Messages(t) {
		if len(m.To) != 1 || m.To[0] != staffEmail {
			t.Errorf("a test copy went to %v", m.To)
		}
		subjects[m.Subject] = true
	}
	if !subjects["[TEST] Il gemellaggio con Busan: un appello contro il commercio di carne di cane e di gatto [ref TEST-W1-T2]"] {
		t.Errorf("subjects %v, want Milano's letter marked [TEST]", subjects)
	}
	after, _ := h.st.Letters(ctx, store.LetterFilter{})
	b1, _ := json.Marshal(before)
	b2, _ := json.Marshal(after)
	if string(b1) != string(b2) {
		t.Errorf("a test send changed the letters:\n%s\n%s", b1, b2)
	}
	if evs, _ := h.st.LetterEvents(ctx, "w1-t2"); len(evs) != 0 {
		t.Errorf("a test send recorded events %v", evs)
	}
	if c, _ := h.st.Campaign(ctx, 2); !c.CampaignDate.IsZero() {
		t.Errorf("a test send gave Milano a campaign date %v", c.CampaignDate)
	}
}
