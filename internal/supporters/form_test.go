package supporters

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidate(t *testing.T) {
	good := Form{Name: "  Jane Doe ", Email: "Jane.Doe@People.Example", Country: "Canada", City: "Ottawa",
		Message: "Dear mayor,\r\n\r\nplease write.\r", ReplyConsent: true, Lang: "fr"}
	sig, err := good.Validate(100)
	if err != nil {
		t.Fatal(err)
	}
	if sig.Name != "Jane Doe" || sig.Email != "jane.doe@people.example" || sig.Message != "Dear mayor,\n\nplease write." ||
		sig.Lang != "fr" || !sig.ReplyConsent {
		t.Errorf("cleaned: %+v", sig)
	}
	// Names in every script are welcome, including the zero-width
	// non-joiner Persian writes between two letters.
	for _, name := range []string{"김민지", "Zoë O'Brien-Łukasiewicz", "مریم\u200cها", "José María"} {
		if _, err := (Form{Name: name, Email: "a@b.example", Country: "C"}).Validate(10); err != nil {
			t.Errorf("name %q refused: %v", name, err)
		}
	}
	if sig, _ := (Form{Name: "A", Email: "a@b.example", Country: "C", Lang: "de"}).Validate(10); sig.Lang != "en" {
		t.Errorf("unknown language kept: %q", sig.Lang)
	}

	for _, tt := range []struct {
		name   string
		change func(*Form)
		field  string
		code   string
	}{
		{"no name", func(f *Form) { f.Name = "" }, "name", CodeRequired},
		{"no email", func(f *Form) { f.Email = " " }, "email", CodeRequired},
		{"no country", func(f *Form) { f.Country = "" }, "country", CodeRequired},
		{"bad email", func(f *Form) { f.Email = "jane@" }, "email", CodeInvalid},
		{"email with display name", func(f *Form) { f.Email = `"Jane" <jane@people.example>` }, "email", CodeInvalid},
		{"email at an IP", func(f *Form) { f.Email = "jane@[192.0.2.1]" }, "email", CodeInvalid},
		{"CR LF in the name", func(f *Form) { f.Name = "Jane\r\nBcc: x@y.example" }, "name", CodeLineBreak},
		{"LF in the country", func(f *Form) { f.Country = "Canada\nX: y" }, "country", CodeLineBreak},
		{"line separator in the city", func(f *Form) { f.City = "Ottawa\u2028X: y" }, "city", CodeLineBreak},
		{"markup in the name", func(f *Form) { f.Name = "<b>Jane</b>" }, "name", CodeCharacters},
		{"@ in the name", func(f *Form) { f.Name = "jane@people.example" }, "name", CodeCharacters},
		{"fullwidth @ in the name", func(f *Form) { f.Name = "jane＠people.example" }, "name", CodeCharacters},
		{"small @ in the name", func(f *Form) { f.Name = "jane﹫people.example" }, "name", CodeCharacters},
		{"fullwidth brackets in the name", func(f *Form) { f.Name = "Jane ＜jane.people.example＞" }, "name", CodeCharacters},
		{"right-to-left mark in the name", func(f *Form) { f.Name = "Jane\u200fDoe" }, "name", CodeCharacters},
		{"bidi isolate in the name", func(f *Form) { f.Name = "Jane \u2067eoD\u2069" }, "name", CodeCharacters},
		{"zero-width space in the name", func(f *Form) { f.Name = "Ja\u200bne" }, "name", CodeCharacters},
		{"BOM in the name", func(f *Form) { f.Name = "\ufeffJane" }, "name", CodeCharacters},
		{"soft hyphen in the name", func(f *Form) { f.Name = "Ja\u00adne" }, "name", CodeCharacters},
		{"joiner after a space in the name", func(f *Form) { f.Name = "Jane \u200dDoe" }, "name", CodeCharacters},
		{"NUL in the city", func(f *Form) { f.City = "Ott\x00awa" }, "city", CodeCharacters},
		{"bell in the message", func(f *Form) { f.Message = "hi\a" }, "message", CodeCharacters},
		{"long message", func(f *Form) { f.Message = strings.Repeat("ü", 101) }, "message", CodeTooLong},
		{"long name", func(f *Form) { f.Name = strings.Repeat("x", MaxName+1) }, "name", CodeTooLong},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := good
			tt.change(&f)
			_, err := f.Validate(100)
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("accepted: %v", err)
			}
			p, ok := verr.Field(tt.field)
			if !ok || p.Code != tt.code || p.Message == "" || len(verr.Problems) != 1 {
				t.Errorf("problems %+v, want %s %s", verr.Problems, tt.field, tt.code)
			}
		})
	}

	// Several mistakes are all reported, in the form's order.
	_, err = (Form{Email: "nope", Message: strings.Repeat("x", 11)}).Validate(10)
	var verr *ValidationError
	if !errors.As(err, &verr) || len(verr.Problems) != 4 || verr.Problems[0].Field != "name" || verr.Problems[3].Field != "message" {
		t.Errorf("%v", err)
	}
}

// FuzzValidate checks that whatever is typed, an accepted letter has no
// line break in a field that reaches a header, and no overlong message.
func FuzzValidate(f *testing.F) {
	f.Add("Jane", "jane@people.example", "Canada", "Ottawa", "hello")
	f.Add("Jane\r\nBcc: x", "a@b.example\n", "C", "", "\x00")
	f.Fuzz(func(t *testing.T, name, email, country, city, message string) {
		sig, err := Form{Name: name, Email: email, Country: country, City: city, Message: message}.Validate(50)
		if err != nil {
			return
		}
		for _, v := range []string{sig.Name, sig.Email, sig.Country, sig.City} {
			if strings.ContainsAny(v, "\r\n") || !utf8.ValidString(v) && strings.ContainsRune(v, '\r') {
				t.Fatalf("accepted a line break: %q", v)
			}
		}
		if strings.ContainsAny(sig.Name, "<>@") || utf8.RuneCountInString(sig.Message) > 50 || strings.Contains(sig.Message, "\r") {
			t.Fatalf("accepted %+v", sig)
		}
	})
}
