package supporters

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// TestRetentionErasesTheKeptCopy: when keep_for erases a supporter's data,
// the copy kept of the letter that carried it loses their name, address
// and message (in its subject, text, headers and any attachment), and the
// copy of their confirmation mail goes; the rest of the letter stays.
func TestRetentionErasesTheKeptCopy(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec, err := f.svc.Sign(ctx, 1, Form{Name: "Ada Lovelace", Email: "ada@people.example", Country: "Italy",
		Message: "Please speak to your twin city.\nThank you."}, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	sig, err := f.st.ConfirmSignature(ctx, rec.Signature.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	conf := campaign.ConfirmationLetterID(sig.ID, 1)
	if err := f.st.KeepAsSent(ctx, conf, campaign.AsSent{Subject: "Confirm your letter", Text: "Dear Ada Lovelace,",
		Message: []byte("To: ada@people.example\r\nSubject: Confirm your letter\r\n\r\nDear Ada Lovelace,\r\n"), Whole: true}); err != nil {
		t.Fatal(err)
	}
	f.round()
	l := f.deliveries(campaign.KindSupporter)[0]
	kept := campaign.AsSent{
		Subject: "A letter from Ada Lovelace about your twinning with Seoul [ref S1]",
		Text:    "Dear Mayor,\n\nI am writing to you about the ties between Rome and South Korea.\n\nPlease speak to your twin city.\nThank you.\n\nAda Lovelace\n",
		Message: []byte("From: campaign@outreach.example\r\nTo: mayor@rome.example\r\n" +
			"Subject: A letter from Ada Lovelace about your twinning with Seoul [ref S1]\r\n" +
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" +
			"Dear Mayor,\r\n\r\nI am writing to you about the ties between Rome and South Korea.\r\n\r\n" +
			"Please speak to your twin city.\r\nThank you.\r\n\r\nAda Lovelace\r\n" +
			"--b\r\nContent-Type: text/csv\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			"QWRhIExvdmVsYWNlLGFkYUBwZW9wbGUuZXhhbXBsZQ==\r\n--b--\r\n"),
		Whole: true,
	}
	if err := f.st.KeepAsSent(ctx, l.ID, kept); err != nil {
		t.Fatal(err)
	}
	if err := f.st.BeginSending(ctx, l.ID, "x@outreach.example"); err != nil {
		t.Fatal(err)
	}
	if err := f.st.MarkSent(ctx, l.ID, f.now, "250 ok", campaign.Date{}); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(31 * 24 * time.Hour)
	f.round()
	if sig, _ := f.st.Signature(ctx, sig.ID); sig.ErasedAt.IsZero() {
		t.Fatal("not erased after keep_for")
	}

	got, err := f.st.LetterAsSent(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantText := "Dear Mayor,\n\nI am writing to you about the ties between Rome and South Korea.\n\n[erased]\n\n[erased]\n"
	if got.Subject != "A letter from [erased] about your twinning with Seoul [ref S1]" || got.Text != wantText {
		t.Errorf("kept copy after erasure: subject %q, text %q", got.Subject, got.Text)
	}
	wantMsg := "From: campaign@outreach.example\r\nTo: mayor@rome.example\r\n" +
		"Subject: A letter from [erased] about your twinning with Seoul [ref S1]\r\n" +
		"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Dear Mayor,\r\n\r\nI am writing to you about the ties between Rome and South Korea.\r\n\r\n[erased]\r\n\r\n[erased]\r\n"
	if string(got.Message) != wantMsg || got.Whole {
		t.Errorf("kept message after erasure (whole %v):\n%s", got.Whole, got.Message)
	}
	for _, secret := range []string{"Ada", "Lovelace", "ada@people", "twin city", "QWRh"} {
		if strings.Contains(string(got.Message), secret) {
			t.Errorf("the kept message still holds %q", secret)
		}
	}
	if _, err := f.st.LetterAsSent(ctx, conf); err == nil {
		t.Error("the copy of the confirmation mail is still kept")
	}
}
