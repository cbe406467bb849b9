package supporters

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/templates"
)

func TestWriters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tpl, err := letter.LoadTemplates(templates.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := letter.NewSigner([]byte("writers-test-secret-0123456789"), "outreach.example")
	w := &Writers{Store: f.st, Templates: tpl, Signer: signer, Links: f.svc.Links, ConfirmWithin: 72 * time.Hour,
		Org:     letter.Organisation{Name: "Sister City Campaign", Address: "campaign@outreach.example"},
		ReplyTo: "replies@outreach.example", ReplyToken: true, OptOutBase: "https://act.outreach.example"}
	write := func(kind campaign.LetterKind, id string) (mail.Header, string) {
		t.Helper()
		l, err := f.st.Letter(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := w.ByKind()[kind].Write(ctx, l, campaign.Target{}, f.now)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		var b bytes.Buffer
		if _, err := msg.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		raw := b.String()
		m, err := mail.ReadMessage(&b)
		if err != nil {
			t.Fatal(err)
		}
		return m.Header, raw
	}

	rec, err := f.svc.Sign(ctx, 1, Form{Name: "Giulia Rossi", Email: "giulia@people.example", Country: "Italia",
		City: "Bologna", Message: "Caro sindaco,\n\nscriva a Seoul.", ReplyConsent: true, Lang: "it"}, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	h, _ := write(campaign.KindConfirmation, campaign.ConfirmationLetterID(rec.Signature.ID, 1))
	if from, _ := mail.ParseAddress(h.Get("From")); from.Address != "campaign@outreach.example" ||
		!strings.Contains(h.Get("To"), "giulia@people.example") || h.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("confirmation headers %v", h)
	}
	if h.Get("List-Unsubscribe") != "" {
		t.Errorf("a confirmation mail to a supporter carries an office's opt-out: %s", h.Get("List-Unsubscribe"))
	}

	if _, err := f.st.ConfirmSignature(ctx, rec.Signature.ID, 1); err != nil {
		t.Fatal(err)
	}
	f.round()
	sig, _ := f.st.Signature(ctx, rec.Signature.ID)
	h, _ = write(campaign.KindSupporter, sig.LetterID)
	from, _ := mail.ParseAddress(h.Get("From"))
	replyTo, _ := mail.ParseAddress(h.Get("Reply-To"))
	if from.Name != "Giulia Rossi via Sister City Campaign" || from.Address != "campaign@outreach.example" ||
		replyTo.Address != "giulia@people.example" || !strings.Contains(h.Get("To"), "sindaco@comune.example") {
		t.Errorf("supporter letter headers %v", h)
	}
	// The office's opt-out reaches the campaign, never the supporter the
	// office may reply to.
	office, _ := f.st.Target(ctx, "sindaco@comune.example")
	optOut := "<https://act.outreach.example/optout/" + signer.OptOutToken(office.ID) + ">, <mailto:replies+" +
		signer.Token(sig.LetterID) + "@outreach.example?subject=unsubscribe>"
	if got := h.Get("List-Unsubscribe"); got != optOut || h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("supporter letter's opt-out:\n got %s (%s)\nwant %s", got, h.Get("List-Unsubscribe-Post"), optOut)
	}
	// The confirmation of a version no longer pending is not written.
	l, _ := f.st.Letter(ctx, campaign.ConfirmationLetterID(rec.Signature.ID, 1))
	if _, err := w.ByKind()[campaign.KindConfirmation].Write(ctx, l, campaign.Target{}, f.now); err == nil {
		t.Error("a confirmation mail written for a confirmed letter")
	}

	// Without consent, replies go to the organisation's traced address.
	if err := f.st.SetDelivery(ctx, campaign.Delivery{CampaignID: 2, Mode: campaign.Digest}); err != nil {
		t.Fatal(err)
	}
	f.signConfirmed(2, 2, "b")
	f.now = f.now.Add(24*time.Hour + 4*time.Hour) // Tuesday 11:00 in Rome
	f.round()
	ds := f.deliveries(campaign.KindDigest)
	if len(ds) != 1 {
		t.Fatalf("digests %v", ds)
	}
	h, raw := write(campaign.KindDigest, ds[0].ID)
	from, _ = mail.ParseAddress(h.Get("From"))
	if from.Name != "Sister City Campaign" || !strings.HasPrefix(h.Get("Reply-To"), "<replies+"+ds[0].ID+".") ||
		!strings.Contains(raw, "letters-"+ds[0].ID+".csv") {
		t.Errorf("digest headers %v", h)
	}
	if got := h.Get("List-Unsubscribe"); !strings.HasPrefix(got, "<https://act.outreach.example/optout/") ||
		h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("digest's opt-out: %q", got)
	}
}

