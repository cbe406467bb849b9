package cities

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// The campaign page prints its table as text lines of space-separated cells,
// which copy-and-paste leaves with no column boundaries. A row is read from
// both ends: the agreement date (YYYY-M-D) splits it; before it come the
// partner, a country and the city; after it the relationship label, the
// campaign date, the response date (M/D/YYYY) and a note.
var (
	pageHeader   = regexp.MustCompile(`(?i)^No\.\s+Korean Local Government\b`)
	pageRow      = regexp.MustCompile(`^(\d+)\s+(.+)$`)
	agreementRe  = regexp.MustCompile(`\s(\d{4})-(\d{1,2})-(\d{1,2})(\s|$)`)
	labelRe      = regexp.MustCompile(`(?i)^(Sister City|Friendship City|Sister|Friendship)\b\s*`)
	slashDateRe  = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})/(\d{4})\.?(\s+|$)`)
	multiSpaceRe = regexp.MustCompile(`\s+`)
)

// readPage finds the campaign status table in the page's text and reads
// its rows; the text around the table is ignored. A row's id is its
// position in the table.
func readPage(data []byte) ([]campaign.Campaign, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var (
		cs      []campaign.Campaign
		lines   []int
		inTable bool
		lineNo  int
		row     int64 // the row's position in the table: its id
		bad     lineErrors
	)
	for sc.Scan() {
		lineNo++
		text := strings.TrimSpace(sc.Text())
		if !inTable {
			inTable = pageHeader.MatchString(text)
			continue
		}
		if text == "" {
			if row > 0 {
				break // the table ends at the first blank line after its rows
			}
			continue
		}
		row++
		c, err := pageRowCampaign(lineNo, row, text)
		if err != nil {
			if err := bad.add(err); err != nil {
				return nil, err
			}
			continue
		}
		cs = append(cs, c)
		lines = append(lines, lineNo)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cities: read page: %w", err)
	}
	if !inTable {
		return nil, fmt.Errorf("cities: neither the table's CSV header (%s) nor the campaign page's table header (\"No. Korean Local Government ...\") was found", strings.Join(TableHeader, ","))
	}
	if len(bad.es) == 0 || len(cs) > 0 {
		if err := bad.add(checkTable(cs, lines)); err != nil {
			return nil, err
		}
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	return cs, nil
}

func pageRowCampaign(line int, id int64, text string) (campaign.Campaign, error) {
	c := campaign.Campaign{ID: id}
	m := pageRow.FindStringSubmatch(text)
	if m == nil {
		return c, lineErr(line, "no", "a table row starts with its number: %q", text)
	}
	c.No = m[1]
	rest := m[2]
	loc := agreementRe.FindStringSubmatchIndex(rest)
	if loc == nil {
		return c, lineErr(line, "agreement_date", "no agreement date (YYYY-M-D) in %q", text)
	}
	left := strings.TrimSpace(rest[:loc[0]])
	right := strings.TrimSpace(rest[loc[1]:])
	d, err := civilDate(rest[loc[2]:loc[3]], rest[loc[4]:loc[5]], rest[loc[6]:loc[7]])
	if err != nil {
		return c, lineErr(line, "agreement_date", "%v", err)
	}
	c.AgreementDate = d

	if err := splitPlace(&c, left); err != nil {
		return c, lineErr(line, "country", "%v in %q", err, left)
	}

	lm := labelRe.FindStringSubmatch(right)
	if lm == nil {
		return c, lineErr(line, "relationship", "expected Sister City, Friendship City, Sister or Friendship after the agreement date, found %q", right)
	}
	c.RelationshipLabel = lm[1]
	c.Relationship, _ = campaign.ParseRelationship(lm[1])
	right = right[len(lm[0]):]

	// The page cannot show a response date without a campaign date in front
	// of it: the first date is the campaign's, the second the response's.
	if c.CampaignDate, right, err = leadingSlashDate(right); err != nil {
		return c, lineErr(line, "campaign_date", "%v", err)
	}
	if c.ResponseDate, right, err = leadingSlashDate(right); err != nil {
		return c, lineErr(line, "response_date", "%v", err)
	}
	c.ResponseNote = strings.TrimSpace(right)
	if err := validateRow(c); err != nil {
		return c, fieldLineErr(line, err)
	}
	return c, nil
}

// leadingSlashDate reads an M/D/YYYY date (with an optional full stop) at
// the start of s and returns what follows it; no date gives the zero Date.
func leadingSlashDate(s string) (campaign.Date, string, error) {
	m := slashDateRe.FindStringSubmatch(s)
	if m == nil {
		return campaign.Date{}, s, nil
	}
	d, err := civilDate(m[3], m[1], m[2])
	return d, s[len(m[0]):], err
}

func civilDate(y, m, d string) (campaign.Date, error) {
	yy, _ := strconv.Atoi(y)
	mm, _ := strconv.Atoi(m)
	dd, _ := strconv.Atoi(d)
	t := time.Date(yy, time.Month(mm), dd, 0, 0, 0, 0, time.UTC)
	if t.Year() != yy || int(t.Month()) != mm || t.Day() != dd {
		return campaign.Date{}, fmt.Errorf("%s-%s-%s is not a calendar date", y, m, d)
	}
	return campaign.DateOf(t), nil
}

// splitPlace splits "Seoul Gangseo-gu United Kingdom Nottingham" into the
// partner (a one-word region and an optional district), the country and the
// city. The country is the first run of words that names a country.
func splitPlace(c *campaign.Campaign, s string) error {
	words := strings.Fields(s)
	if len(words) < 3 {
		return fmt.Errorf("expected a Korean local government, a country and a city")
	}
	for i := 1; i < len(words)-1; i++ {
		for n := min(4, len(words)-1-i); n >= 1; n-- {
			name := strings.Join(words[i:i+n], " ")
			if !isCountry(name) {
				continue
			}
			c.Partner = campaign.Partner{Region: words[0], District: strings.Join(words[1:i], " ")}
			c.Country = name
			c.City = strings.Join(words[i+n:], " ")
			return nil
		}
	}
	return fmt.Errorf("no country found")
}

var countryNames = sync.OnceValue(func() map[string]bool {
	names := map[string]bool{}
	namer := display.English.Regions()
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			r, err := language.ParseRegion(string([]rune{a, b}))
			if err != nil || !r.IsCountry() {
				continue
			}
			if n := namer.Name(r); n != "" {
				names[strings.ToLower(n)] = true
			}
		}
	}
	// Names in common use that CLDR spells otherwise.
	for _, n := range []string{"UK", "USA", "United States of America", "Republic of Korea"} {
		names[strings.ToLower(n)] = true
	}
	return names
})

func isCountry(name string) bool {
	return countryNames()[strings.ToLower(multiSpaceRe.ReplaceAllString(name, " "))]
}
