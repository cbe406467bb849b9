package campaign

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Title is what the holder of a target's office is called: the letters
// and pages address the office's holder by it ("the premier of British
// Columbia", not "the mayor of British Columbia").
type Title string

// The titles of the offices the campaign writes to. The set is kept to
// the offices of the twinning table: every title is held by at least one
// of them.
const (
	// Mayor: a city, town, borough or shire (the default).
	Mayor Title = "mayor"
	// LordMayor: the cities whose mayor has the style Lord Mayor
	// (Nottingham, Brisbane, Perth, Parramatta).
	LordMayor Title = "lord-mayor"
	// LordProvost: the civic head of a Scottish city (Aberdeen).
	LordProvost Title = "lord-provost"
	// Premier: the head of government of a Canadian province or an
	// Australian state.
	Premier Title = "premier"
	// President: the president of an Italian region (Veneto).
	President Title = "president"
	// Chair: who presides over an assembly (Northern Ireland East
	// Assembly).
	Chair Title = "chair"
)

// Titles lists every title, in the order error messages name them.
var Titles = []Title{Mayor, LordMayor, LordProvost, Premier, President, Chair}

// titleWords is how one language names a title: noun as running text
// writes it after an article ("premier", "premier ministre"), salutation
// to open a letter to a holder whose name is not known ("Dear Premier,",
// "Gentile Presidente,"; French letters open with "Madame, Monsieur").
//
// In Italian and French every noun is masculine and begins with a
// consonant, so that texts can glue the article to a preposition ("al",
// "au", "du"): a test keeps it so.
type titleWords struct{ noun, salutation string }

var titleLanguages = map[string]map[Title]titleWords{
	"en": {
		Mayor:       {"mayor", "Mayor"},
		LordMayor:   {"lord mayor", "Lord Mayor"},
		LordProvost: {"lord provost", "Lord Provost"},
		Premier:     {"premier", "Premier"},
		President:   {"president", "President"},
		Chair:       {"chair", "Chair"},
	},
	"it": {
		Mayor:       {"sindaco", "Sindaco"},
		LordMayor:   {"lord mayor", "Lord Mayor"},
		LordProvost: {"lord provost", "Lord Provost"},
		Premier:     {"premier", "Premier"},
		President:   {"presidente", "Presidente"},
		Chair:       {"presidente", "Presidente"},
	},
	"fr": {
		Mayor:       {"maire", "Madame, Monsieur"},
		LordMayor:   {"lord-maire", "Madame, Monsieur"},
		LordProvost: {"lord-prévôt", "Madame, Monsieur"},
		Premier:     {"premier ministre", "Madame, Monsieur"},
		President:   {"président", "Madame, Monsieur"},
		Chair:       {"président", "Madame, Monsieur"},
	},
}

// ParseTitle reads a title key; the empty string is Mayor.
func ParseTitle(s string) (Title, error) {
	t := Title(strings.ToLower(strings.TrimSpace(s)))
	if t == "" {
		return Mayor, nil
	}
	if !slices.Contains(Titles, t) {
		return "", fmt.Errorf("%q is not one of %s", s, TitleKeys())
	}
	return t, nil
}

