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
	"wave-created":     "Wave created: %d letters planned.",
	"wave-started":     "Wave started: %d letters queued.",
	"wave-created-out": "Wave created: %d letters planned, %d offices left out.",
	"wave-started-out": "Wave started: %d letters queued, %d offices left out.",
	"wave-test-sent":   "A test copy of the letter was sent to your address.",
	"wave-cancelled":   "Wave cancelled: %d letters will not be sent.",
	"letter-resent":    "The letter is queued again.",
	"dnc-on":           "This office is marked do-not-contact: no wave will write to it.",
	"dnc-off":          "This office may be written to again.",
	"reply-confirmed":  "Reply confirmed.",
	"reply-rejected":   "Marked as not a reply to our letters.",
	"reply-auto":       "Marked as an automatic reply.",
	"next-waiting":     "Next one waiting:",
}

// done redirects after a successful form post, naming the message (a key
// of flashes) for the next page and the counts it shows, in order; next
// adds "Next one waiting:" after it.
func done(w http.ResponseWriter, r *http.Request, to, key string, next bool, counts ...int) {
	if _, ok := flashes[key]; !ok {
		panic("web: no flash message " + key) // a programming error, caught by the tests
	}
	u, _ := url.Parse(to)
	q := u.Query()
	q.Set("done", key)
	for _, n := range counts {
		q.Add("n", strconv.Itoa(n))
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
	if verbs := strings.Count(msg, "%d"); verbs > 0 {
		ns := make([]any, verbs)
		for i := range ns {
			n := 0
			if i < len(q["n"]) {
				if v, err := strconv.Atoi(q["n"][i]); err == nil && v >= 0 {
					n = v
				}
			}
			ns[i] = n
		}
		msg = fmt.Sprintf(msg, ns...)
	}
	if q.Get("next") == "1" {
		msg += " " + flashes["next-waiting"]
	}
	return msg
}
