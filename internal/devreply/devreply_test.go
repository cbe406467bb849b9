package devreply

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/replies"
)

func TestRepliesAreRecognised(t *testing.T) {
	sent := time.Date(2017, 7, 25, 13, 0, 0, 0, time.UTC)
	for _, lang := range []string{"en", "it", "fr"} {
		l := Letter{MessageID: "w1-t17.abc@outreach.example", Subject: "Votre jumelage avec Busan et Seoul [ref W1-T17]",
			Text: "Madame, Monsieur,\n\nNous vous écrivons.\n", SentAt: sent, FromName: "Sister City Campaign",
			From: "campaign@outreach.example", ReplyTo: "replies+w1-t17.abc@outreach.example",
			To: "maire@montreal.example", ToName: "Cabinet de la mairie de Montréal, Québec", Language: lang}
		at := sent.Add(48 * time.Hour)
		for _, tc := range []struct {
			name              string
			raw               []byte
			kind              replies.Kind
			permanent, delays bool
		}{
			{"human", Human(l, at), replies.Human, false, false},
			{"auto", AutoReply(l, at), replies.AutoReply, false, false},
			{"bounce", Bounce(l, at), replies.Bounce, true, false},
			{"delay", DelayWarning(l, at), replies.Bounce, false, true},
		} {
			t.Run(lang+"/"+tc.name, func(t *testing.T) {
				m, err := replies.Parse(tc.raw)
				if err != nil {
					t.Fatal(err)
				}
				if len(m.Problems) > 0 {
					t.Errorf("problems %v in\n%s", m.Problems, tc.raw)
				}
				v := replies.Classify(m)
				if v.Kind != tc.kind {
					t.Fatalf("classified %s (%s), want %s", v.Kind, v.Reason, tc.kind)
				}
				switch tc.kind {
				case replies.Bounce:
					b := v.Bounce
					if b.Permanent != tc.permanent || b.Delayed != tc.delays || !slices.Contains(b.Recipients, l.To) ||
						b.OriginalMessageID != l.MessageID {
						t.Errorf("bounce %+v", b)
					}
				default:
					if !slices.Equal(m.InReplyTo, []string{l.MessageID}) || m.From != l.To ||
						!slices.Contains(m.To, l.ReplyTo) || !strings.Contains(m.Subject, "[ref W1-T17]") {
						t.Errorf("headers: from %s to %v in-reply-to %v subject %q", m.From, m.To, m.InReplyTo, m.Subject)
					}
				}
				if tc.kind == replies.Human && (strings.Contains(m.NewText, "Nous vous écrivons") || !strings.Contains(m.Quoted, "Nous vous écrivons")) {
					t.Errorf("the letter is not quoted below the answer:\nnew %q\nquoted %q", m.NewText, m.Quoted)
				}
			})
		}
	}
}
