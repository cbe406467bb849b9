package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// flashes are the messages a staff page shows after a form succeeded, by
// key. The redirect names a key and a count, never the words: a link
// cannot make a staff page say what its author likes.
var flashes = map[string]string{
	"wave-created":    "Wave created: %d letters planned.",
	"wave-started":    "Wave started: %d letters queued.",
	"wave-cancelled":  "Wave cancelled: %d letters will not be sent.",
	"letter-resent":   "The letter is queued again.",
	"dnc-on":          "This office is marked do-not-contact: no wave will write to it.",
	"dnc-off":         "This office may be written to again.",
	"reply-confirmed": "Reply confirmed.",
	"reply-rejected":  "Marked as not a reply to our letters.",
	"reply-auto":      "Marked as an automatic reply.",
	"next-waiting":    "Next one waiting:",
}

// done redirects after a successful form post, naming the message (a key
// of flashes) for the next page and the count it shows, if any; next adds
// "Next one waiting:" after it.
func done(w http.ResponseWriter, r *http.Request, to, key string, n int, next bool) {
	if _, ok := flashes[key]; !ok {
		panic("web: no flash message " + key) // a programming error, caught by the tests
	}
	u, _ := url.Parse(to)
	q := u.Query()
	q.Set("done", key)
	if n != 0 {
		q.Set("n", strconv.Itoa(n))
	}
	if next {
		q.Set("next", "1")
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// flash is the message a page's URL names, or "" for none or an unknown
// key.
func flash(q url.Values) string {
	msg, ok := flashes[q.Get("done")]
	if !ok {
		return ""
	}
	if strings.Contains(msg, "%d") {
		n, err := strconv.Atoi(q.Get("n"))
		if err != nil || n < 0 {
			n = 0
		}
		msg = fmt.Sprintf(msg, n)
	}
	if q.Get("next") == "1" {
		msg += " " + flashes["next-waiting"]
	}
	return msg
}
