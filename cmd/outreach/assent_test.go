package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/replies"
)

// rewrittenAppeal replaces the English appeal after the wave: a letter
// that shares no sentence with the one sent.
const rewrittenAppeal = `{{define "kind"}}wave{{end}}
{{define "subject"}}A new appeal about {{list .PartnerNames}} [ref {{.Ref}}]{{end}}
{{define "text"}}
Hello {{.Place}}. This text was written after the wave went out.
{{end}}
{{define "html"}}<p>Hello {{.Place}}. This text was written after the wave went out.</p>{{end}}
`

// TestMatcherReadsTheLetterAsSent: the appeal is rewritten after a wave
// (letters.templates_dir); a reply that quotes the letter as it was sent,
// with nothing signed, is still matched by its quote, because the matcher
// reads the copy kept when the letter left.
func TestMatcherReadsTheLetterAsSent(t *testing.T) {
	c, sink, d, _, stop, letters := sentCanadaWave(t)
	stop()
	var ottawa campaign.Letter
	for _, l := range letters {
		if l.Email == "mayor@ottawa.example" {
			ottawa = l
		}
	}
	var sent *replies.Message
	for _, m := range sink.Messages() {
		if m.To[0] == ottawa.Email {
			var err error
			if sent, err = replies.Parse(m.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if sent == nil {
		t.Fatal("the SMTP server got no letter to Ottawa")
	}

	dir := filepath.Join(c.dir, "templates")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "appeal.en.tmpl"), []byte(rewrittenAppeal), 0o644); err != nil {
		t.Fatal(err)
	}
	c.env = append(c.env, "OUTREACH_LETTERS_TEMPLATES_DIR="+dir)

	// Ottawa answers from Outlook, which kept neither the subject's
	// reference nor In-Reply-To: only the quote says which letter.
	now := time.Now()
	d.Append(t, "INBOX", []byte("From: Office of the Mayor <mayor@ottawa.example>\r\nTo: campaign@outreach.example\r\n"+
		"Subject: RE: your letter\r\nDate: "+now.Format(time.RFC1123Z)+"\r\nMessage-ID: <ottawa-2@ottawa.example>\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\n"+
		"The Mayor has read your letter.\r\n\r\n________________________________\r\n"+
		"From: Sister City Campaign <campaign@outreach.example>\r\nSent: "+ottawa.SentAt.Format("Monday, January 2, 2006 3:04 PM")+"\r\n"+
		"To: Office of the Mayor <mayor@ottawa.example>\r\nSubject: your letter\r\n\r\n"+
		strings.ReplaceAll(sent.Text, "\n", "\r\n")))
	_, stop = c.background("run")
	defer stop()
	var rs []campaign.Reply
	waitFor(t, 60*time.Second, "the reply recorded", func() bool {
		c.jsonOut(&rs, "replies", "list", "--json")
		return len(rs) == 1
	})
	r := rs[0]
	quoted := slices.ContainsFunc(r.Signals, func(s campaign.Signal) bool {
		return s.Name == replies.SignalQuotedLetter && s.LetterID == ottawa.ID
	})
	if r.LetterID != ottawa.ID || !quoted {
		t.Errorf("reply matched to %q with signals %+v, want %s by its quote", r.LetterID, r.Signals, ottawa.ID)
	}
}
