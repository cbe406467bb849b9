package cities

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// TableHeader is the header line of the twinning table's CSV form
// (config/sister-cities.csv).
var TableHeader = []string{
	"id", "no", "region", "district", "country", "city", "agreement_date",
	"relationship", "relationship_label", "campaign_date", "response_date", "response_note",
}

// ReadTable reads the twinning table from either of its two forms: the
// project's CSV (recognised by its header) or the campaign page's text as
// pasted, table and all that surrounds it. The result is checked whole.
func ReadTable(r io.Reader) ([]campaign.Campaign, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("cities: read table: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if bytes.HasPrefix(data, []byte(strings.Join(TableHeader, ","))) {
		return readTableCSV(data)
	}
	return readPage(data)
}

func readTableCSV(data []byte) ([]campaign.Campaign, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = len(TableHeader)
	if _, err := cr.Read(); err != nil {
		return nil, csvErr(err)
	}
	var cs []campaign.Campaign
	var lines []int
	var bad lineErrors
	err := readRows(cr, &bad, func(line int, rec []string) error {
		c, err := tableRow(line, rec)
		if err == nil {
			lines = append(lines, line)
			cs = append(cs, c)
		}
		return err
	})
	if err != nil {
		return nil, err
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

func tableRow(line int, rec []string) (campaign.Campaign, error) {
	f := map[string]string{}
	for i, name := range TableHeader {
		f[name] = strings.TrimSpace(rec[i])
	}
	var c campaign.Campaign
	id, err := strconv.ParseInt(f["id"], 10, 64)
	if err != nil || id <= 0 {
		return c, lineErr(line, "id", "%q is not a positive whole number", f["id"])
	}
	c.ID = id
	c.No = f["no"]
	c.Partner = campaign.Partner{Region: f["region"], District: f["district"]}
	c.Country, c.City = f["country"], f["city"]
	for _, d := range []struct {
		field string
		dst   *campaign.Date
	}{{"agreement_date", &c.AgreementDate}, {"campaign_date", &c.CampaignDate}, {"response_date", &c.ResponseDate}} {
		if *d.dst, err = campaign.ParseDate(f[d.field]); err != nil {
			return c, lineErr(line, d.field, "%v", err)
		}
	}
	if c.Relationship, err = campaign.ParseRelationship(f["relationship"]); err != nil {
		return c, lineErr(line, "relationship", "%v", err)
	}
	c.RelationshipLabel = f["relationship_label"]
	c.ResponseNote = f["response_note"]
	if err := validateRow(c); err != nil {
		return c, fieldLineErr(line, err)
	}
	return c, nil
}

// validateRow applies the domain's checks, and also refuses line breaks,
// since every field of the table can reach a letter.
func validateRow(c campaign.Campaign) error {
	for _, f := range []struct{ name, value string }{
		{"no", c.No}, {"region", c.Partner.Region}, {"district", c.Partner.District},
		{"country", c.Country}, {"city", c.City}, {"relationship_label", c.RelationshipLabel},
		{"response_note", c.ResponseNote},
	} {
		if err := campaign.CheckHeaderText(f.value); err != nil {
			return &campaign.FieldError{Field: f.name, Err: err}
		}
	}
	return c.Validate()
}

// checkTable checks what no single row can: ids and twinnings are unique.
// lines[i] is the line campaign i was read from.
func checkTable(cs []campaign.Campaign, lines []int) error {
	if len(cs) == 0 {
		return errors.New("cities: the table has no rows")
	}
	ids := map[int64]bool{}
	twins := map[string]int64{}
	var bad lineErrors
	for i, c := range cs {
		if ids[c.ID] {
			bad.add(lineErr(lines[i], "id", "%d is used twice", c.ID))
			continue
		}
		ids[c.ID] = true
		key := strings.ToLower(c.Partner.String() + "\x00" + c.Country + "\x00" + c.City)
		if other, ok := twins[key]; ok {
			bad.add(lineErr(lines[i], "", "%s and %s are already twinned (row id %d)", c.Partner, c.City, other))
			continue
		}
		twins[key] = c.ID
	}
	return bad.err()
}

// csvErr turns encoding/csv's positioned errors into LineErrors.
func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		reason := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			reason = "wrong number of fields"
		}
		return &LineError{Line: pe.Line, Reason: reason}
	}
	return fmt.Errorf("cities: %w", err)
}

// WriteTable writes campaigns in the CSV form ReadTable reads.
func WriteTable(w io.Writer, cs []campaign.Campaign) error {
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	cw.Write(TableHeader)
	for _, c := range cs {
		cw.Write([]string{
			strconv.FormatInt(c.ID, 10), c.No, c.Partner.Region, c.Partner.District, c.Country,
			c.City, c.AgreementDate.String(), string(c.Relationship), c.RelationshipLabel,
			c.CampaignDate.String(), c.ResponseDate.String(), c.ResponseNote,
		})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("cities: write table: %w", err)
	}
	return bw.Flush()
}
