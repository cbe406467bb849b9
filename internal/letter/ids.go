package letter

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// A letter's id is short, deterministic and safe in a Message-ID and in the
// local part of an address: lower-case letters, digits and dashes.
var letterIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// ValidLetterID reports whether id can name a letter.
func ValidLetterID(id string) bool { return letterIDRe.MatchString(id) }

// Signer makes and checks the identifiers that let a reply be traced back
// to its letter: the Message-ID, and the token of the Reply-To plus-address.
// Both carry the letter id and an HMAC of it, so a forged or mistyped
// reference is told apart from ours.
type Signer struct {
	key    []byte
	domain string
}

// NewSigner returns a Signer keyed by secret whose Message-IDs end in
// @domain.
func NewSigner(secret []byte, domain string) (*Signer, error) {
	if len(secret) < 16 {
		return nil, errors.New("letter: the signing secret must be at least 16 bytes")
	}
	if domain == "" || strings.ContainsAny(domain, "@<> \r\n") {
		return nil, fmt.Errorf("letter: %q is not a domain for Message-IDs", domain)
	}
	return &Signer{key: secret, domain: strings.ToLower(domain)}, nil
}

var sigEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func (s *Signer) sig(letterID string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("outreach letter " + letterID))
	// 80 bits: plenty against guessing, short enough for a local part.
	return strings.ToLower(sigEncoding.EncodeToString(m.Sum(nil)[:10]))
}

// Token returns "LETTERID.SIG", the signed reference to a letter used in
// plus-addresses.
func (s *Signer) Token(letterID string) string {
	return letterID + "." + s.sig(letterID)
}

// ParseToken returns the letter id of a token made by Token, checking its
// signature; ok is false for anything else.
func (s *Signer) ParseToken(tok string) (letterID string, ok bool) {
	tok = strings.ToLower(strings.TrimSpace(tok))
	i := strings.LastIndexByte(tok, '.')
	if i <= 0 {
		return "", false
	}
	id, sig := tok[:i], tok[i+1:]
	if !ValidLetterID(id) || !hmac.Equal([]byte(sig), []byte(s.sig(id))) {
		return "", false
	}
	return id, true
}

// MessageID returns the Message-ID of a letter, without angle brackets.
func (s *Signer) MessageID(letterID string) string {
	return s.Token(letterID) + "@" + s.domain
}

// ParseMessageID returns the letter id of one of our Message-IDs (with or
// without angle brackets), checking its signature and domain.
func (s *Signer) ParseMessageID(id string) (letterID string, ok bool) {
	id = strings.Trim(strings.TrimSpace(id), "<>")
	at := strings.LastIndexByte(id, '@')
	if at < 0 || !strings.EqualFold(id[at+1:], s.domain) {
		return "", false
	}
	return s.ParseToken(id[:at])
}

// PlusAddress returns base with the letter's token after a "+" in its local
// part: replies@org.example becomes replies+TOKEN@org.example.
func (s *Signer) PlusAddress(base, letterID string) (string, error) {
	at := strings.LastIndexByte(base, '@')
	if at <= 0 {
		return "", fmt.Errorf("letter: %q is not an address", base)
	}
	return base[:at] + "+" + s.Token(letterID) + base[at:], nil
}

// ParsePlusAddress returns the letter id carried by a plus-address made by
// PlusAddress from any base.
func (s *Signer) ParsePlusAddress(addr string) (letterID string, ok bool) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return "", false
	}
	local := addr[:at]
	plus := strings.IndexByte(local, '+')
	if plus < 0 {
		return "", false
	}
	return s.ParseToken(local[plus+1:])
}
