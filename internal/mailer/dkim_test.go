package mailer_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/wneessen/go-mail"

	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
)

// dkimKey writes a new key of kind to a file, as `outreach dkim keygen`
// does, and loads it back as the mailer's settings would.
func dkimKey(t *testing.T, kind string) (*mailer.DKIM, string) {
	t.Helper()
	private, _, err := mailer.GenerateDKIMKey(kind)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(path, private, 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := mailer.LoadDKIMKey(path)
	if err != nil {
		t.Fatal(err)
	}
	record, err := mailer.DKIMRecord(key)
	if err != nil {
		t.Fatal(err)
	}
	return &mailer.DKIM{Domain: "outreach.example", Selector: "s2026", Key: key}, record
}

// unsubscribeLetter is a letter as a wave sends it: text and HTML parts,
// an attachment, and the one-click opt-out header fields.
func unsubscribeLetter(t *testing.T) *mail.Msg {
	t.Helper()
	m := letter(t, "Mayor <mayor@city.example>", "w1-t17.sig@outreach.example")
	m.SetDate()
	m.AddAlternativeString(mail.TypeTextHTML, "<p>Dear Mayor,</p><p>We write to you about your twinning.</p>")
	if err := m.AttachReader("letters.csv", strings.NewReader("name,city\nJane,Ottawa\n")); err != nil {
		t.Fatal(err)
	}
	m.SetGenHeader("List-Unsubscribe", "<https://act.outreach.example/optout/abc.def>, <mailto:replies@outreach.example?subject=unsubscribe>")
	m.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	return m
}

// verify checks raw's DKIM signatures against record published for
// s2026._domainkey.outreach.example, as a receiver would, without DNS.
func verify(raw []byte, record string) ([]*dkim.Verification, error) {
	return dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != "s2026._domainkey.outreach.example" {
				return nil, errors.New("no such record: " + domain)
			}
			return []string{record}, nil
		},
	})
}

func TestDKIMSignsSentLetters(t *testing.T) {
	for _, kind := range []string{mailer.DKIMKeyRSA, mailer.DKIMKeyEd25519} {
		t.Run(kind, func(t *testing.T) {
			srv := smtptest.Start(t)
			d, record := dkimKey(t, kind)
			m := newMailer(t, srv, mailer.Config{DKIM: d})
			if _, err := m.Send(context.Background(), unsubscribeLetter(t)); err != nil {
				t.Fatal(err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages received, want 1", len(msgs))
			}
			raw := msgs[0].Data
			vs, err := verify(raw, record)
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != 1 {
				t.Fatalf("%d signatures, want 1:\n%s", len(vs), raw)
			}
			v := vs[0]
			if v.Err != nil {
				t.Fatalf("signature does not verify: %v\n%s", v.Err, raw)
			}
			if v.Domain != "outreach.example" {
				t.Errorf("signed for %q, want outreach.example", v.Domain)
			}
			for _, h := range []string{"from", "subject", "list-unsubscribe", "list-unsubscribe-post", "message-id", "content-type"} {
				if !containsFold(v.HeaderKeys, h) {
					t.Errorf("signature does not cover %s: h=%v", h, v.HeaderKeys)
				}
			}

			// What a receiver must refuse: a header changed or added
			// after signing.
			for _, tc := range []struct{ name, old, new string }{
				{"subject edited", "Subject: An appeal", "Subject: A demand"},
				{"opt-out address edited", "<https://act.outreach.example/optout/abc.def>", "<https://evil.example/optout/abc.def>"},
				{"one-click removed", "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", ""},
				{"second From added", "From: ", "From: \"Someone else\" <else@evil.example>\r\nFrom: "},
			} {
				edited := bytes.Replace(raw, []byte(tc.old), []byte(tc.new), 1)
				if bytes.Equal(edited, raw) {
					t.Fatalf("%s: %q not found in the message", tc.name, tc.old)
				}
				vs, err := verify(edited, record)
				if err != nil {
					t.Fatal(err)
				}
				if len(vs) != 1 || vs[0].Err == nil {
					t.Errorf("%s: the signature still verifies", tc.name)
				}
			}
		})
	}
}

// TestDKIMSignsOnceAcrossStaleRetry sends a message on a pooled session
// the server has dropped: the retry on a fresh session carries one
// signature, still valid.
func TestDKIMSignsOnceAcrossStaleRetry(t *testing.T) {
	srv := smtptest.Start(t)
	d, record := dkimKey(t, mailer.DKIMKeyEd25519)
	m := newMailer(t, srv, mailer.Config{DKIM: d})
	if _, err := m.Send(context.Background(), letter(t, "a@city.example", "first@outreach.example")); err != nil {
		t.Fatal(err)
	}
	srv.DropConnections()
	if _, err := m.Send(context.Background(), unsubscribeLetter(t)); err != nil {
		t.Fatal(err)
	}
	srv.WaitCount(t, 2, 10*time.Second)
	raw := srv.Messages()[1].Data
	if n := bytes.Count(raw, []byte("DKIM-Signature:")); n != 1 {
		t.Fatalf("%d DKIM-Signature fields, want 1", n)
	}
	vs, err := verify(raw, record)
	if err != nil || len(vs) != 1 || vs[0].Err != nil {
		t.Fatalf("verify: %v %+v", err, vs)
	}
}

func TestDKIMConfigRefusesWeakKeys(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "small.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)})
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mailer.LoadDKIMKey(path); err == nil || !strings.Contains(err.Error(), "1024 bits") {
		t.Errorf("LoadDKIMKey of a 1024-bit key: %v, want an error naming its size", err)
	}
	if _, err := mailer.New(mailer.Config{Host: "127.0.0.1", TLS: mailer.TLSNone, DKIM: &mailer.DKIM{Domain: "outreach.example", Selector: "s", Key: small}}); err == nil {
		t.Error("mailer.New took a 1024-bit DKIM key")
	}
	d, _ := dkimKey(t, mailer.DKIMKeyEd25519)
	d.Selector = ""
	if _, err := mailer.New(mailer.Config{Host: "127.0.0.1", TLS: mailer.TLSNone, DKIM: d}); err == nil || !strings.Contains(err.Error(), "selector") {
		t.Errorf("mailer.New without a selector: %v", err)
	}
	notKey := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(notKey, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mailer.LoadDKIMKey(notKey); err == nil || !strings.Contains(err.Error(), "not a private key") {
		t.Errorf("LoadDKIMKey of a certificate: %v", err)
	}
}

func TestDKIMZoneLineSplitsLongRecords(t *testing.T) {
	record := "v=DKIM1; k=rsa; p=" + strings.Repeat("A", 300)
	got := mailer.DKIMZoneLine("outreach.example", "s2026", record)
	want := `s2026._domainkey.outreach.example. IN TXT ( "v=DKIM1; k=rsa; p=` + strings.Repeat("A", 255-len("v=DKIM1; k=rsa; p=")) +
		`" "` + strings.Repeat("A", 300-(255-len("v=DKIM1; k=rsa; p="))) + `" )`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
