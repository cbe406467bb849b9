package replies

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
)

// maxDepth bounds MIME nesting. Real mail rarely goes past 5 levels (a bounce
// returning a multipart message is about 4); the bound keeps hostile input
// from recursing without limit.
const maxDepth = 16

// part is one node of the MIME tree. The tree is kept whole (not just the
// text) because classification needs the machine-readable parts: delivery
// reports, returned messages, disposition notifications.
type part struct {
	header    Header
	mediaType string // lower-case; "text/plain" when absent
	params    map[string]string
	body      []byte  // transfer-decoded; text/* is also converted to UTF-8
	children  []*part // multipart/*
	embedded  *part   // message/rfc822, message/global, */rfc822-headers

	// html is the body of a text/html part as text, converted once: the
	// body text, a bounce's notice and its returned original all read it.
	html     string
	htmlDone bool
}

// text returns an HTML part's body as plain text.
func (p *part) text(ctx context.Context) string {
	if !p.htmlDone {
		p.html, p.htmlDone = htmlToText(ctx, string(p.body)), true
	}
	return p.html
}

// walk visits p and its descendants depth first. It does not enter embedded
// messages: their text is the returned original, not what the sender of this
// message wrote; callers that want it look at part.embedded. visit returns
// false to stop.
func (p *part) walk(visit func(*part) bool) bool {
	if p == nil {
		return true
	}
	if !visit(p) {
		return false
	}
	for _, c := range p.children {
		if !c.walk(visit) {
			return false
		}
	}
	return true
}

func (p *part) isAttachment() bool {
	disp, params := parseMediaTypeLenient(p.header.Get("Content-Disposition"))
	if disp == "attachment" {
		return true
	}
	// A named text part is usually an attached file, not the message text.
	return params["filename"] != "" && disp != "inline"
}

var problemManyParts = fmt.Sprintf("more than %d MIME parts: the rest not read", maxParts)

// parser is the state of one Parse: where problems go, and what is left of
// the limits on parts and decoded bytes.
type parser struct {
	stop     interrupt
	problems *[]string
	parts    int
	budget   int // bytes decoding may still produce (decodeBudget)
}

// parsePart builds the MIME tree for one entity. Problems found on the way are
// recorded; nothing here fails, the worst case is an opaque text/plain part.
// Bodies are slices of the message, not copies: only decoding makes new
// bytes, and decoding is limited by the budget.
func (ps *parser) parsePart(h Header, body []byte, depth int) *part {
	ps.parts++
	p := &part{header: h}
	ct := h.Get("Content-Type")
	p.mediaType, p.params = parseMediaTypeLenient(ct)
	if p.mediaType == "" || !strings.Contains(p.mediaType, "/") {
		if ct != "" {
			addProblem(ps.problems, "unparsable Content-Type")
		}
		p.mediaType = "text/plain"
	}
	if depth >= maxDepth {
		addProblem(ps.problems, "MIME nesting too deep")
		p.mediaType = "application/octet-stream"
		p.body = body
		return p
	}

	switch {
	case strings.HasPrefix(p.mediaType, "multipart/"):
		// RFC 2046 allows only identity encodings on multiparts, but some
		// senders base64 the whole thing anyway.
		body = ps.decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
		boundary := p.params["boundary"]
		if boundary == "" {
			addProblem(ps.problems, "multipart without boundary")
			p.mediaType = "text/plain"
			p.body = ps.decodeCharset(p.params["charset"], body)
			return p
		}
		raws, found := splitMultipart(body, boundary, ps.problems, &ps.stop)
		if !found {
			addProblem(ps.problems, "multipart boundary never appears")
			p.mediaType = "text/plain"
			p.body = ps.decodeCharset(p.params["charset"], body)
			return p
		}
		for _, raw := range raws {
			if ps.parts >= maxParts {
				addProblem(ps.problems, problemManyParts)
				break
			}
			if ps.stop.now() {
				break
			}
			ch, cb, _ := readHeader(raw, true, ps.problems)
			p.children = append(p.children, ps.parsePart(ch, cb, depth+1))
		}
	case p.mediaType == "message/rfc822" || p.mediaType == "message/global" ||
		p.mediaType == "message/rfc822-headers" || p.mediaType == "text/rfc822-headers" ||
		p.mediaType == "message/global-headers":
		body = ps.decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
		p.body = body
		// Returned originals are often indented or start with a blank line.
		eh, eb, ok := readHeader(bytes.TrimLeft(body, " \t\n"), false, nil)
		if ok {
			if strings.HasSuffix(p.mediaType, "-headers") {
				eb = nil
			}
			p.embedded = ps.parsePart(eh, eb, depth+1)
		}
	default:
		body = ps.decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
		if strings.HasPrefix(p.mediaType, "text/") || strings.HasPrefix(p.mediaType, "message/") {
			body = ps.decodeCharset(p.params["charset"], body)
		}
		p.body = body
	}
	return p
}

// decodeTransfer undoes a transfer encoding within the decoding budget.
// Past it the part is left out: its bytes may not be text, and undecoded
// they would only be noise.
func (ps *parser) decodeTransfer(cte string, body []byte) []byte {
	if isIdentity(cte) {
		return body
	}
	if len(body) > ps.budget {
		addProblem(ps.problems, "decoding limit reached: parts left out")
		return nil
	}
	out := decodeTransfer(cte, body, ps.problems)
	ps.budget -= len(out)
	return out
}

