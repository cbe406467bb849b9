package testservers

import (
	"os"
	"testing"
)

// Chromium returns the path of the Chromium binary: $OUTREACH_CHROMIUM,
// /usr/bin/chromium (Debian's package), or chromium / chromium-browser in
// $PATH.
//
// As root Chromium needs --no-sandbox, and on this network
// --disable-background-networking (and friends) keep it from trying Google's
// hosts at every start.
func Chromium(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("OUTREACH_CHROMIUM"); p != "" {
		bin, err := lookBinary(p)
		if err != nil {
			tb.Fatalf("testservers: OUTREACH_CHROMIUM=%s: %v", p, err)
		}
		return bin
	}
	bin, err := lookBinary("/usr/bin/chromium", "chromium", "chromium-browser")
	if err != nil {
		tb.Fatalf("testservers: chromium not found (%v): %s (Debian package chromium)", err, depsHint)
	}
	return bin
}
