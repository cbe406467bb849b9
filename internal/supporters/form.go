// Package supporters runs supporters' letters: intake of a signed letter
// (validation, rate limits, a honeypot), verification of the supporter's
// address by a confirmation mail with signed links, and delivery of
// confirmed letters to each office in batches (one by one within a daily
// cap spread over the office's working hours, or as a digest), with the
// organisation as sender. It also erases supporters' personal data once
// it is no longer needed.
//
// Mails go through the same queue, state machine and SMTP path as wave
// letters: this package plans letters in the store and queues them; the
// worker sends them with the Writers defined here.
package supporters

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// Form is a supporter's letter as submitted, from the page or the API.
type Form struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Country string `json:"country"`
	City    string `json:"city"`
	Message string `json:"message"`
	// ReplyConsent lets the office reply to the supporter directly.
	ReplyConsent bool `json:"reply_consent"`
	// Lang is the language of the confirmation mail: en, it or fr.
	Lang string `json:"lang"`
	// Website is the honeypot: a field people do not see and leave empty.
	Website string `json:"website"`
}

// Field limits, in characters.
const (
	MaxName    = 100
	MaxEmail   = 254 // RFC 5321's limit on a forward path
	MaxCountry = 60
	MaxCity    = 100
)

// Problem codes, one per kind of mistake; Problem.Message explains each
// in English, and pages translate them.
const (
	CodeRequired   = "required"
	CodeTooLong    = "too_long"
	CodeInvalid    = "invalid"
	CodeLineBreak  = "line_break"
	CodeCharacters = "characters"
)

// Problem is what is wrong with one field.
type Problem struct {
	Field string `json:"field"`
	Code  string `json:"code"`
	// Limit is the length limit broken, for CodeTooLong.
	Limit   int    `json:"limit,omitempty"`
	Message string `json:"message"`
}

// ValidationError lists what is wrong with a form, field by field, in the
// form's order.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Message
	}
	return "supporters: invalid letter: " + strings.Join(parts, "; ")
}

// Field returns the problem with a field, if any.
func (e *ValidationError) Field(name string) (Problem, bool) {
	for _, p := range e.Problems {
		if p.Field == name {
			return p, true
		}
	}
	return Problem{}, false
}

func problem(field, code string, limit int) Problem {
	p := Problem{Field: field, Code: code, Limit: limit}
	switch code {
	case CodeRequired:
		p.Message = "this field is required"
	case CodeTooLong:
		p.Message = fmt.Sprintf("too long: at most %d characters", limit)
	case CodeInvalid:
		p.Message = "not an e-mail address"
	case CodeLineBreak:
		p.Message = "must be one line"
	case CodeCharacters:
		if field == "name" {
			p.Message = "may not contain <, >, @ or control characters"
		} else {
			p.Message = "contains control characters"
		}
	}
	return p
}

// Validate checks a form and returns the signature it asks for, its text
// cleaned: spaces trimmed, Unicode normalised, line breaks in the message
// made "\n". A message longer than maxMessage characters is refused. A
// form with mistakes gives a *ValidationError naming each.
func (f Form) Validate(maxMessage int) (campaign.Signature, error) {
	var probs []Problem
	line := func(field, v string, required bool, limit int) string {
		v = strings.TrimSpace(norm.NFC.String(v))
		switch {
		case v == "" && required:
			probs = append(probs, problem(field, CodeRequired, 0))
		case strings.ContainsAny(v, "\r\n\u0085\u2028\u2029"):
			probs = append(probs, problem(field, CodeLineBreak, 0))
		case hasControl(v) || (field == "name" && !plainName(v)):
			// A name goes into a From display name: no text that could pass
			// for an address there.
			probs = append(probs, problem(field, CodeCharacters, 0))
		case utf8.RuneCountInString(v) > limit:
			probs = append(probs, problem(field, CodeTooLong, limit))
		}
		return v
	}
	var sig campaign.Signature
	sig.Name = line("name", f.Name, true, MaxName)
	n := len(probs)
	sig.Email = line("email", f.Email, true, MaxEmail)
	if len(probs) == n && !validEmail(sig.Email) {
		probs = append(probs, problem("email", CodeInvalid, 0))
	}
	sig.Email = strings.ToLower(sig.Email)
	sig.Country = line("country", f.Country, true, MaxCountry)
	sig.City = line("city", f.City, false, MaxCity)
	sig.ReplyConsent, sig.Lang = f.ReplyConsent, Language(f.Lang)

	msg := strings.ReplaceAll(strings.ReplaceAll(norm.NFC.String(f.Message), "\r\n", "\n"), "\r", "\n")
	msg = strings.TrimSpace(msg)
	switch {
	case hasControl(strings.NewReplacer("\n", "", "\t", "").Replace(msg)):
		probs = append(probs, problem("message", CodeCharacters, 0))
	case maxMessage > 0 && utf8.RuneCountInString(msg) > maxMessage:
		probs = append(probs, problem("message", CodeTooLong, maxMessage))
	}
	sig.Message = msg
	if len(probs) > 0 {
		return campaign.Signature{}, &ValidationError{Problems: probs}
	}
	return sig, nil
}

// hasControl reports control and bidirectional-override characters, which
// could hide or reorder text in a name shown to an office.
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') {
			return true
		}
	}
	return false
}

// plainName reports whether a name shows what it holds: no <, > or @ in
// any of their look-alike forms (fullwidth ＠, small ﹫: compared after
// compatibility folding), and no invisible format characters (bidi marks,
// zero-width spaces, soft hyphens), except the zero-width joiners that
// some scripts write between two letters.
func plainName(s string) bool {
	if strings.ContainsAny(norm.NFKC.String(s), "<>@") {
		return false
	}
	rs := []rune(s)
	for i, r := range rs {
		if !unicode.Is(unicode.Cf, r) {
			continue
		}
		joiner := r == '\u200c' || r == '\u200d'
		if !joiner || i == 0 || i == len(rs)-1 || !isLetter(rs[i-1]) || !isLetter(rs[i+1]) {
			return false
		}
	}
	return true
}

func isLetter(r rune) bool { return unicode.IsLetter(r) || unicode.IsMark(r) }

// validEmail accepts a plain address (no display name, no comments) with a
// dotted domain, as a supporter types it.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, "[") &&
		!strings.HasSuffix(domain, ".") && !strings.Contains(domain, "..")
}

// Language returns lang when the pages and mails are written in it, else
// English.
func Language(lang string) string {
	if slices.Contains(campaign.Languages, lang) {
		return lang
	}
	return "en"
}
