// Package campaign holds the domain of the outreach campaign: the Korean
// partners, the foreign mayors' offices they are twinned with, the campaigns
// (one per twinning) and the rules about them. It does no I/O.
package campaign

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNotFound is returned (wrapped) when a campaign, target or other record
// does not exist.
var ErrNotFound = errors.New("not found")

// Partner is a Korean local government: a region ("Gyeonggi-do") and, for a
// city or county within it, a district ("Paju").
type Partner struct {
	Region   string
	District string
}

// String returns the partner as the campaign table prints it:
// "Seoul", "Seoul Gangseo-gu", "Gyeonggi-do Paju".
func (p Partner) String() string {
	if p.District == "" {
		return p.Region
	}
	return p.Region + " " + p.District
}

// Relationship is the kind of twinning agreement.
type Relationship string

const (
	Sister     Relationship = "sister"
	Friendship Relationship = "friendship"
)

// ParseRelationship reads "sister" or "friendship" as well as the labels the
// campaign table uses ("Sister City", "Friendship City", "Sister",
// "Friendship"), ignoring case.
func ParseRelationship(s string) (Relationship, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "sister", "sister city":
		return Sister, nil
	case "friendship", "friendship city":
		return Friendship, nil
	}
	return "", fmt.Errorf("%q is neither a sister nor a friendship relationship", s)
}

// Outcome is what staff made of a campaign's response.
type Outcome string

const (
	NoOutcome     Outcome = ""
	Victory       Outcome = "victory"
	Response      Outcome = "response"
	Disappointing Outcome = "disappointing"
)

// ParseOutcome reads an outcome name; the empty string is NoOutcome.
func ParseOutcome(s string) (Outcome, error) {
	switch o := Outcome(strings.ToLower(strings.TrimSpace(s))); o {
	case NoOutcome, Victory, Response, Disappointing:
		return o, nil
	}
	return "", fmt.Errorf("%q is not an outcome (victory, response or disappointing)", s)
}

// Campaign is one twinning between a Korean partner and a foreign city, and
// the outreach about it: one row of the campaign status table.
type Campaign struct {
	// ID identifies the campaign; it is the row's position in the table
	// (1 to 71 for the seed), since the printed number is not unique.
	ID int64 `json:"id"`
	// No is the row number as printed; two rows share "9".
	No      string  `json:"no"`
	Partner Partner `json:"-"`
	Country string  `json:"country"`
	// City is the foreign city as the table prints it, e.g.
	// "Chatham Kent, Ontario" or "Florence, Toscana Province".
	City          string       `json:"city"`
	AgreementDate Date         `json:"agreement_date"`
	Relationship  Relationship `json:"relationship"`
	// RelationshipLabel is the relationship as printed: "Sister City",
	// "Friendship City", "Sister" or "Friendship".
	RelationshipLabel string  `json:"relationship_label"`
	CampaignDate      Date    `json:"campaign_date"`
	ResponseDate      Date    `json:"response_date"`
	ResponseNote      string  `json:"response_note"`
	Outcome           Outcome `json:"outcome,omitempty"`
	// TargetEmail is the address of the mayor's office this campaign writes
	// to, empty until contacts are imported.
	TargetEmail string `json:"target_email,omitempty"`
}

// Validate checks the fields every campaign must have.
func (c Campaign) Validate() error {
	switch {
	case c.ID <= 0:
		return fieldErr("id", "must be a positive number")
	case strings.TrimSpace(c.No) == "":
		return fieldErr("no", "missing row number")
	case c.Partner.Region == "":
		return fieldErr("region", "missing Korean local government")
	case c.Country == "":
		return fieldErr("country", "missing")
	case c.City == "":
		return fieldErr("city", "missing")
	case c.AgreementDate.IsZero():
		return fieldErr("agreement_date", "missing")
	case c.Relationship != Sister && c.Relationship != Friendship:
		return fieldErr("relationship", "%q is neither sister nor friendship", c.Relationship)
	case !c.AgreementDate.Valid():
		return fieldErr("agreement_date", "%v is not a calendar date", c.AgreementDate)
	case !c.CampaignDate.Valid():
		return fieldErr("campaign_date", "%v is not a calendar date", c.CampaignDate)
	case !c.ResponseDate.Valid():
		return fieldErr("response_date", "%v is not a calendar date", c.ResponseDate)
	case c.ResponseNote != "" && c.ResponseDate.IsZero():
		return fieldErr("response_note", "a note needs a response date")
	}
	if c.RelationshipLabel != "" {
		r, err := ParseRelationship(c.RelationshipLabel)
		if err != nil {
			return &FieldError{Field: "relationship_label", Err: err}
		}
		if r != c.Relationship {
			return fieldErr("relationship_label", "%q contradicts relationship %q", c.RelationshipLabel, c.Relationship)
		}
	}
	return nil
}

// FieldError says which field of a record is wrong and why.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// State is where a campaign stands, as staff filter the table.
type State string

const (
	NeverContacted State = "never-contacted"
	Waiting        State = "waiting"
	Replied        State = "replied"
	Won            State = "victory"
)

// State derives the campaign's state from its dates and outcome.
func (c Campaign) State() State {
	switch {
	case c.Outcome == Victory:
		return Won
	case !c.ResponseDate.IsZero():
		return Replied
	case !c.CampaignDate.IsZero():
		return Waiting
	}
	return NeverContacted
}

// Number is how people see and type a campaign everywhere (pages, command
// output, exports): its id, "#19", the row's position in the table. The
// table's printed No. repeats (two rows are numbered 9), so it never names
// a campaign on its own; it is shown beside the number where it differs.
func Number(id int64) string { return "#" + strconv.FormatInt(id, 10) }

// Numbers writes a list of campaigns' numbers: "#19, #24".
func Numbers(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = Number(id)
	}
	return strings.Join(parts, ", ")
}

// Number is the campaign's number, "#19".
func (c Campaign) Number() string { return Number(c.ID) }

// TableNo says the table's printed No. where it is not the campaign's
// number: "No. 18 in the table"; "" where they agree.
func (c Campaign) TableNo() string {
	if no := strings.TrimSpace(c.No); no != "" && no != strconv.FormatInt(c.ID, 10) {
		return "No. " + no + " in the table"
	}
	return ""
}

// Label is the campaign's number with the table's No. beside it where it
// differs: "#19 (No. 18 in the table)", "#1".
func (c Campaign) Label() string {
	if no := c.TableNo(); no != "" {
		return c.Number() + " (" + no + ")"
	}
	return c.Number()
}
