package smtptest

import (
	"crypto/tls"
	"crypto/x509"
	"testing"

	"github.com/outreach-campaign/outreach/internal/testcert"
)

// SelfSignedCert makes a certificate for localhost, 127.0.0.1 and ::1,
// valid for a day, and a pool that trusts it: give the certificate to
// WithTLS or WithImplicitTLS and the pool to the client's tls.Config
// RootCAs, so the client verifies the server as it would in production
// instead of skipping verification. (For a CA file, as the settings take
// one, use package testcert directly.)
func SelfSignedCert(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	tb.Helper()
	ca := testcert.NewCA(tb, "smtptest")
	return ca.Issue(tb, "localhost", "127.0.0.1", "::1").TLS, ca.Pool()
}
