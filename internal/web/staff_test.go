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
)

// staffRoutes lists every staff route, written out: each must refuse a
// request without a session.
var staffRoutesToCheck = []struct{ method, path string }{
	{"GET", "/"}, {"GET", "/home"}, {"GET", "/campaigns"}, {"GET", "/campaigns/1"},
	{"GET", "/waves"}, {"GET", "/waves/new"}, {"POST", "/waves/preview"}, {"POST", "/waves"},
	{"GET", "/waves/1"}, {"GET", "/waves/1/counts"}, {"POST", "/waves/1/start"}, {"POST", "/waves/1/cancel"},
	{"GET", "/letters/w1-t1"}, {"POST", "/letters/w1-t1/resend"}, {"GET", "/preview/html?target=1"},
	{"GET", "/targets"}, {"GET", "/targets/1"}, {"POST", "/targets/1/do-not-contact"},
	{"GET", "/supporters"}, {"GET", "/charts"},
	{"GET", "/replies"}, {"GET", "/replies/1"}, {"GET", "/replies/1/raw"},
	{"POST", "/replies/1/confirm"}, {"POST", "/replies/1/reject"}, {"POST", "/replies/1/classify"},
	{"POST", "/logout"},
}

var apiRoutesToCheck = []struct{ method, path string }{
	{"GET", "/api/v1/campaigns"}, {"GET", "/api/v1/campaigns/1"},
	{"GET", "/api/v1/waves"}, {"POST", "/api/v1/waves/preview"}, {"POST", "/api/v1/waves"},
	{"GET", "/api/v1/waves/1"}, {"POST", "/api/v1/waves/1/start"}, {"POST", "/api/v1/waves/1/cancel"},
	{"GET", "/api/v1/letters/w1-t1"}, {"POST", "/api/v1/letters/w1-t1/resend"},
	{"GET", "/api/v1/targets"}, {"GET", "/api/v1/targets/1"}, {"POST", "/api/v1/targets/1/do-not-contact"},
	{"GET", "/api/v1/supporters"},
	{"GET", "/api/v1/replies"}, {"GET", "/api/v1/replies/1"},
	{"POST", "/api/v1/replies/1/confirm"}, {"POST", "/api/v1/replies/1/reject"}, {"POST", "/api/v1/replies/1/classify"},
}

