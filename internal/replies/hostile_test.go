package replies_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/replies"
)

// Anyone can write to the campaign mailbox, so every message is read as if
// it were hostile. These tests feed messages built to be costly (floods of
// angle brackets and addresses, deep nesting, huge headers, every charset)
// through Parse, Classify and Match, and compare what they allocate with a
// normal reply of the same size. Time is not asserted (a busy machine
// makes it noise): the per-message deadline, which the poller applies too,
// must never fire for them, and `make bench` prints their times.

// hostileDeadline is the poller's default per-message deadline
// (imap.message_deadline), given the race detector's slowdown (Go's
// documentation speaks of 2 to 20 times) when it runs.
var hostileDeadline = func() time.Duration {
	if raceEnabled {
		return 20 * 10 * time.Second
	}
	return 10 * time.Second
}()

const hostileHeader = "From: Someone <someone@stranger.example>\r\nTo: campaign@outreach.example\r\n" +
	"Subject: Re: Appello\r\nDate: Wed, 2 Aug 2017 10:00:00 +0200\r\nMessage-ID: <hostile@stranger.example>\r\n"

// fill repeats unit until the result has about n bytes.
func fill(unit string, n int) string {
	return strings.Repeat(unit, max(1, n/len(unit)))
}

// normalReply is a real reply whose body is repeated until the message
// has size bytes: a long thread of the same shape. The text one is an
// office answering in Outlook with the letter quoted
// (testdata/quote/outlook_en.eml); the HTML one a mayor answering from
// Gmail, HTML only (testdata/quote/html_only.eml), which is what HTML
// floods are compared with: turning HTML into text is work a normal HTML
// reply needs too.
func normalReply(tb testing.TB, size int, html bool) []byte {
	tb.Helper()
	name := "testdata/quote/outlook_en.eml"
	if html {
		name = "testdata/quote/html_only.eml"
	}
	raw, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	head, body, ok := bytes.Cut(raw, []byte("\n\n"))
	if !ok {
		tb.Fatalf("%s has no header block", name)
	}
	var b bytes.Buffer
	b.Write(head)
	b.WriteString("\n\n")
	for b.Len() < size {
		b.Write(body)
	}
	return b.Bytes()
}

// hostile is one kind of costly message, size bytes long or about.
type hostile struct {
	name string
	html bool // compared with a normal HTML reply
	make func(size int) []byte
}

// objectBounds replace the bound of 4 on the objects ratio for some kinds.
// The one exception: x/net/html's tokenizer (v0.57) copies each
// attribute's name to look for duplicates, an allocation per attribute,
// and in an attribute flood every other byte starts one (a normal HTML
// reply has one in a hundred). Its bytes stay within bounds, and its cost
// is still linear in its size.
var objectBounds = map[string]float64{"attribute flood": 6}

