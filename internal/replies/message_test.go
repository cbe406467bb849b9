package replies

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// lf joins lines with LF; crlf with CRLF. Tests build messages from lines so
// the line ending is explicit.
func lf(lines ...string) []byte   { return []byte(strings.Join(lines, "\n")) }
func crlf(lines ...string) []byte { return []byte(strings.Join(lines, "\r\n")) }

func mustParse(t *testing.T, raw []byte) *Message {
	t.Helper()
	m, err := Parse(raw)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

func TestParseIDs(t *testing.T) {
	tests := []struct {
		name                 string
		header               string
		messageID            string
		inReplyTo, reference []string
	}{
		{
			name:      "standard",
			header:    "Message-ID: <a@x.example>\nIn-Reply-To: <b@x.example>\nReferences: <c@x.example> <b@x.example>",
			messageID: "a@x.example",
			inReplyTo: []string{"b@x.example"},
			reference: []string{"c@x.example", "b@x.example"},
		},
		{
			name:      "comma-separated quoted References (Exchange)",
			header:    "Message-ID: <a@x.example>\nReferences: \"<r1@x.example>,<r2@x.example>,<r3@x.example>\"",
			messageID: "a@x.example",
			reference: []string{"r1@x.example", "r2@x.example", "r3@x.example"},
		},
		{
			name:      "missing angle brackets",
			header:    "Message-ID: a@x.example\nIn-Reply-To: b@x.example\nReferences: c@x.example, b@x.example",
			messageID: "a@x.example",
			inReplyTo: []string{"b@x.example"},
			reference: []string{"c@x.example", "b@x.example"},
		},
		{
			name:      "folded References with duplicates and a comment",
			header:    "Message-Id: <a@x.example>\nIn-Reply-To: <b@x.example> (John's message)\nReferences: <c@x.example>\n\t<b@x.example>\n <b@x.example>",
			messageID: "a@x.example",
			inReplyTo: []string{"b@x.example"},
			reference: []string{"c@x.example", "b@x.example"},
		},
		{
			name:   "none",
			header: "Subject: hi",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, []byte(tt.header+"\n\nbody\n"))
			if m.MessageID != tt.messageID {
				t.Errorf("MessageID %q, want %q", m.MessageID, tt.messageID)
			}
			if !slices.Equal(m.InReplyTo, tt.inReplyTo) {
				t.Errorf("InReplyTo %q, want %q", m.InReplyTo, tt.inReplyTo)
			}
			if !slices.Equal(m.References, tt.reference) {
				t.Errorf("References %q, want %q", m.References, tt.reference)
			}
		})
	}
}

func TestParseSubject(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"plain subject", "plain subject"},
		{"=?UTF-8?Q?R=C3=A9ponse_automatique?=", "Réponse automatique"},
		{"=?ISO-8859-1?Q?Abwesenheitsnotiz:_B=FCro?=", "Abwesenheitsnotiz: Büro"},
		{"=?UTF-8?B?UmlzcG9zdGEgYXV0b21hdGljYQ==?=", "Risposta automatica"},
		{"[Automatyczna =?iso-8859-2?Q?odpowied=BC?=] test", "[Automatyczna odpowiedź] test"},
		{"=?utf-8?q?Re:_caf=C3=A9?= =?utf-8?q?_cr=C3=A8me?=", "Re: café crème"}, // adjacent words join
		{"=?iso-2022-jp?B?GyRCJWElQyU7ITwlOBsoQg==?=", "メッセージ"},
		{"=?unknown-charset?Q?abc?= tail", "=?unknown-charset?Q?abc?= tail"}, // kept, not lost
		{"Caf\xe9 au lait", "Café au lait"},                                  // raw Latin-1
	}
	for _, tt := range tests {
		m := mustParse(t, []byte("Subject: "+tt.raw+"\n\n"))
		if m.Subject != tt.want {
			t.Errorf("Subject(%q) = %q, want %q", tt.raw, m.Subject, tt.want)
		}
	}
}

