package replies

import (
	"regexp"
	"strings"
)

// phraseSet is a lower-case pattern with literal hints, at least one of
// which every match contains. Looking for the hints first is a plain string
// search; the regexp, costly with many alternatives, runs only on the rare
// text that has one of them.
type phraseSet struct {
	hints []string
	re    *regexp.Regexp
}

// find returns the first match in lower (already lower-cased), or "".
func (ps phraseSet) find(lower string) string {
	if !containsAny(lower, ps.hints) {
		return ""
	}
	if loc := ps.re.FindStringIndex(lower); loc != nil {
		return lower[loc[0]:loc[1]]
	}
	return ""
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// foldSpace lower-cases text and joins its lines, so a phrase wrapped over
// two lines by the sender's client is still found.
func foldSpace(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}
