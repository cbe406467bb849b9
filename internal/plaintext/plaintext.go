// Package plaintext holds the one rule for talking to a mail server
// without TLS: only to this machine, unless the settings allow it
// (smtp.allow_plaintext, imap.allow_plaintext). Anything else would send
// passwords and letters in clear over a network. The settings check it
// at start, and the SMTP and IMAP clients again before they dial.
package plaintext

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrRefused is wrapped by Check's errors.
var ErrRefused = errors.New("no TLS to a server that is not this machine")

// Local reports whether host (a name or an address, without a port) is
// this machine: localhost or a loopback address.
func Local(host string) bool {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// Check returns nil when a connection without TLS to host may be made:
// host is this machine, or allow says a private network is trusted.
func Check(host string, allow bool) error {
	if allow || Local(host) {
		return nil
	}
	return fmt.Errorf("%w (%s)", ErrRefused, host)
}
