package config

import (
	"fmt"
	"strings"

	"github.com/outreach-campaign/outreach/internal/mailtls"
)

// The mail servers' certificates are always verified. tls_ca_file, a
// PEM file of the private CA (or CAs) it must chain to, replaces the
// system's roots for that server; tls_server_name is the name it must
// hold when that is not the host connected to (a relay reached by its
// address or through a tunnel). Both are for smtp and imap alike.
//
// validateTLSVerify checks them for section ("smtp", "imap") at start, so
// that a wrong path is named before any letter waits on it.
func validateTLSVerify(section, mode, caFile, serverName string) error {
	if mode == TLSNone && (caFile != "" || serverName != "") {
		return fmt.Errorf("%s.tls: none checks no certificate, but %s.tls_ca_file or %s.tls_server_name is set: "+
			"use starttls or tls, or leave them empty", section, section, section)
	}
	if caFile != "" {
		if _, err := mailtls.LoadCA(caFile); err != nil {
			return fmt.Errorf("%s.tls_ca_file: %w", section, err)
		}
	}
	if serverName != "" && (strings.ContainsAny(serverName, " \t\r\n/:@[]") || strings.Trim(serverName, ".") == "") {
		return fmt.Errorf("%s.tls_server_name: %q is not a host name such as smtp.example.org", section, serverName)
	}
	return nil
}
