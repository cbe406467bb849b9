package letter

import (
	"strings"
	"testing"
)

func TestProbeTokens(t *testing.T) {
	old, err := NewSigner([]byte("an-older-secret-0123"), "outreach.example")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner([]byte("the-current-secret-0123"), "outreach.example", []byte("an-older-secret-0123"))
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := NewSigner([]byte("someone-elses-secret-99"), "outreach.example")
	if err != nil {
		t.Fatal(err)
	}
	tok := s.ProbeToken()
	if tok == s.ProbeToken() {
		t.Error("two probe tokens are alike: each run needs its own")
	}
	if !s.VerifyProbe(tok) || !s.VerifyProbe("  "+strings.ToUpper(tok)+" ") {
		t.Errorf("VerifyProbe(%q) = false for our own token", tok)
	}
	if !s.VerifyProbe(old.ProbeToken()) {
		t.Error("a probe signed with a previous secret does not verify")
	}
	nonce, sig, _ := strings.Cut(tok, ".")
	flipped := []byte(sig)
	flipped[len(flipped)-1] ^= 1
	for _, bad := range []string{
		"", "x", nonce, nonce + ".", "." + sig,
		nonce + "." + string(flipped),               // MAC changed
		"aaaaaaaaaaaaaaaa." + sig,                   // another nonce
		stranger.ProbeToken(),                       // another key
		nonce + "x." + sig, nonce + "." + sig + "a", // lengths
	} {
		if s.VerifyProbe(bad) {
			t.Errorf("VerifyProbe(%q) = true", bad)
		}
	}
}
