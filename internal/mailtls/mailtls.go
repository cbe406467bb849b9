// Package mailtls holds how the SMTP and IMAP clients verify the servers
// they talk TLS to: always (never InsecureSkipVerify), against the system's
// roots or a private CA the settings name (tls_ca_file), for the host
// connected to or the name the settings give instead (tls_server_name). A
// failed verification becomes an error that says which setting to change.
package mailtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// LoadCA reads a file of one or more PEM certificates: the authorities a
// server's certificate may chain to.
func LoadCA(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no PEM certificate (-----BEGIN CERTIFICATE-----) in it", path)
	}
	return pool, nil
}

// Config returns the TLS settings for a connection to host (a name or an
// address, without a port). base, when not nil, is copied first (tests
// give their own roots through it). caFile, when set, replaces the
// system's roots with the certificates it holds: a server whose
// certificate does not chain to them is refused. serverName, when set, is
// the name the certificate must hold instead of host (a relay reached by
// its address, or through a tunnel).
func Config(base *tls.Config, host, caFile, serverName string) (*tls.Config, error) {
	var c *tls.Config
	if base != nil {
		c = base.Clone()
	} else {
		c = &tls.Config{}
	}
	if caFile != "" {
		pool, err := LoadCA(caFile)
		if err != nil {
			return nil, fmt.Errorf("tls ca file: %w", err)
		}
		c.RootCAs = pool
	}
	switch {
	case serverName != "":
		c.ServerName = serverName
	case c.ServerName == "":
		c.ServerName = strings.Trim(host, "[]")
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c, nil
}

// Explain adds to err, when a server's certificate failed verification,
// what was wrong and which setting of section ("smtp", "imap") puts it
// right. Other errors come back as they are.
func Explain(err error, section string) error {
	if err == nil {
		return nil
	}
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &unknown):
		issuer := "an unknown authority"
		if unknown.Cert != nil {
			issuer = fmt.Sprintf("%q", unknown.Cert.Issuer.String())
		}
		return fmt.Errorf("the server's certificate is signed by %s, which this machine does not trust: "+
			"if the server uses a private CA, set %s.tls_ca_file to that CA's certificate (PEM): %w", issuer, section, err)
	case errors.As(err, &hostname):
		return fmt.Errorf("the server's certificate is for %s, not %q: set %s.host to one of those names, "+
			"or %s.tls_server_name to the one to check: %w", certNames(hostname.Certificate), hostname.Host, section, section, err)
	case errors.As(err, &invalid):
		return fmt.Errorf("the server's certificate is not valid (%s): the server's administrator must replace it: %w",
			invalidReason(invalid), err)
	}
	return err
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "other names"
	}
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 && c.Subject.CommonName != "" {
		names = append(names, c.Subject.CommonName)
	}
	if len(names) == 0 {
		return "no name at all"
	}
	return strings.Join(names, ", ")
}

func invalidReason(e x509.CertificateInvalidError) string {
	switch e.Reason {
	case x509.Expired:
		return "expired or not yet valid"
	case x509.NotAuthorizedToSign:
		return "signed by a certificate that is not a CA"
	case x509.IncompatibleUsage:
		return "not meant for a server"
	}
	return e.Error()
}

// Host is the host part of addr ("host:port"), or addr when it has no port.
func Host(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
