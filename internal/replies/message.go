package replies

import (
	"bytes"
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
	m := &Message{Size: len(raw)}
	// One line-ending convention makes every later step simpler.
	norm := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))

	h, body, ok := readHeader(norm, false, &m.Problems)
	if !ok {
		return nil, fmt.Errorf("%w: no header block in %d bytes", ErrNotMail, len(raw))
	}
	m.Header = h
	m.parseHeaderFields()
	m.root = parsePart(h, body, 0, &m.Problems)
	m.Text = bodyText(m.root)
	m.NewText, m.Quoted = splitQuote(m.Text)
	return m, nil
}

func (m *Message) parseHeaderFields() {
	h := m.Header
	if ids := parseMsgIDs(h.Get("Message-ID")); len(ids) > 0 {
		m.MessageID = ids[0]
	} else if v := strings.Trim(strings.TrimSpace(h.Get("Message-ID")), "<>"); v != "" {
		m.MessageID = v
	}
	m.InReplyTo = parseMsgIDs(strings.Join(h.Values("In-Reply-To"), " "))
	m.References = parseMsgIDs(strings.Join(h.Values("References"), " "))

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
	m.DeliveredTo = dedupe(append(m.addressField("Delivered-To"), m.addressField("X-Original-To")...))

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
	return dedupe(out)
}

// bodyText picks the text a person would read: the first inline text/plain
// part with content, else the first HTML part rendered as text. Returned
// originals inside message/rfc822 parts are not the sender's text.
func bodyText(root *part) string {
	var plain, htmlText string
	root.walk(func(p *part) bool {
		if p.isAttachment() && p != root {
			return true
		}
		switch p.mediaType {
		case "text/plain":
			if plain == "" && strings.TrimSpace(string(p.body)) != "" {
				plain = string(p.body)
			}
		case "text/html":
			if htmlText == "" {
				htmlText = htmlToText(string(p.body))
			}
		}
		return plain == ""
	})
	if plain == "" {
		plain = htmlText
	}
	return strings.TrimRight(plain, " \t\n")
}
