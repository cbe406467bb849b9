package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestFlashIsAKey: after a form, the redirect names a message by key; a
// link that puts words of its own in ?done= shows nothing on a staff page.
func TestFlashIsAKey(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	s := h.login(t)
	code, _, hdr := h.postForm(s.c, h.srv.URL+"/targets/1/do-not-contact", url.Values{"on": {"true"}, "csrf_token": {s.csrf}})
	if code != http.StatusSeeOther {
		t.Fatalf("do-not-contact: %d", code)
	}
	loc, err := url.Parse(hdr.Get("Location"))
	if err != nil || loc.Query().Get("done") != "dnc-on" {
		t.Fatalf("redirect to %q, want ?done=dnc-on", hdr.Get("Location"))
	}
	_, page := h.get(s.c, h.srv.URL+loc.String())
	if !strings.Contains(page, "This office is marked do-not-contact: no wave will write to it.") {
		t.Errorf("the page after the form lacks its message:\n%s", page)
	}

	forged := "Your session expired: log in again at https://evil.example/login"
	_, page = h.get(s.c, h.srv.URL+"/targets/1?done="+url.QueryEscape(forged))
	if strings.Contains(page, "evil.example") || strings.Contains(page, `class="notice ok"`) {
		t.Errorf("a staff page shows text from its URL as a notice")
	}
	_, page = h.get(s.c, h.srv.URL+"/waves?done=wave-started&n=12")
	if !strings.Contains(page, "Wave started: 12 letters queued.") {
		t.Errorf("a known key with its count is not shown")
	}
	_, page = h.get(s.c, h.srv.URL+"/waves?done=wave-started&n="+url.QueryEscape("12 <b>"))
	if !strings.Contains(page, "Wave started: 0 letters queued.") {
		t.Errorf("a count that is not a number is not shown as 0")
	}
}

func TestFlashMessages(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{"done=reply-confirmed&next=1", "Reply confirmed. Next one waiting:"},
		{"done=wave-cancelled&n=3", "Wave cancelled: 3 letters will not be sent."},
		{"done=wave-cancelled&n=-3", "Wave cancelled: 0 letters will not be sent."},
		{"done=letter-resent&n=9", "The letter is queued again."},
		{"done=Hello", ""},
		{"", ""},
	} {
		q, _ := url.ParseQuery(tc.query)
		if got := flash(q); got != tc.want {
			t.Errorf("flash(%s) = %q, want %q", tc.query, got, tc.want)
		}
	}
}
