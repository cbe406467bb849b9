package letter

import (
	"fmt"
	"strings"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// words are the few phrases the template functions put into a letter in
// its language; the rest of every letter is in its template.
type words struct {
	months             [12]string
	and                string
	sister, friendship string
	dateFormat         func(d campaign.Date, month string) string
	// since says "since DATE", which in Italian and French changes with
	// the day ("dall'8 aprile", "depuis le 1er mai").
	since func(date string, d campaign.Date) string
}

var languageWords = map[string]words{
	"en": {
		months:     [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		and:        "and",
		sister:     "sister city",
		friendship: "friendship city",
		dateFormat: func(d campaign.Date, m string) string { return fmt.Sprintf("%d %s %d", d.Day, m, d.Year) },
		since:      func(s string, _ campaign.Date) string { return "since " + s },
	},
	"it": {
		months:     [12]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
		and:        "e",
		sister:     "città gemellata",
		friendship: "città amica",
		dateFormat: func(d campaign.Date, m string) string {
			if d.Day == 1 {
				return fmt.Sprintf("1º %s %d", m, d.Year)
			}
			return fmt.Sprintf("%d %s %d", d.Day, m, d.Year)
		},
		since: func(s string, d campaign.Date) string {
			if d.Day == 8 || d.Day == 11 { // l'8, l'11: elided before a vowel sound
				return "dall'" + s
			}
			return "dal " + s
		},
	},
	"fr": {
		months:     [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
		and:        "et",
		sister:     "ville jumelle",
		friendship: "ville amie",
		dateFormat: func(d campaign.Date, m string) string {
			if d.Day == 1 {
				return fmt.Sprintf("1er %s %d", m, d.Year)
			}
			return fmt.Sprintf("%d %s %d", d.Day, m, d.Year)
		},
		since: func(s string, _ campaign.Date) string { return "depuis le " + s },
	},
}

// funcsFor returns the template functions for a language; an unknown
// language gets English words.
func funcsFor(lang string) map[string]any {
	w, ok := languageWords[lang]
	if !ok {
		w = languageWords["en"]
	}
	return map[string]any{
		// date formats a calendar date the way the language writes it.
		"date": func(d campaign.Date) string {
			if d.IsZero() {
				return ""
			}
			return w.dateFormat(d, w.months[d.Month-1])
		},
		// since says "since" a date.
		"since": func(d campaign.Date) string {
			if d.IsZero() {
				return ""
			}
			return w.since(w.dateFormat(d, w.months[d.Month-1]), d)
		},
		// relationship names a kind of twinning.
		"relationship": func(r campaign.Relationship) string {
			if r == campaign.Sister {
				return w.sister
			}
			return w.friendship
		},
		// list joins names as a sentence does: "A, B and C".
		"list": func(items []string) string {
			switch len(items) {
			case 0:
				return ""
			case 1:
				return items[0]
			}
			return strings.Join(items[:len(items)-1], ", ") + " " + w.and + " " + items[len(items)-1]
		},
	}
}
