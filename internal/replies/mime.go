package replies

import (
	"bytes"
	"encoding/base64"
	"io"
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

// parsePart builds the MIME tree for one entity. Problems found on the way are
// recorded; nothing here fails, the worst case is an opaque text/plain part.
func parsePart(h Header, body []byte, depth int, problems *[]string) *part {
	p := &part{header: h}
	ct := h.Get("Content-Type")
	p.mediaType, p.params = parseMediaTypeLenient(ct)
	if p.mediaType == "" || !strings.Contains(p.mediaType, "/") {
		if ct != "" {
			addProblem(problems, "unparsable Content-Type")
		}
		p.mediaType = "text/plain"
	}
	if depth >= maxDepth {
		addProblem(problems, "MIME nesting too deep")
		p.mediaType = "application/octet-stream"
		p.body = body
		return p
	}

	switch {
	case strings.HasPrefix(p.mediaType, "multipart/"):
		// RFC 2046 allows only identity encodings on multiparts, but some
		// senders base64 the whole thing anyway.
		body = decodeTransfer(h.Get("Content-Transfer-Encoding"), body, problems)
		boundary := p.params["boundary"]
		if boundary == "" {
			addProblem(problems, "multipart without boundary")
			p.mediaType = "text/plain"
			p.body = decodeCharset(p.params["charset"], body, problems)
			return p
		}
		raws, found := splitMultipart(body, boundary, problems)
		if !found {
			addProblem(problems, "multipart boundary never appears")
			p.mediaType = "text/plain"
			p.body = decodeCharset(p.params["charset"], body, problems)
			return p
		}
		for _, raw := range raws {
			ch, cb, _ := readHeader(raw, true, problems)
			p.children = append(p.children, parsePart(ch, cb, depth+1, problems))
		}
	case p.mediaType == "message/rfc822" || p.mediaType == "message/global" ||
		p.mediaType == "message/rfc822-headers" || p.mediaType == "text/rfc822-headers" ||
		p.mediaType == "message/global-headers":
		body = decodeTransfer(h.Get("Content-Transfer-Encoding"), body, problems)
		p.body = body
		// Returned originals are often indented or start with a blank line.
		eh, eb, ok := readHeader(bytes.TrimLeft(body, " \t\n"), false, nil)
		if ok {
			if strings.HasSuffix(p.mediaType, "-headers") {
				eb = nil
			}
			p.embedded = parsePart(eh, eb, depth+1, problems)
		}
	default:
		body = decodeTransfer(h.Get("Content-Transfer-Encoding"), body, problems)
		if strings.HasPrefix(p.mediaType, "text/") || strings.HasPrefix(p.mediaType, "message/") {
			body = decodeCharset(p.params["charset"], body, problems)
		}
		p.body = body
	}
	return p
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

// splitMultipart returns the raw parts between boundary lines. found is
// false when no boundary line occurs at all. A missing closing boundary is
// tolerated: the last part runs to the end.
func splitMultipart(body []byte, boundary string, problems *[]string) (parts [][]byte, found bool) {
	delim := []byte("--" + boundary)
	var cur []byte
	inPart := false
	closed := false
	start := 0
	for start <= len(body) && !closed {
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
				if inPart {
					parts = append(parts, trimFinalNewline(cur))
				}
				cur = nil
				inPart = true
				if len(rest) == 2 {
					closed = true
					inPart = false
				}
				start = next
				continue
			}
		}
		if inPart {
			cur = append(cur, line...)
			if end >= 0 {
				cur = append(cur, '\n')
			}
		}
		start = next
	}
	if inPart {
		addProblem(problems, "multipart not closed")
		parts = append(parts, cur)
	}
	if len(parts) > 1000 {
		parts = parts[:1000]
	}
	return parts, found
}

// trimFinalNewline drops the line break that belongs to the next boundary.
func trimFinalNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		return b[:n-1]
	}
	return b
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
	out, err := io.ReadAll(r)
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
