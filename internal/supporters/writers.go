package supporters

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/store"
)

// Writers write the messages of supporters' letters for the worker: the
// confirmation mail to a supporter, a supporter's letter to an office, and
// the digest of a period's letters. Each is from the organisation's
// address; a supporter's name may stand in the display name ("Jane Doe via
// Sister City Campaign"), never their address.
type Writers struct {
	Store     Store
	Templates *letter.Templates
	Signer    *letter.Signer
	Links     *Links
	Org       letter.Organisation
	// ReplyTo is where an office's replies go when the supporter did not
	// consent to receive them (and for digests); with ReplyToken it
	// carries the letter's signed token, as a wave's letters do.
	ReplyTo       string
	ReplyToken    bool
	ConfirmWithin time.Duration
	// OptOutBase, when set, is the web server's public address: letters to
	// an office then carry its one-click opt-out, as a wave's letters do.
	OptOutBase string
}

// writerFunc adapts a function to the worker's Writer interface.
type writerFunc func(ctx context.Context, l campaign.Letter, date time.Time) (*mail.Msg, error)

// Write implements the worker's Writer; the writers find the office
// themselves, from the letter's signatures or campaign.
func (f writerFunc) Write(ctx context.Context, l campaign.Letter, _ campaign.Target, date time.Time) (*mail.Msg, error) {
	return f(ctx, l, date)
}

// Writer is what the worker asks of a writer of one kind of letter
// (queue.Writer).
type Writer interface {
	Write(ctx context.Context, l campaign.Letter, target campaign.Target, date time.Time) (*mail.Msg, error)
}

// ByKind returns the writer of each kind of supporters' letter, to add to
// the worker's.
func (w *Writers) ByKind() map[campaign.LetterKind]Writer {
	return map[campaign.LetterKind]Writer{
		campaign.KindConfirmation: writerFunc(w.confirmation),
		campaign.KindSupporter:    writerFunc(w.supporter),
		campaign.KindDigest:       writerFunc(w.digest),
	}
}

// Supporter is a signed letter as templates show it.
type Supporter struct {
	Name, Email, City, Country, Message string
	// Paragraphs are the message's paragraphs, for the HTML part.
	Paragraphs   []string
	ReplyConsent bool
	ConfirmedAt  campaign.Date
}

// Place is "City, Country", or the country alone.
func (s Supporter) Place() string {
	if s.City == "" {
		return s.Country
	}
	return s.City + ", " + s.Country
}

func supporterView(s campaign.Signature) Supporter {
	v := Supporter{Name: s.Name, Email: s.Email, City: s.City, Country: s.Country, Message: s.Message,
		ReplyConsent: s.ReplyConsent, ConfirmedAt: campaign.DateOf(s.ConfirmedAt.UTC())}
	for _, p := range strings.Split(s.Message, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			v.Paragraphs = append(v.Paragraphs, p)
		}
	}
	return v
}

// ConfirmationData fills in a confirmation mail. It carries nothing the
// signer typed (no name, no message): anyone can sign with any address,
// and the mail goes out from the organisation's domain. The page its link
// opens shows the letter before anything is confirmed.
type ConfirmationData struct {
	letter.Data
	// ConfirmURL is empty when there is nothing to confirm (Earlier is
	// "sent"); WithdrawURL too.
	ConfirmURL  string
	WithdrawURL string
	// Expires is the last day the confirmation link works.
	Expires campaign.Date
	// Earlier is the state of the letter the address had signed before
	// this signing: "" (none: this mail confirms a new letter),
	// "pending" (never confirmed), "confirmed" (not yet delivered), or
	// "sent" (on its way or delivered: it can no longer be changed).
	Earlier string
	// ConfirmedOn and DeliveredOn date the earlier letter, when known.
	ConfirmedOn, DeliveredOn campaign.Date
}

// LetterData fills in a supporter's letter to an office.
type LetterData struct {
	letter.Data
	Supporter Supporter
}

// DigestData fills in a digest.
type DigestData struct {
	letter.Data
	Supporters []Supporter
	// From and To are the first and last days of confirmation among them.
	From, To campaign.Date
}

