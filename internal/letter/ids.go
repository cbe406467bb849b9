package letter

import (
	"crypto/hmac"
	"encoding/base32"
	"fmt"
	"regexp"
	"strings"

	"github.com/outreach-campaign/outreach/internal/keyring"
)

// A letter's id is short, deterministic and safe in a Message-ID and in the
// local part of an address: lower-case letters, digits and dashes.
var letterIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// ValidLetterID reports whether id can name a letter.
func ValidLetterID(id string) bool { return letterIDRe.MatchString(id) }

// Signer makes and checks the identifiers that let a reply be traced back
// to its letter: the Message-ID, and the token of the Reply-To plus-address.
// Both carry the letter id and an HMAC of it, so a forged or mistyped
// reference is told apart from ours, and the id of the key that signed, so
// that keys can be replaced while replies to letters signed with the old
// one still verify.
type Signer struct {
	keys   *keyring.Ring
	domain string
}

// NewSigner returns a Signer keyed by secret whose Message-IDs end in
// @domain; previous secrets still verify what they signed.
func NewSigner(secret []byte, domain string, previous ...[]byte) (*Signer, error) {
	if domain == "" || strings.ContainsAny(domain, "@<> \r\n") {
		return nil, fmt.Errorf("letter: %q is not a domain for Message-IDs", domain)
	}
	keys, err := keyring.New(secret, previous...)
	if err != nil {
		return nil, fmt.Errorf("letter: signing keys: %w", err)
	}
	return &Signer{keys: keys, domain: strings.ToLower(domain)}, nil
}

var sigEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// macLen is the length of a token's MAC: 80 bits in base32, plenty
// against guessing, short enough for a local part. A token signed before
// keys had ids is the MAC alone; since, the key's id comes first.
const macLen = 16

func mac(k keyring.Key, letterID string) string {
	return strings.ToLower(sigEncoding.EncodeToString(k.MAC("outreach letter " + letterID)[:10]))
}

// Token returns "LETTERID.KEYMAC", the signed reference to a letter used
// in plus-addresses: the current key's id, then the MAC.
func (s *Signer) Token(letterID string) string {
	k := s.keys.Current()
	return letterID + "." + k.ID + mac(k, letterID)
}

// ParseToken returns the letter id of a token made by Token with any key
// of the ring (or by a version that wrote no key id), checking its
// signature; ok is false for anything else.
func (s *Signer) ParseToken(tok string) (letterID string, ok bool) {
	tok = strings.ToLower(strings.TrimSpace(tok))
	i := strings.LastIndexByte(tok, '.')
	if i <= 0 {
		return "", false
	}
	id, sig := tok[:i], tok[i+1:]
	if !ValidLetterID(id) {
		return "", false
	}
	switch len(sig) {
	case keyring.IDLen + macLen:
		k, found := s.keys.Key(sig[:keyring.IDLen])
		if found && hmac.Equal([]byte(sig[keyring.IDLen:]), []byte(mac(k, id))) {
			return id, true
		}
	case macLen:
		for _, k := range s.keys.All() {
			if hmac.Equal([]byte(sig), []byte(mac(k, id))) {
				return id, true
			}
		}
	}
	return "", false
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