func TestParseAddresses(t *testing.T) {
	m := mustParse(t, lf(
		`From: =?UTF-8?Q?B=C3=BCrgermeister_M=C3=BCller?= <Buero@Rathaus.Example.DE>`,
		`To: "Campaign" <Appeal@Outreach.example.org>, other@example.org`,
		`Cc: undisclosed-recipients:;`,
		`Cc: Third <third@example.org>`,
		`Delivered-To: appeal+ABC@outreach.example.org`,
		`X-Original-To: Appeal@Outreach.example.org`,
		``,
		`body`,
	))
	if m.From != "buero@rathaus.example.de" || m.FromName != "Bürgermeister Müller" {
		t.Errorf("From %q name %q", m.From, m.FromName)
	}
	if want := []string{"appeal@outreach.example.org", "other@example.org"}; !slices.Equal(m.To, want) {
		t.Errorf("To %q, want %q", m.To, want)
	}
	if want := []string{"third@example.org"}; !slices.Equal(m.Cc, want) {
		t.Errorf("Cc %q, want %q", m.Cc, want)
	}
	if want := []string{"appeal+abc@outreach.example.org", "appeal@outreach.example.org"}; !slices.Equal(m.DeliveredTo, want) {
		t.Errorf("DeliveredTo %q, want %q", m.DeliveredTo, want)
	}

	// What mail servers put in From: bare daemon names, comments, empty.
	for raw, want := range map[string]string{
		"Mail Delivery Subsystem <MAILER-DAEMON>":          "mailer-daemon",
		"MAILER-DAEMON@example.org (Mail Delivery System)": "mailer-daemon@example.org",
		"<>":                                                        "",
		`"broken quote <someone@example.org>`:                       "someone@example.org",
		"Name With Comma, Jr. <x@example.org>":                      "x@example.org",
		"=?iso-8859-1?Q?Ren=E9?= <rene@example.fr>":                 "rene@example.fr",
		"postmaster@example.jp (Postmaster of example.jp)":          "postmaster@example.jp",
		"Mailer Daemon <MAILER-DAEMON@aneyakoji.example.jp>":        "mailer-daemon@aneyakoji.example.jp",
		"\"InterScan MSS\" <postmaster@example.co.jp>":              "postmaster@example.co.jp",
		"Office of the Mayor <mayor@springfield.example.gov> ":      "mayor@springfield.example.gov",
		"mayor@springfield.example.gov, deputy@springfield.example": "mayor@springfield.example.gov",
	} {
		m := mustParse(t, []byte("From: "+raw+"\n\n"))
		if m.From != want {
			t.Errorf("From(%q) = %q, want %q", raw, m.From, want)
		}
	}
}

func TestParseDate(t *testing.T) {
	for raw, want := range map[string]time.Time{
		"Tue, 12 Mar 2024 09:15:00 +0100":         time.Date(2024, 3, 12, 8, 15, 0, 0, time.UTC),
		"12 Jun 2013 02:21:53 -0000":              time.Date(2013, 6, 12, 2, 21, 53, 0, time.UTC),
		"Wed, 20 Sep 1995 00:19:00 (EDT) -0400":   time.Date(1995, 9, 20, 4, 19, 0, 0, time.UTC),
		"Thu, 29 Apr 2013 23:45:51 +0900 (JST)":   time.Date(2013, 4, 29, 14, 45, 51, 0, time.UTC),
		"Thu, 26 Feb 2023 18:30:56 -0800 (PST":    time.Date(2023, 2, 27, 2, 30, 56, 0, time.UTC),
		"Mon Jan  2 15:04:05 2006":                time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC),
		"Sun, 05 Jan 2025 18:03:23 -0400 (extra)": time.Date(2025, 1, 5, 22, 3, 23, 0, time.UTC),
	} {
		m := mustParse(t, []byte("Date: "+raw+"\n\n"))
		if !m.Date.Equal(want) {
			t.Errorf("Date(%q) = %v, want %v (problems %q)", raw, m.Date, want, m.Problems)
		}
	}
	m := mustParse(t, []byte("Date: yesterday afternoon\n\n"))
	if !m.Date.IsZero() || !slices.Contains(m.Problems, "unparsable Date") {
		t.Errorf("unparsable date: %v, problems %q", m.Date, m.Problems)
	}
	m = mustParse(t, []byte("Subject: no date\n\n"))
	if !m.Date.IsZero() || len(m.Problems) != 0 {
		t.Errorf("missing date: %v, problems %q", m.Date, m.Problems)
	}
}