var hostiles = []hostile{
	{"angle-bracket flood", true, func(n int) []byte {
		return []byte(hostileHeader + "Content-Type: text/html\r\n\r\n<p>" + fill("<", n))
	}},
	{"broken tags", true, func(n int) []byte {
		// Tags that never close, comments and declarations opening at
		// every step, and a ">" in quoted attribute values.
		return []byte(hostileHeader + "Content-Type: text/html\r\n\r\n" +
			fill(`< <a <b title="x>y" <!x <?y </ <blockquote>&amp;&#`, n))
	}},
	{"attribute flood", true, func(n int) []byte {
		return []byte(hostileHeader + "Content-Type: text/html\r\n\r\n<p>Hello</p><a " + fill("b c d e f g ", n) + ">")
	}},
	{"unclosed attribute", true, func(n int) []byte {
		return []byte(hostileHeader + "Content-Type: text/html\r\n\r\n<p>Hello</p><a title=\"" + fill("<>", n))
	}},
	{"address flood bounce", false, func(n int) []byte {
		// One line of addresses in a mail server's notice, as fake bounces
		// carry them: the notice is read line by line.
		var b strings.Builder
		b.WriteString("From: Mail Delivery System <MAILER-DAEMON@mx.stranger.example>\r\nTo: campaign@outreach.example\r\n" +
			"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <flood@mx.stranger.example>\r\n\r\n" +
			"Delivery to the following recipients failed: ")
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, "user%d@host.example, x=mailto:a%d@b.example ", i, i)
		}
		return []byte(b.String())
	}},
	{"address flood bounce, one a line", false, func(n int) []byte {
		return []byte("From: MAILER-DAEMON@mx.stranger.example\r\nTo: campaign@outreach.example\r\n" +
			"Subject: failure notice\r\nMessage-ID: <lines@mx.stranger.example>\r\n\r\n" +
			fill("<someone@host.example>: 550 5.1.1 user unknown\r\n", n))
	}},
	{"SES address list", false, func(n int) []byte {
		var b strings.Builder
		b.WriteString("From: no-reply@sns.amazonaws.example\r\nTo: campaign@outreach.example\r\nSubject: AWS Notification Message\r\n\r\n" +
			`{"notificationType":"Bounce","bounce":{"bouncedRecipients":[`)
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, `{"emailAddress":"user%d@host.example"},{"emailAddress":"sindaco@comune.milano.example"},`, i%5000)
		}
		b.WriteString(`]}}`)
		return []byte(b.String())
	}},
	{"address list header", false, func(n int) []byte {
		return []byte(hostileHeader + "Cc: " + fill("a@b.example, \"x\" <c@d.example>,\r\n ", n) + "\r\n\r\nHello.\r\n")
	}},
	{"header fields", false, func(n int) []byte {
		return []byte(hostileHeader + fill("X-Flood: a\r\n", n) + "\r\nHello.\r\n")
	}},
	{"folded header", false, func(n int) []byte {
		return []byte(hostileHeader + "X-Folded: a\r\n" + fill(" b\r\n", n) + "\r\nHello.\r\n")
	}},
	{"references", false, func(n int) []byte {
		var b strings.Builder
		b.WriteString(hostileHeader + "References:")
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, " <w1-t%d.forged@outreach.example>\r\n", i)
		}
		b.WriteString("\r\nHello.\r\n")
		return []byte(b.String())
	}},
	{"deep nesting", false, func(n int) []byte { return nested(n, "") }},
	{"deep nesting, each level encoded", false, func(n int) []byte { return nested(n, "quoted-printable") }},
	{"embedded messages", false, func(n int) []byte {
		var b strings.Builder
		for range 15 {
			b.WriteString(hostileHeader + "Content-Type: message/rfc822\r\n\r\n")
		}
		b.WriteString(hostileHeader + "\r\n" + fill("Returned text. ", n-b.Len()))
		return []byte(b.String())
	}},
	{"many parts", false, func(n int) []byte {
		return []byte(hostileHeader + "Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
			fill("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n", n) + "--b--\r\n")
	}},
	{"base64 html", true, func(n int) []byte {
		html := fill("<<<a<b<!<", n*3/4)
		return []byte(hostileHeader + "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			base64.StdEncoding.EncodeToString([]byte(html)))
	}},
}

// nested is a message nested 15 multiparts deep (just under the limit), a
// long text inside; cte, when set, is every level's transfer encoding.
func nested(n int, cte string) []byte {
	const depth = 15
	var head, tail strings.Builder
	head.WriteString(hostileHeader)
	for i := range depth {
		fmt.Fprintf(&head, "Content-Type: multipart/mixed; boundary=nest%d\r\n", i)
		if cte != "" {
			fmt.Fprintf(&head, "Content-Transfer-Encoding: %s\r\n", cte)
		}
		fmt.Fprintf(&head, "\r\n--nest%d\r\n", i)
		fmt.Fprintf(&tail, "\r\n--nest%d--\r\n", depth-1-i)
	}
	head.WriteString("Content-Type: text/plain\r\n\r\n")
	return []byte(head.String() + fill("Deep text. ", n-head.Len()-tail.Len()) + tail.String())
}

// charsets are the MIME names of every charset the decoder knows.
func charsets() []string {
	var names []string
	for _, all := range [][]encoding.Encoding{charmap.All, japanese.All, korean.All, simplifiedchinese.All,
		traditionalchinese.All, unicode.All} {
		for _, e := range all {
			if name, err := ianaindex.MIME.Name(e); err == nil && name != "" {
				names = append(names, name)
			}
		}
	}
	return names
}

