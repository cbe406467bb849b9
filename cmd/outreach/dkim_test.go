package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/outreach-campaign/outreach/internal/mailer"
)

// TestDKIMKeygen writes a key of each type and checks that the TXT record
// printed verifies a message signed with the key written.
func TestDKIMKeygen(t *testing.T) {
	for _, kind := range []string{"rsa", "ed25519"} {
		t.Run(kind, func(t *testing.T) {
			c := newCLI(t)
			out := filepath.Join(c.dir, "dkim.pem")
			stdout := c.ok("dkim", "keygen", "--type", kind, "--selector", "s2026", "--domain", "outreach.example", "--out", out)
			for _, p := range []string{out, out + ".pub"} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want 0600", p, fi.Mode().Perm())
				}
			}
			line := regexp.MustCompile(`s2026\._domainkey\.outreach\.example\. IN TXT \( (.*) \)`).FindStringSubmatch(stdout)
			if line == nil {
				t.Fatalf("no TXT record for s2026._domainkey.outreach.example in:\n%s", stdout)
			}
			var record strings.Builder
			for _, s := range regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(line[1], -1) {
				if len(s[1]) > 255 {
					t.Errorf("a TXT string of %d bytes: DNS allows 255", len(s[1]))
				}
				record.WriteString(s[1])
			}
			if want := "v=DKIM1; k=" + kind + "; p="; !strings.HasPrefix(record.String(), want) {
				t.Errorf("record %q does not start with %q", record.String(), want)
			}

			key, err := mailer.LoadDKIMKey(out)
			if err != nil {
				t.Fatal(err)
			}
			msg := "From: campaign@outreach.example\r\nTo: mayor@city.example\r\nSubject: Hello\r\n\r\nDear Mayor,\r\n"
			var signed bytes.Buffer
			if err := dkim.Sign(&signed, strings.NewReader(msg), &dkim.SignOptions{Domain: "outreach.example", Selector: "s2026", Signer: key}); err != nil {
				t.Fatal(err)
			}
			vs, err := dkim.VerifyWithOptions(&signed, &dkim.VerifyOptions{LookupTXT: func(string) ([]string, error) {
				return []string{record.String()}, nil
			}})
			if err != nil || len(vs) != 1 || vs[0].Err != nil {
				t.Fatalf("the printed record does not verify the key's signature: %v %+v", err, vs)
			}

			// A key in use is never overwritten.
			before, _ := os.ReadFile(out)
			if _, errs, code := c.run("dkim", "keygen", "--type", kind, "--selector", "s2026", "--out", out); code == 0 || !strings.Contains(errs, "exists already") {
				t.Errorf("keygen over an existing key: exit %d, %s", code, errs)
			}
			if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
				t.Error("the existing key was changed")
			}
		})
	}
}
