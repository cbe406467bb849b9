// Package keyring holds the keys that sign what the campaign sends out
// (Message-IDs, reply tokens, supporters' links), so that a key can be
// replaced without breaking what was signed with the one before: the
// current key signs, every key on the ring verifies, and each signature
// names its key by a short id.
package keyring

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
)

// MinSecret is the shortest secret a key may have.
const MinSecret = 16

// IDLen is the length of a key id: four characters of base32.
const IDLen = 4

// Key is one secret and the id that names it in signatures. The id is
// derived from the secret, so that no one has to choose or keep one.
type Key struct {
	ID     string
	secret []byte
}

// MAC returns the HMAC-SHA256 of msg under the key.
func (k Key) MAC(msg string) []byte {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// Ring is the current key and the previous ones, newest first.
type Ring struct {
	keys []Key
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// New returns a ring whose current key is current; previous keys verify
// what they signed before. Each secret must be at least MinSecret bytes,
// and no two alike.
func New(current []byte, previous ...[]byte) (*Ring, error) {
	r := &Ring{}
	for i, s := range append([][]byte{current}, previous...) {
		if len(s) < MinSecret {
			if i == 0 {
				return nil, fmt.Errorf("keyring: the secret must be at least %d bytes", MinSecret)
			}
			return nil, fmt.Errorf("keyring: previous secret %d must be at least %d bytes", i, MinSecret)
		}
		sum := sha256.Sum256(append([]byte("outreach key id "), s...))
		k := Key{ID: strings.ToLower(idEncoding.EncodeToString(sum[:])[:IDLen]), secret: s}
		if _, dup := r.Key(k.ID); dup {
			return nil, errors.New("keyring: a previous secret repeats another (or two share an id: choose another)")
		}
		r.keys = append(r.keys, k)
	}
	return r, nil
}

// Current is the key that signs.
func (r *Ring) Current() Key { return r.keys[0] }

// Key returns the key of an id.
func (r *Ring) Key(id string) (Key, bool) {
	for _, k := range r.keys {
		if k.ID == id {
			return k, true
		}
	}
	return Key{}, false
}

// All returns every key, newest first, for signatures made before keys
// had ids.
func (r *Ring) All() []Key { return r.keys }

// SplitSecrets reads a list of secrets written one after another,
// separated by commas or white space (as a setting holds previous keys).
func SplitSecrets(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		out = append(out, []byte(f))
	}
	return out
}
