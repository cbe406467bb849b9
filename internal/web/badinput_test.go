package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/supporters"
)

// Bad input: each request below gets a clear error or outcome and changes
// nothing else in the store.

func goodLetter() map[string]any {
	return map[string]any{"name": "Jane Doe", "email": "jane@people.example", "country": "Canada",
		"city": "Ottawa", "message": "Please write to Seoul.", "reply_consent": true}
}

func with(kv ...any) map[string]any {
	m := goodLetter()
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
			continue
		}
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func TestAPIRefusesBadLetters(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	// Something already stored, which must stay as it is.
	if code, body := h.signJSON(1, goodLetter()); code != http.StatusAccepted {
		t.Fatalf("good letter: %d %v", code, body)
	}
	before := h.snapshot()

	for _, tt := range []struct {
		name     string
		campaign int64
		body     map[string]any
		field    string
		code     string
	}{
		{"missing name", 1, with("name", nil), "name", supporters.CodeRequired},
		{"blank name", 1, with("name", "   "), "name", supporters.CodeRequired},
		{"missing email", 1, with("email", nil), "email", supporters.CodeRequired},
		{"invalid email", 1, with("email", "jane.people.example"), "email", supporters.CodeInvalid},
		{"email with a name", 1, with("email", "Jane <jane@people.example>"), "email", supporters.CodeInvalid},
		{"email without a dotted domain", 1, with("email", "jane@localhost"), "email", supporters.CodeInvalid},
		{"missing country", 1, with("country", ""), "country", supporters.CodeRequired},
		{"oversized message", 1, with("message", strings.Repeat("é", 501)), "message", supporters.CodeTooLong},
		{"long name", 1, with("name", strings.Repeat("a", 101)), "name", supporters.CodeTooLong},
		{"header injection in the name", 1, with("name", "Jane\r\nBcc: victim@people.example"), "name", supporters.CodeLineBreak},
		{"line break in the city", 1, with("city", "Ottawa\nX-Evil: 1"), "city", supporters.CodeLineBreak},
		{"header injection in the email", 1, with("email", "jane@people.example\r\nBcc: x@y.example"), "email", supporters.CodeLineBreak},
		{"markup in the name", 1, with("name", "<script>alert(1)</script>"), "name", supporters.CodeCharacters},
		{"an address as the name", 1, with("name", "mayor@city.example"), "name", supporters.CodeCharacters},
		{"a bidi override in the name", 1, with("name", "Jane \u202eeoD"), "name", supporters.CodeCharacters},
		{"a control character in the message", 1, with("message", "hello\x07"), "message", supporters.CodeCharacters},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, body := h.signJSON(tt.campaign, tt.body)
			if code != http.StatusUnprocessableEntity || body["error"] != "invalid" {
				t.Fatalf("%d %v", code, body)
			}
			fields, _ := body["fields"].([]any)
			found := false
			for _, f := range fields {
				f := f.(map[string]any)
				if f["field"] == tt.field && f["code"] == tt.code && f["message"] != "" {
					found = true
				}
			}
			if !found {
				t.Errorf("fields %v, want %s: %s", fields, tt.field, tt.code)
			}
		})
	}

	raw := func(path, ctype, body string) (int, string) {
		resp, err := http.Post(h.srv.URL+path, ctype, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tt := range []struct {
		name, path, ctype, body string
		status                  int
		errCode                 string
	}{
		{"not JSON", "/api/campaigns/1/letters", "application/json", "name=Jane", http.StatusBadRequest, "bad_request"},
		{"unknown field", "/api/campaigns/1/letters", "application/json", `{"name":"Jane","bcc":"x"}`, http.StatusBadRequest, "bad_request"},
		{"a number for a name", "/api/campaigns/1/letters", "application/json", `{"name":5}`, http.StatusBadRequest, "bad_request"},
		{"a list, not an object", "/api/campaigns/1/letters", "application/json", `[1]`, http.StatusBadRequest, "bad_request"},
		{"cut short", "/api/campaigns/1/letters", "application/json", `{"name":"Ja`, http.StatusBadRequest, "bad_request"},
		{"a form, not JSON", "/api/campaigns/1/letters", "application/x-www-form-urlencoded", "name=Jane", http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"too large", "/api/campaigns/1/letters", "application/json", `{"message":"` + strings.Repeat("x", 70<<10) + `"}`, http.StatusRequestEntityTooLarge, "too_large"},
		{"unknown campaign", "/api/campaigns/99/letters", "application/json", `{}`, http.StatusNotFound, "no_campaign"},
		{"campaign without an office", "/api/campaigns/4/letters", "application/json", `{"name":"Jane","email":"jane@people.example","country":"Canada"}`, http.StatusNotFound, "no_campaign"},
		{"not a campaign id", "/api/campaigns/abc/letters", "application/json", `{}`, http.StatusNotFound, "no_campaign"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := raw(tt.path, tt.ctype, tt.body)
			if status != tt.status || !strings.Contains(body, `"error":"`+tt.errCode+`"`) {
				t.Errorf("%d %s, want %d %s", status, body, tt.status, tt.errCode)
			}
			// The public API says what is wrong in its own words: nothing
			// of the program's insides (Go types, package prefixes).
			for _, inside := range []string{"Go struct", "json:", "store:", "supporters:", "supporters.Form", "unexpected EOF"} {
				if strings.Contains(body, inside) {
					t.Errorf("the answer %s shows %q", body, inside)
				}
			}
		})
	}

	for body, want := range map[string]string{
		`{"name":5}`:                "the body is not a letter in JSON: the field \"name\" must be a string",
		`{"name":"Jane","bcc":"x"}`: "the body is not a letter in JSON: there is no field \"bcc\"",
		`{"name":"Ja`:               "the body is not a letter in JSON: the body ends before its JSON does",
		`[1]`:                       "the body is not a letter in JSON: the body must be a JSON object",
	} {
		if _, got := raw("/api/campaigns/1/letters", "application/json", body); !strings.Contains(got, `"message":"`+strings.ReplaceAll(want, `"`, `\"`)+`"`) {
			t.Errorf("%s: %s, want the message %s", body, got, want)
		}
	}

	// The honeypot: looks accepted, stores nothing.
	if code, body := h.signJSON(1, with("email", "bot@people.example", "website", "http://spam.example")); code != http.StatusAccepted {
		t.Errorf("honeypot: %d %v", code, body)
	}
	if after := h.snapshot(); after != before {
		t.Errorf("refused letters changed the store:\nbefore %s\nafter  %s", before, after)
	}
}

