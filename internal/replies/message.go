package replies

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotMail is returned (wrapped) by Parse for input that has no header
// block at all.
var ErrNotMail = errors.New("replies: not a mail message")

// Message is a parsed e-mail with the fields the campaign needs.
type Message struct {
	MessageID   string   // without angle brackets
	InReplyTo   []string // ids without angle brackets
	References  []string
	From        string // address, lower-cased
	FromName    string
	To, Cc      []string // addresses, lower-cased
	DeliveredTo []string // Delivered-To and X-Original-To addresses, lower-cased
	Subject     string   // RFC 2047 decoded
	Date        time.Time
	Header      Header

	// Text is the body as plain text: the text/plain part when there is one,
	// else the HTML part turned into text; always UTF-8.
	Text string
	// NewText is what the sender wrote above the quoted original (plus any
	// answers written between ">" quotes), trimmed of surrounding blank lines
	// and of mobile "Sent from my ..." signatures.
	NewText string
	// Quoted is the text from the first quote marker on (may be empty).
	Quoted string

	Size     int      // bytes of raw input
	Problems []string // what was malformed, for logs; never fatal

	root *part // the MIME tree, kept for classification
}

// Parse reads a raw message (CRLF or LF line ends). It never panics and
// returns an error only when the input has no header block; anything
// malformed after that is parsed best effort and noted in Message.Problems.
func Parse(raw []byte) (*Message, error) {
	return ParseContext(context.Background(), raw)
}

// ParseContext is Parse that gives up, with an error wrapping ctx.Err(), once
// ctx ends. Whatever the input, parsing takes time and memory in proportion
// to its size: what grows with it is capped (see the limits below), so a
// deadline is a last resort rather than the only defence.
func ParseContext(ctx context.Context, raw []byte) (*Message, error) {
	m := &Message{Size: len(raw)}
	// One line-ending convention makes every later step simpler.
	norm := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))

	h, body, ok := readHeader(norm, false, &m.Problems)
	if !ok {
		return nil, fmt.Errorf("%w: no header block in %d bytes", ErrNotMail, len(raw))
	}
	m.Header = h
	m.parseHeaderFields()
	ps := &parser{stop: interrupt{ctx: ctx}, problems: &m.Problems, budget: decodeBudget(len(raw))}
	m.root = ps.parsePart(h, body, 0)
	m.Text = bodyText(ctx, m.root)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("replies: parse %d bytes: %w", len(raw), err)
	}
	m.NewText, m.Quoted = splitQuote(m.Text)
	return m, nil
}

// Limits on what grows with a message. Real mail stays far below each; a
// message past one is read as far as the limit and the rest noted in
// Problems, so that no message costs more than a few times its size.
const (
	// maxAddresses bounds the addresses read per address list (To, Cc,
	// Delivered-To, a bounce's failed recipients, a notice's text), and
	// maxIDs the ids per In-Reply-To or References: each may cost a store
	// lookup or a signature check. A reply names a few; a thread's
	// References rarely a dozen.
	maxAddresses = 50
	maxIDs       = 20
	// maxParts bounds the MIME parts read in one message.
	maxParts = 100
	// maxHeaderFields and maxFieldBytes bound one header block.
	maxHeaderFields = 500
	maxFieldBytes   = 64 << 10
)

// decodeBudget is how many bytes decoding (base64, quoted-printable,
// charsets) may produce for a message of n bytes: enough for every part of
// a real message once, with room for Latin-1 text growing as UTF-8, but not
// for a hostile one that nests encodings to be decoded again at each level.
func decodeBudget(n int) int { return 3*n + 1<<20 }

// interrupt checks a context every so often: cheap enough for the inner
// loops of parsing, and sticky once the context has ended.
type interrupt struct {
	ctx   context.Context
	calls int
	done  bool
}

// now reports whether the work should stop.
func (i *interrupt) now() bool {
	if i.done {
		return true
	}
	i.calls++
	if i.calls%512 == 0 && i.ctx != nil && i.ctx.Err() != nil {
		i.done = true
	}
	return i.done
}

func (m *Message) parseHeaderFields() {
	h := m.Header
	if ids := parseMsgIDs(h.Get("Message-ID")); len(ids) > 0 {
		m.MessageID = ids[0]
	} else if v := strings.Trim(strings.TrimSpace(h.Get("Message-ID")), "<>"); v != "" {
		m.MessageID = v
	}
	m.InReplyTo = capIDs(parseMsgIDs(strings.Join(h.Values("In-Reply-To"), " ")))
	m.References = capIDs(parseMsgIDs(strings.Join(h.Values("References"), " ")))

	if v := h.Get("From"); v != "" {
		addrs, ok := parseAddresses(v)
		if !ok {
			addProblem(&m.Problems, "unparsable From")
		}
		if len(addrs) > 0 {
			m.From, m.FromName = addrs[0].Addr, addrs[0].Name
		}
	}
	m.To = m.addressField("To")
	m.Cc = m.addressField("Cc")
	m.DeliveredTo = capList(dedupe(append(m.addressField("Delivered-To"), m.addressField("X-Original-To")...)), maxAddresses)

	if v := h.Get("Subject"); v != "" {
		s, err := decodeHeaderText(v)
		if err != nil {
			addProblem(&m.Problems, "malformed encoded word in Subject")
		}
		m.Subject = strings.TrimSpace(s)
	}
	if v := h.Get("Date"); strings.TrimSpace(v) != "" {
		t, err := parseDate(v)
		if err != nil {
			addProblem(&m.Problems, "unparsable Date")
		}
		m.Date = t
	}
}

func (m *Message) addressField(name string) []string {
	var out []string
	for _, v := range m.Header.Values(name) {
		addrs, ok := parseAddresses(v)
		if !ok {
			addProblem(&m.Problems, "unparsable "+name)
		}
		for _, a := range addrs {
			if a.Addr != "" {
				out = append(out, a.Addr)
			}
		}
	}
	return capList(dedupe(out), maxAddresses)
}

// capList keeps the first n entries of list.
func capList(list []string, n int) []string {
	if len(list) > n {
		return list[:n:n]
	}
	return list
}

// capIDs keeps the first and the last ids of a long list: References
// names the thread's first message first and the parent last, and either
// may be one of our letters.
func capIDs(ids []string) []string {
	if len(ids) <= maxIDs {
		return ids
	}
	half := maxIDs / 2
	return append(ids[:half:half], ids[len(ids)-half:]...)
}

// bodyText picks the text a person would read: the first inline text/plain
// part with content, else the first HTML part rendered as text. Returned
// originals inside message/rfc822 parts are not the sender's text.
func bodyText(ctx context.Context, root *part) string {
	var plain []byte
	var htmlPart *part
	root.walk(func(p *part) bool {
		if p.isAttachment() && p != root {
			return true
		}
		switch p.mediaType {
		case "text/plain":
			if plain == nil && len(bytes.TrimSpace(p.body)) > 0 {
				plain = p.body
			}
		case "text/html":
			if htmlPart == nil {
				htmlPart = p
			}
		}
		return plain == nil
	})
	if plain == nil && htmlPart != nil {
		return strings.TrimRight(htmlPart.text(ctx), " \t\n")
	}
	return string(bytes.TrimRight(plain, " \t\n"))
}