// decodeCharset converts text to UTF-8 within the decoding budget. A
// charset decoder may produce up to three bytes per byte read: the budget
// may be overdrawn by one part, and then no other is decoded.
func (ps *parser) decodeCharset(cs string, body []byte) []byte {
	if len(body) > ps.budget && !(isUTF8Name(cs) && utf8.Valid(body)) {
		addProblem(ps.problems, "decoding limit reached: parts left out")
		return nil
	}
	out := decodeCharset(cs, body, ps.problems)
	if len(out) > 0 && len(body) > 0 && &out[0] != &body[0] {
		ps.budget -= len(out)
	}
	return out
}

func isIdentity(cte string) bool {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return true
	}
	return false
}

func isUTF8Name(cs string) bool {
	switch strings.ToLower(strings.Trim(strings.TrimSpace(cs), `"'`)) {
	case "", "us-ascii", "ascii", "utf-8", "utf8":
		return true
	}
	return false
}

// parseMediaTypeLenient is mime.ParseMediaType that still returns what it
// can from the malformed values real servers send (trailing semicolons,
// duplicate or unquoted parameters).
func parseMediaTypeLenient(v string) (string, map[string]string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", map[string]string{}
	}
	mt, params, err := mime.ParseMediaType(v)
	if err == nil {
		return mt, params
	}
	params = map[string]string{}
	pieces := strings.Split(v, ";")
	mt = strings.ToLower(strings.TrimSpace(pieces[0]))
	for _, piece := range pieces[1:] {
		k, val, ok := strings.Cut(piece, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' {
			if j := strings.IndexByte(val[1:], '"'); j >= 0 {
				val = val[1 : j+1]
			} else {
				val = val[1:]
			}
		}
		if _, dup := params[k]; k != "" && !dup {
			params[k] = val
		}
	}
	return mt, params
}

// splitMultipart returns the raw parts between boundary lines, as slices
// of body (copying them would cost the message's size again at every level
// of nesting). found is false when no boundary line occurs at all. A
// missing closing boundary is tolerated: the last part runs to the end.
func splitMultipart(body []byte, boundary string, problems *[]string, stop *interrupt) (parts [][]byte, found bool) {
	delim := []byte("--" + boundary)
	partStart := -1 // offset where the current part began; -1 outside one
	closed := false
	start := 0
	for start <= len(body) && !closed && !stop.now() {
		end := bytes.IndexByte(body[start:], '\n')
		var line []byte
		next := len(body) + 1
		if end < 0 {
			line = body[start:]
		} else {
			line = body[start : start+end]
			next = start + end + 1
		}
		if bytes.HasPrefix(line, delim) {
			rest := bytes.TrimRight(line[len(delim):], " \t\r")
			if len(rest) == 0 || bytes.Equal(rest, []byte("--")) {
				found = true
				if partStart >= 0 {
					// The line break before the boundary belongs to it.
					parts = append(parts, body[partStart:max(partStart, start-1)])
				}
				partStart = next
				if len(rest) == 2 {
					closed = true
					partStart = -1
				}
				start = next
				if len(parts) >= maxParts {
					addProblem(problems, problemManyParts)
					return parts, found
				}
				continue
			}
		}
		start = next
	}
	if partStart >= 0 {
		addProblem(problems, "multipart not closed")
		parts = append(parts, body[min(partStart, len(body)):])
	}
	return parts, found
}

func decodeTransfer(cte string, body []byte, problems *[]string) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return body
	case "quoted-printable":
		return decodeQuotedPrintable(body)
	case "base64":
		return decodeBase64(body, problems)
	default:
		addProblem(problems, "unknown Content-Transfer-Encoding "+strings.ToLower(strings.TrimSpace(cte)))
		return body
	}
}

// decodeQuotedPrintable never fails: a "=" that does not start a valid
// escape is kept literally, which is what mail readers do.
func decodeQuotedPrintable(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		// Soft line break, possibly with trailing whitespace after "=".
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\r') {
			j++
		}
		if j >= len(b) || b[j] == '\n' {
			i = j
			continue
		}
		if i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		out = append(out, c)
	}
	return out
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// decodeBase64 ignores whitespace and stray characters and decodes as much as
// it can, so a truncated attachment still yields its text.
func decodeBase64(b []byte, problems *[]string) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '=':
			// Padding ends the data; anything after is noise.
		}
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	if len(clean)%4 == 1 {
		addProblem(problems, "truncated base64")
		clean = clean[:len(clean)-1]
	}
	n, err := base64.RawStdEncoding.Decode(out, clean)
	if err != nil {
		addProblem(problems, "invalid base64")
	}
	return out[:n]
}

// decodeCharset converts text to UTF-8. Undeclared 8-bit text and unknown
// charsets are read as Windows-1252 rather than dropped.
func decodeCharset(cs string, b []byte, problems *[]string) []byte {
	cs = strings.ToLower(strings.Trim(strings.TrimSpace(cs), `"'`))
	switch cs {
	case "", "us-ascii", "ascii", "utf-8", "utf8":
		if utf8.Valid(b) {
			return b
		}
		if cs != "" {
			addProblem(problems, "text is not valid "+cs)
		}
		return windows1252(b)
	}
	r, err := charset.Reader(cs, bytes.NewReader(b))
	if err != nil {
		addProblem(problems, "unknown charset "+cs)
		if utf8.Valid(b) {
			return b
		}
		return windows1252(b)
	}
	// Sized for the usual case (the text grows a little as UTF-8), so that
	// reading it takes one or two allocations, not one per doubling.
	buf := bytes.NewBuffer(make([]byte, 0, len(b)+len(b)/2+16))
	_, err = buf.ReadFrom(r)
	out := buf.Bytes()
	if err != nil {
		addProblem(problems, "text not decodable as "+cs)
	}
	if !utf8.Valid(out) {
		out = bytes.ToValidUTF8(out, []byte("\uFFFD"))
	}
	return out
}

func windows1252(b []byte) []byte {
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	return out
}