func TestStaffRoutesNeedLogin(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	c := h.client()
	for _, rt := range staffRoutesToCheck {
		req, _ := http.NewRequest(rt.method, h.srv.URL+rt.path, strings.NewReader("on=true"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Errorf("%s %s without a session: %d %s, want a redirect to /login", rt.method, rt.path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	for _, rt := range apiRoutesToCheck {
		for _, auth := range []string{"", "Bearer otk_forged-token", "Basic YW5uYTpwdw=="} {
			req, _ := http.NewRequest(rt.method, h.srv.URL+rt.path, strings.NewReader("{}"))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with %q: %d, want 401", rt.method, rt.path, auth, resp.StatusCode)
			}
		}
	}
	// The public page needs no login.
	for _, p := range []string{"/status", "/status.csv", "/status.json"} {
		resp, err := c.Get(h.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d, want 200 without a login", p, resp.StatusCode)
		}
	}
	// Nothing changed.
	tg, _ := h.st.TargetByID(context.Background(), 1)
	if tg.DoNotContact {
		t.Error("a request without a session marked an office do-not-contact")
	}
	if ws, _ := h.st.Waves(context.Background()); len(ws) != 0 {
		t.Error("a request without a session created a wave")
	}
}

// staffSession is a logged-in browser: its client and a form token.
type staffSession struct {
	c    *http.Client
	csrf string
}

var csrfInForm = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// login logs in through the login form and reads the CSRF token of a page.
func (h *harness) login(t testing.TB) staffSession {
	t.Helper()
	c := h.client()
	resp, err := c.Get(h.srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfInForm.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on the login page:\n%s", body)
	}
	resp, err = c.PostForm(h.srv.URL+"/login", url.Values{"csrf_token": {string(m[1])}, "email": {staffEmail},
		"password": {staffPassword}, "next": {"/campaigns"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/campaigns" {
		t.Fatalf("login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	sessionCookieOf(t, c, h.srv.URL)
	body = h.getPage(t, c, "/campaigns", http.StatusOK)
	m = csrfInForm.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on a staff page")
	}
	return staffSession{c: c, csrf: string(m[1])}
}

func sessionCookieOf(t testing.TB, c *http.Client, base string) {
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			return
		}
	}
	t.Fatal("no session cookie after logging in")
}

func (h *harness) getPage(t testing.TB, c *http.Client, path string, want int) []byte {
	t.Helper()
	resp, err := c.Get(h.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d\n%s", path, resp.StatusCode, want, body)
	}
	return body
}

func TestSessionCookieAttributes(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	c := h.client()
	resp, _ := c.Get(h.srv.URL + "/login")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok := csrfInForm.FindSubmatch(body)[1]
	resp, err := c.PostForm(h.srv.URL+"/login", url.Values{"csrf_token": {string(tok)}, "email": {staffEmail}, "password": {staffPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var set string
	for _, v := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, sessionCookie+"=") {
			set = v
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(set, want) {
			t.Errorf("session cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(set, "Secure") {
		t.Errorf("a plain-http site set a Secure cookie: %q", set)
	}
}

func TestFormsNeedTheCSRFToken(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	s := h.login(t)
	post := func(path string, form url.Values) int {
		resp, err := s.c.PostForm(h.srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for name, tok := range map[string][]string{"no token": nil, "a wrong token": {"forged"}, "another session's token": {h.login(t).csrf}} {
		form := url.Values{"on": {"true"}}
		if tok != nil {
			form["csrf_token"] = tok
		}
		if code := post("/targets/1/do-not-contact", form); code != http.StatusForbidden {
			t.Errorf("do-not-contact with %s: %d, want 403", name, code)
		}
		wave := url.Values{"name": {"x"}, "country": {"Canada"}, "when": {"now"}, "template": {"appeal"}}
		for k, v := range form {
			wave[k] = v
		}
		if code := post("/waves", wave); code != http.StatusForbidden {
			t.Errorf("new wave with %s: %d, want 403", name, code)
		}
	}
	ctx := context.Background()
	if tg, _ := h.st.TargetByID(ctx, 1); tg.DoNotContact {
		t.Fatal("a form without a valid token changed an office")
	}
	if ws, _ := h.st.Waves(ctx); len(ws) != 0 {
		t.Fatal("a form without a valid token created a wave")
	}
	// The API with a session cookie needs the token in a header.
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/targets/1/do-not-contact?on=true", nil)
	resp, _ := s.c.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("API call with the session cookie but no X-CSRF-Token: %d, want 403", resp.StatusCode)
	}
	// With the token, the change is made.
	if code := post("/targets/1/do-not-contact", url.Values{"on": {"true"}, "csrf_token": {s.csrf}}); code != http.StatusSeeOther {
		t.Fatalf("with the token: %d", code)
	}
	if tg, _ := h.st.TargetByID(ctx, 1); !tg.DoNotContact {
		t.Error("the form with its token did not mark the office")
	}
	// The login form is protected too (login CSRF).
	resp, err := h.client().PostForm(h.srv.URL+"/login", url.Values{"email": {staffEmail}, "password": {staffPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without its CSRF token: %d, want 403", resp.StatusCode)
	}
}

func TestAPIToken(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	st, _ := h.st.StaffByEmail(context.Background(), staffEmail)
	token, _, err := h.auth.CreateAPIToken(context.Background(), "script", st.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, body string) (int, []byte) {
		req, _ := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := h.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	code, body := call("GET", "/api/v1/campaigns", "")
	var rows []map[string]any
	if code != 200 || json.Unmarshal(body, &rows) != nil || len(rows) != 4 || rows[0]["office"] != "mayor@montreal.example" {
		t.Fatalf("GET campaigns: %d %s", code, body)
	}
	code, body = call("POST", "/api/v1/targets/2/do-not-contact?on=true", "")
	if code != 200 {
		t.Fatalf("do-not-contact by token (no CSRF needed): %d %s", code, body)
	}
	code, body = call("POST", "/api/v1/waves", `{"name": "by script", "countries": ["Canada"], "start": false}`)
	if code != http.StatusCreated || !strings.Contains(string(body), `"letters":1`) {
		t.Fatalf("create a wave: %d %s", code, body)
	}
	code, body = call("POST", "/api/v1/waves", `{"name": "", "countries": ["Canada"]}`)
	if code != http.StatusUnprocessableEntity {
		t.Errorf("a wave without a name: %d %s", code, body)
	}
	code, body = call("POST", "/api/v1/waves", `{"name": "x", "colour": "red"}`)
	if code != http.StatusBadRequest {
		t.Errorf("an unknown field: %d %s", code, body)
	}
	if err := h.st.RevokeAPIToken(context.Background(), "script"); err != nil {
		t.Fatal(err)
	}
	if code, _ := call("GET", "/api/v1/campaigns", ""); code != http.StatusUnauthorized {
		t.Errorf("a revoked token: %d", code)
	}
}

func TestMarkupIsEscaped(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	ctx := context.Background()
	// Stored as if it had come in by another way than the form (which
	// refuses markup in names): the pages must not trust the store.
	if _, _, err := h.st.SignLetter(ctx, campaign.Signature{
		CampaignID: 1, Name: `<script>alert("name")</script>`, Email: "x@example.org", Country: "Canada",
		City: `<img src=x onerror=alert(1)>`, Message: `<b>bold</b><script>alert("msg")</script>`, Lang: "en",
		State: campaign.SignaturePending, SignedAt: h.clock.Now(),
	}); err != nil {
		t.Fatal(err)
	}
	s := h.login(t)
	body := string(h.getPage(t, s.c, "/campaigns/1", http.StatusOK))
	for _, raw := range []string{`<script>alert("name")`, `<img src=x`, `<b>bold</b>`, `<script>alert("msg")`} {
		if strings.Contains(body, raw) {
			t.Errorf("the campaign page shows %q unescaped", raw)
		}
	}
	if !strings.Contains(body, "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;") {
		t.Errorf("the supporter's name is not on the page, escaped:\n%s", body)
	}
}

func TestRepeatedWrongPasswordsAreSlowedDown(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	c := h.client()
	try := func(pw string) *http.Response {
		resp, _ := c.Get(h.srv.URL + "/login")
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tok := csrfInForm.FindSubmatch(body)[1]
		resp, err := c.PostForm(h.srv.URL+"/login", url.Values{"csrf_token": {string(tok)}, "email": {staffEmail}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 5 {
		if resp := try("wrong password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d, want 401", i+1, resp.StatusCode)
		}
		h.clock.Advance(time.Second)
	}
	resp := try(staffPassword)
	// The fifth failure was 1 s ago; the wait is 30 s from it.
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "29" {
		t.Fatalf("the right password right after five wrong ones: %d, Retry-After %q; want 429 and 29", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	h.clock.Advance(29 * time.Second)
	if resp := try(staffPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the wait: %d, want a redirect into the UI", resp.StatusCode)
	}
}

func TestStaffPagesRender(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	s := h.login(t)
	for _, p := range []string{"/campaigns", "/campaigns?country=Canada&state=never-contacted", "/campaigns/1", "/waves",
		"/waves/new", "/targets", "/targets/1", "/supporters", "/charts", "/status"} {
		h.getPage(t, s.c, p, http.StatusOK)
	}
	h.getPage(t, s.c, "/campaigns/99", http.StatusNotFound)
	h.getPage(t, s.c, "/waves/99", http.StatusNotFound)
	// Log out: the session no longer opens pages.
	resp, err := s.c.PostForm(h.srv.URL+"/logout", url.Values{"csrf_token": {s.csrf}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, _ = s.c.Get(h.srv.URL + "/campaigns")
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout: %d, want a redirect to /login", resp.StatusCode)
	}
}

func TestWaveForm(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	s := h.login(t)
	post := func(path string, form url.Values) (int, string) {
		form.Set("csrf_token", s.csrf)
		resp, err := s.c.PostForm(h.srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for name, tt := range map[string]struct {
		form    url.Values
		mention string
	}{
		"no name":          {url.Values{"country": {"Canada"}}, "give the wave a name"},
		"nothing chosen":   {url.Values{"name": {"x"}}, "choose at least one country or campaign"},
		"bad time":         {url.Values{"name": {"x"}, "country": {"Canada"}, "when": {"at"}, "at": {"soon"}}, "give the date and time"},
		"past time":        {url.Values{"name": {"x"}, "country": {"Canada"}, "when": {"at"}, "at": {h.clock.Now().Add(-24 * time.Hour).UTC().Format("2006-01-02T15:04")}}, "in the past"},
		"bad local time":   {url.Values{"name": {"x"}, "country": {"Canada"}, "when": {"local"}, "local_time": {"25:00"}}, "HH:MM"},
		"bad follow-up":    {url.Values{"name": {"x"}, "country": {"Canada"}, "follow_up_days": {"-3"}}, "1 to 365 days"},
		"unknown campaign": {url.Values{"name": {"x"}, "campaign": {"999"}}, "no campaign matches"},
	} {
		code, body := post("/waves/preview", tt.form)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, tt.mention) {
			t.Errorf("%s: %d, want 422 mentioning %q", name, code, tt.mention)
		}
	}
	if ws, _ := h.st.Waves(context.Background()); len(ws) != 0 {
		t.Fatal("a refused form created a wave")
	}
	// The form always names a follow-up letter; without days it asks for
	// no follow-up, and the preview works.
	if code, body := post("/waves/preview", url.Values{"name": {"x"}, "country": {"Canada"}, "template": {"appeal"},
		"when": {"now"}, "follow_up_days": {""}, "follow_up_template": {"follow-up"}}); code != http.StatusOK {
		t.Errorf("preview without follow-up days: %d\n%s", code, body)
	}
	// A wave at 09:00 local time with a follow-up after 21 days, created
	// without starting it.
	code, body := post("/waves", url.Values{"name": {"Italy"}, "country": {"Italy"}, "template": {"appeal"}, "when": {"local"},
		"local_time": {"09:00"}, "follow_up_days": {"21"}, "follow_up_template": {"follow-up"}, "start": {"no"}})
	if code != http.StatusSeeOther {
		t.Fatalf("create: %d\n%s", code, body)
	}
	ws, _ := h.st.Waves(context.Background())
	if len(ws) != 1 || ws[0].State != campaign.WaveDraft || ws[0].LocalTime != "09:00" || ws[0].FollowUpAfter != 21*24*time.Hour {
		t.Fatalf("the wave: %+v", ws)
	}
	page := string(h.getPage(t, s.c, "/waves/1", http.StatusOK))
	if !strings.Contains(page, "follow-up (follow-up) after 21 days") || !strings.Contains(page, "Start the wave") {
		t.Errorf("the wave page does not show the follow-up or the start button")
	}
	if code, _ := post("/waves/1/start", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("start: %d", code)
	}
	if code, body := post("/letters/w1-t2/resend", url.Values{}); code != http.StatusConflict || !strings.Contains(body, "queued") {
		t.Errorf("resending a queued letter: %d, want 409 saying it is queued", code)
	}
}