func (w *Writers) confirmation(ctx context.Context, l campaign.Letter, date time.Time) (*mail.Msg, error) {
	var id int64
	var version int
	if _, err := fmt.Sscanf(l.ID, "c%d-%d", &id, &version); err != nil {
		return nil, fmt.Errorf("supporters: %s is not a confirmation mail's id", l.ID)
	}
	sig, err := w.Store.Signature(ctx, id)
	if err != nil {
		return nil, err
	}
	data, lang, err := w.confirmationData(ctx, sig, version)
	if err != nil {
		return nil, err
	}
	c, t, err := w.campaign(ctx, sig.CampaignID)
	if err != nil {
		return nil, err
	}
	data.Data = letter.NewData(w.Org, t, []campaign.Campaign{c}, l.ID, lang)
	r, err := w.Templates.Render(l.Template, lang, data)
	if err != nil {
		return nil, err
	}
	// To the address alone: the name typed with it may be anyone's.
	m, err := w.Signer.Compose(letter.Envelope{
		LetterID: l.ID, From: letter.Address{Name: w.Org.Name, Email: w.Org.Address},
		To: letter.Address{Email: sig.Email}, ReplyTo: w.ReplyTo, Date: date,
	}, r)
	if err != nil {
		return nil, err
	}
	// A machine's message: out-of-office replies should not answer it.
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	return m, nil
}

// confirmationData says what the confirmation mail of version of sig
// offers, as things stand when it is written, and in which language.
func (w *Writers) confirmationData(ctx context.Context, sig campaign.Signature, version int) (ConfirmationData, string, error) {
	var data ConfirmationData
	none := fmt.Errorf("supporters: signature %d is %s at version %d: no confirmation to send for version %d",
		sig.ID, sig.State, sig.Version, version)
	live := sig.State == campaign.SignaturePending || sig.State == campaign.SignatureConfirmed
	if sig.Email == "" || !live || version < sig.Version {
		return data, "", none
	}
	if version == sig.Version {
		if sig.State != campaign.SignaturePending {
			return data, "", none
		}
		data.ConfirmURL, data.WithdrawURL = confirmationLinks(w.Links, sig, w.ConfirmWithin)
		data.Expires = campaign.DateOf(sig.SignedAt.Add(w.ConfirmWithin).UTC())
		return data, sig.Lang, nil
	}
	// A later signing for an address that has a letter: the mail says
	// where that letter stands.
	if !sig.Replaceable() {
		data.Earlier = "sent"
		if !sig.DeliveredAt.IsZero() {
			data.DeliveredOn = campaign.DateOf(sig.DeliveredAt.UTC())
		}
		return data, sig.Lang, nil
	}
	d, err := w.Store.Draft(ctx, sig.ID)
	if errors.Is(err, campaign.ErrNotFound) || err == nil && d.Version != version {
		return data, "", none // superseded by a newer signing, or expired
	}
	if err != nil {
		return data, "", err
	}
	data.Earlier = string(sig.State)
	if sig.State == campaign.SignatureConfirmed {
		data.ConfirmedOn = campaign.DateOf(sig.ConfirmedAt.UTC())
	}
	draft := campaign.Signature{ID: sig.ID, Version: d.Version, SignedAt: d.SignedAt}
	data.ConfirmURL, data.WithdrawURL = confirmationLinks(w.Links, draft, w.ConfirmWithin)
	data.Expires = campaign.DateOf(d.SignedAt.Add(w.ConfirmWithin).UTC())
	return data, Language(d.Lang), nil
}

func (w *Writers) supporter(ctx context.Context, l campaign.Letter, date time.Time) (*mail.Msg, error) {
	sigs, err := w.deliverable(ctx, l)
	if err != nil {
		return nil, err
	}
	sig := sigs[0]
	c, t, err := w.campaign(ctx, sig.CampaignID)
	if err != nil {
		return nil, err
	}
	data := LetterData{Data: letter.NewData(w.Org, t, []campaign.Campaign{c}, l.ID, t.Language), Supporter: supporterView(sig)}
	r, err := w.Templates.Render(l.Template, t.Language, data)
	if err != nil {
		return nil, err
	}
	replyTo, err := w.replyTo(l.ID)
	if err != nil {
		return nil, err
	}
	unsubscribe, err := w.optOut(t, replyTo)
	if err != nil {
		return nil, err
	}
	if sig.ReplyConsent {
		replyTo = sig.Email
	}
	return w.Signer.Compose(letter.Envelope{
		LetterID: l.ID,
		From:     letter.Address{Name: sig.Name + " via " + w.Org.Name, Email: w.Org.Address},
		To:       officeAddress(t), ReplyTo: replyTo, Date: date, ListUnsubscribe: unsubscribe,
	}, r)
}

