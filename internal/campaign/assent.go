package campaign

import (
	"bytes"
	"mime"
	"mime/quotedprintable"
	"strings"
)

// AsSent is a letter as it left: kept when it was marked sending, so that
// nothing renders a sent letter again from templates edited since.
type AsSent struct {
	// Subject and Text are the letter's subject and plain-text part.
	Subject string
	Text    string
	// Message is the whole MIME message as written, or, when that was
	// larger than MaxAsSent, its header section and text part only (Whole
	// is then false).
	Message []byte
	Whole   bool
}

// MaxAsSent is the largest message kept whole.
const MaxAsSent = 64 << 10

// Erased stands where erased personal data was.
const Erased = "[erased]"

// Shrunk is a with its message cut to the header section (its subject
// Subject, its content type plain text) and the text part Text.
func (a AsSent) Shrunk() AsSent {
	head, _, _ := bytes.Cut(a.Message, []byte("\r\n\r\n"))
	var out bytes.Buffer
	skip := false
	for line := range strings.SplitSeq(string(head), "\r\n") {
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' { // a folded field goes on
			if !skip {
				out.WriteString(line + "\r\n")
			}
			continue
		}
		name, _, _ := strings.Cut(line, ":")
		skip = strings.EqualFold(name, "Content-Type") || strings.EqualFold(name, "Content-Transfer-Encoding") ||
			strings.EqualFold(name, "Subject")
		if !skip {
			out.WriteString(line + "\r\n")
		}
	}
	out.WriteString("Subject: " + mime.QEncoding.Encode("UTF-8", a.Subject) + "\r\n")
	out.WriteString("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	// Quoted-printable, as the letters are written: the copy may go out
	// again, to a server that takes 7-bit text only.
	qp := quotedprintable.NewWriter(&out)
	qp.Write([]byte(strings.ReplaceAll(a.Text, "\r\n", "\n"))) // writing to a bytes.Buffer cannot fail
	qp.Close()
	a.Message, a.Whole = out.Bytes(), false
	return a
}

// Without is a with each of secrets (a supporter's name, address and
// message) replaced by Erased in its subject, text and headers, its message
// shrunk to those (an encoded part or an attachment could hold a secret in
// a form no search finds).
func (a AsSent) Without(secrets ...string) AsSent {
	var pairs []string
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		pairs = append(pairs, s, Erased)
		if strings.Contains(s, "\n") {
			// The text part may have either line ending.
			pairs = append(pairs, strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n"), Erased)
			pairs = append(pairs, strings.ReplaceAll(s, "\r\n", "\n"), Erased)
		}
	}
	if len(pairs) == 0 {
		return a
	}
	r := strings.NewReplacer(pairs...)
	a.Subject, a.Text = r.Replace(a.Subject), r.Replace(a.Text)
	// The header section is searched as written; the text part is written
	// anew from the text searched above.
	head, body, _ := bytes.Cut(a.Message, []byte("\r\n\r\n"))
	a.Message = append([]byte(r.Replace(string(head))+"\r\n\r\n"), body...)
	return a.Shrunk()
}
