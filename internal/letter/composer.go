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
	// OptOutBase, when set, is the web server's public address: letters to
	// an office then carry its one-click opt-out (see OptOutHeader).
	OptOutBase string
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
	// To, when not empty, sends the message to this address instead of the
	// office's, with no display name: a staff member's test copy.
	To string
	// SubjectPrefix is put before the rendered subject ("[TEST] ").
	SubjectPrefix string
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
	r.Subject = l.SubjectPrefix + r.Subject
	replyTo := c.ReplyTo
	if replyTo != "" && c.ReplyToken {
		if replyTo, err = c.Signer.PlusAddress(replyTo, l.ID); err != nil {
			return nil, r, err
		}
	}
	to := Address{Name: l.Target.Mayor, Email: l.Target.Email}
	if to.Name == "" {
		to.Name = l.Target.Office
	}
	if l.To != "" {
		to = Address{Email: l.To}
	}
	unsubscribe := ""
	// A test copy goes to staff: its opt-out would silence the office.
	if c.OptOutBase != "" && l.Target.ID != 0 && l.To == "" {
		mailbox := replyTo
		if mailbox == "" {
			mailbox = c.Org.Address
		}
		if unsubscribe, err = c.Signer.OptOutHeader(c.OptOutBase, l.Target.ID, mailbox); err != nil {
			return nil, r, err
		}
	}
	m, err := c.Signer.Compose(Envelope{
		LetterID:        l.ID,
		From:            Address{Name: c.Org.Name, Email: c.Org.Address},
		To:              to,
		ReplyTo:         replyTo,
		Date:            l.Date,
		InReplyTo:       l.InReplyTo,
		Boundary:        l.Boundary,
		ListUnsubscribe: unsubscribe,
	}, r)
	if err != nil {
		return nil, r, fmt.Errorf("letter: compose %s: %w", l.ID, err)
	}
	return m, r, nil
}

// Check renders l and checks the values its headers would carry, without
// building the message: what a wave asks of each of its letters before it
// is stored. It fails where Compose would.
func (c *Composer) Check(l Letter) error {
	lang := l.Lang
	if lang == "" {
		lang = l.Target.Language
	}
	r, err := c.Templates.Render(l.Template, lang, NewData(c.Org, l.Target, l.Campaigns, l.ID, lang))
	if err != nil {
		return err
	}
	for _, h := range []struct{ name, value string }{
		{"Subject", r.Subject}, {"To name", l.Target.Mayor}, {"To name", l.Target.Office}, {"To", l.Target.Email},
	} {
		if err := campaign.CheckHeaderText(h.value); err != nil {
			return fmt.Errorf("letter %s: %s: %w", l.ID, h.name, err)
		}
	}
	return nil
}