// TitleKeys lists the titles' keys for people: "mayor, lord-mayor, …".
func TitleKeys() string {
	names := make([]string, len(Titles))
	for i, t := range Titles {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// Valid reports whether t is one of Titles.
func (t Title) Valid() bool { return slices.Contains(Titles, t) }

func (t Title) words(lang string) titleWords {
	ws, ok := titleLanguages[lang]
	if !ok {
		ws = titleLanguages["en"]
	}
	if w, ok := ws[t]; ok {
		return w
	}
	return ws[Mayor]
}

// Noun is the title in lang as running text writes it after an article:
// "premier", "sindaco", "premier ministre". An unknown language gets
// English, an unknown title Mayor's words.
func (t Title) Noun(lang string) string { return t.words(lang).noun }

// Salutation opens a letter in lang to a holder whose name is not known:
// "Premier" ("Dear Premier,"), "Sindaco" ("Gentile Sindaco,"); French
// letters open with "Madame, Monsieur".
func (t Title) Salutation(lang string) string { return t.words(lang).salutation }

// Of names the holder of the office of place in lang, without an article:
// "premier of British Columbia", "presidente del Veneto" (place "il
// Veneto"), "maire d'Ottawa".
func (t Title) Of(lang, place string) string {
	return t.Noun(lang) + " " + Of(lang, place)
}

// Of says "of place" in lang. Italian and French contract the preposition
// with an article that begins the place's name, written in lower case as
// the contacts' names give it ("il Veneto": "del Veneto"; "la
// Colombie-Britannique": "de la Colombie-Britannique"); French elides
// "de" before a vowel ("d'Ottawa"). A capitalised name ("La Trobe") is
// left as it is.
func Of(lang, place string) string {
	switch lang {
	case "it":
		for _, c := range []struct{ article, of string }{
			{"il ", "del "}, {"lo ", "dello "}, {"la ", "della "}, {"l'", "dell'"},
			{"i ", "dei "}, {"gli ", "degli "}, {"le ", "delle "},
		} {
			if rest, ok := strings.CutPrefix(place, c.article); ok {
				return c.of + rest
			}
		}
		return "di " + place
	case "fr":
		for _, c := range []struct{ article, of string }{
			{"le ", "du "}, {"les ", "des "}, {"la ", "de la "}, {"l'", "de l'"},
		} {
			if rest, ok := strings.CutPrefix(place, c.article); ok {
				return c.of + rest
			}
		}
		if startsWithVowel(place) {
			return "d'" + place
		}
		return "de " + place
	}
	return "of " + place
}

func startsWithVowel(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return strings.ContainsRune("aeiouyàâäéèêëîïôöùûü", unicode.ToLower(r))
}

// PlaceNames are the names an office's place goes by in some languages,
// where the table's spelling is not how that language writes it
// (Montreal is "Montréal" in French), with the article running text puts
// before it, in lower case, where the language wants one ("il Veneto",
// "la Colombie-Britannique"). It is written as the contacts file
// gives it, "fr=Montréal|it=…", kept sorted by language so that two equal
// sets compare equal.
type PlaceNames string

// ParsePlaceNames reads "LANG=NAME" pairs separated by "|".
func ParsePlaceNames(s string) (PlaceNames, error) {
	byLang := map[string]string{}
	for _, part := range strings.Split(s, "|") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		lang, name, ok := strings.Cut(part, "=")
		lang, name = strings.ToLower(strings.TrimSpace(lang)), strings.TrimSpace(name)
		switch {
		case !ok || name == "":
			return "", fmt.Errorf("%q is not of the form LANG=NAME (such as fr=Montréal)", part)
		case !validLanguage(lang):
			return "", fmt.Errorf("%q: %q is not one of %s", part, lang, strings.Join(Languages, ", "))
		case strings.ContainsAny(name, "|="):
			return "", fmt.Errorf("%q: a name cannot hold | or =", part)
		}
		if _, dup := byLang[lang]; dup {
			return "", fmt.Errorf("%q: a second name in %s", part, lang)
		}
		byLang[lang] = name
	}
	langs := make([]string, 0, len(byLang))
	for l := range byLang {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	pairs := make([]string, len(langs))
	for i, l := range langs {
		pairs[i] = l + "=" + byLang[l]
	}
	return PlaceNames(strings.Join(pairs, "|")), nil
}

// In returns the name in lang, or "" when there is none.
func (n PlaceNames) In(lang string) string {
	for _, part := range strings.Split(string(n), "|") {
		if l, name, ok := strings.Cut(part, "="); ok && l == lang {
			return name
		}
	}
	return ""
}