func (w *Writers) digest(ctx context.Context, l campaign.Letter, date time.Time) (*mail.Msg, error) {
	sigs, err := w.deliverable(ctx, l)
	if err != nil {
		return nil, err
	}
	t, err := w.Store.TargetByID(ctx, l.TargetID)
	if err != nil {
		return nil, err
	}
	cs, err := w.Store.Campaigns(ctx, store.CampaignFilter{IDs: l.CampaignIDs})
	if err != nil {
		return nil, err
	}
	data := DigestData{Data: letter.NewData(w.Org, t, cs, l.ID, t.Language)}
	for _, s := range sigs {
		data.Supporters = append(data.Supporters, supporterView(s))
	}
	data.From, data.To = data.Supporters[0].ConfirmedAt, data.Supporters[len(sigs)-1].ConfirmedAt
	r, err := w.Templates.Render(l.Template, t.Language, data)
	if err != nil {
		return nil, err
	}
	replyTo, err := w.replyTo(l.ID)
	if err != nil {
		return nil, err
	}
	unsubscribe, err := w.optOut(t, replyTo)
	if err != nil {
		return nil, err
	}
	m, err := w.Signer.Compose(letter.Envelope{
		LetterID: l.ID, From: letter.Address{Name: w.Org.Name, Email: w.Org.Address},
		To: officeAddress(t), ReplyTo: replyTo, Date: date, ListUnsubscribe: unsubscribe,
	}, r)
	if err != nil {
		return nil, err
	}
	var csv bytes.Buffer
	if err := WriteDigestCSV(&csv, sigs); err != nil {
		return nil, err
	}
	if err := m.AttachReader("letters-"+l.ID+".csv", &csv, mail.WithFileContentType("text/csv; charset=utf-8")); err != nil {
		return nil, fmt.Errorf("supporters: attach letters to %s: %w", l.ID, err)
	}
	return m, nil
}

// deliverable returns the signatures a delivery carries that may be sent:
// confirmed, with their data. Whatever changes a letter's signatures
// (a withdrawal, a new signing, a hold) cancels the letter in the same
// transaction, and the worker sends only a letter it moved from queued to
// sending: so what is read here is what is sent, or nothing is.
func (w *Writers) deliverable(ctx context.Context, l campaign.Letter) ([]campaign.Signature, error) {
	all, err := w.Store.LetterSignatures(ctx, l.ID)
	if err != nil {
		return nil, err
	}
	var out []campaign.Signature
	for _, s := range all {
		if s.State == campaign.SignatureConfirmed && s.ErasedAt.IsZero() {
			out = append(out, s)
		}
	}
	if len(out) == 0 || l.TargetID == 0 {
		return nil, fmt.Errorf("supporters: letter %s carries no confirmed letter to an office", l.ID)
	}
	return out, nil
}

func (w *Writers) campaign(ctx context.Context, id int64) (campaign.Campaign, campaign.Target, error) {
	c, err := w.Store.Campaign(ctx, id)
	if err != nil {
		return c, campaign.Target{}, err
	}
	t, err := w.Store.Target(ctx, c.TargetEmail)
	return c, t, err
}

func (w *Writers) replyTo(letterID string) (string, error) {
	if w.ReplyTo == "" || !w.ReplyToken {
		return w.ReplyTo, nil
	}
	return w.Signer.PlusAddress(w.ReplyTo, letterID)
}

// optOut is the List-Unsubscribe value of a letter to office t whose
// replies go to replyTo (ours, never a supporter's: the office's request
// to stop must reach the campaign).
func (w *Writers) optOut(t campaign.Target, replyTo string) (string, error) {
	if w.OptOutBase == "" {
		return "", nil
	}
	if replyTo == "" {
		replyTo = w.Org.Address
	}
	return w.Signer.OptOutHeader(w.OptOutBase, t.ID, replyTo)
}

func officeAddress(t campaign.Target) letter.Address {
	name := t.Mayor
	if name == "" {
		name = t.Office
	}
	return letter.Address{Name: name, Email: t.Email}
}