// inCharset is a text/plain message declaring charset cs whose body is
// every byte value in turn, with line breaks: n bytes to decode.
func inCharset(cs string, n int) []byte {
	var unit []byte
	for c := range 256 {
		unit = append(unit, byte(c), 'a')
		if c%16 == 15 {
			unit = append(unit, '\r', '\n')
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%sContent-Type: text/plain; charset=%q\r\n\r\n", hostileHeader, cs)
	b.Write(bytes.Repeat(unit, max(1, n/len(unit))))
	return b.Bytes()
}

// read parses, classifies and matches raw as the poller does, under the
// per-message deadline.
func read(ctx context.Context, mt *replies.Matcher, raw []byte) (replies.Verdict, replies.Match, error) {
	ctx, cancel := context.WithTimeout(ctx, hostileDeadline)
	defer cancel()
	m, err := replies.ParseContext(ctx, raw)
	if err != nil {
		return replies.Verdict{}, replies.Match{}, err
	}
	v, err := replies.ClassifyContext(ctx, m)
	if err != nil {
		return v, replies.Match{}, err
	}
	match, err := mt.Match(ctx, m, v, sent.Add(24*time.Hour))
	return v, match, err
}

// cost is the bytes and objects allocated reading raw.
func cost(tb testing.TB, mt *replies.Matcher, raw []byte) (bytes, objects uint64) {
	tb.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := read(context.Background(), mt, raw)
	runtime.ReadMemStats(&after)
	if err != nil {
		tb.Fatalf("reading the message failed (the deadline fired?): %v", err)
	}
	return after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs
}

// TestHostileMessagesCostLikeNormalOnes reads each hostile message at 1
// and 10 MB and fails when it allocates more than 4 times the bytes or the
// objects a normal reply of the same size does, or when the deadline
// fires. Not parallel: the allocation counters are the process's.
//
// Under the race detector (go test -race, as CI runs every test) the
// figures are not comparable and 10 MB messages take minutes: there it
// reads the 1 MB messages under the deadline only, and `make test` runs
// this test once more without the race detector for the figures.
func TestHostileMessagesCostLikeNormalOnes(t *testing.T) {
	sizes := []int{1 << 20, 10 << 20}
	if raceEnabled {
		sizes = sizes[:1]
		t.Log("race detector on: allocation figures are not asserted, and 10 MB messages are left to the run without it")
	}
	mt := newOffices(t).matcher()
	// Warm up the matcher's caches and the regexps' pools, which would
	// otherwise be charged to the first message.
	cost(t, mt, normalReply(t, 64<<10, false))
	cost(t, mt, normalReply(t, 64<<10, true))
	for _, size := range sizes {
		type figures struct{ bytes, objects uint64 }
		normal := map[bool]figures{}
		for _, html := range []bool{false, true} {
			b, o := cost(t, mt, normalReply(t, size, html))
			normal[html] = figures{b, o}
			t.Logf("%2d MB normal reply (html %-5v): %6.1f MB, %8d objects", size>>20, html, float64(b)/(1<<20), o)
		}
		all := hostiles
		for _, cs := range charsets() {
			all = append(all, hostile{"charset " + cs, false, func(n int) []byte { return inCharset(cs, n) }})
		}
		for _, h := range all {
			raw := h.make(size)
			if len(raw) < size*9/10 || len(raw) > size*11/10 {
				t.Fatalf("%s: %d bytes, want about %d", h.name, len(raw), size)
			}
			nb, no := normal[h.html].bytes, normal[h.html].objects
			hb, ho := cost(t, mt, raw)
			t.Logf("%2d MB %-34s %6.1f MB (%.2fx), %8d objects (%.2fx)", size>>20, h.name+":",
				float64(hb)/(1<<20), float64(hb)/float64(nb), ho, float64(ho)/float64(no))
			if raceEnabled {
				continue
			}
			if hb > 4*nb {
				t.Errorf("%d MB %s: %d bytes allocated, over 4 times the %d of a normal reply", size>>20, h.name, hb, nb)
			}
			bound := 4.0
			if b, ok := objectBounds[h.name]; ok {
				bound = b
			}
			if float64(ho) > bound*float64(no) {
				t.Errorf("%d MB %s: %d objects allocated, over %g times the %d of a normal reply", size>>20, h.name, ho, bound, no)
			}
		}
	}
}

// TestHostileMessagesAreCapped checks what the limits keep of hostile
// messages: a fixed number of addresses, ids, parts and header fields, and
// what real mail needs of each.
func TestHostileMessagesAreCapped(t *testing.T) {
	o := newOffices(t)
	milanID := o.letters["w1-t5"].MessageID
	ctx := context.Background()

	t.Run("bounce recipients and their lookups", func(t *testing.T) {
		// The office's address after a flood of others: never looked up,
		// and no more than 50 lookups in all.
		raw := hostileNamed(t, "address flood bounce")(1 << 20)
		raw = append(raw, []byte(" sindaco@comune.milano.example\r\n")...)
		counted := &countingLookup{Lookup: o}
		mt := o.matcher()
		mt.Lookup = counted
		v, match, err := read(ctx, mt, raw)
		if err != nil {
			t.Fatal(err)
		}
		// 50 addresses looked at, every other one in a mailto: link.
		if v.Kind != replies.Bounce || len(v.Bounce.Recipients) != 25 {
			t.Fatalf("verdict %s with %d recipients, want a bounce naming 25", v.Kind, len(v.Bounce.Recipients))
		}
		if counted.targets > 51 || match.LetterID != "" || v.Bounce.Recipients[24] != "user24@host.example" {
			t.Errorf("%d office lookups (want at most 50 and the sender), matched %q", counted.targets, match.LetterID)
		}
	})

	t.Run("references keep their ends", func(t *testing.T) {
		// Our letter's id last, after a thousand forged ones: still found,
		// and only 20 ids are checked.
		var refs strings.Builder
		for i := range 1000 {
			fmt.Fprintf(&refs, " <w1-t%d.forged@outreach.example>\r\n", i)
		}
		raw := []byte(hostileHeader + "References:" + refs.String() + " <" + milanID + ">\r\n\r\nSì.\r\n")
		m, err := replies.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.References) != 20 || m.References[19] != milanID || m.References[0] != "w1-t0.forged@outreach.example" {
			t.Fatalf("%d references kept, first %q, last %q", len(m.References), m.References[0], m.References[len(m.References)-1])
		}
		match, err := o.matcher().Match(ctx, m, replies.Classify(m), sent.Add(time.Hour))
		if err != nil || match.LetterID != "w1-t5" {
			t.Errorf("matched %q (%v), want w1-t5", match.LetterID, err)
		}
	})

	t.Run("address lists", func(t *testing.T) {
		m, err := replies.Parse(hostileNamed(t, "address list header")(1 << 20))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Cc) != 2 || m.Cc[0] != "a@b.example" || m.Cc[1] != "c@d.example" {
			t.Errorf("Cc %v, want the two distinct addresses of the first 50", m.Cc)
		}
	})

	t.Run("header fields", func(t *testing.T) {
		m, err := replies.Parse(hostileNamed(t, "header fields")(1 << 20))
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Len() != 500 || m.NewText != "Hello." || m.Subject != "Re: Appello" {
			t.Errorf("%d header fields kept, text %q, subject %q; want 500, the body and the subject", m.Header.Len(), m.NewText, m.Subject)
		}
		if !slicesContains(m.Problems, "more than 500 header fields: the rest not read") {
			t.Errorf("problems %q do not say fields were left", m.Problems)
		}
	})

	t.Run("a long field", func(t *testing.T) {
		m, err := replies.Parse(hostileNamed(t, "folded header")(1 << 20))
		if err != nil {
			t.Fatal(err)
		}
		if v := m.Header.Get("X-Folded"); len(v) != 64<<10 || !strings.HasPrefix(v, "a b b") {
			t.Errorf("X-Folded kept %d bytes, want 65536", len(v))
		}
	})

	t.Run("parts", func(t *testing.T) {
		m, err := replies.Parse(hostileNamed(t, "many parts")(1 << 20))
		if err != nil {
			t.Fatal(err)
		}
		if !slicesContains(m.Problems, "more than 100 MIME parts: the rest not read") || m.NewText != "x" {
			t.Errorf("problems %q, text %q", m.Problems, m.NewText)
		}
	})

	t.Run("a long text in another charset", func(t *testing.T) {
		// Decoded whole: the budget is for decoding the same bytes again.
		m, err := replies.Parse(inCharset("ISO-8859-1", 10<<20))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Text) < 10<<20 || !strings.Contains(m.Text, "éa") || len(m.Problems) > 0 {
			t.Errorf("%d bytes of text decoded, problems %q", len(m.Text), m.Problems)
		}
	})

	t.Run("nesting", func(t *testing.T) {
		m, err := replies.Parse(nested(1<<20, ""))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(m.NewText, "Deep text. Deep text.") || len(m.NewText) < 1<<19 {
			t.Errorf("the text 15 levels down was not read: %d bytes", len(m.NewText))
		}
		if m, _ := replies.Parse(nested(1<<20, "quoted-printable")); !slicesContains(m.Problems, "decoding limit reached: parts left out") {
			t.Errorf("decoding every level again was not stopped: %q", m.Problems)
		}
	})
}

