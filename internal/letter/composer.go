package letter

import (
	"fmt"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// Composer turns a target and its campaigns into the message that is sent:
// the one path shared by previews and deliveries, so a preview shows
// exactly what a worker sends.
type Composer struct {
	Templates *Templates
	Signer    *Signer
	Org       Organisation
	// ReplyTo is the Reply-To address, empty for none. With ReplyToken it
	// becomes a plus-address carrying the letter's signed token.
	ReplyTo    string
	ReplyToken bool
}

// Letter says which letter to compose.
type Letter struct {
	ID        string
	Template  string // e.g. "appeal"
	Target    campaign.Target
	Campaigns []campaign.Campaign
	// Lang overrides the target's language when not empty.
	Lang      string
	Date      time.Time
	InReplyTo string
	Boundary  string
}

// Compose renders l in its language and builds its message.
func (c *Composer) Compose(l Letter) (*mail.Msg, Rendered, error) {
	lang := l.Lang
	if lang == "" {
		lang = l.Target.Language
	}
	data := NewData(c.Org, l.Target, l.Campaigns, l.ID, lang)
	r, err := c.Templates.Render(l.Template, lang, data)
	if err != nil {
		return nil, r, err
	}
	replyTo := c.ReplyTo
	if replyTo != "" && c.ReplyToken {
		if replyTo, err = c.Signer.PlusAddress(replyTo, l.ID); err != nil {
			return nil, r, err
		}
	}
	toName := l.Target.Mayor
	if toName == "" {
		toName = l.Target.Office
	}
	m, err := c.Signer.Compose(Envelope{
		LetterID:  l.ID,
		From:      Address{Name: c.Org.Name, Email: c.Org.Address},
		To:        Address{Name: toName, Email: l.Target.Email},
		ReplyTo:   replyTo,
		Date:      l.Date,
		InReplyTo: l.InReplyTo,
		Boundary:  l.Boundary,
	}, r)
	if err != nil {
		return nil, r, fmt.Errorf("letter: compose %s: %w", l.ID, err)
	}
	return m, r, nil
}
