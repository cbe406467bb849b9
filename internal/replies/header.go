package replies

import (
	"bytes"
	"fmt"
	"iter"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
)

// HeaderField is one header line as it arrived, unfolded. Value is not
// RFC 2047 decoded: use the Message fields for decoded values.
type HeaderField struct {
	Name  string
	Value string
}

// Header gives read access to a message's header fields in their original
// order. Names match case-insensitively. The zero Header is empty.
type Header struct {
	fields []HeaderField
}

// Get returns the first value of the named field, or "" when it is absent.
func (h Header) Get(name string) string {
	for _, f := range h.fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Values returns every value of the named field, in order.
func (h Header) Values(name string) []string {
	var vs []string
	for _, f := range h.fields {
		if strings.EqualFold(f.Name, name) {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// Has reports whether the named field is present, even if empty.
func (h Header) Has(name string) bool {
	for _, f := range h.fields {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Fields returns a copy of all fields in order.
func (h Header) Fields() []HeaderField {
	return append([]HeaderField(nil), h.fields...)
}

// Len returns the number of fields.
func (h Header) Len() int { return len(h.fields) }

// readHeader splits LF-normalised input into its header block and the body
// that follows the first blank line. It is deliberately forgiving: servers in
// the wild send header blocks that run straight into the body, stray
// continuation lines and 8-bit values, and all of that should still parse.
//
// ok is false when the very first line is not a header field, i.e. the input
// has no header block at all. When allowEmpty is set (MIME parts), a part that
// starts with a blank line has an empty header and that is fine.
func readHeader(b []byte, allowEmpty bool, problems *[]string) (h Header, body []byte, ok bool) {
	if !allowEmpty {
		// Tolerate blank lines before the first field of a saved message.
		trimmed := bytes.TrimLeft(b, " \t\r\n")
		if len(trimmed) != len(b) && len(trimmed) > 0 {
			addProblem(problems, "blank lines before the header")
			b = trimmed
		}
	}
	// An mbox envelope line ("From sender date") often precedes a saved message.
	if !allowEmpty && bytes.HasPrefix(b, []byte("From ")) {
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		} else {
			b = nil
		}
	}
	// A folded value is gathered in one buffer and made a string once:
	// appending to a string per continuation line would cost the square of
	// a long header, and a string per line an allocation each. Fields past
	// maxHeaderFields, and a value's text past maxFieldBytes, are read over
	// but not kept.
	var val []byte
	keep := true // the field being read is kept
	flush := func() {
		if len(val) > 0 {
			h.fields[len(h.fields)-1].Value = string(val)
			val = val[:0]
		}
	}
	addPiece := func(v []byte) {
		if !keep || len(v) == 0 {
			return
		}
		if len(val) > 0 {
			val = append(val, ' ')
		}
		if len(val)+len(v) > maxFieldBytes {
			addProblem(problems, problemLongField)
			n := maxFieldBytes - len(val)
			for n > 0 && v[n]&0xC0 == 0x80 {
				n-- // not inside a UTF-8 sequence
			}
			v, keep = v[:n], false
		}
		val = append(val, v...)
	}
	addField := func(name, value []byte) {
		flush()
		keep = len(h.fields) < maxHeaderFields
		if !keep {
			addProblem(problems, problemManyFields)
			return
		}
		h.fields = append(h.fields, HeaderField{Name: fieldName(name)})
		addPiece(value)
	}
	rest := b
	for len(rest) > 0 {
		line := rest
		next := []byte(nil)
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, next = rest[:i], rest[i+1:]
		}
		if len(bytes.TrimRight(line, " \t\r")) == 0 {
			// The blank line that ends the header block.
			flush()
			if len(h.fields) == 0 && !allowEmpty {
				return h, rest, false
			}
			return h, next, true
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(h.fields) == 0 {
				if !allowEmpty {
					return h, rest, false
				}
				addProblem(problems, "header starts with a continuation line")
			} else {
				addPiece(bytes.TrimSpace(line))
			}
			rest = next
			continue
		}
		name, value, isField := splitField(line)
		if !isField && len(h.fields) > 0 && paramContinuationRE.Match(line) &&
			strings.HasPrefix(strings.ToLower(h.fields[len(h.fields)-1].Name), "content-") {
			// 'boundary="..."' left unindented below its Content-Type: a
			// broken fold, and losing it would lose the whole MIME structure.
			addProblem(problems, "unindented header continuation")
			addPiece(bytes.TrimSpace(line))
			rest = next
			continue
		}
		if !isField {
			flush()
			if len(h.fields) == 0 {
				if allowEmpty {
					// A part whose body starts without a blank line: treat
					// everything as body rather than lose it.
					addProblem(problems, "MIME part without header block")
					return h, rest, true
				}
				return h, rest, false
			}
			addProblem(problems, "header block not ended by a blank line")
			return h, rest, true
		}
		addField(name, value)
		rest = next
	}
	flush()
	if len(h.fields) == 0 && !allowEmpty {
		return h, nil, false
	}
	return h, nil, true
}

// commonFields are names most messages and MIME parts carry, kept as one
// string each rather than a new one per field read.
var commonFields = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Content-ID",
		"Content-Description", "MIME-Version", "Received", "From", "To", "Cc", "Subject", "Date", "Message-ID",
		"In-Reply-To", "References", "Return-Path", "Delivered-To", "X-Original-To", "Reply-To", "Sender",
		"Final-Recipient", "Original-Recipient", "Action", "Status", "Diagnostic-Code", "Reporting-MTA", "Remote-MTA"} {
		m[n] = n
	}
	return m
}()

// fieldName returns name as a string, without allocating for common names
// (the map lookup with string(name) does not copy it).
func fieldName(name []byte) string {
	if n, ok := commonFields[string(name)]; ok {
		return n
	}
	return string(name)
}

// What readHeader notes when a limit cuts a header short.
var (
	problemLongField  = fmt.Sprintf("header field over %d bytes: cut short", maxFieldBytes)
	problemManyFields = fmt.Sprintf("more than %d header fields: the rest not read", maxHeaderFields)
)

var paramContinuationRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9*-]*\s*=`)

// splitField parses "Name: value". The name must be printable ASCII without
// spaces (trailing spaces before the colon are tolerated, they occur).
func splitField(line []byte) (name, value []byte, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return nil, nil, false
	}
	key := bytes.TrimRight(line[:i], " \t")
	if len(key) == 0 {
		return nil, nil, false
	}
	for _, c := range key {
		if c < 33 || c > 126 {
			return nil, nil, false
		}
	}
	return key, bytes.TrimSpace(line[i+1:]), true
}

func addProblem(problems *[]string, p string) {
	if problems == nil {
		return
	}
	for _, q := range *problems {
		if q == p {
			return
		}
	}
	// Bound the list: a hostile message must not make it grow without limit.
	if len(*problems) < 50 {
		*problems = append(*problems, p)
	}
}

// newWordDecoder returns a decoder for RFC 2047 encoded words that knows
// every charset go-message knows.
func newWordDecoder() *mime.WordDecoder {
	return &mime.WordDecoder{CharsetReader: charset.Reader}
}

// decodeHeaderText decodes RFC 2047 words and repairs raw 8-bit values,
// which real servers send (Japanese and Latin-1 subjects in particular).
func decodeHeaderText(v string) (string, error) {
	var err error
	if strings.Contains(v, "=?") {
		var d string
		d, err = newWordDecoder().DecodeHeader(v)
		if err == nil {
			v = d
		} else {
			// Decode what can be decoded word by word.
			v = decodeWordsLeniently(v)
		}
	}
	return toUTF8(v), err
}

var encodedWordRE = regexp.MustCompile(`=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=`)

func decodeWordsLeniently(v string) string {
	dec := newWordDecoder()
	return encodedWordRE.ReplaceAllStringFunc(v, func(w string) string {
		if d, err := dec.Decode(w); err == nil {
			return d
		}
		return w
	})
}

// toUTF8 returns s unchanged when it is valid UTF-8 and otherwise reads it as
// Windows-1252, the usual charset of undeclared 8-bit mail.
func toUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	d, err := charmap.Windows1252.NewDecoder().String(s)
	if err != nil {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return d
}

// address is a parsed mailbox: lower-cased address and decoded display name.
type address struct {
	Addr string
	Name string
}

var (
	angleAddrRE = regexp.MustCompile(`<([^<>]*)>`)
	addrSpecRE  = regexp.MustCompile(`[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~.\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*`)
)

// parseAddresses parses an address list, falling back to picking out
// anything that looks like an address when the strict parser gives up (bare
// "MAILER-DAEMON", unbalanced quotes, "mailing list x@y" and such).
func parseAddresses(v string) ([]address, bool) {
	// No list needs more than maxAddresses: the rest is not even parsed.
	v = strings.TrimSpace(firstAddresses(v, maxAddresses))
	if v == "" {
		return nil, true
	}
	parser := mail.AddressParser{WordDecoder: newWordDecoder()}
	if list, err := parser.ParseList(v); err == nil {
		out := make([]address, 0, len(list))
		for _, a := range list {
			out = append(out, address{Addr: strings.ToLower(a.Address), Name: toUTF8(a.Name)})
		}
		return out, true
	}
	var out []address
	for _, piece := range splitAddressList(v) {
		piece = strings.TrimSpace(piece)
		if piece == "" {
			continue
		}
		var a address
		if m := angleAddrRE.FindStringSubmatchIndex(piece); m != nil {
			a.Addr = strings.ToLower(strings.TrimSpace(piece[m[2]:m[3]]))
			a.Name = strings.TrimSpace(piece[:m[0]])
		} else if m := addrSpecRE.FindStringIndex(piece); m != nil {
			a.Addr = strings.ToLower(piece[m[0]:m[1]])
			a.Name = strings.TrimSpace(piece[m[1]:])
		} else {
			continue
		}
		a.Name = strings.Trim(a.Name, `"' ()`)
		if d, err := decodeHeaderText(a.Name); err == nil {
			a.Name = d
		} else {
			a.Name = toUTF8(a.Name)
		}
		out = append(out, a)
	}
	return out, len(out) > 0
}

