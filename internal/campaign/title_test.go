package campaign

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseTitle(t *testing.T) {
	for in, want := range map[string]Title{
		"": Mayor, "mayor": Mayor, " Premier ": Premier, "president": President,
		"chair": Chair, "lord-mayor": LordMayor, "lord-provost": LordProvost,
	} {
		if got, err := ParseTitle(in); err != nil || got != want {
			t.Errorf("ParseTitle(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseTitle("governor")
	want := `"governor" is not one of mayor, lord-mayor, lord-provost, premier, president, chair`
	if err == nil || err.Error() != want {
		t.Errorf("ParseTitle(governor) = %v, want %s", err, want)
	}
}

// TestHolder names each kind of office's holder in each language, as the
// letters and pages do.
func TestHolder(t *testing.T) {
	bc := Target{City: "British Columbia", Title: Premier, Names: "fr=la Colombie-Britannique|it=la Columbia Britannica"}
	veneto := Target{City: "Veneto", Title: President, Names: "fr=la Vénétie|it=il Veneto"}
	assembly := Target{City: "Northern Ireland East Assembly", Title: Chair}
	montreal := Target{City: "Montreal", Names: "fr=Montréal"} // no title: a mayor
	alberta := Target{City: "Alberta", Title: Premier}
	for _, tt := range []struct {
		t          Target
		lang, want string
	}{
		{bc, "en", "premier of British Columbia"},
		{bc, "fr", "premier ministre de la Colombie-Britannique"},
		{bc, "it", "premier della Columbia Britannica"},
		{veneto, "en", "president of Veneto"},
		{veneto, "it", "presidente del Veneto"},
		{veneto, "fr", "président de la Vénétie"},
		{assembly, "en", "chair of Northern Ireland East Assembly"},
		{assembly, "it", "presidente di Northern Ireland East Assembly"},
		{montreal, "en", "mayor of Montreal"},
		{montreal, "fr", "maire de Montréal"},
		{montreal, "it", "sindaco di Montreal"},
		{alberta, "fr", "premier ministre d'Alberta"},
		{Target{City: "La Trobe", Title: Mayor}, "it", "sindaco di La Trobe"},
		{Target{City: "Aberdeen", Title: LordProvost}, "en", "lord provost of Aberdeen"},
		{Target{City: "Brisbane", Title: LordMayor}, "fr", "lord-maire de Brisbane"},
	} {
		if got := tt.t.Holder(tt.lang, tt.t.City); got != tt.want {
			t.Errorf("%s in %s: %q, want %q", tt.t.City, tt.lang, got, tt.want)
		}
	}
}

// TestTitleWords keeps every title named in every language, and the
// Italian and French nouns masculine words that begin with a consonant:
// the pages write "al %s", "au %s", "du %s" before them.
func TestTitleWords(t *testing.T) {
	for _, lang := range Languages {
		for _, title := range Titles {
			w, ok := titleLanguages[lang][title]
			if !ok || w.noun == "" || w.salutation == "" {
				t.Errorf("%s has no words for %s", lang, title)
				continue
			}
			if lang == "en" {
				continue
			}
			if r, _ := utf8.DecodeRuneInString(w.noun); strings.ContainsRune("aeiouyàâéèêîôùûh", r) {
				t.Errorf("%s %s: %q begins with a vowel or h: the article before it would be wrong", lang, title, w.noun)
			}
		}
	}
}

func TestParsePlaceNames(t *testing.T) {
	got, err := ParsePlaceNames(" it=il Veneto | fr=la Vénétie ")
	if err != nil || got != "fr=la Vénétie|it=il Veneto" {
		t.Errorf("ParsePlaceNames = %q, %v", got, err)
	}
	if got.In("it") != "il Veneto" || got.In("fr") != "la Vénétie" || got.In("en") != "" {
		t.Errorf("In: %q %q %q", got.In("it"), got.In("fr"), got.In("en"))
	}
	for _, bad := range []string{"Montréal", "de=Montréal", "fr=", "fr=Montréal|fr=Montreal"} {
		if _, err := ParsePlaceNames(bad); err == nil {
			t.Errorf("ParsePlaceNames(%q) accepted", bad)
		}
	}
	if err := (Target{Email: "a@b.example", City: "X", Language: "en", TimeZone: "UTC", Title: "governor"}).Validate(); err == nil ||
		!strings.HasPrefix(err.Error(), `title: "governor" is not one of mayor,`) {
		t.Errorf("a bad title passed validation: %v", err)
	}
}
