package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Sealer encrypts tokens for the store with AES-256-GCM under a key
// derived from a secret (letters.secret, configured or generated). The
// account is bound to each sealed token as additional data, so a token
// copied to another account's row does not open.
type Sealer struct {
	aeads []cipher.AEAD // the first seals; all open
}

// ErrUnsealable says no key opens a stored token: the secret it was
// sealed with is gone.
var ErrUnsealable = errors.New("oauth: the stored sign-in cannot be decrypted with the configured secrets")

// NewSealer derives a key from the current secret, which seals, and from
// previous ones, which still open what they sealed.
func NewSealer(current []byte, previous ...[]byte) (*Sealer, error) {
	s := &Sealer{}
	for i, secret := range append([][]byte{current}, previous...) {
		if len(secret) == 0 {
			return nil, fmt.Errorf("oauth: sealing secret %d is empty", i)
		}
		key, err := hkdf.Key(sha256.New, secret, nil, "outreach oauth token seal v1", 32)
		if err != nil {
			return nil, fmt.Errorf("oauth: derive sealing key: %w", err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("oauth: sealing key: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("oauth: sealing key: %w", err)
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// Seal encrypts plain for account: a random nonce, then the ciphertext.
func (s *Sealer) Seal(plain []byte, account string) []byte {
	a := s.aeads[0]
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	rand.Read(nonce) // never fails (crypto/rand panics rather)
	return a.Seal(nonce, nonce, plain, []byte(account))
}

// Open decrypts what Seal made for account, with whichever key sealed it.
func (s *Sealer) Open(sealed []byte, account string) ([]byte, error) {
	for _, a := range s.aeads {
		if len(sealed) < a.NonceSize() {
			break
		}
		if plain, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], []byte(account)); err == nil {
			return plain, nil
		}
	}
	return nil, ErrUnsealable
}
