package inbox

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/plaintext"
	"github.com/outreach-campaign/outreach/internal/replies"
	"github.com/outreach-campaign/outreach/internal/store"
)

// TestPollerTrustsOnlySignedSignals runs the real poller against Dovecot
// with mail a stranger can write (a reply carrying Montreal's reference in
// its subject and quote, a fake MAILER-DAEMON notice naming Montreal's
// address) next to signed replies from Milan (whose Authentication-Results
// from a server we do not trust say DMARC failed) and from Calgary (whose
// own server says DMARC failed). Only Milan's reply is confirmed and sets
// a date; the strangers' mail waits for review, marks nothing suspect and
// stops no follow-up; Calgary's waits for review.
func TestPollerTrustsOnlySignedSignals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	signer, err := letter.NewSigner([]byte("trust-test-secret-0123456789"), "outreach.example")
	if err != nil {
		t.Fatal(err)
	}
	const authServID = "mx.outreach.example"
	h.handler = &counting{next: &Recorder{Store: h.st, Log: quietLog(), Matcher: &replies.Matcher{
		Lookup: h.st, Verifier: signer, RefPattern: letter.RefPattern, AuthServID: authServID}}}

	// Three offices, each sent wave 1's letter two days ago, with a
	// follow-up an hour after.
	sentAt := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	offices := []campaign.Target{
		{Email: "maire@montreal.example", Country: "Canada", City: "Montreal", Language: "fr", TimeZone: "America/Toronto"},
		{Email: "sindaco@comune.milano.example", Country: "Italy", City: "Milan", Language: "it", TimeZone: "Europe/Rome"},
		{Email: "mayor@calgary.example", Country: "Canada", City: "Calgary", Language: "en", TimeZone: "America/Edmonton"},
	}
	var cs []campaign.Campaign
	var contacts []store.Contact
	for i, o := range offices {
		c := benchCampaign(i + 1)
		c.Country, c.City = o.Country, o.City
		cs = append(cs, c)
		contacts = append(contacts, store.Contact{Target: o, CampaignIDs: []int64{c.ID}})
	}
	if _, err := h.st.ImportCampaigns(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.ImportContacts(ctx, contacts); err != nil {
		t.Fatal(err)
	}
	var ls []campaign.Letter
	byCity := map[string]campaign.Target{}
	for i, o := range offices {
		tg, err := h.st.Target(ctx, o.Email)
		if err != nil {
			t.Fatal(err)
		}
		byCity[o.City] = tg
		ls = append(ls, campaign.Letter{TargetID: tg.ID, Email: tg.Email, CampaignIDs: []int64{cs[i].ID}})
	}
	w, planned, err := h.st.CreateWave(ctx, campaign.Wave{Name: "w", Template: "appeal", FollowUpAfter: time.Hour,
		FollowUpTemplate: "follow-up"}, ls)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.StartWave(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	letterOf := map[string]campaign.Letter{}
	for _, l := range planned {
		if err := h.st.BeginSending(ctx, l.ID, signer.MessageID(l.ID)); err != nil {
			t.Fatal(err)
		}
		if err := h.st.MarkSent(ctx, l.ID, sentAt, "250 OK", campaign.Date{}); err != nil {
			t.Fatal(err)
		}
		for city, tg := range byCity {
			if tg.ID == l.TargetID {
				letterOf[city], _ = h.st.Letter(ctx, l.ID)
			}
		}
	}
	mo, mi, ca := letterOf["Montreal"], letterOf["Milan"], letterOf["Calgary"]
	moRef := "[ref " + strings.ToUpper(mo.ID) + "]"
	date := "Date: " + time.Now().Format(time.RFC1123Z)
	mail := func(body string, header ...string) []byte {
		return []byte(strings.Join(header, "\r\n") + "\r\n" + date + "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
			strings.ReplaceAll(body, "\n", "\r\n") + "\r\n")
	}
	h.d.Append(t, "INBOX", mail("The mayor of Montreal thanks you and has written to Seoul.\n\n> "+moRef+"\n> Madame la Mairesse,",
		"From: Someone <someone@attacker.example>", "To: campaign@outreach.example", "Subject: Re: "+moRef,
		"Message-ID: <stranger-1@attacker.example>"))
	h.d.Append(t, "INBOX", []byte("From: Mail Delivery System <MAILER-DAEMON@attacker.example>\r\nTo: campaign@outreach.example\r\n"+
		"Subject: Undelivered Mail Returned to Sender "+moRef+"\r\n"+date+"\r\nMessage-ID: <fake-dsn-1@attacker.example>\r\n"+
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"+
		"--b\r\nContent-Type: text/plain\r\n\r\nYour message "+moRef+" could not be delivered to maire@montreal.example.\r\n"+
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.montreal.example\r\n\r\n"+
		"Final-Recipient: rfc822; maire@montreal.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"+
		"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n--b--\r\n"))
	h.d.Append(t, "INBOX", mail("Sì, il Sindaco scriverà a Seoul.",
		"Authentication-Results: mx.attacker.example; dmarc=fail header.from=comune.milano.example",
		"From: Sindaco <sindaco@comune.milano.example>", "To: campaign@outreach.example", "Subject: R: il gemellaggio",
		"Message-ID: <milan-1@comune.milano.example>", "In-Reply-To: <"+mi.MessageID+">"))
	h.d.Append(t, "INBOX", mail("Yes, the Mayor agrees.",
		"Authentication-Results: "+authServID+"; spf=fail smtp.mailfrom=elsewhere.example; dmarc=fail (p=none) header.from=calgary.example",
		"From: Mayor <mayor@calgary.example>", "To: campaign@outreach.example", "Subject: Re: the twinning",
		"Message-ID: <calgary-1@calgary.example>", "In-Reply-To: <"+ca.MessageID+">"))
	h.start(h.config(false, 50*time.Millisecond))
	h.waitReplies(4)

	byMessageID := map[string]campaign.Reply{}
	for _, r := range h.replies() {
		byMessageID[r.MessageID] = r
	}
	for id, want := range map[string]struct {
		kind   campaign.ReplyKind
		status campaign.ReplyStatus
		letter string
	}{
		"stranger-1@attacker.example":   {campaign.ReplyHuman, campaign.ReplyPending, mo.ID},
		"fake-dsn-1@attacker.example":   {campaign.ReplyBounce, campaign.ReplyPending, mo.ID},
		"milan-1@comune.milano.example": {campaign.ReplyHuman, campaign.ReplyConfirmed, mi.ID},
		"calgary-1@calgary.example":     {campaign.ReplyHuman, campaign.ReplyPending, ca.ID},
	} {
		r := byMessageID[id]
		if r.Kind != want.kind || r.Status != want.status || r.LetterID != want.letter {
			t.Errorf("%s: %s %s letter %q (confidence %.2f, %+v), want %s %s %q", id, r.Kind, r.Status, r.LetterID,
				r.Confidence, r.Signals, want.kind, want.status, want.letter)
		}
	}
	if r := byMessageID["calgary-1@calgary.example"]; !slices.ContainsFunc(r.Signals, func(s campaign.Signal) bool {
		return s.Name == replies.SignalDMARCFail
	}) {
		t.Errorf("Calgary's reply does not say why it waits: %+v", r.Signals)
	}

	// Only Milan's campaign has a response date.
	for city, want := range map[string]bool{"Montreal": false, "Milan": true, "Calgary": false} {
		c, err := h.st.Campaign(ctx, letterOf[city].CampaignIDs[0])
		if err != nil {
			t.Fatal(err)
		}
		if got := !c.ResponseDate.IsZero(); got != want {
			t.Errorf("%s: response date %q, want one: %v", city, c.ResponseDate, want)
		}
	}
	if l, _ := h.st.Letter(ctx, mo.ID); l.State != campaign.Sent {
		t.Errorf("the fake bounce made Montreal's letter %s", l.State)
	}
	if tg, _ := h.st.Target(ctx, "maire@montreal.example"); tg.Suspect {
		t.Errorf("the fake bounce made Montreal's address suspect: %s", tg.SuspectReason)
	}
	// Montreal is still followed up; Milan answered and Calgary's signed
	// reply waits for staff.
	fs, err := h.st.CreateDueFollowUps(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.ID)
	}
	if want := []string{campaign.FollowUpID(mo.ID)}; !slices.Equal(got, want) {
		t.Errorf("follow-ups %v, want %v", got, want)
	}
}

// TestNoPlaintextLoginToARemoteServer checks that without TLS the poller
// logs in only to a server on this machine: to another host no
// connection is made, unless AllowPlaintext.
func TestNoPlaintextLoginToARemoteServer(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		addr    string
		allow   bool
		refused bool
	}{
		{"imap.example.org:143", false, true},
		{"203.0.113.1:143", false, true},
		{"203.0.113.1:143", true, false}, // tried, and fails: nothing listens there
	} {
		_, err := dial(Config{Addr: tt.addr, TLS: TLSNone, AllowPlaintext: tt.allow, Username: "campaign",
			Password: "secret", Timeout: time.Second}, &imapclient.Options{})
		if err == nil || errors.Is(err, plaintext.ErrRefused) != tt.refused {
			t.Errorf("%s allow=%v: %v, want refused %v", tt.addr, tt.allow, err, tt.refused)
		}
	}
	// A server on this machine is reached as before.
	h := newHarness(t)
	c, err := dial(h.config(false, time.Minute), &imapclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