func TestParseShapes(t *testing.T) {
	t.Run("no body", func(t *testing.T) {
		m := mustParse(t, lf("From: a@example.org", "Subject: empty", "", ""))
		if m.Subject != "empty" || m.Text != "" || m.NewText != "" || m.Quoted != "" {
			t.Errorf("got subject %q text %q", m.Subject, m.Text)
		}
	})
	t.Run("only headers, no blank line", func(t *testing.T) {
		m := mustParse(t, lf("From: a@example.org", "Subject: only headers"))
		if m.Subject != "only headers" || m.From != "a@example.org" || m.Text != "" {
			t.Errorf("got subject %q from %q text %q", m.Subject, m.From, m.Text)
		}
	})
	t.Run("CRLF and LF parse alike", func(t *testing.T) {
		lines := []string{
			"From: Mayor <mayor@example.org>",
			"Subject: =?UTF-8?Q?Re:_caf=C3=A9?=",
			"References: <a@x>",
			"  <b@x>",
			"Content-Type: multipart/alternative; boundary=b1",
			"",
			"--b1",
			"Content-Type: text/plain; charset=utf-8",
			"Content-Transfer-Encoding: quoted-printable",
			"",
			"Yes, we agree. Caf=C3=A9 at 10?",
			"",
			"On Tue, 12 Mar 2024 at 09:15, X <x@example.org> wrote:",
			"> Hello",
			"--b1--",
			"",
		}
		a, b := mustParse(t, lf(lines...)), mustParse(t, crlf(lines...))
		for _, m := range []*Message{a, b} {
			if m.NewText != "Yes, we agree. Café at 10?" || m.Subject != "Re: café" ||
				!slices.Equal(m.References, []string{"a@x", "b@x"}) {
				t.Errorf("NewText %q Subject %q References %q", m.NewText, m.Subject, m.References)
			}
		}
		if a.Text != b.Text || a.Quoted != b.Quoted {
			t.Errorf("CRLF and LF differ: %q vs %q", a.Text, b.Text)
		}
		if b.Size != len(crlf(lines...)) {
			t.Errorf("Size %d, want the raw length %d", b.Size, len(crlf(lines...)))
		}
	})
	t.Run("HTML only", func(t *testing.T) {
		m := mustParse(t, lf("Content-Type: text/html", "", "<p>Dear&nbsp;friends,</p><p>Yes &amp; no.<br>Ana</p><style>p{}</style>"))
		if m.Text != "Dear friends,\n\nYes & no.\nAna" {
			t.Errorf("Text %q", m.Text)
		}
	})
	t.Run("undeclared 8-bit body", func(t *testing.T) {
		m := mustParse(t, []byte("Subject: x\n\nGr\xfc\xdfe aus M\xfcnchen\n"))
		if m.Text != "Grüße aus München" {
			t.Errorf("Text %q", m.Text)
		}
	})
	t.Run("header access", func(t *testing.T) {
		m := mustParse(t, lf("X-Custom: one", "x-custom: two", "Subject: s", "", "b"))
		if got := m.Header.Get("X-CUSTOM"); got != "one" {
			t.Errorf("Get = %q", got)
		}
		if got := m.Header.Values("x-custom"); !slices.Equal(got, []string{"one", "two"}) {
			t.Errorf("Values = %q", got)
		}
		if m.Header.Has("Missing") || !m.Header.Has("subject") || m.Header.Len() != 3 {
			t.Errorf("Has/Len wrong")
		}
	})
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name    string
		raw     []byte
		text    string
		problem string
	}{
		{
			name:    "multipart never closed",
			raw:     lf("Content-Type: multipart/mixed; boundary=zz", "", "--zz", "Content-Type: text/plain", "", "still here"),
			text:    "still here",
			problem: "multipart not closed",
		},
		{
			name:    "multipart without boundary parameter",
			raw:     lf("Content-Type: multipart/mixed", "", "just text"),
			text:    "just text",
			problem: "multipart without boundary",
		},
		{
			name:    "boundary that never appears",
			raw:     lf("Content-Type: multipart/mixed; boundary=nope", "", "plain words"),
			text:    "plain words",
			problem: "multipart boundary never appears",
		},
		{
			name:    "bad base64",
			raw:     lf("Content-Type: text/plain", "Content-Transfer-Encoding: base64", "", "SGVsbG8gd29y", "bGQhI*"),
			text:    "Hello world!",
			problem: "truncated base64",
		},
		{
			name:    "bad quoted-printable is kept literally",
			raw:     lf("Content-Transfer-Encoding: quoted-printable", "", "50=% off =ZZ", "soft=", "break"),
			text:    "50=% off =ZZ\nsoftbreak",
			problem: "",
		},
		{
			name:    "unknown charset",
			raw:     lf("Content-Type: text/plain; charset=x-klingon", "", "nuqneH"),
			text:    "nuqneH",
			problem: "unknown charset x-klingon",
		},
		{
			name:    "header runs into the body",
			raw:     lf("Subject: hi", "this line has no colon", "more"),
			text:    "this line has no colon\nmore",
			problem: "header block not ended by a blank line",
		},
		{
			name:    "unindented boundary parameter",
			raw:     lf("Content-Type: multipart/alternative;", `boundary="b"`, "", "--b", "", "inside", "--b--"),
			text:    "inside",
			problem: "unindented header continuation",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, tt.raw)
			if m.Text != tt.text {
				t.Errorf("Text %q, want %q", m.Text, tt.text)
			}
			if tt.problem != "" && !slices.Contains(m.Problems, tt.problem) {
				t.Errorf("Problems %q, want %q among them", m.Problems, tt.problem)
			}
		})
	}
}

func TestParseNotMail(t *testing.T) {
	for _, raw := range [][]byte{
		nil,
		[]byte(""),
		[]byte("\n\n"),
		[]byte("hello world, this is not mail\n"),
		[]byte(" leading space: no\n"),
		[]byte("\x00\x01\x02"),
		[]byte("Dear sir: I write to you\n"), // a space in the "field name"
	} {
		m, err := Parse(raw)
		if err == nil || m != nil {
			t.Errorf("Parse(%q) = %v, %v; want an error", raw, m, err)
			continue
		}
		if !errors.Is(err, ErrNotMail) || !strings.HasPrefix(err.Error(), "replies: ") {
			t.Errorf("Parse(%q) error %q: want ErrNotMail with package context", raw, err)
		}
	}
	// An mbox envelope line is not a reason to refuse a message.
	if _, err := Parse([]byte("From someone@example.org Tue Mar 12 09:15:00 2024\nSubject: x\n\nbody")); err != nil {
		t.Errorf("mbox From line: %v", err)
	}
}
