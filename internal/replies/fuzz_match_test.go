package replies_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/replies"
)

// FuzzParseClassifyMatch feeds arbitrary bytes through the whole reading
// of a message, as the poller does: Parse, Classify and Match against a
// small campaign. None may panic or fail (the lookups here never do), and
// a match must name a letter of the campaign with its own campaigns, a
// confidence between 0 and 1 and signals of known kinds.
func FuzzParseClassifyMatch(f *testing.F) {
	o := newOffices(f)
	mt := o.matcher()
	milan := o.letters["w1-t5"]
	token := o.comp.Signer.Token("w1-t5")
	for _, name := range []string{
		"corpus/bounce/discourse-hard_bounce_via_verp.eml",
		"corpus/bounce/sisimai-lhost-qmail-07.eml",
		"corpus/autoreply/sisimai-rfc3834-02.eml",
		"corpus/human/talon-yahoo.eml",
		"quote/html_only.eml",
		"quote/italian.eml",
	} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	// Messages that reach every signal: our Message-ID, the reply token,
	// the subject reference, an office's address and domain, a bounce of
	// our letter, a quote of it.
	for _, raw := range [][]byte{
		msg("Sì.", "From: sindaco@comune.milano.example", "Subject: Re: [ref W1-T5] appello",
			"In-Reply-To: <"+milan.MessageID+">", "To: replies+"+token+"@outreach.example"),
		msg("Oui.\n\n"+quote(o.rendered(f, "w1-t17").Text), "From: cabinet@montreal.example", "Subject: Re: [ref W1-T17]"),
		msg("--b\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; sindaco@comune.milano.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"+
			"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <"+milan.MessageID+">\r\n--b--",
			"From: MAILER-DAEMON@mx.example", "Subject: Undelivered Mail Returned to Sender",
			"Content-Type: multipart/report; report-type=delivery-status; boundary=b"),
		[]byte("From: a@b\nReferences: <" + milan.MessageID + "> <x@y>\nContent-Type: text/html\n\n<p title=\"a>b\"><<<blockquote>[ref W1-T5]"),
	} {
		f.Add(raw)
	}
	known := map[string]bool{}
	for _, s := range []string{replies.SignalMessageID, replies.SignalReplyToken, replies.SignalBounceOriginal,
		replies.SignalSubjectRef, replies.SignalQuotedLetter, replies.SignalSenderAddress,
		replies.SignalBounceRecipient, replies.SignalSenderDomain} {
		known[s] = true
	}

	f.Fuzz(func(t *testing.T, raw []byte) {
		ctx := context.Background()
		m, err := replies.ParseContext(ctx, raw)
		if err != nil {
			return // no header block: Parse's own fuzz target checks that
		}
		v, err := replies.ClassifyContext(ctx, m)
		if err != nil {
			t.Fatalf("ClassifyContext without a deadline: %v", err)
		}
		match, err := mt.Match(ctx, m, v, sent.Add(time.Hour))
		if err != nil {
			t.Fatalf("Match: %v", err)
		}
		if math.IsNaN(match.Confidence) || match.Confidence < 0 || match.Confidence > 1 {
			t.Fatalf("confidence %v", match.Confidence)
		}
		if match.LetterID == "" {
			if match.Confidence != 0 || match.Status(replies.DefaultThreshold) != campaign.ReplyUnmatched {
				t.Fatalf("no letter but confidence %v", match.Confidence)
			}
			return
		}
		l, ok := o.letters[match.LetterID]
		if !ok {
			t.Fatalf("matched %q, not a letter of the campaign", match.LetterID)
		}
		if match.TargetID != l.TargetID || !slices.Equal(match.CampaignIDs, l.CampaignIDs) {
			t.Fatalf("letter %s with office %d and campaigns %v, want %d and %v", l.ID, match.TargetID, match.CampaignIDs,
				l.TargetID, l.CampaignIDs)
		}
		if len(match.Signals) == 0 || len(match.Signals) > 200 {
			t.Fatalf("%d signals", len(match.Signals))
		}
		for _, s := range match.Signals {
			if !known[s.Name] || s.LetterID == "" || s.Weight <= 0 || s.Weight > 1 {
				t.Fatalf("signal %+v", s)
			}
		}
	})
}
