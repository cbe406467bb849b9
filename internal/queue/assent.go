package queue

import (
	"bytes"
	"errors"
	"fmt"
	netmail "net/mail"

	"github.com/wneessen/go-mail"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/mailer"
)

// asSent is msg as it will leave: the bytes it writes (its multipart
// boundary is fixed by the first write, so the send writes the same), its
// subject and its text part.
func asSent(msg *mail.Msg) (campaign.AsSent, error) {
	var b bytes.Buffer
	if _, err := msg.WriteTo(&b); err != nil {
		return campaign.AsSent{}, fmt.Errorf("write the message: %w", err)
	}
	a := campaign.AsSent{Message: b.Bytes(), Whole: true}
	if s := msg.GetGenHeader(mail.HeaderSubject); len(s) > 0 {
		a.Subject = s[0]
	}
	for _, p := range msg.GetParts() {
		if p.GetContentType() != mail.TypeTextPlain {
			continue
		}
		text, err := p.GetContent()
		if err != nil {
			return a, fmt.Errorf("read the text part: %w", err)
		}
		a.Text = string(text)
		break
	}
	if len(a.Message) > campaign.MaxAsSent {
		a = a.Shrunk()
	}
	return a, nil
}

// rawOf is kept copy a as it goes out again: its envelope read from its
// From, To and Cc fields.
func rawOf(a campaign.AsSent) (mailer.Raw, error) {
	m, err := netmail.ReadMessage(bytes.NewReader(a.Message))
	if err != nil {
		return mailer.Raw{}, err
	}
	from, err := m.Header.AddressList("From")
	if err != nil || len(from) == 0 {
		return mailer.Raw{}, errors.New("no From address")
	}
	r := mailer.Raw{From: from[0].Address, Data: a.Message}
	for _, field := range []string{"To", "Cc"} {
		as, err := m.Header.AddressList(field)
		if err != nil && !errors.Is(err, netmail.ErrHeaderNotPresent) {
			return r, fmt.Errorf("%s: %w", field, err)
		}
		for _, a := range as {
			r.To = append(r.To, a.Address)
		}
	}
	return r, nil
}