func TestRateLimits(t *testing.T) {
	h := newHarness(t, harnessOptions{limits: supporters.Limits{PerIP: 4, PerEmail: 2}})
	for i := range 2 {
		if code, body := h.signJSON(1, goodLetter()); code != http.StatusAccepted {
			t.Fatalf("signing %d: %d %v", i, code, body)
		}
	}
	// A refused attempt counts too: the limits are on attempts.
	before := h.snapshot()
	code, body := h.signJSON(2, goodLetter()) // a third time for the same address
	if code != http.StatusTooManyRequests || body["error"] != "rate_limited" || body["retry_after"].(float64) < 1 {
		t.Errorf("third signing for one address: %d %v", code, body)
	}
	if h.snapshot() != before {
		t.Error("a refused signing changed the store")
	}
	if code, body := h.signJSON(2, with("email", "other@people.example")); code != http.StatusAccepted {
		t.Errorf("another address from the same IP: %d %v", code, body)
	}
	before = h.snapshot()
	if code, body := h.signJSON(3, with("email", "third@people.example")); code != http.StatusTooManyRequests {
		t.Errorf("fifth signing from one IP: %d %v", code, body)
	}
	if after := h.snapshot(); after != before {
		t.Error("a refused signing changed the store")
	}
}

func TestFormNeedsCSRFToken(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.client()
	code, page := h.get(c, h.srv.URL+"/act/1?lang=it")
	if code != http.StatusOK || !strings.Contains(page, "Scrivi al sindaco di Montreal") {
		t.Fatalf("campaign page: %d\n%s", code, page)
	}
	token := csrfRe.FindStringSubmatch(page)[1]
	form := url.Values{"name": {"Jane Doe"}, "email": {"jane@people.example"}, "country": {"Canada"}, "lang": {"it"}}
	before := h.snapshot()

	// No token, a wrong one, and a right one without the cookie (another
	// browser): all refused, nothing stored.
	for name, f := range map[string]url.Values{
		"no token":    form,
		"wrong token": merge(form, url.Values{"csrf_token": {"forged"}}),
	} {
		code, page, _ := h.postForm(c, h.srv.URL+"/act/1", f)
		if code != http.StatusForbidden || !strings.Contains(page, "Il modulo è scaduto") {
			t.Errorf("%s: %d\n%s", name, code, page)
		}
	}
	if code, _, _ := h.postForm(h.client(), h.srv.URL+"/act/1", merge(form, url.Values{"csrf_token": {token}})); code != http.StatusForbidden {
		t.Errorf("token without its cookie: %d", code)
	}
	// A cross-site post is refused before it is read.
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/act/1", strings.NewReader(merge(form, url.Values{"csrf_token": {token}}).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: %v %v", resp.Status, err)
	}
	if h.snapshot() != before {
		t.Fatal("a refused form changed the store")
	}

	// Mistakes come back on the page, field by field, in its language,
	// with what was typed shown escaped.
	bad := merge(form, url.Values{"csrf_token": {token}, "email": {"nope"}, "message": {"<script>alert(1)</script>"}})
	code, page, _ = h.postForm(c, h.srv.URL+"/act/1", bad)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Questo non è un indirizzo e-mail.") ||
		strings.Contains(page, "<script>alert") || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("form with mistakes: %d\n%s", code, page)
	}
	if h.snapshot() != before {
		t.Fatal("a form with mistakes changed the store")
	}

	// The form done right.
	code, _, hdr := h.postForm(c, h.srv.URL+"/act/1", merge(form, url.Values{"csrf_token": {token}}))
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/act/1/sent?lang=it") {
		t.Fatalf("good form: %d %v", code, hdr)
	}
	code, page = h.get(c, h.srv.URL+hdr.Get("Location"))
	if code != http.StatusOK || !strings.Contains(page, "Controlla la tua casella di posta") {
		t.Errorf("sent page: %d\n%s", code, page)
	}
}

