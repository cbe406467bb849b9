package replies

import (
	"html"
	"strings"
	"unicode"
)

// htmlToText renders an HTML body as plain text, well enough to read a reply
// and find its quote: block elements become line breaks and <blockquote>
// content gets ">" prefixes, so HTML-only replies split like plain ones.
// It is a small tolerant scanner rather than a full HTML parser: mail HTML is
// often broken, and only the text matters here.
func htmlToText(s string) string {
	var w htmlWriter
	for i := 0; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			w.text(s[i:])
			break
		}
		w.text(s[i : i+lt])
		i += lt
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		gt := strings.IndexByte(s[i:], '>')
		if gt < 0 {
			w.text(s[i:])
			break
		}
		raw := s[i+1 : i+gt]
		name, closing, ok := htmlTagName(raw)
		if !ok {
			// A literal "<" in text, e.g. "a < b".
			w.text("<")
			i++
			continue
		}
		i += gt + 1
		switch name {
		case "script", "style", "head", "title", "xml":
			if !closing {
				// Skip to the matching end tag.
				end := indexFold(s[i:], "</"+name)
				if end < 0 {
					i = len(s)
					continue
				}
				i += end
			}
		case "br":
			w.newline()
		case "p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr":
			w.paragraph()
		case "div", "tr", "dt", "dd", "pre", "center", "address", "section",
			"article", "header", "footer", "form", "caption", "tbody", "thead":
			w.newline()
		case "li":
			w.newline()
			if !closing {
				w.text("- ")
			}
		case "td", "th":
			w.space()
		case "blockquote":
			w.newline()
			if closing {
				if w.depth > 0 {
					w.depth--
				}
			} else {
				w.depth++
			}
		}
	}
	w.newline()
	return strings.TrimRight(w.out.String(), "\n")
}

// htmlTagName returns the lower-cased element name of a tag body such as
// "/div" or "a href=...". ok is false for text that only looks like a tag.
func htmlTagName(raw string) (name string, closing, ok bool) {
	if strings.HasPrefix(raw, "/") {
		closing = true
		raw = raw[1:]
	}
	if strings.HasPrefix(raw, "!") || strings.HasPrefix(raw, "?") {
		return "!", false, true // doctype, CDATA, processing instructions
	}
	end := 0
	for end < len(raw) && (raw[end] >= 'a' && raw[end] <= 'z' || raw[end] >= 'A' && raw[end] <= 'Z' ||
		end > 0 && (raw[end] >= '0' && raw[end] <= '9' || raw[end] == ':' || raw[end] == '-')) {
		end++
	}
	if end == 0 {
		return "", false, false
	}
	return strings.ToLower(raw[:end]), closing, true
}

func indexFold(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return i
		}
	}
	return -1
}

type htmlWriter struct {
	out          strings.Builder
	line         strings.Builder
	lineDepth    int // quote depth of the line being built
	depth        int // current <blockquote> depth
	pendingSpace bool
	blank        bool // the last line written was blank
}

func (w *htmlWriter) text(t string) {
	if t == "" {
		return
	}
	for _, r := range html.UnescapeString(t) {
		if unicode.IsSpace(r) || r == '\u00a0' {
			w.pendingSpace = true
			continue
		}
		if w.line.Len() == 0 {
			w.lineDepth = w.depth
		} else if w.pendingSpace {
			w.line.WriteByte(' ')
		}
		w.pendingSpace = false
		w.line.WriteRune(r)
	}
}

func (w *htmlWriter) space() { w.pendingSpace = true }

func (w *htmlWriter) newline() {
	w.pendingSpace = false
	if w.line.Len() == 0 {
		return
	}
	w.out.WriteString(quotePrefix(w.lineDepth))
	w.out.WriteString(w.line.String())
	w.out.WriteByte('\n')
	w.line.Reset()
	w.blank = false
}

func (w *htmlWriter) paragraph() {
	w.newline()
	if w.out.Len() > 0 && !w.blank {
		w.out.WriteString(strings.TrimSpace(quotePrefix(w.depth)))
		w.out.WriteByte('\n')
		w.blank = true
	}
}

// maxQuotePrefix bounds the ">" written per line: real threads nest a few
// levels, and hostile HTML nesting thousands deep must not make the output
// grow with the square of its size.
const maxQuotePrefix = 8

func quotePrefix(depth int) string {
	if depth <= 0 {
		return ""
	}
	return strings.Repeat(">", min(depth, maxQuotePrefix)) + " "
}
