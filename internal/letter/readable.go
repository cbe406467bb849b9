package letter

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// readableHeaders are the headers a person checking a letter reads, in the
// order shown; the others (MIME-Version, X-Mailer ...) are left out.
var readableHeaders = []string{"Date", "From", "Reply-To", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References"}

// Readable writes a composed message as a person reads it: the headers
// that matter, decoded (RFC 2047), then each part, decoded from
// quoted-printable or base64, under a line naming its type. It reads the
// MIME itself, not the templates, so it shows what would be sent.
func Readable(w io.Writer, raw io.Reader) error {
	msg, err := mail.ReadMessage(bufio.NewReader(raw))
	if err != nil {
		return fmt.Errorf("letter: read message: %w", err)
	}
	dec := mime.WordDecoder{}
	width := 0
	for _, name := range readableHeaders {
		width = max(width, len(name))
	}
	for _, name := range readableHeaders {
		v := msg.Header.Get(name)
		if v == "" {
			continue
		}
		if d, err := dec.DecodeHeader(v); err == nil {
			v = d
		}
		fmt.Fprintf(w, "%-*s %s\n", width+1, name+":", v)
	}
	return readablePart(w, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
}

func readablePart(w io.Writer, contentType, encoding string, body io.Reader) error {
	if contentType == "" {
		contentType = "text/plain; charset=us-ascii"
	}
	media, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("letter: content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(media, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			// NextRawPart: the transfer encoding is decoded below, the
			// same way for every part.
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("letter: %s part: %w", media, err)
			}
			if err := readablePart(w, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		// The decoder skips the line breaks itself.
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("letter: decode %s part: %w", media, err)
	}
	// Lines end as on the terminal, not as on the wire.
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	label := media
	if cs := params["charset"]; cs != "" {
		label += "; charset=" + cs
	}
	fmt.Fprintf(w, "\n--- %s ---\n%s", label, b)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		fmt.Fprintln(w)
	}
	return nil
}
