package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/letter"
)

// TestOptOut follows an office's List-Unsubscribe link: a GET (what a
// link scanner does) changes nothing, a forged token or a POST without
// the RFC 8058 body is refused, and the one-click POST, from anywhere and
// without a CSRF token, marks the office do-not-contact with the reason
// and time staff then see.
func TestOptOut(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	ctx := context.Background()
	milano, err := h.st.Target(ctx, "sindaco@milano.example")
	if err != nil {
		t.Fatal(err)
	}
	link := h.srv.URL + "/optout/" + h.signer.OptOutToken(milano.ID)
	unchanged := func(what string) {
		t.Helper()
		got, err := h.st.TargetByID(ctx, milano.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.DoNotContact || got.DoNotContactReason != "" || !got.DoNotContactAt.IsZero() {
			t.Fatalf("%s marked the office: %+v", what, got)
		}
	}

	// A GET shows a button, in the office's language, and changes nothing.
	for range 2 {
		code, page := h.get(h.client(), link)
		if code != http.StatusOK {
			t.Fatalf("GET: %d\n%s", code, page)
		}
		if !strings.Contains(page, `name="List-Unsubscribe" value="One-Click"`) || !strings.Contains(page, "Interrompi le lettere") {
			t.Fatalf("GET: no one-click button in Italian:\n%s", page)
		}
	}
	unchanged("GET")

	// Forged tokens: altered, for another office, signed with another key.
	tok := h.signer.OptOutToken(milano.ID)
	other, err := letter.NewSigner([]byte("someone-elses-secret-0123456789"), "outreach.example")
	if err != nil {
		t.Fatal(err)
	}
	last := tok[len(tok)-1]
	flipped := byte('a')
	if last == 'a' {
		flipped = 'b'
	}
	oneClick := url.Values{"List-Unsubscribe": {"One-Click"}}
	for name, forged := range map[string]string{
		"altered MAC":      tok[:len(tok)-1] + string(flipped),
		"another office":   itoa(milano.ID+1) + tok[strings.IndexByte(tok, '.'):],
		"another key":      other.OptOutToken(milano.ID),
		"no MAC":           "2",
		"a letter's token": h.signer.Token("w1-t2"),
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			var code int
			if method == http.MethodGet {
				code, _ = h.get(h.client(), h.srv.URL+"/optout/"+forged)
			} else {
				code, _, _ = h.postForm(h.client(), h.srv.URL+"/optout/"+forged, oneClick)
			}
			if code != http.StatusBadRequest {
				t.Errorf("%s %s: %d, want 400", method, name, code)
			}
		}
	}
	unchanged("a forged token")
	for _, ms := range []string{"sindaco@milano.example", "mayor@montreal.example", "mayor@perth.example"} {
		if got, _ := h.st.Target(ctx, ms); got.DoNotContact {
			t.Fatalf("a forged token marked %s", ms)
		}
	}

	// A POST without the RFC 8058 body is not a one-click opt-out.
	if code, _, _ := h.postForm(h.client(), link, url.Values{"List-Unsubscribe": {"yes"}}); code != http.StatusBadRequest {
		t.Errorf("POST without List-Unsubscribe=One-Click: %d, want 400", code)
	}
	unchanged("a POST without the one-click body")

	// The one-click POST, as a mail provider makes it: from another
	// origin, no cookie, no CSRF token.
	req, _ := http.NewRequest(http.MethodPost, link, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://mail.provider.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("one-click POST: %d", resp.StatusCode)
	}
	got, err := h.st.TargetByID(ctx, milano.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.DoNotContact || got.DoNotContactReason != optOutReason || !got.DoNotContactAt.Equal(h.clock.Now()) {
		t.Fatalf("after the one-click POST: do-not-contact %v, reason %q, at %v (want %v)",
			got.DoNotContact, got.DoNotContactReason, got.DoNotContactAt, h.clock.Now())
	}
	// Again: it stays marked, with its first reason and time.
	h.clock.Advance(time.Hour)
	if code, _, _ := h.postForm(h.client(), link, oneClick); code != http.StatusOK {
		t.Errorf("a second POST: %d", code)
	}
	if again, _ := h.st.TargetByID(ctx, milano.ID); !again.DoNotContactAt.Equal(got.DoNotContactAt) {
		t.Errorf("a second POST moved the time from %v to %v", got.DoNotContactAt, again.DoNotContactAt)
	}

	// A later wave leaves the office out, and lists it with the reason.
	code, out := h.apiCall(t, "POST", "/api/v1/waves", `{"name": "later", "countries": ["Italy", "Australia"]}`)
	skipped, _ := out["skipped"].([]any)
	if code != http.StatusCreated || out["letters"] != float64(1) || len(skipped) != 1 {
		t.Fatalf("a later wave to Italy and Australia: %d %v, want Perth only, Milano left out", code, out)
	}
	sk := skipped[0].(map[string]any)
	if sk["email"] != "sindaco@milano.example" || sk["reason"] != "do-not-contact: "+optOutReason {
		t.Errorf("left out: %v, want Milano as do-not-contact by its opt-out", sk)
	}

	// Staff see it on the office's page.
	s := h.login(t)
	page := string(h.getPage(t, s.c, "/targets/"+itoa(milano.ID), http.StatusOK))
	if !strings.Contains(page, "one-click opt-out") {
		t.Errorf("the office's page does not say why it is do-not-contact:\n%s", page)
	}
}
