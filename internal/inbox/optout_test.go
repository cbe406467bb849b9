package inbox

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/replies"
	"github.com/outreach-campaign/outreach/internal/store"
)

// TestPollerQueuesOptOutMailForReview sends, through Dovecot, the mail an
// office's client writes from a letter's List-Unsubscribe mailto, and a
// stranger's "unsubscribe" mail. The real poller recognises both as
// requests to stop; the office's, matched to its letter by the signed
// reply token, waits for staff instead of being confirmed, and marks
// nothing until staff confirm it; the stranger's waits too and names no
// office.
func TestPollerQueuesOptOutMailForReview(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	signer, err := letter.NewSigner([]byte("opt-out-test-secret-0123456789"), "outreach.example")
	if err != nil {
		t.Fatal(err)
	}
	h.handler = &counting{next: &Recorder{Store: h.st, Log: quietLog(), Matcher: &replies.Matcher{
		Lookup: h.st, Verifier: signer, RefPattern: letter.RefPattern}}}

	office := campaign.Target{Email: "maire@montreal.example", Country: "Canada", City: "Montreal", Language: "fr", TimeZone: "America/Toronto"}
	c := benchCampaign(1)
	c.City = "Montreal"
	if _, err := h.st.ImportCampaigns(ctx, []campaign.Campaign{c}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.ImportContacts(ctx, []store.Contact{{Target: office, CampaignIDs: []int64{c.ID}}}); err != nil {
		t.Fatal(err)
	}
	tg, err := h.st.Target(ctx, office.Email)
	if err != nil {
		t.Fatal(err)
	}
	w, planned, err := h.st.CreateWave(ctx, campaign.Wave{Name: "w", Template: "appeal"},
		[]campaign.Letter{{TargetID: tg.ID, Email: tg.Email, CampaignIDs: []int64{c.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.StartWave(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	l := planned[0]
	if err := h.st.BeginSending(ctx, l.ID, signer.MessageID(l.ID)); err != nil {
		t.Fatal(err)
	}
	if err := h.st.MarkSent(ctx, l.ID, time.Now().Add(-time.Hour).Truncate(time.Second), "250 OK", campaign.Date{}); err != nil {
		t.Fatal(err)
	}

	// The mailto of the letter's List-Unsubscribe, as a mail client reads it.
	replyTo, err := signer.PlusAddress("replies@outreach.example", l.ID)
	if err != nil {
		t.Fatal(err)
	}
	header, err := signer.OptOutHeader("https://act.outreach.example", tg.ID, replyTo)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<(mailto:[^>]+)>`).FindStringSubmatch(header)
	if m == nil {
		t.Fatalf("no mailto in %q", header)
	}
	mailto, err := url.Parse(m[1])
	if err != nil {
		t.Fatal(err)
	}
	date := "Date: " + time.Now().Format(time.RFC1123Z)
	h.d.Append(t, "INBOX", []byte("From: Cabinet <maire@montreal.example>\r\nTo: "+mailto.Opaque+"\r\nSubject: "+
		mailto.Query().Get("subject")+"\r\n"+date+"\r\nMessage-ID: <optout-1@montreal.example>\r\n\r\n\r\n"))
	h.d.Append(t, "INBOX", []byte("From: someone@attacker.example\r\nTo: replies@outreach.example\r\nSubject: UNSUBSCRIBE\r\n"+
		date+"\r\nMessage-ID: <optout-2@attacker.example>\r\n\r\nPlease stop writing to Montreal.\r\n"))
	h.start(h.config(false, 50*time.Millisecond))
	h.waitReplies(2)

	pending, err := h.st.Replies(ctx, store.ReplyFilter{Pending: true})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]campaign.Reply{}
	for _, r := range pending {
		byID[r.MessageID] = r
	}
	own, ok := byID["optout-1@montreal.example"]
	if !ok {
		t.Fatalf("the office's opt-out mail is not in the review queue: %+v", pending)
	}
	if !own.OptOut || own.Kind != campaign.ReplyHuman || own.Status != campaign.ReplyPending || own.LetterID != l.ID || own.TargetID != tg.ID {
		t.Errorf("the office's opt-out mail: opt-out %v, %s %s, letter %q, office %d (signals %+v); want a pending opt-out for letter %s, office %d",
			own.OptOut, own.Kind, own.Status, own.LetterID, own.TargetID, own.Signals, l.ID, tg.ID)
	}
	if !own.Signed() {
		t.Errorf("the mailto's reply token was not seen: %+v", own.Signals)
	}
	stranger, ok := byID["optout-2@attacker.example"]
	if !ok || !stranger.OptOut || stranger.TargetID != 0 {
		t.Errorf("the stranger's opt-out mail: in the queue %v, %+v", ok, stranger)
	}

	// Nothing is acted on before staff: the office is not marked, its
	// campaign has no response date.
	if got, _ := h.st.TargetByID(ctx, tg.ID); got.DoNotContact {
		t.Fatalf("a mail alone marked the office: %s", got.DoNotContactReason)
	}
	if got, _ := h.st.Campaign(ctx, c.ID); !got.ResponseDate.IsZero() {
		t.Errorf("an opt-out mail gave a response date %s", got.ResponseDate)
	}

	// Staff confirm it: the office is marked, still without a response date.
	if _, err := h.st.ConfirmReply(ctx, own.ID, store.Confirmation{}); err != nil {
		t.Fatal(err)
	}
	got, err := h.st.TargetByID(ctx, tg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.DoNotContact || !strings.Contains(got.DoNotContactReason, "asked by mail") || got.DoNotContactAt.IsZero() {
		t.Errorf("after staff confirmed: do-not-contact %v, %q at %v", got.DoNotContact, got.DoNotContactReason, got.DoNotContactAt)
	}
	if got, _ := h.st.Campaign(ctx, c.ID); !got.ResponseDate.IsZero() {
		t.Errorf("a confirmed opt-out gave a response date %s", got.ResponseDate)
	}
}
