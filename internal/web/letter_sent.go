package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"strings"
)

// sentHTML shows the HTML part of letter id as it was sent.
func (s *Server) sentHTML(w http.ResponseWriter, r *http.Request, id string) {
	sent, err := s.staff.Store.LetterAsSent(r.Context(), id)
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	html, err := htmlPart(sent.Message)
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	if html == nil {
		s.staffError(w, r, http.StatusNotFound, "This letter was kept without its HTML part.")
		return
	}
	writeLetterHTML(w, html)
}

// writeLetterHTML writes a letter's HTML part in a page that may run
// nothing and load nothing.
func writeLetterHTML(w http.ResponseWriter, html []byte) {
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(html)
}

// htmlPart is the decoded text/html part of a MIME message, or nil if it
// has none.
func htmlPart(raw []byte) ([]byte, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("read the letter as sent: %w", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return nil, nil // a single part: the text, kept without its HTML
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read the letter as sent: %w", err)
		}
		if pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt == "text/html" {
			return io.ReadAll(p)
		}
	}
}
