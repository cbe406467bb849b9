package cities

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// ContactsHeader is the header line of a contacts file: these columns, in
// this order, then any of OptionalContactsColumns.
var ContactsHeader = []string{"country", "city", "office", "mayor", "email", "language", "timezone"}

// OptionalContactsColumns may follow ContactsHeader, in any order: title
// (what the office's holder is called, mayor when empty) and names (the
// place's name in other languages, "fr=Montréal").
var OptionalContactsColumns = []string{"title", "names"}

// Contacts is a contacts file as read: the targets to store, and the
// campaigns left without an office address.
type Contacts struct {
	Contacts []store.Contact
	// NoAddress lists campaigns whose row gave no e-mail address; they
	// stay without a target and no letter can go to them.
	NoAddress []campaign.Campaign
}

// ReadContacts reads a contacts file and links each row to the campaigns,
// among cs, of its country whose city is one of the row's spellings
// (separated by "|", each as the table prints it, compared without case).
// A spelling that names no campaign is an error naming it; a language or
// time zone left empty is filled in from the place.
func ReadContacts(r io.Reader, cs []campaign.Campaign) (Contacts, error) {
	var out Contacts
	data, err := io.ReadAll(r)
	if err != nil {
		return out, fmt.Errorf("cities: read contacts: %w", err)
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	cr.FieldsPerRecord = -1 // the header is checked on its own first
	head, err := cr.Read()
	if err != nil {
		return out, csvErr(err)
	}
	columns, err := contactsColumns(head)
	if err != nil {
		return out, err
	}
	cr.FieldsPerRecord = len(columns)
	byEmail := map[string]int{}     // lower-cased address -> index in out.Contacts
	claimedBy := map[int64]string{} // campaign id -> address of the row that claims it
	claim := func(ids []int64, key string) {
		for _, id := range ids {
			claimedBy[id] = key
		}
	}
	// row reads one record; a bad row changes nothing of out, byEmail or
	// claimedBy, so that the rows after it are checked as if it were not
	// there.
	row := func(line int, rec []string) error {
		f := map[string]string{}
		for i, name := range columns {
			f[name] = strings.TrimSpace(rec[i])
		}
		for _, name := range columns {
			if err := campaign.CheckHeaderText(f[name]); err != nil {
				return lineErr(line, name, "%v", err)
			}
		}
		if f["country"] == "" {
			return lineErr(line, "country", "missing")
		}
		spellings := splitSpellings(f["city"])
		if len(spellings) == 0 {
			return lineErr(line, "city", "missing")
		}
		matched, err := matchCampaigns(cs, f["country"], spellings)
		if err != nil {
			return lineErr(line, "city", "%v", err)
		}
		title, err := campaign.ParseTitle(f["title"])
		if err != nil {
			return lineErr(line, "title", "%v", err)
		}
		names, err := campaign.ParsePlaceNames(f["names"])
		if err != nil {
			return lineErr(line, "names", "%v", err)
		}
		if f["email"] == "" {
			out.NoAddress = append(out.NoAddress, matched...)
			return nil
		}
		email := f["email"]
		key := strings.ToLower(email)
		places := slices.Clone(spellings)
		var ids []int64
		for _, c := range matched {
			if other, ok := claimedBy[c.ID]; ok && other != key {
				return lineErr(line, "city", "%s (campaign %s) is already the office of %s", c.City, c.Number(), other)
			}
			ids = append(ids, c.ID)
			places = append(places, c.City)
		}
		t := campaign.Target{
			Email: email, Country: f["country"], City: spellings[0], Office: f["office"],
			Mayor: f["mayor"], Title: title, Names: names,
			Language: strings.ToLower(f["language"]), TimeZone: f["timezone"],
		}
		if t.Language == "" {
			t.Language = defaultLanguage(t.Country, places)
		}
		if t.TimeZone == "" {
			if t.TimeZone = defaultTimeZone(t.Country, places); t.TimeZone == "" {
				return lineErr(line, "timezone", "cannot tell the time zone of %s, %s: give one (such as Europe/Rome)", t.City, t.Country)
			}
		}
		if err := t.Validate(); err != nil {
			return fieldLineErr(line, err)
		}
		// Campaigns whose cities share an office address are one target:
		// a second row with the same address adds its campaigns to it.
		if i, ok := byEmail[key]; ok {
			prev := &out.Contacts[i]
			if !sameOffice(prev.Target, t) {
				return lineErr(line, "email", "%s is already the address of %s (%s) with other details", email, prev.Target.City, prev.Target.Office)
			}
			prev.CampaignIDs = append(prev.CampaignIDs, ids...)
			claim(ids, key)
			return nil
		}
		claim(ids, key)
		byEmail[key] = len(out.Contacts)
		out.Contacts = append(out.Contacts, store.Contact{Target: t, CampaignIDs: ids})
		return nil
	}
	var bad lineErrors
	if err := readRows(cr, &bad, row); err != nil {
		return out, err
	}
	if err := bad.err(); err != nil {
		return Contacts{}, err
	}
	return out, nil
}

func sameOffice(a, b campaign.Target) bool {
	return strings.EqualFold(a.Country, b.Country) && a.Office == b.Office && a.Mayor == b.Mayor &&
		a.Title == b.Title && a.Names == b.Names && a.Language == b.Language && a.TimeZone == b.TimeZone
}

// contactsColumns checks a contacts file's header and returns its columns.
func contactsColumns(head []string) ([]string, error) {
	bad := lineErr(1, "", "the header must be %s, optionally followed by %s",
		strings.Join(ContactsHeader, ","), strings.Join(OptionalContactsColumns, " and "))
	if len(head) < len(ContactsHeader) || !slices.Equal(head[:len(ContactsHeader)], ContactsHeader) {
		return nil, bad
	}
	cols := slices.Clone(ContactsHeader)
	for _, h := range head[len(ContactsHeader):] {
		if !slices.Contains(OptionalContactsColumns, h) || slices.Contains(cols, h) {
			return nil, bad
		}
		cols = append(cols, h)
	}
	return cols, nil
}

func splitSpellings(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "|") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// matchCampaigns returns the campaigns of country whose city is one of the
// spellings; every spelling must name at least one.
func matchCampaigns(cs []campaign.Campaign, country string, spellings []string) ([]campaign.Campaign, error) {
	var out []campaign.Campaign
	for _, sp := range spellings {
		found := false
		for _, c := range cs {
			if strings.EqualFold(c.Country, country) && sameCity(c.City, sp) {
				found = true
				if !slices.ContainsFunc(out, func(o campaign.Campaign) bool { return o.ID == c.ID }) {
					out = append(out, c)
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown city %q in %s: no campaign of the table has it", sp, country)
		}
	}
	return out, nil
}

func sameCity(a, b string) bool {
	norm := func(s string) string {
		return strings.ToLower(multiSpaceRe.ReplaceAllString(strings.TrimSpace(s), " "))
	}
	return norm(a) == norm(b)
}
