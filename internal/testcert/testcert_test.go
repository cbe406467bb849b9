package testcert

import (
	"crypto/x509"
	"testing"
)

func TestIssuedCertificateVerifiesOnlyUnderItsCA(t *testing.T) {
	ca := NewCA(t, "Test CA")
	leaf := ca.Issue(t, "mail.outreach.test", "127.0.0.2")
	cert := leaf.TLS.Leaf
	for _, name := range []string{"mail.outreach.test", "127.0.0.2"} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: name}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "127.0.0.1"}); err == nil {
		t.Error("verified for a name it does not hold")
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: NewCA(t, "Other CA").Pool()}); err == nil {
		t.Error("verified under another CA")
	}
}