// hostileNamed returns the maker of the named hostile message.
func hostileNamed(tb testing.TB, name string) func(int) []byte {
	tb.Helper()
	for _, h := range hostiles {
		if h.name == name {
			return h.make
		}
	}
	tb.Fatalf("no hostile message %q", name)
	return nil
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// countingLookup counts the office lookups by address.
type countingLookup struct {
	replies.Lookup
	targets int
}

func (c *countingLookup) Target(ctx context.Context, email string) (campaign.Target, error) {
	c.targets++
	return c.Lookup.Target(ctx, email)
}

// TestHTMLAttributeValues checks that markup inside quoted attribute values,
// a ">" included, never reaches the text.
func TestHTMLAttributeValues(t *testing.T) {
	for _, tc := range []struct{ html, want string }{
		{`<p title="a > b">Hello</p>`, "Hello"},
		{`<a href='x>y' title="1>2>3">link</a> text`, "link text"},
		{`<img alt="<b>bold</b>">Yes`, "Yes"},
		{`a < b and c > d`, "a < b and c > d"},
		{`<p>One</p><blockquote>Two<br>Three</blockquote>`, "One\n\n> Two\n> Three"},
		{`<script>var a = "<p>";</script><style>p{}</style>Text`, "Text"},
		{`&lt;p&gt; &amp; &eacute;`, "<p> & é"},
	} {
		m, err := replies.Parse([]byte("From: a@b.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + tc.html))
		if err != nil {
			t.Fatal(err)
		}
		if m.Text != tc.want {
			t.Errorf("%s: text %q, want %q", tc.html, m.Text, tc.want)
		}
	}
}

// TestContextStopsReading checks that an ended context stops parsing and
// classifying with its error rather than a result.
func TestContextStopsReading(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	raw := hostileNamed(t, "angle-bracket flood")(1 << 20)
	if m, err := replies.ParseContext(ctx, raw); !errors.Is(err, context.Canceled) || m != nil {
		t.Errorf("ParseContext after the end: %v, %v", m, err)
	}
	m, err := replies.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := replies.ClassifyContext(ctx, m); !errors.Is(err, context.Canceled) || v.Kind != "" {
		t.Errorf("ClassifyContext after the end: %+v, %v", v, err)
	}
}

// BenchmarkHostile reads each hostile message of 10 MB (parse, classify,
// match), next to normal replies of the same size, so that `make bench`
// prints their times side by side (ns/op, and MB/s).
func BenchmarkHostile(b *testing.B) {
	const size = 10 << 20
	mt := newOffices(b).matcher()
	run := func(name string, raw []byte) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := read(context.Background(), mt, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("normal reply", normalReply(b, size, false))
	run("normal HTML reply", normalReply(b, size, true))
	for _, h := range hostiles {
		run(h.name, h.make(size))
	}
	run("charset UTF-16", inCharset("UTF-16", size))
	run("charset ISO-2022-JP", inCharset("ISO-2022-JP", size))
}
