package replies

import (
	"context"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// htmlToText renders an HTML body as plain text, well enough to read a reply
// and find its quote: block elements become line breaks and <blockquote>
// content gets ">" prefixes, so HTML-only replies split like plain ones.
// x/net/html's tokenizer reads the markup: it is tolerant of the broken HTML
// mail carries, reads quoted attribute values whole (a ">" inside one is not
// text), and takes one pass over its input whatever it holds, which a
// hand-written scan looking ahead for ">" did not on a flood of "<".
// It stops early, with what it has, once ctx ends.
func htmlToText(ctx context.Context, s string) string {
	stop := interrupt{ctx: ctx}
	w := htmlWriter{stop: &stop}
	// The tokenizer reads text between tags as one token, however long: it
	// is given a reader that fails once ctx ends, so that it stops too.
	z := html.NewTokenizer(ctxReader{ctx, strings.NewReader(s)})
	skip := "" // an element whose content is not text (script, style, ...)
	for !stop.now() {
		tt := z.Next()
		if tt == html.ErrorToken {
			break // io.EOF, or input the tokenizer gave up on
		}
		if skip != "" {
			if tt == html.EndTagToken {
				if name, _ := z.TagName(); string(name) == skip {
					skip = ""
				}
			}
			continue
		}
		switch tt {
		case html.TextToken:
			w.text(z.Text())
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			// A map lookup with string(name) does not copy the name: a
			// flood of tags costs no allocation per tag.
			k, known := tagKinds[string(name)]
			switch {
			case !known:
			case k.layout == tagSkip:
				if tt == html.StartTagToken {
					skip = k.name
				}
			default:
				w.tag(k, tt == html.EndTagToken)
			}
		}
	}
	w.newline()
	return strings.TrimRight(w.out.String(), "\n")
}

// tagKind is what an element means for the text.
type tagKind struct {
	layout int
	name   string
}

// The layouts of the elements that shape the text; others are ignored.
const (
	tagSkip      = iota + 1 // its content is not text: skipped to its end tag
	tagBreak                // a line break
	tagParagraph            // a blank line around it
	tagBlock                // a line of its own
	tagItem                 // a list item: a line starting with "- "
	tagCell                 // a table cell: a space
	tagQuote                // a quote: its lines get ">" prefixes
)

var tagKinds = func() map[string]tagKind {
	m := map[string]tagKind{}
	for layout, names := range map[int][]string{
		tagSkip:      {"script", "style", "head", "title", "xml"},
		tagBreak:     {"br"},
		tagParagraph: {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr"},
		tagBlock: {"div", "tr", "dt", "dd", "pre", "center", "address", "section",
			"article", "header", "footer", "form", "caption", "tbody", "thead"},
		tagItem:  {"li"},
		tagCell:  {"td", "th"},
		tagQuote: {"blockquote"},
	} {
		for _, n := range names {
			m[n] = tagKind{layout: layout, name: n}
		}
	}
	return m
}()

// tag writes the line structure an element stands for.
func (w *htmlWriter) tag(k tagKind, closing bool) {
	switch k.layout {
	case tagBreak:
		w.newline()
	case tagParagraph:
		w.paragraph()
	case tagBlock:
		w.newline()
	case tagItem:
		w.newline()
		if !closing {
			w.text([]byte("- "))
		}
	case tagCell:
		w.space()
	case tagQuote:
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

// ctxReader is r until ctx ends, then an error.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type htmlWriter struct {
	stop         *interrupt
	out          strings.Builder
	line         strings.Builder
	lineDepth    int // quote depth of the line being built
	depth        int // current <blockquote> depth
	pendingSpace bool
	blank        bool // the last line written was blank
}

// text writes text already unescaped (the tokenizer decodes entities),
// folding white space.
func (w *htmlWriter) text(t []byte) {
	for len(t) > 0 && !w.stop.now() {
		r, n := utf8.DecodeRune(t)
		t = t[n:]
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
