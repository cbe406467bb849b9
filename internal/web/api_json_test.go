package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/store"
	"github.com/outreach-campaign/outreach/templates"
)

// snakeKey is the one key style of the JSON API: lower snake case.
var snakeKey = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// checkJSON walks a JSON document and reports every key that is not lower
// snake case and every zero time Go would write for an unset one.
func checkJSON(t *testing.T, where string, v any, path string) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if !snakeKey.MatchString(k) {
				t.Errorf("%s: key %q at %s is not lower snake case", where, k, path)
			}
			checkJSON(t, where, e, path+"."+k)
		}
	case []any:
		for i, e := range x {
			checkJSON(t, where, e, fmt.Sprintf("%s[%d]", path, i))
		}
	case string:
		if strings.HasPrefix(x, "0001-01-01") {
			t.Errorf("%s: %s is %q, an unset time written out", where, path, x)
		}
	}
}

// idPattern makes a path a route: ids become {id}.
var idPattern = regexp.MustCompile(`/(w\d+-t\d+|\d+)(/|$)`)

func route(method, path string) string {
	path, _, _ = strings.Cut(path, "?")
	return method + " " + idPattern.ReplaceAllString(path, "/{id}$2")
}

// Every answer of the JSON API, success and error, uses lower snake case
// keys and leaves unset times out.
func TestAPIJSONKeysAndTimes(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	ctx := context.Background()
	st, _ := h.st.StaffByEmail(ctx, staffEmail)
	token, _, err := h.auth.CreateAPIToken(ctx, "walker", st.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	reply := h.recordReply(t, 1, campaign.ReplyHuman, "Re: votre lettre", "Nous avons écrit à Séoul.", []int64{1})
	h.recordReply(t, 2, campaign.ReplyHuman, "Newsletter", "Our newsletter.", nil)
	h.recordReply(t, 3, campaign.ReplyHuman, "Absent", "Je suis absente.", []int64{1})
	if code, body := h.signJSON(1, goodLetter()); code != http.StatusAccepted {
		t.Fatalf("sign: %d %v", code, body)
	}

	visited := map[string]bool{}
	anonymous := false
	call := func(method, path, body string, want int) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, h.srv.URL+path, rd)
		if strings.HasPrefix(path, "/api/v1/") && !anonymous {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if strings.HasPrefix(body, "{") {
			req.Header.Set("Content-Type", "application/json")
		} else if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := h.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		where := method + " " + path
		if resp.StatusCode != want {
			t.Fatalf("%s: %d, want %d\n%s", where, resp.StatusCode, want, b)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: not JSON: %v\n%s", where, err, b)
		}
		checkJSON(t, where, v, "$")
		visited[route(method, path)] = true
	}

	call("GET", "/api/v1/campaigns", "", 200)
	call("GET", "/api/v1/campaigns/1", "", 200)
	call("GET", "/api/v1/campaigns/99", "", 404)
	call("GET", "/api/v1/targets", "", 200)
	call("GET", "/api/v1/targets/1", "", 200)
	call("POST", "/api/v1/targets/3/do-not-contact?on=true", "", 200)
	call("POST", "/api/v1/waves/preview", `{"name": "Canada", "countries": ["Canada"]}`, 200)
	call("POST", "/api/v1/waves/preview", `{"name": "Canada", "countries": ["Canada"], "colour": "red"}`, 400)
	// Created, not started: its letters have no time to be sent at, nor
	// were they sent.
	call("POST", "/api/v1/waves", `{"name": "Canada", "countries": ["Canada"]}`, 201)
	call("POST", "/api/v1/waves", `{"name": "", "countries": ["Canada"]}`, 422)
	call("GET", "/api/v1/waves", "", 200)
	call("GET", "/api/v1/waves/1", "", 200)
	call("GET", "/api/v1/letters/w1-t1", "", 200)
	call("POST", "/api/v1/waves/1/start", "", 200)
	call("POST", "/api/v1/letters/w1-t1/resend", "", 409)
	if err := h.st.MarkFailed(ctx, "w1-t1", "refused", "550 no such user", false); err != nil {
		t.Fatal(err)
	}
	call("POST", "/api/v1/letters/w1-t1/resend", "", 200)
	call("POST", "/api/v1/waves/1/cancel", "", 200)
	call("GET", "/api/v1/letters/w1-t1", "", 200)
	call("GET", "/api/v1/supporters", "", 200)
	call("GET", "/api/v1/replies?view=all", "", 200)
	call("GET", fmt.Sprint("/api/v1/replies/", reply), "", 200)
	call("POST", fmt.Sprint("/api/v1/replies/", reply, "/confirm"), "outcome=victory&note=Wrote+to+Seoul", 200)
	call("POST", "/api/v1/replies/2/reject", "note=newsletter", 200)
	call("POST", "/api/v1/replies/3/classify", "kind=auto-reply", 200)
	call("POST", "/api/v1/replies/2/confirm", "", 409)
	call("GET", "/api/v1/replies/99", "", 404)
	anonymous = true
	call("GET", "/api/v1/campaigns", "", 401)
	anonymous = false
	// The public API and the status table's download.
	call("POST", "/api/campaigns/2/letters", `{"name": "Jane Doe", "email": "jane@example.org", "country": "Italy", "lang": "it"}`, 202)
	call("POST", "/api/campaigns/2/letters", `{"name": "Jane Doe"}`, 422)
	call("POST", "/api/campaigns/4/letters", `{"name": "Jane Doe", "email": "jane@example.org", "country": "Canada"}`, 404)
	call("GET", "/status.json", "", 200)

	for _, rt := range apiRoutesToCheck {
		if !visited[route(rt.method, rt.path)] {
			t.Errorf("%s %s: not walked; add it to this test", rt.method, rt.path)
		}
	}
}