// TestConfirmationMailCarriesNothingTyped reads the confirmation mails a
// signing makes, for a new address and for one whose letter is confirmed
// or delivered: none carries the name or the text typed, and each says
// where the address's letter stands.
func TestConfirmationMailCarriesNothingTyped(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tpl, err := letter.LoadTemplates(templates.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := letter.NewSigner([]byte("writers-test-secret-0123456789"), "outreach.example")
	w := &Writers{Store: f.st, Templates: tpl, Signer: signer, Links: f.svc.Links, ConfirmWithin: 72 * time.Hour,
		Org: letter.Organisation{Name: "Sister City Campaign", Address: "campaign@outreach.example"}}
	write := func(l campaign.Letter) (mail.Header, string) {
		t.Helper()
		msg, err := w.ByKind()[campaign.KindConfirmation].Write(ctx, l, campaign.Target{}, f.now)
		if err != nil {
			t.Fatalf("%s: %v", l.ID, err)
		}
		var b bytes.Buffer
		if _, err := msg.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(&b)
		if err != nil {
			t.Fatal(err)
		}
		return m.Header, decodedParts(t, m)
	}
	sign := func(name, message string) Receipt {
		t.Helper()
		rec, err := f.svc.Sign(ctx, 1, Form{Name: name, Email: "Jane@People.example", Country: "Canada",
			City: "Ottawa", Message: message, Lang: "en"}, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	typed := []string{"Jane Doe", "Mallory", "Ottawa", "scriva", "Sindaco", "Words"}
	clean := func(what, raw string) {
		t.Helper()
		for _, s := range typed {
			if strings.Contains(raw, s) {
				t.Errorf("%s carries %q:\n%s", what, s, raw)
			}
		}
	}

	// A new address: the mail names the mayor's city, and its link.
	rec := sign("Jane Doe", "Caro Sindaco, scriva a Seoul.")
	h, raw := write(rec.Confirmation)
	clean("the first confirmation", raw)
	if h.Get("To") != "<jane@people.example>" || !strings.Contains(h.Get("Subject"), "your letter to the mayor of Milano") ||
		!strings.Contains(raw, "http://act.example/confirm/") {
		t.Errorf("first confirmation: %v\n%s", h, raw)
	}

	// Confirmed, then signed again by a stranger: the mail says the
	// letter is confirmed and offers to replace it.
	if _, err := f.st.ConfirmSignature(ctx, rec.Signature.ID, 1); err != nil {
		t.Fatal(err)
	}
	rec2 := sign("Mallory", "Words of a stranger.")
	if rec2.Confirmation.ID != campaign.ConfirmationLetterID(rec.Signature.ID, 2) {
		t.Fatalf("second confirmation %s", rec2.Confirmation.ID)
	}
	_, raw = write(rec2.Confirmation)
	clean("the draft's confirmation", raw)
	for _, want := range []string{"You had already signed a letter to the mayor of Milano, confirmed on 2 March 2026",
		"confirming it replaces the text of your letter, which has not been delivered yet", "http://act.example/confirm/" + fmt.Sprint(rec.Signature.ID) + ".2."} {
		if !strings.Contains(raw, want) {
			t.Errorf("the draft's confirmation lacks %q:\n%s", want, raw)
		}
	}

	// Delivered: the mail says so, and offers nothing to confirm.
	f.round()
	sig, _ := f.st.Signature(ctx, rec.Signature.ID)
	if err := f.st.BeginSending(ctx, sig.LetterID, "x@outreach.example"); err != nil {
		t.Fatal(err)
	}
	if err := f.st.MarkSent(ctx, sig.LetterID, f.now, "250 ok", campaign.Date{}); err != nil {
		t.Fatal(err)
	}
	rec3 := sign("Mallory", "Words, once more.")
	_, raw = write(rec3.Confirmation)
	clean("the mail after delivery", raw)
	if !strings.Contains(raw, "was delivered to the office of the mayor of Milano on 2 March 2026") || strings.Contains(raw, "/confirm/") ||
		strings.Contains(raw, "/withdraw/") {
		t.Errorf("the mail after delivery:\n%s", raw)
	}
}

// decodedParts returns the decoded text of every part of a message, one
// after the other.
func decodedParts(t *testing.T, m *mail.Message) string {
	t.Helper()
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable itself
		if err == io.EOF {
			return out.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
		out.WriteString("\n")
	}
}
