package queue

import (
	"bytes"
	"fmt"

	"github.com/wneessen/go-mail"

	"github.com/outreach-campaign/outreach/internal/campaign"
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
