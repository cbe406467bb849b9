package letter

import (
	"crypto/hmac"
	"crypto/rand"
	"strings"

	"github.com/outreach-campaign/outreach/internal/keyring"
)

// Probes are the test messages `outreach doctor` sends to the campaign
// mailbox. Each carries a token, "NONCE.KEYMAC", in a header; the poller
// skips a message only when the token's MAC verifies, so that a stranger
// cannot hide mail from staff by writing the header.

// probeNonceLen is the length of a probe's nonce: 16 characters of base32
// (80 random bits), unique per run of the doctor.
const probeNonceLen = 16

func probeMAC(k keyring.Key, nonce string) string {
	return strings.ToLower(sigEncoding.EncodeToString(k.MAC("outreach probe " + nonce)[:10]))
}

// ProbeToken returns a new signed probe token, signed with the current key.
func (s *Signer) ProbeToken() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // crypto/rand never fails (Go 1.24+)
	nonce := strings.ToLower(sigEncoding.EncodeToString(b))
	k := s.keys.Current()
	return nonce + "." + k.ID + probeMAC(k, nonce)
}

// VerifyProbe reports whether tok is a probe token signed by a key of the
// ring.
func (s *Signer) VerifyProbe(tok string) bool {
	tok = strings.ToLower(strings.TrimSpace(tok))
	nonce, sig, ok := strings.Cut(tok, ".")
	if !ok || len(nonce) != probeNonceLen || len(sig) != keyring.IDLen+macLen {
		return false
	}
	k, found := s.keys.Key(sig[:keyring.IDLen])
	return found && hmac.Equal([]byte(sig[keyring.IDLen:]), []byte(probeMAC(k, nonce)))
}
