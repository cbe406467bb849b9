package letter

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// Organisation is who the letters come from.
type Organisation struct {
	Name    string
	Address string // the From address
	Website string
}

// Partnership is one Korean partner of a target, as a letter names it.
type Partnership struct {
	CampaignID    int64
	Partner       string
	AgreementDate campaign.Date
	Relationship  campaign.Relationship
}

// Data is what a letter template is filled in with.
type Data struct {
	Org    Organisation
	Target campaign.Target
	// Place is the target's city as a letter in Lang names it
	// ("Montréal" in French when the contacts give that name).
	Place string
	// Title is what the office's holder is called in Lang, as running
	// text writes it after an article: "premier", "sindaco".
	Title string
	// Salutation opens a letter to a holder whose name is not known:
	// "Premier" (Dear Premier,), "Sindaco" (Gentile Sindaco,).
	Salutation string
	// Holder names the office's holder without an article: "premier of
	// British Columbia", "presidente della Regione Veneto", "maire de
	// Montréal".
	Holder string
	// Partners are every Korean partner of the target, oldest agreement
	// first: one letter names them all.
	Partners []Partnership
	// Ref is the letter's reference, printed in the subject so that a reply
	// that lost its headers can still be traced.
	Ref  string
	Lang string
}

// PartnerNames lists the partners' names, for the "list" function.
func (d Data) PartnerNames() []string {
	out := make([]string, len(d.Partners))
	for i, p := range d.Partners {
		out[i] = p.Partner
	}
	return out
}

// NewData gathers what a letter to target says about its campaigns.
func NewData(org Organisation, t campaign.Target, cs []campaign.Campaign, letterID, lang string) Data {
	ps := make([]Partnership, 0, len(cs))
	for _, c := range cs {
		ps = append(ps, Partnership{
			CampaignID: c.ID, Partner: c.Partner.String(),
			AgreementDate: c.AgreementDate, Relationship: c.Relationship,
		})
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].AgreementDate.Before(ps[j].AgreementDate) })
	place := t.PlaceIn(lang, PlaceName(t.City))
	return Data{
		Org: org, Target: t, Place: place, Partners: ps, Ref: Ref(letterID), Lang: lang,
		Title: t.Title.Noun(lang), Salutation: t.Title.Salutation(lang), Holder: t.Title.Of(lang, place),
	}
}

// Ref is the short reference of a letter printed in its subject.
func Ref(letterID string) string { return strings.ToUpper(letterID) }

// RefPattern finds a reference made by Ref in a subject ("[ref W1-T19]").
var RefPattern = regexp.MustCompile(`(?i)\[ref\.?\s+([a-z0-9][a-z0-9-]{0,63})\]`)

var bracketName = regexp.MustCompile(`\(([\p{Latin}][\p{Latin}\s.'-]*)/?\)`)

// PlaceName is the name a letter uses for a city: as the table prints it,
// except that a name in another script followed by its Latin name in
// brackets (row 65 of the seed: "뉴사우스웨일주 윌로비시(Willoughby/)") is
// named by the bracketed name.
func PlaceName(city string) string {
	m := bracketName.FindStringSubmatch(city)
	if m == nil {
		return city
	}
	for _, r := range city {
		if r > 0x2000 { // not Latin: the bracketed name is the readable one
			return strings.TrimSpace(m[1])
		}
	}
	return city
}

// Address is a display name and an e-mail address.
type Address struct {
	Name  string
	Email string
}

// Envelope is what a message says about itself, apart from its text.
type Envelope struct {
	LetterID string
	From     Address
	To       Address
	// ReplyTo is the Reply-To address, empty for none.
	ReplyTo string
	Date    time.Time
	// InReplyTo is the Message-ID, without brackets, that a follow-up
	// answers; empty for a first letter.
	InReplyTo string
	// Boundary fixes the MIME boundary, for reproducible output in tests;
	// empty picks a random one.
	Boundary string
	// ListUnsubscribe, when set, is the List-Unsubscribe value of a letter
	// to an office (Signer.OptOutHeader), sent with List-Unsubscribe-Post
	// for a one-click opt-out (RFC 8058).
	ListUnsubscribe string
}

// errBadAddress stands for the mail library's own error about an address,
// which quotes the name and address it could not read.
var errBadAddress = errors.New("not a valid address (see the office's or supporter's details)")

// formatAddress writes a as RFC 5322 does: a display name with quotes or
// backslashes in it is quoted and escaped, one beyond ASCII is encoded
// (RFC 2047), so that any name a person has reaches the header intact.
func formatAddress(a Address) string {
	return (&netmail.Address{Name: a.Name, Address: a.Email}).String()
}

// Compose builds the MIME message of a rendered letter. Every value that
// reaches a header is checked for line breaks first.
func (s *Signer) Compose(env Envelope, r Rendered) (*mail.Msg, error) {
	if !ValidLetterID(env.LetterID) {
		return nil, fmt.Errorf("letter: %q is not a letter id", env.LetterID)
	}
	for _, h := range []struct{ name, value string }{
		{"From name", env.From.Name}, {"From", env.From.Email}, {"To name", env.To.Name},
		{"To", env.To.Email}, {"Reply-To", env.ReplyTo}, {"Subject", r.Subject},
		{"In-Reply-To", env.InReplyTo}, {"List-Unsubscribe", env.ListUnsubscribe},
	} {
		// The value stays out of the error: it may be a supporter's name or
		// address, and errors are kept with the letter and in Redis.
		if campaign.CheckHeaderText(h.value) != nil {
			return nil, fmt.Errorf("letter %s: %s: %w", env.LetterID, h.name, campaign.ErrHeaderInjection)
		}
	}
	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := m.From(formatAddress(env.From)); err != nil {
		return nil, fmt.Errorf("letter %s: From: %w", env.LetterID, errBadAddress)
	}
	if err := m.AddTo(formatAddress(env.To)); err != nil {
		return nil, fmt.Errorf("letter %s: To: %w", env.LetterID, errBadAddress)
	}
	if env.ReplyTo != "" {
		if err := m.ReplyTo(env.ReplyTo); err != nil {
			return nil, fmt.Errorf("letter %s: Reply-To: %w", env.LetterID, err)
		}
	}
	m.Subject(r.Subject)
	m.SetMessageIDWithValue(s.MessageID(env.LetterID))
	m.SetDateWithValue(env.Date)
	if env.InReplyTo != "" {
		m.SetGenHeader(mail.HeaderInReplyTo, "<"+env.InReplyTo+">")
		m.SetGenHeader(mail.HeaderReferences, "<"+env.InReplyTo+">")
	}
	m.SetUserAgent("outreach")
	// Out-of-office replies tell staff nothing about the campaign; ask
	// Exchange not to send them. Other automatic replies are sorted out
	// when they arrive.
	m.SetGenHeader(mail.HeaderXAutoResponseSuppress, "OOF, AutoReply")
	if env.ListUnsubscribe != "" {
		m.SetGenHeader(mail.HeaderListUnsubscribe, env.ListUnsubscribe)
		m.SetGenHeader(mail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	if env.Boundary != "" {
		m.SetBoundary(env.Boundary)
	}
	m.SetBodyString(mail.TypeTextPlain, r.Text)
	m.AddAlternativeString(mail.TypeTextHTML, r.HTML)
	return m, nil
}
