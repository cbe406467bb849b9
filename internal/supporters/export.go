package supporters

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/csvsafe"
)

// WriteExportCSV writes a campaign's signatures for staff: every
// signature, its state and dates, and the supporter's data where it is
// still kept (erased signatures keep their row, with the data empty).
func WriteExportCSV(w io.Writer, sigs []campaign.Signature) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "campaign", "state", "delivered", "signed_at", "confirmed_at", "delivered_at",
		"name", "email", "country", "city", "reply_consent", "message", "erased_at"})
	for _, s := range sigs {
		delivered := s.LetterState == campaign.Sent
		cw.Write(csvsafe.Cells(strconv.FormatInt(s.ID, 10), strconv.FormatInt(s.CampaignID, 10), string(s.State),
			strconv.FormatBool(delivered), stamp(s.SignedAt), stamp(s.ConfirmedAt), stamp(s.DeliveredAt),
			s.Name, s.Email, s.Country, s.City, strconv.FormatBool(s.ReplyConsent), s.Message, stamp(s.ErasedAt)))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("supporters: export: %w", err)
	}
	return nil
}

// WriteDigestCSV writes the letters of a digest for the office: who wrote,
// from where, what, and the address only of those who agreed to be
// replied to.
func WriteDigestCSV(w io.Writer, sigs []campaign.Signature) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"name", "city", "country", "message", "email", "confirmed"})
	for _, s := range sigs {
		email := ""
		if s.ReplyConsent {
			email = s.Email
		}
		cw.Write(csvsafe.Cells(s.Name, s.City, s.Country, s.Message, email, campaign.DateOf(s.ConfirmedAt.UTC()).String()))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("supporters: digest CSV: %w", err)
	}
	return nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