func TestLinks(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	sign := func(email, message string) campaign.Signature {
		t.Helper()
		rec, err := h.sup.Sign(ctx, 1, supporters.Form{Name: "Jane Doe", Email: email, Country: "Canada", Message: message}, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		return rec.Signature
	}
	links := func(sig campaign.Signature) (string, string) { return h.sup.ConfirmationLinks(sig) }
	expect := func(name, link string, status int, says string) {
		t.Helper()
		before := h.snapshot()
		code, page := h.follow(link)
		if code != status || !strings.Contains(page, says) {
			t.Errorf("%s: %d, want %d saying %q\n%s", name, code, status, says, page)
		}
		if status != http.StatusOK && h.snapshot() != before {
			t.Errorf("%s changed the store", name)
		}
	}

	jane := sign("jane@people.example", "first")
	confirmJane, withdrawJane := links(jane)
	tok := confirmJane[strings.LastIndexByte(confirmJane, '/')+1:]
	parts := strings.Split(tok, ".")

	// Forged: another signature's id under Jane's MAC, a made-up MAC, a
	// longer expiry, a confirmation token used to withdraw, garbage.
	expect("forged id", h.srv.URL+"/confirm/"+strings.Join([]string{"2", parts[1], parts[2], parts[3], parts[4]}, "."), http.StatusBadRequest, "not valid")
	expect("forged mac", h.srv.URL+"/confirm/"+strings.Join([]string{parts[0], parts[1], parts[2], parts[3], "AAAAAAAAAAAAAAAAAAAAAA"}, "."), http.StatusBadRequest, "not valid")
	expect("extended expiry", h.srv.URL+"/confirm/"+strings.Join([]string{parts[0], parts[1], "99999999999", parts[3], parts[4]}, "."), http.StatusBadRequest, "not valid")
	expect("confirm token to withdraw", h.srv.URL+"/withdraw/"+tok, http.StatusBadRequest, "not valid")
	expect("garbage", h.srv.URL+"/confirm/hello", http.StatusBadRequest, "not valid")

	// Confirmed once; the same link again confirms nothing more.
	expect("confirm", confirmJane, http.StatusOK, "your letter is confirmed")
	expect("replayed", confirmJane, http.StatusOK, "already confirmed")
	if sig, _ := h.st.Signature(ctx, jane.ID); sig.State != campaign.SignatureConfirmed || sig.Version != 1 {
		t.Errorf("after a replay: %+v", sig)
	}

	// Expired: the link's time is up, and the letter is deleted at the next
	// round.
	bob := sign("bob@people.example", "")
	confirmBob, _ := links(bob)
	h.clock.Advance(73 * time.Hour)
	expect("expired", confirmBob, http.StatusGone, "expired")
	if err := h.batcher.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if sig, _ := h.st.Signature(ctx, bob.ID); sig.State != campaign.SignatureExpired || sig.Email != "" || sig.Name != "" {
		t.Errorf("an unconfirmed letter after its time: %+v", sig)
	}

	// Signed again: the new text is a draft with a link of its own; both
	// links work until one is confirmed. Confirming the draft replaces
	// the letter, and the earlier link is superseded.
	ann := sign("ann@people.example", "first")
	firstAnn, _ := links(ann)
	ann2 := sign("ann@people.example", "second")
	if ann2.ID != ann.ID || ann2.Version != 1 || ann2.Message != "first" {
		t.Fatalf("signing again changed the letter: %+v", ann2)
	}
	draft, err := h.st.Draft(ctx, ann.ID)
	if err != nil || draft.Version != 2 || draft.Message != "second" {
		t.Fatalf("draft %+v %v", draft, err)
	}
	secondAnn, withdrawAnn := links(campaign.Signature{ID: ann.ID, Version: draft.Version, SignedAt: draft.SignedAt})
	expect("newest link", secondAnn, http.StatusOK, "your new letter is confirmed")
	expect("superseded", firstAnn, http.StatusConflict, "signed again")
	if sig, _ := h.st.Signature(ctx, ann.ID); sig.Message != "second" || sig.Version != 2 || sig.State != campaign.SignatureConfirmed {
		t.Errorf("after confirming the draft: %+v", sig)
	}

	// Withdrawn: the letter is gone, its data erased; the confirmation link
	// and the withdrawal link again say so.
	expect("withdraw", withdrawAnn, http.StatusOK, "withdrawn and your details are deleted")
	if sig, _ := h.st.Signature(ctx, ann.ID); sig.State != campaign.SignatureWithdrawn || sig.Email != "" || sig.Message != "" {
		t.Errorf("withdrawn: %+v", sig)
	}
	expect("withdrawn, then confirmed", secondAnn, http.StatusGone, "withdrawn")
	expect("withdrawn twice", withdrawAnn, http.StatusOK, "already withdrawn")

	// Delivered: too late to withdraw. Jane's letter is batched (Monday
	// 06:00 UTC was three days ago: it is planned for today's hours) and
	// sent.
	if err := h.batcher.Round(ctx); err != nil {
		t.Fatal(err)
	}
	sig, _ := h.st.Signature(ctx, jane.ID)
	if sig.LetterID == "" {
		t.Fatalf("Jane's letter was not batched: %+v", sig)
	}
	if err := h.st.BeginSending(ctx, sig.LetterID, "id@outreach.example"); err != nil {
		t.Fatal(err)
	}
	if err := h.st.MarkSent(ctx, sig.LetterID, h.clock.Now(), "250 ok", campaign.Date{}); err != nil {
		t.Fatal(err)
	}
	expect("withdraw a delivered letter", withdrawJane, http.StatusConflict, "already been sent")
}

func TestPagesInThreeLanguages(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	for _, tt := range []struct{ query, accept, want string }{
		// Without ?lang or a language of the pages in Accept-Language,
		// the office's: Montreal's writes French.
		{"", "", "Écrivez au maire de Montreal"},
		{"", "en-GB", "Write to the mayor of Montreal"},
		{"", "fr-CA,fr;q=0.9,en;q=0.5", "Écrivez au maire de Montreal"},
		{"", "it-IT", "Scrivi al sindaco di Montreal"},
		{"?lang=it", "fr", "Scrivi al sindaco di Montreal"},
		{"?lang=de", "de-DE", "Écrivez au maire de Montreal"},
	} {
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/act/1"+tt.query, nil)
		if tt.accept != "" {
			req.Header.Set("Accept-Language", tt.accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(b)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, tt.want) {
			t.Errorf("%q %q: %d, want %q", tt.query, tt.accept, resp.StatusCode, tt.want)
		}
		for header, want := range map[string]string{
			"Content-Security-Policy": "default-src 'none'",
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"Cache-Control":           "no-store",
		} {
			if !strings.Contains(resp.Header.Get(header), want) {
				t.Errorf("%s: %q", header, resp.Header.Get(header))
			}
		}
	}
	for path, status := range map[string]int{"/act/99": 404, "/act/4": 404, "/nowhere": 404, "/static/style.css": 200} {
		if code, _ := h.get(h.client(), h.srv.URL+path); code != status {
			t.Errorf("%s: %d, want %d", path, code, status)
		}
	}
}

func merge(a, b url.Values) url.Values {
	out := url.Values{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