// splitAddressList splits at commas that are outside quotes and brackets.
func splitAddressList(v string) []string {
	var parts []string
	start := 0
	for i := range addressSeparators(v) {
		parts = append(parts, v[start:i])
		start = i + 1
	}
	return append(parts, v[start:])
}

// firstAddresses returns v cut before its n-th address separator: at most
// n entries of the list, found without parsing the rest.
func firstAddresses(v string, n int) string {
	count := 0
	for i := range addressSeparators(v) {
		if count++; count == n {
			return v[:i]
		}
	}
	return v
}

// addressSeparators yields the index of every comma or semicolon that is
// outside quotes and brackets.
func addressSeparators(v string) iter.Seq[int] {
	return func(yield func(int) bool) {
		depthAngle, depthParen, inQuote := 0, 0, false
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case c == '\\':
				i++
			case c == '"':
				inQuote = !inQuote
			case inQuote:
			case c == '<':
				depthAngle++
			case c == '>':
				if depthAngle > 0 {
					depthAngle--
				}
			case c == '(':
				depthParen++
			case c == ')':
				if depthParen > 0 {
					depthParen--
				}
			case c == ',' || c == ';':
				if depthAngle == 0 && depthParen == 0 && !yield(i) {
					return
				}
			}
		}
	}
}

