// Package status prints the campaign status table the way the campaign page
// shows it: No., Korean local government, country, sister city, agreement
// date, sister/friendship, campaign date, and the victory or response
// received (date and note), as an aligned text table, CSV, JSON or HTML.
package status

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/csvsafe"
)

// Formats are the names Write accepts.
var Formats = []string{"table", "csv", "json", "html"}

// Options change what Write prints.
type Options struct {
	// IDs adds the campaigns' numbers ("#19": their ids, which commands
	// take), as a first column before the table's printed No.
	IDs bool
}

// Header is the table's header as the campaign page prints it, plus the
// note, which the page writes after the response date in the same cell.
var Header = []string{
	"No.", "Korean Local Government", "Country", "Sister City", "Agreement Date",
	"Sister/Friendship", "Campaign Date", "Victory/Response received", "Response note",
}

// numberHeader heads the column of campaigns' numbers.
const numberHeader = "Campaign"

// Row is one campaign as the status table shows it; its JSON form is the
// table's JSON format.
type Row struct {
	ID            int64          `json:"id"`
	No            string         `json:"no"`
	Partner       string         `json:"korean_local_government"`
	Country       string         `json:"country"`
	City          string         `json:"sister_city"`
	AgreementDate campaign.Date  `json:"agreement_date"`
	Relationship  string         `json:"sister_friendship"`
	CampaignDate  campaign.Date  `json:"campaign_date"`
	ResponseDate  campaign.Date  `json:"response_date"`
	ResponseNote  string         `json:"response_note"`
	Outcome       string         `json:"outcome,omitempty"`
	State         campaign.State `json:"state"`
}

// Rows turns campaigns into table rows.
func Rows(cs []campaign.Campaign) []Row {
	out := make([]Row, len(cs))
	for i, c := range cs {
		label := c.RelationshipLabel
		if label == "" {
			label = string(c.Relationship)
		}
		out[i] = Row{
			ID: c.ID, No: c.No, Partner: c.Partner.String(), Country: c.Country, City: c.City,
			AgreementDate: c.AgreementDate, Relationship: label, CampaignDate: c.CampaignDate,
			ResponseDate: c.ResponseDate, ResponseNote: c.ResponseNote, Outcome: string(c.Outcome),
			State: c.State(),
		}
	}
	return out
}

// Number is the campaign's number as staff see and type it, "#19"; the
// printed No. (18) is the table's and repeats.
func (r Row) Number() string { return campaign.Number(r.ID) }

// TableNo says the printed No. where it differs from the number: "No. 18
// in the table".
func (r Row) TableNo() string { return campaign.Campaign{ID: r.ID, No: r.No}.TableNo() }

// Response is the last cell as the page prints it: the date, then the note.
func (r Row) Response() string {
	return strings.TrimSpace(r.ResponseDate.String() + " " + r.ResponseNote)
}

func (r Row) cells() []string {
	return []string{
		r.No, r.Partner, r.Country, r.City, r.AgreementDate.String(), r.Relationship,
		r.CampaignDate.String(), r.ResponseDate.String(), r.ResponseNote,
	}
}

// Write prints the table in format, one of Formats.
func Write(w io.Writer, format string, cs []campaign.Campaign, opt Options) error {
	rows := Rows(cs)
	var err error
	switch format {
	case "table", "":
		err = writeTable(w, rows, opt)
	case "csv":
		err = writeCSV(w, rows, opt)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if rows == nil {
			rows = []Row{}
		}
		err = enc.Encode(rows)
	case "html":
		err = WriteHTML(w, rows)
	default:
		return fmt.Errorf("status: %q is not a format (%s)", format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return fmt.Errorf("status: write %s: %w", format, err)
	}
	return nil
}

func writeCSV(w io.Writer, rows []Row, opt Options) error {
	cw := csv.NewWriter(w)
	head := Header
	if opt.IDs {
		head = append([]string{numberHeader}, head...)
	}
	cw.Write(head)
	for _, r := range rows {
		cells := r.cells()
		if opt.IDs {
			cells = append([]string{r.Number()}, cells...)
		}
		// A note or city comes from staff, mail or an import: never a
		// formula in the spreadsheet of whoever downloads the table.
		cw.Write(csvsafe.Cells(cells...))
	}
	cw.Flush()
	return cw.Error()
}

func writeTable(w io.Writer, rows []Row, opt Options) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := append(Header[:7:7], "Victory/Response received")
	if opt.IDs {
		head = append([]string{numberHeader}, head...)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range rows {
		cells := append(r.cells()[:7], r.Response())
		if opt.IDs {
			cells = append([]string{r.Number()}, cells...)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

var page = template.Must(template.New("status").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sister City Campaign Status</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: .3em .5em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
</style>
</head>
<body>
<h1>Sister City Campaign Status</h1>
{{template "table" .}}
</body>
</html>
{{define "table"}}<table class="status">
<thead><tr><th>No.</th><th>Korean Local Government</th><th>Country</th><th>Sister City</th><th>Agreement Date</th><th>Sister/Friendship</th><th>Campaign Date</th><th>Victory/Response received</th></tr></thead>
<tbody>
{{- range .}}
<tr><td>{{.No}}</td><td>{{.Partner}}</td><td>{{.Country}}</td><td>{{.City}}</td><td>{{.AgreementDate}}</td><td>{{.Relationship}}</td><td>{{.CampaignDate}}</td><td>{{.Response}}</td></tr>
{{- end}}
</tbody>
</table>{{end}}
`))

// WriteHTML writes the table as a page of its own.
func WriteHTML(w io.Writer, rows []Row) error {
	return page.Execute(w, rows)
}
