package replies_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/replies"
	"github.com/outreach-campaign/outreach/templates"
)

// offices is a small campaign: Milan (Italian, one partner) and Montreal
// (French, two partners), each sent the appeal in wave 1, and an office
// that uses a free-mail address.
type offices struct {
	targets   map[int64]campaign.Target
	campaigns map[int64][]campaign.Campaign // by target
	letters   map[string]campaign.Letter
	comp      *letter.Composer
}

var sent = time.Date(2017, 7, 25, 13, 0, 0, 0, time.UTC)

func newOffices(t testing.TB) *offices {
	t.Helper()
	tpl, err := letter.LoadTemplates(templates.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := letter.NewSigner([]byte("match-test-secret-0123456789"), "outreach.example")
	if err != nil {
		t.Fatal(err)
	}
	o := &offices{
		targets: map[int64]campaign.Target{
			5:  {ID: 5, Email: "sindaco@comune.milano.example", Country: "Italy", City: "Milan", Mayor: "Giuseppe Sala", Language: "it", TimeZone: "Europe/Rome"},
			17: {ID: 17, Email: "maire@montreal.example", Country: "Canada", City: "Montreal", Language: "fr", TimeZone: "America/Toronto"},
			30: {ID: 30, Email: "sindaco.borgo@gmail.com", Country: "Italy", City: "Borgo", Language: "it", TimeZone: "Europe/Rome"},
		},
		campaigns: map[int64][]campaign.Campaign{
			5: {{ID: 4, Partner: campaign.Partner{Region: "Seoul"}, Country: "Italy", City: "Milano",
				AgreementDate: campaign.Date{Year: 2013, Month: 4, Day: 16}, Relationship: campaign.Friendship}},
			17: {{ID: 19, Partner: campaign.Partner{Region: "Seoul"}, Country: "Canada", City: "Montreal",
				AgreementDate: campaign.Date{Year: 2015, Month: 4, Day: 8}, Relationship: campaign.Friendship},
				{ID: 24, Partner: campaign.Partner{Region: "Busan"}, Country: "Canada", City: "Montreal",
					AgreementDate: campaign.Date{Year: 2000, Month: 9, Day: 19}, Relationship: campaign.Sister}},
			30: {{ID: 40, Partner: campaign.Partner{Region: "Gyeonggi-do", District: "Paju"}, Country: "Italy", City: "Borgo",
				AgreementDate: campaign.Date{Year: 2010, Month: 1, Day: 1}, Relationship: campaign.Sister}},
		},
		letters: map[string]campaign.Letter{},
		comp: &letter.Composer{Templates: tpl, Signer: signer, ReplyTo: "replies@outreach.example", ReplyToken: true,
			Org: letter.Organisation{Name: "Sister City Campaign", Address: "campaign@outreach.example"}},
	}
	for tid, cs := range o.campaigns {
		id := campaign.LetterID(1, tid)
		var ids []int64
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		o.letters[id] = campaign.Letter{ID: id, Kind: campaign.KindWave, WaveID: 1, TargetID: tid, Template: "appeal",
			State: campaign.Sent, CampaignIDs: ids, MessageID: signer.MessageID(id), SentAt: sent, Email: o.targets[tid].Email}
	}
	return o
}

// The Lookup the store would be.

func (o *offices) Letter(_ context.Context, id string) (campaign.Letter, error) {
	if l, ok := o.letters[id]; ok {
		return l, nil
	}
	return campaign.Letter{}, campaign.ErrNotFound
}

func (o *offices) Target(_ context.Context, email string) (campaign.Target, error) {
	for _, t := range o.targets {
		if strings.EqualFold(t.Email, email) {
			return t, nil
		}
	}
	return campaign.Target{}, campaign.ErrNotFound
}

func (o *offices) TargetsInDomain(_ context.Context, domain string) ([]campaign.Target, error) {
	var out []campaign.Target
	for _, t := range o.targets {
		if t.Domain() == strings.ToLower(domain) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (o *offices) SentLetters(_ context.Context, targetID int64) ([]campaign.Letter, error) {
	var out []campaign.Letter
	for _, l := range o.letters {
		if l.TargetID == targetID {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SentAt.After(out[j].SentAt) })
	return out, nil
}

// LetterAsSent is the copy the store would keep: the letter as composed.
func (o *offices) LetterAsSent(_ context.Context, id string) (campaign.AsSent, error) {
	l, ok := o.letters[id]
	if !ok {
		return campaign.AsSent{}, campaign.ErrNotFound
	}
	_, r, err := o.comp.Compose(letter.Letter{ID: l.ID, Template: l.Template, Target: o.targets[l.TargetID],
		Campaigns: o.campaigns[l.TargetID], Date: sent})
	return campaign.AsSent{Subject: r.Subject, Text: r.Text}, err
}

// rendered is the letter as sent: its subject and text.
func (o *offices) rendered(t testing.TB, id string) letter.Rendered {
	t.Helper()
	l := o.letters[id]
	_, r, err := o.comp.Compose(letter.Letter{ID: l.ID, Template: l.Template, Target: o.targets[l.TargetID],
		Campaigns: o.campaigns[l.TargetID], Date: sent})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (o *offices) matcher() *replies.Matcher {
	return &replies.Matcher{
		Lookup: o, Verifier: o.comp.Signer, RefPattern: letter.RefPattern,
		Sent: o,
	}
}

// msg builds a message from header lines and a body.
func msg(body string, header ...string) []byte {
	h := strings.Join(header, "\r\n")
	if !strings.Contains(strings.ToLower(h), "content-type:") {
		h += "\r\nContent-Type: text/plain; charset=utf-8"
	}
	return []byte(h + "\r\n\r\n" + strings.ReplaceAll(body, "\n", "\r\n"))
}

// quote prefixes every line with "> ".
func quote(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight("> "+l, " ")
	}
	return strings.Join(lines, "\n")
}

func TestMatch(t *testing.T) {
	o := newOffices(t)
	milan, montreal := "w1-t5", "w1-t17"
	mi, mo := o.rendered(t, milan), o.rendered(t, montreal)
	miID, moID := o.letters[milan].MessageID, o.letters[montreal].MessageID
	token := o.comp.Signer.Token(milan)
	forged := strings.Replace(miID, ".", ".x", 1)
	dsn := func(recipient, origID string) []byte {
		return msg("--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"+
			"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.other.example\r\n\r\n"+
			"Final-Recipient: rfc822; "+recipient+"\r\nAction: failed\r\nStatus: 5.1.1\r\n"+
			"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"+
			"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <"+origID+">\r\nTo: "+recipient+"\r\n--b--",
			"From: Mail Delivery System <MAILER-DAEMON@mx.other.example>",
			"To: campaign@outreach.example",
			"Subject: Undelivered Mail Returned to Sender",
			"Content-Type: multipart/report; report-type=delivery-status; boundary=b")
	}
	// fakeBounce is a notice anyone can write: it names the office's
	// address and the letter's reference, and returns no message of ours.
	fakeBounce := func(recipient, ref string) []byte {
		return msg("--b\r\nContent-Type: text/plain\r\n\r\nYour message "+ref+" could not be delivered to "+recipient+".\r\n"+
			"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.montreal.example\r\n\r\n"+
			"Final-Recipient: rfc822; "+recipient+"\r\nAction: failed\r\nStatus: 5.1.1\r\n"+
			"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n--b--",
			"From: Mail Delivery System <MAILER-DAEMON@attacker.example>",
			"To: campaign@outreach.example",
			"Subject: Undelivered Mail Returned to Sender: "+ref,
			"Content-Type: multipart/report; report-type=delivery-status; boundary=b")
	}
	outlookQuote := func(r letter.Rendered, subject string) string {
		return "________________________________\n" +
			"Da: Sister City Campaign <campaign@outreach.example>\n" +
			"Inviato: martedì 25 luglio 2017 15:00\n" +
			"A: Sindaco <sindaco@comune.milano.example>\n" +
			"Oggetto: " + subject + "\n\n" + r.Text
	}
	const date = "Date: Wed, 2 Aug 2017 10:00:00 +0200"

	tests := []struct {
		name    string
		raw     []byte
		letter  string // "" for no match
		status  campaign.ReplyStatus
		signals []string // the names naming the letter, in any order
	}{
		// Each signal alone.
		{"In-Reply-To alone", msg("Yes, we will write to Seoul.",
			"From: someone@elsewhere.example", "Subject: Re: our letter", date, "In-Reply-To: <"+miID+">"),
			milan, campaign.ReplyConfirmed, []string{replies.SignalMessageID}},
		{"References alone", msg("Yes.",
			"From: someone@elsewhere.example", "Subject: hello", date, "References: <abc@elsewhere.example> <"+moID+">"),
			montreal, campaign.ReplyConfirmed, []string{replies.SignalMessageID}},
		{"forged signature", msg("Yes.",
			"From: someone@elsewhere.example", "Subject: hello", date, "In-Reply-To: <"+forged+">"),
			"", campaign.ReplyUnmatched, nil},
		{"reply token alone", msg("Sì.",
			"From: someone@elsewhere.example", "To: replies+"+token+"@outreach.example", "Subject: risposta", date),
			milan, campaign.ReplyConfirmed, []string{replies.SignalReplyToken}},
		{"reply token in Delivered-To", msg("Sì.",
			"From: someone@elsewhere.example", "To: undisclosed-recipients:;", "Delivered-To: replies+"+token+"@outreach.example", "Subject: risposta", date),
			milan, campaign.ReplyConfirmed, []string{replies.SignalReplyToken}},
		{"subject reference alone", msg("Vi risponderemo.",
			"From: someone@elsewhere.example", "Subject: R: "+mi.Subject, date),
			milan, campaign.ReplyPending, []string{replies.SignalSubjectRef}},
		{"quoted letter with its subject line", msg("Vi risponderemo.\n\n"+outlookQuote(mi, mi.Subject),
			"From: someone@elsewhere.example", "Subject: richiesta", date),
			milan, campaign.ReplyPending, []string{replies.SignalSubjectRef, replies.SignalQuotedLetter}},
		{"quoted reference alone", msg("Vi risponderemo.\n\n> Oggetto: "+mi.Subject,
			"From: someone@elsewhere.example", "Subject: richiesta", date),
			milan, campaign.ReplyPending, []string{replies.SignalSubjectRef}},
		{"sender address alone", msg("Le scriviamo per un incontro.",
			"From: Sindaco <sindaco@comune.milano.example>", "Subject: Incontro", date),
			milan, campaign.ReplyPending, []string{replies.SignalSenderAddress}},
		{"sender domain alone", msg("Le scriviamo per un incontro.",
			"From: Ufficio Stampa <stampa@comune.milano.example>", "Subject: Incontro", date),
			milan, campaign.ReplyPending, []string{replies.SignalSenderDomain}},
		{"free-mail domain says nothing", msg("Hello.",
			"From: someone.else@gmail.com", "Subject: hello", date),
			"", campaign.ReplyUnmatched, nil},
		{"bounce original alone", dsn("old@other.example", moID),
			montreal, campaign.ReplyConfirmed, []string{replies.SignalBounceOriginal}},
		{"bounce recipient alone", dsn("maire@montreal.example", "unknown@elsewhere.example"),
			montreal, campaign.ReplyPending, []string{replies.SignalBounceRecipient}},

		// Combined, as real replies come.
		{"Gmail reply with every header", msg("Grazie, il Sindaco scriverà a Seoul.\n\nIl giorno mar 25 lug 2017 alle 15:00 Sister City Campaign <campaign@outreach.example> ha scritto:\n"+quote(mi.Text),
			"From: Giuseppe Sala <sindaco@comune.milano.example>", "To: replies+"+token+"@outreach.example",
			"Subject: Re: "+mi.Subject, date, "In-Reply-To: <"+miID+">", "References: <"+miID+">"),
			milan, campaign.ReplyConfirmed, []string{replies.SignalMessageID, replies.SignalReplyToken, replies.SignalSubjectRef,
				replies.SignalSenderAddress, replies.SignalQuotedLetter}},
		// Nothing signed: however much adds up, staff decide.
		{"Outlook reply that dropped In-Reply-To and kept only the subject", msg("Buongiorno,\nla lettera è stata protocollata.\n\n"+outlookQuote(mi, "Il gemellaggio"),
			"From: Sindaco <sindaco@comune.milano.example>", "To: campaign@outreach.example",
			"Subject: R: "+mi.Subject, date, "Thread-Index: AQHadCk1kZ2zQ1b2M0uY3Q=="),
			milan, campaign.ReplyPending, []string{replies.SignalSubjectRef, replies.SignalSenderAddress, replies.SignalQuotedLetter}},
		{"another address on the office's domain, letter quoted", msg("Buongiorno, rispondo per il Sindaco.\n\n"+outlookQuote(mi, "Il gemellaggio"),
			"From: Segreteria <segreteria@comune.milano.example>", "Subject: R: "+mi.Subject, date),
			milan, campaign.ReplyPending, []string{replies.SignalSubjectRef, replies.SignalSenderDomain, replies.SignalQuotedLetter}},
		{"another address on the office's domain, subject only", msg("Buongiorno, rispondo per il Sindaco.",
			"From: Segreteria <segreteria@comune.milano.example>", "Subject: R: "+mi.Subject, date),
			milan, campaign.ReplyPending, []string{replies.SignalSubjectRef, replies.SignalSenderDomain}},
		{"forwarded from another department", msg("Buongiorno,\nil Sindaco ci ha inoltrato la vostra lettera: la Regione sostiene l'appello.\n\n"+
			"---------- Messaggio inoltrato ----------\nDa: Sindaco <sindaco@comune.milano.example>\nData: 26 luglio 2017\n"+
			"Oggetto: I: "+mi.Subject+"\nA: ambiente@regione.example\n\n"+mi.Text,
			"From: Assessorato Ambiente <ambiente@regione.example>", "To: campaign@outreach.example", "Subject: Benessere animale", date),
			milan, campaign.ReplyPending, []string{replies.SignalSubjectRef, replies.SignalQuotedLetter}},
		{"forwarded from another department, subject kept", msg("Buongiorno,\nla Regione sostiene l'appello.\n\n"+
			"---------- Messaggio inoltrato ----------\nDa: Sindaco <sindaco@comune.milano.example>\n"+
			"Oggetto: I: "+mi.Subject+"\n\n"+mi.Text,
			"From: Assessorato Ambiente <ambiente@regione.example>", "Subject: R: I: "+mi.Subject, date),
			milan, campaign.ReplyPending, []string{replies.SignalSubjectRef, replies.SignalQuotedLetter}},
		{"quoted text without its reference", msg("Merci, le maire répondra.\n\nLe 25 juillet 2017 à 09:00, Sister City Campaign <campaign@outreach.example> a écrit :\n"+quote(mo.Text),
			"From: maire@montreal.example", "Subject: Réponse", date),
			montreal, campaign.ReplyPending, []string{replies.SignalSenderAddress, replies.SignalQuotedLetter}},
		{"a signed reference outweighs the sender", msg("Yes.",
			"From: maire@montreal.example", "Subject: forwarded", date, "In-Reply-To: <"+miID+">"),
			milan, campaign.ReplyConfirmed, []string{replies.SignalMessageID}},
		{"a signed reference outranks more unsigned evidence for another letter", msg("Oui.\n\n"+quote(mo.Text),
			"From: maire@montreal.example", "Subject: Re: "+mo.Subject, date, "In-Reply-To: <"+miID+">"),
			milan, campaign.ReplyConfirmed, []string{replies.SignalMessageID}},

		// Strangers: what anyone can write never confirms.
		{"a stranger's reference in the subject and the quote", msg("The mayor of Montreal thanks you and agrees.\n\n"+
			"> [ref W1-T17]\n> Madame la Mairesse,",
			"From: someone@attacker.example", "Subject: Re: [ref W1-T17]", date),
			montreal, campaign.ReplyPending, []string{replies.SignalSubjectRef}},
		{"the office's address with the subject's reference", msg("Nous soutenons votre appel.",
			"From: maire@montreal.example", "Subject: RE: "+mo.Subject, date),
			montreal, campaign.ReplyPending, []string{replies.SignalSubjectRef, replies.SignalSenderAddress}},
		{"a fake MAILER-DAEMON notice naming the office", fakeBounce("maire@montreal.example", "[ref W1-T17]"),
			montreal, campaign.ReplyPending, []string{replies.SignalBounceRecipient, replies.SignalSubjectRef}},
		{"unrelated newsletter", msg("<html><body><h1>Autumn in Florence</h1><p>Concerts, markets and the Uffizi at night.</p>"+
			"<p><a href=\"https://turismo.example/unsubscribe\">Unsubscribe</a></p></body></html>",
			"From: Firenze Turismo <news@turismo-firenze.example>", "To: campaign@outreach.example",
			"Subject: Autumn events in Florence", date, "Precedence: bulk",
			"List-Unsubscribe: <https://turismo.example/unsubscribe>", "Content-Type: text/html; charset=utf-8"),
			"", campaign.ReplyUnmatched, nil},
	}
	mt := o.matcher()
	received := time.Date(2017, 8, 2, 8, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := replies.Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			got, err := mt.Match(context.Background(), m, replies.Classify(m), received)
			if err != nil {
				t.Fatal(err)
			}
			if got.LetterID != tt.letter {
				t.Fatalf("letter %q (confidence %.3f, signals %+v), want %q", got.LetterID, got.Confidence, got.Signals, tt.letter)
			}
			if st := got.Status(0.85); st != tt.status {
				t.Errorf("status %s at confidence %.3f (%+v), want %s", st, got.Confidence, got.Signals, tt.status)
			}
			var names []string
			for _, s := range got.Signals {
				if s.LetterID == tt.letter && !slices.Contains(names, s.Name) {
					names = append(names, s.Name)
				}
				if s.Detail == "" || s.Weight <= 0 && s.Name != replies.SignalDMARCFail {
					t.Errorf("signal without detail or weight: %+v", s)
				}
			}
			slices.Sort(names)
			want := slices.Clone(tt.signals)
			slices.Sort(want)
			if !slices.Equal(names, want) {
				t.Errorf("signals %v, want %v (%+v)", names, want, got.Signals)
			}
			if tt.letter != "" {
				l := o.letters[tt.letter]
				if got.TargetID != l.TargetID || !slices.Equal(got.CampaignIDs, l.CampaignIDs) {
					t.Errorf("target %d campaigns %v, want %d %v", got.TargetID, got.CampaignIDs, l.TargetID, l.CampaignIDs)
				}
			}
		})
	}
}

// TestMatchConfidenceGrows checks that evidence adds up, and that two
// signals of one kind count once.
func TestMatchConfidenceGrows(t *testing.T) {
	o := newOffices(t)
	mi := o.rendered(t, "w1-t5")
	mt := o.matcher()
	var last float64
	headers := []string{"From: someone@elsewhere.example", "Subject: R: " + mi.Subject + " " + mi.Subject}
	for i, extra := range []string{"", "From: stampa@comune.milano.example", "From: sindaco@comune.milano.example",
		"In-Reply-To: <" + o.letters["w1-t5"].MessageID + ">"} {
		// Each step adds evidence to the one before.
		if strings.HasPrefix(extra, "From:") {
			headers[0] = extra
		} else if extra != "" {
			headers = append(headers, extra)
		}
		m, err := replies.Parse(msg("Sì.", headers...))
		if err != nil {
			t.Fatal(err)
		}
		got, err := mt.Match(context.Background(), m, replies.Classify(m), sent.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && got.Confidence != replies.Weight(replies.SignalSubjectRef) {
			t.Errorf("a reference twice in the subject: confidence %.3f, want %.3f once", got.Confidence, replies.Weight(replies.SignalSubjectRef))
		}
		if got.Confidence <= last {
			t.Errorf("step %d (%s): confidence %.3f did not grow from %.3f", i, extra, got.Confidence, last)
		}
		last = got.Confidence
	}
	if want := 1 - (1-0.7)*(1-0.6)*(1-0.95); last != math.Round(want*1000)/1000 {
		t.Errorf("subject, sender and In-Reply-To together: %.3f, want %.3f", last, want)
	}
}

func ExampleMatcher_Match() {
	signer, _ := letter.NewSigner([]byte("example-secret-0123456789"), "outreach.example")
	lookup := exampleLookup{campaign.Letter{ID: "w1-t5", TargetID: 5, CampaignIDs: []int64{4}}}
	mt := &replies.Matcher{Lookup: lookup, Verifier: signer, RefPattern: letter.RefPattern}
	m, _ := replies.Parse([]byte("From: Sindaco <sindaco@comune.milano.example>\n" +
		"Subject: R: Il gemellaggio con Seoul [ref W1-T5]\n" +
		"In-Reply-To: <" + signer.MessageID("w1-t5") + ">\n\nSì."))
	got, _ := mt.Match(context.Background(), m, replies.Classify(m), time.Now())
	fmt.Println(got.LetterID, got.Confidence, got.Status(0.85))
	for _, s := range got.Signals {
		fmt.Println(s.Name, s.Weight)
	}
	// Output:
	// w1-t5 0.985 confirmed
	// message-id 0.95
	// subject-ref 0.7
}

// exampleLookup knows one letter and no office.
type exampleLookup struct{ l campaign.Letter }

func (e exampleLookup) Letter(_ context.Context, id string) (campaign.Letter, error) {
	if id == e.l.ID {
		return e.l, nil
	}
	return campaign.Letter{}, campaign.ErrNotFound
}
func (exampleLookup) Target(context.Context, string) (campaign.Target, error) {
	return campaign.Target{}, campaign.ErrNotFound
}
func (exampleLookup) TargetsInDomain(context.Context, string) ([]campaign.Target, error) {
	return nil, nil
}
func (exampleLookup) SentLetters(context.Context, int64) ([]campaign.Letter, error) { return nil, nil }

// TestMatchReferenceCountsOnce checks that a reference seen in the subject
// and again in the quote is one signal: it is copied with either.
func TestMatchReferenceCountsOnce(t *testing.T) {
	o := newOffices(t)
	m, err := replies.Parse(msg("Merci.\n\n> [ref W1-T17]\n> Le maire", "From: someone@attacker.example",
		"Subject: Re: [ref W1-T17]"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := o.matcher().Match(context.Background(), m, replies.Classify(m), sent.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.LetterID != "w1-t17" || got.Confidence != 0.7 || got.Status(0.5) != campaign.ReplyPending {
		t.Errorf("match %+v: want w1-t17 at 0.7 (the reference once), pending at any threshold", got)
	}
	n := 0
	for _, s := range got.Signals {
		if s.Name == replies.SignalSubjectRef {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d subject-ref signals, want 2 (subject and quote, each explained): %+v", n, got.Signals)
	}
}

// TestMatchDMARC checks that a DMARC failure recorded by the mailbox's own
// server sends even a signed reply to review, and that the same verdict
// under another authserv-id is ignored.
func TestMatchDMARC(t *testing.T) {
	o := newOffices(t)
	miID := o.letters["w1-t5"].MessageID
	reply := func(authResults ...string) *replies.Message {
		h := []string{"From: Sindaco <sindaco@comune.milano.example>", "Subject: R: il gemellaggio",
			"In-Reply-To: <" + miID + ">"}
		for _, a := range authResults {
			h = append(h, "Authentication-Results: "+a)
		}
		m, err := replies.Parse(msg("Sì, scriveremo a Seoul.", h...))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	const (
		fail = "mx.outreach.example; spf=fail smtp.mailfrom=attacker.example; dkim=none; " +
			"dmarc=fail (p=reject dis=none) header.from=comune.milano.example"
		pass = "mx.outreach.example; spf=pass smtp.mailfrom=comune.milano.example; dmarc=pass header.from=comune.milano.example"
	)
	for _, tt := range []struct {
		name, authServID string
		m                *replies.Message
		status           campaign.ReplyStatus
	}{
		{"fail from the trusted server", "mx.outreach.example", reply(fail), campaign.ReplyPending},
		{"fail below a pass, both from the trusted server", "MX.outreach.example", reply(pass, fail), campaign.ReplyPending},
		{"fail under another authserv-id", "mx.outreach.example",
			reply(strings.Replace(fail, "mx.outreach.example", "mx.attacker.example", 1)), campaign.ReplyConfirmed},
		{"no trusted server named", "", reply(fail), campaign.ReplyConfirmed},
		{"pass from the trusted server", "mx.outreach.example", reply(pass), campaign.ReplyConfirmed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mt := o.matcher()
			mt.AuthServID = tt.authServID
			got, err := mt.Match(context.Background(), tt.m, replies.Classify(tt.m), sent.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if got.LetterID != "w1-t5" || !got.Signed() {
				t.Fatalf("match %+v: want w1-t5 on its signed Message-ID", got)
			}
			if st := got.Status(0.85); st != tt.status {
				t.Errorf("status %s, want %s (%+v)", st, tt.status, got)
			}
			flagged := slices.ContainsFunc(got.Signals, func(s campaign.Signal) bool {
				return s.Name == replies.SignalDMARCFail && s.LetterID == "w1-t5" && strings.Contains(s.Detail, "comune.milano.example")
			})
			if flagged != (tt.status == campaign.ReplyPending) || flagged != (got.Distrusted != "") {
				t.Errorf("dmarc-fail signal %v, Distrusted %q, for status %s: %+v", flagged, got.Distrusted, tt.status, got.Signals)
			}
		})
	}
}