// parseMsgIDs reads a Message-ID list. Besides the standard "<a@b> <c@d>" it
// accepts what broken clients send: comma-separated lists, ids in quotes,
// ids without angle brackets. The ids are slices of v: a list of
// thousands costs no allocation per id.
func parseMsgIDs(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	var ids []string
	// "<id>": an id in angle brackets, without spaces or brackets inside.
	for rest := v; ; {
		lt := strings.IndexByte(rest, '<')
		if lt < 0 {
			break
		}
		rest = rest[lt+1:]
		end := strings.IndexAny(rest, "<> \t\r\n\f")
		if end < 0 {
			break
		}
		if rest[end] == '>' && end > 0 {
			ids = append(ids, rest[:end])
		}
		rest = rest[end:]
	}
	if len(ids) > 0 {
		return dedupe(ids)
	}
	for _, tok := range strings.FieldsFunc(v, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '"' || r == '\''
	}) {
		tok = strings.Trim(tok, "<>")
		if strings.Contains(tok, "@") {
			ids = append(ids, tok)
		}
	}
	return dedupe(ids)
}

// dedupe removes repeated strings, keeping the first of each, in linear time
// (a hostile message may carry hundreds of thousands of ids).
func dedupe(list []string) []string {
	if len(list) < 2 {
		return list
	}
	seen := make(map[string]bool, len(list))
	out := list[:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

var (
	commentRE    = regexp.MustCompile(`\([^()]*\)`)
	dateFallback = []string{
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04 -0700",
		"Mon, 2 Jan 2006 15:04:05",
		"Mon, 2 Jan 06 15:04:05 -0700",
		"Mon Jan 2 15:04:05 2006",
		"Mon Jan 2 15:04:05 MST 2006",
		"Mon, 2 Jan 2006 15:04:05 MST",
		time.RFC3339,
	}
)

// parseDate reads an RFC 5322 date, retrying without comments and with a few
// layouts seen from old or broken software.
func parseDate(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := mail.ParseDate(v); err == nil {
		return t, nil
	}
	clean := commentRE.ReplaceAllString(v, " ")
	if i := strings.LastIndexByte(clean, '('); i >= 0 {
		clean = clean[:i] // a comment never closed
	}
	clean = strings.Join(strings.Fields(clean), " ")
	if t, err := mail.ParseDate(clean); err == nil {
		return t, nil
	}
	for _, layout := range dateFallback {
		if t, err := time.Parse(layout, clean); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("replies: unparsable date %q", v)
}
