package replies

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzParseClassify feeds arbitrary bytes through Parse and Classify: neither
// may panic, Parse may only refuse input without a header block, and every
// verdict must be well-formed.
func FuzzParseClassify(f *testing.F) {
	// Small files keep the fuzzer mutating rather than minimising.
	for _, name := range []string{
		"corpus/bounce/discourse-hard_bounce_via_verp.eml",
		"corpus/bounce/bounceparser-warning-5.eml",
		"corpus/bounce/phpbouncehandler-29.eml",
		"corpus/bounce/sisimai-lhost-qmail-07.eml",
		"corpus/bounce/sisimai-lhost-dragonfly-04.eml",
		"corpus/autoreply/flanker-disposition-notification.eml",
		"corpus/autoreply/sisimai-rfc3834-02.eml",
		"corpus/autoreply/exim-4191.someone-msg0.eml",
		"corpus/human/talon-yahoo.eml",
		"corpus/human/discourse-dutch.eml",
		"quote/html_only.eml",
		"quote/italian.eml",
		"quote/bottom_posted.eml",
	} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	for _, s := range []string{
		"",
		"From: a@b\n",
		"Content-Type: multipart/mixed; boundary=a\n\n--a\n--a\nContent-Type: message/rfc822\n\n--a--",
		"Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822;\nAction: failed\n--x--",
		"Subject: =?utf-8?b?=?=\nContent-Transfer-Encoding: base64\n\n====",
		"Content-Type: text/html\n\n<blockquote><blockquote></blockquote><a <b </",
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw)
		if err != nil {
			if !errors.Is(err, ErrNotMail) || m != nil {
				t.Fatalf("Parse: unexpected error %v (message %v)", err, m)
			}
			return
		}
		if m.Size != len(raw) {
			t.Errorf("Size %d, want %d", m.Size, len(raw))
		}
		for name, s := range map[string]string{"Text": m.Text, "NewText": m.NewText, "Subject": m.Subject} {
			if !utf8.ValidString(s) {
				t.Errorf("%s is not valid UTF-8: %q", name, s)
			}
		}
		v := Classify(m)
		if !v.Kind.Valid() {
			t.Fatalf("invalid kind %q", v.Kind)
		}
		if (v.Kind == Bounce) != (v.Bounce != nil) {
			t.Fatalf("kind %s with bounce info %v", v.Kind, v.Bounce)
		}
		if v.Reason == "" {
			t.Errorf("verdict %s without a reason", v.Kind)
		}
		if b := v.Bounce; b != nil && b.Permanent && b.Delayed {
			t.Errorf("bounce both permanent and delayed")
		}
	})
}
