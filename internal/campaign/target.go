package campaign

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Target is a foreign mayor's office: the recipient of letters. It is keyed
// by its e-mail address, so campaigns whose cities share an office are one
// target and get one letter per wave.
type Target struct {
	ID      int64  `json:"id"`
	Email   string `json:"email"`
	Country string `json:"country"`
	// City is the office's city as staff name it, e.g. "Montreal".
	City   string `json:"city"`
	Office string `json:"office"`
	// Mayor is the name of the office's holder, empty when unknown.
	Mayor string `json:"mayor"`
	// Title is what the holder is called (premier, mayor ...); empty is
	// Mayor.
	Title Title `json:"title"`
	// Names are the place's names in languages that do not write it as
	// the table does ("fr=Montréal").
	Names    PlaceNames `json:"names,omitempty"`
	Language string     `json:"language"`
	TimeZone string     `json:"timezone"`
	// DoNotContact keeps the target out of every wave.
	DoNotContact bool `json:"do_not_contact"`
	// Suspect is set when mail to the address failed permanently; the
	// reason says why.
	Suspect       bool   `json:"suspect"`
	SuspectReason string `json:"suspect_reason,omitempty"`
	// DoNotContactReason and DoNotContactAt say why and since when the
	// office is marked do-not-contact: its own one-click opt-out, staff.
	DoNotContactReason string    `json:"do_not_contact_reason,omitempty"`
	DoNotContactAt     time.Time `json:"do_not_contact_at,omitzero"`
}

// Languages the letter templates are written in.
var Languages = []string{"en", "it", "fr"}

// Validate checks a target's fields, including that nothing that ends up in
// a mail header can smuggle in another header.
func (t Target) Validate() error {
	if t.Email == "" {
		return fieldErr("email", "missing")
	}
	a, err := mail.ParseAddress(t.Email)
	if err != nil || a.Address != t.Email || a.Name != "" {
		return fieldErr("email", "%q is not a plain e-mail address", t.Email)
	}
	for _, f := range []struct{ name, value string }{
		{"email", t.Email}, {"country", t.Country}, {"city", t.City},
		{"office", t.Office}, {"mayor", t.Mayor},
	} {
		if err := CheckHeaderText(f.value); err != nil {
			return &FieldError{Field: f.name, Err: err}
		}
	}
	if t.City == "" {
		return fieldErr("city", "missing")
	}
	if t.Title != "" && !t.Title.Valid() {
		return fieldErr("title", "%q is not one of %s", t.Title, TitleKeys())
	}
	if _, err := ParsePlaceNames(string(t.Names)); err != nil {
		return &FieldError{Field: "names", Err: err}
	}
	if err := CheckHeaderText(string(t.Names)); err != nil {
		return &FieldError{Field: "names", Err: err}
	}
	if !validLanguage(t.Language) {
		return fieldErr("language", "%q is not one of %s", t.Language, strings.Join(Languages, ", "))
	}
	if _, err := time.LoadLocation(t.TimeZone); err != nil || t.TimeZone == "" {
		return fieldErr("timezone", "%q is not a known IANA time zone", t.TimeZone)
	}
	return nil
}

// Holder names the office's holder in lang, without an article, at place
// (the office's city as the caller names it) or, when the target has a
// name for it in lang, at that name: "premier of British Columbia",
// "maire de Montréal".
func (t Target) Holder(lang, place string) string {
	return t.Title.Of(lang, t.PlaceIn(lang, place))
}

// PlaceIn is the target's own name for its place in lang, or place when it
// has none.
func (t Target) PlaceIn(lang, place string) string {
	if n := t.Names.In(lang); n != "" {
		return n
	}
	return place
}

// Domain returns the part of the address after the @, lower-cased.
func (t Target) Domain() string {
	return AddressDomain(t.Email)
}

// AddressDomain returns the lower-cased domain of an e-mail address.
func AddressDomain(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(addr[i+1:])
}

func validLanguage(l string) bool {
	for _, v := range Languages {
		if v == l {
			return true
		}
	}
	return false
}

// ErrHeaderInjection is returned (wrapped) for a value that holds a line
// break and would reach a mail header.
var ErrHeaderInjection = errors.New("line breaks are not allowed in a value that reaches a mail header")

// CheckHeaderText refuses text that would let a value add headers or body
// lines to a message: CR, LF and the other line separators mail software
// may honour.
func CheckHeaderText(s string) error {
	if strings.ContainsAny(s, "\r\n\u0085\u2028\u2029\x00") {
		return fmt.Errorf("%q: %w", s, ErrHeaderInjection)
	}
	return nil
}