// failingStore fails as a broken database would, with the store's own
// error text, which must never reach an answer.
type failingStore struct{ store.Store }

var errBroken = fmt.Errorf("store: campaigns: %w", errors.New("sql: database is closed"))

func (failingStore) Campaigns(context.Context, store.CampaignFilter) ([]campaign.Campaign, error) {
	return nil, errBroken
}

// An API error caused by the store says what happened in words, without
// the store's (or any package's) prefix.
func TestAPIErrorsCarryNoInternalText(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	ctx := context.Background()
	st, _ := h.st.StaffByEmail(ctx, staffEmail)
	token, _, err := h.auth.CreateAPIToken(ctx, "errors", st.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A second server on the same data whose store fails to list
	// campaigns.
	ws, err := New(Config{BaseURL: "http://127.0.0.1", Secret: []byte("web-test-secret-0123456789"), Log: quietLog()}, h.sup)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := letter.LoadTemplates(templates.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.WithStaff(&Staff{Store: failingStore{h.st}, Auth: h.auth, Composer: &letter.Composer{Templates: tpl}, Now: h.clock.Now}); err != nil {
		t.Fatal(err)
	}
	broken := httptest.NewServer(ws.Handler())
	defer broken.Close()

	call := func(base, method, path, body string) (int, apiError) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e apiError
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return resp.StatusCode, e
	}
	noInternalText := func(what string, e apiError) {
		t.Helper()
		for _, bad := range []string{"store:", "sql:", "queue:", "json:", "state conflict", "database"} {
			if strings.Contains(e.Message, bad) {
				t.Errorf("%s: the message %q carries %q", what, e.Message, bad)
			}
		}
	}

	// A store failure: an internal error, logged, not shown.
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/campaigns", ""},
		{"POST", "/api/v1/waves/preview", `{"name": "Canada", "countries": ["Canada"]}`},
		{"POST", "/api/v1/waves", `{"name": "Canada", "countries": ["Canada"]}`},
	} {
		code, e := call(broken.URL, c.method, c.path, c.body)
		if code != http.StatusInternalServerError || e.Error != "internal_server_error" || e.Message != "Something went wrong; it has been logged." {
			t.Errorf("%s %s on a failing store: %d %+v, want 500 and the words for an internal error", c.method, c.path, code, e)
		}
		noInternalText(c.method+" "+c.path, e)
	}
	if ws, _ := h.st.Waves(ctx); len(ws) != 0 {
		t.Error("a wave was stored by a request that failed")
	}

	// A state conflict from the store: 409 with its reason in words.
	code, e := call(h.srv.URL, "POST", "/api/v1/waves", `{"name": "Canada", "countries": ["Canada"], "start": true}`)
	if code != http.StatusCreated {
		t.Fatalf("create a wave: %d %+v", code, e)
	}
	code, e = call(h.srv.URL, "POST", "/api/v1/letters/w1-t1/resend", "")
	if code != http.StatusConflict || e.Error != "conflict" || e.Message != "Letter is queued." {
		t.Errorf("resend a queued letter: %d %+v, want 409 \"Letter is queued.\"", code, e)
	}
	noInternalText("resend", e)
	// A reply matched to nothing cannot be confirmed without campaigns.
	id := h.recordReply(t, 1, campaign.ReplyHuman, "Hello", "Unrelated.", nil)
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/replies/%d/confirm", h.srv.URL, id), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.HasPrefix(e.Message, "It was matched to no letter") {
		t.Errorf("confirm a reply matched to nothing: %d %+v", resp.StatusCode, e)
	}
	noInternalText("confirm", e)
	// A body that is not JSON: the decoder's words are not passed on.
	code, e = call(h.srv.URL, "POST", "/api/v1/waves", `{"name": "x", "colour": "red"}`)
	if code != http.StatusBadRequest || e.Message != `The body is not a wave: there is no field "colour".` {
		t.Errorf("an unknown field: %d %+v", code, e)
	}
	noInternalText("unknown field", e)
}
