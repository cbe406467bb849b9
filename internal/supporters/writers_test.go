package supporters

import (
	"bytes"
	"context"
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
		ReplyTo: "replies@outreach.example", ReplyToken: true}
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
}
