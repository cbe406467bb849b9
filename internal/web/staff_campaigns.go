package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/status"
	"github.com/outreach-campaign/outreach/internal/store"
)

// campaignStates are the filters of the campaigns page, in order.
var campaignStates = []struct {
	State campaign.State
	Label string
}{
	{campaign.NeverContacted, "Never contacted"},
	{campaign.Waiting, "Waiting for a reply"},
	{campaign.Replied, "Replied"},
	{campaign.Won, "Victory"},
}

type campaignRow struct {
	status.Row
	Target string `json:"office,omitempty"`
}

type campaignsPage struct {
	staffPage
	Countries []string
	Country   string
	States    []stateOption
	State     string
	// Query is the search text: words each found in the city, the Korean
	// partner or the country.
	Query   string
	Columns []sortColumn
	Rows    []campaignRow
	Total   int
}

// sortColumn is a header of the campaigns table: a link that sorts by it,
// and aria-sort on the one the table is sorted by.
type sortColumn struct {
	Label, Class string
	// Key is the sort parameter's value; empty: the column does not sort.
	Key, URL string
	// Sort is "ascending" or "descending" on the column sorted by.
	Sort string
}

// campaignColumns are the table's columns, in order, with the sort key of
// those that sort and how. The first is the table's own order.
var campaignColumns = []struct {
	label, class, key string
	cmp               func(a, b campaign.Campaign) int
	// date is the column's date, for a column of dates: campaigns
	// without one come last whichever way it is sorted.
	date func(c campaign.Campaign) campaign.Date
}{
	{"Campaign", "", "no", func(a, b campaign.Campaign) int { return cmpInt(a.ID, b.ID) }, nil},
	{"Sister city", "", "city", func(a, b campaign.Campaign) int { return cmpText(a.City, b.City) }, nil},
	{"Korean local government", "", "partner", func(a, b campaign.Campaign) int {
		return cmpText(a.Partner.String(), b.Partner.String())
	}, nil},
	{"Country", "wide", "country", func(a, b campaign.Campaign) int { return cmpText(a.Country, b.Country) }, nil},
	{"Agreement", "wide", "", nil, nil},
	{"Sister/Friendship", "wide", "", nil, nil},
	{"Campaign date", "", "campaign_date", func(a, b campaign.Campaign) int { return cmpDate(a.CampaignDate, b.CampaignDate) },
		func(c campaign.Campaign) campaign.Date { return c.CampaignDate }},
	{"Victory/Response received", "", "response_date", func(a, b campaign.Campaign) int {
		return cmpDate(a.ResponseDate, b.ResponseDate)
	}, func(c campaign.Campaign) campaign.Date { return c.ResponseDate }},
	{"State", "", "state", func(a, b campaign.Campaign) int { return cmpInt(stateRank(a.State()), stateRank(b.State())) }, nil},
}

func cmpInt(a, b int64) int { return int(min(max(a-b, -1), 1)) }

func cmpText(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }

func cmpDate(a, b campaign.Date) int {
	switch {
	case a.Before(b):
		return -1
	case b.Before(a):
		return 1
	}
	return 0
}

// stateRank orders states as the filter lists them.
func stateRank(st campaign.State) int64 {
	for i, s := range campaignStates {
		if s.State == st {
			return int64(i)
		}
	}
	return int64(len(campaignStates))
}

// matches reports whether every word of q is found, without case, in the
// campaign's city, Korean partner or country.
func matches(c campaign.Campaign, q string) bool {
	hay := strings.ToLower(c.City + " " + c.Partner.String() + " " + c.Country)
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// sortCampaigns sorts cs by the column named by key ("city", "-city" for
// descending); an unknown key keeps the table's order. It returns the
// column sorted by and the direction.
func sortCampaigns(cs []campaign.Campaign, key string) (string, bool) {
	desc := strings.HasPrefix(key, "-")
	key = strings.TrimPrefix(key, "-")
	for _, col := range campaignColumns {
		if col.key == "" || col.key != key {
			continue
		}
		slices.SortStableFunc(cs, func(a, b campaign.Campaign) int {
			if col.date != nil {
				if am, bm := col.date(a).IsZero(), col.date(b).IsZero(); am != bm {
					if am {
						return 1
					}
					return -1
				}
			}
			c := col.cmp(a, b)
			if desc {
				c = -c
			}
			if c == 0 {
				return cmpInt(a.ID, b.ID)
			}
			return c
		})
		return key, desc
	}
	return "no", false
}

// columns are the table's headers for a request: each sortable one links
// to the same list sorted by it (the other way when it is sorted by it
// already).
func columns(r *http.Request, sortedBy string, desc bool) []sortColumn {
	out := make([]sortColumn, len(campaignColumns))
	for i, col := range campaignColumns {
		out[i] = sortColumn{Label: col.label, Class: col.class, Key: col.key}
		if col.key == "" {
			continue
		}
		q := r.URL.Query()
		q.Set("sort", col.key)
		if col.key == sortedBy {
			out[i].Sort = "ascending"
			if desc {
				out[i].Sort = "descending"
			} else {
				q.Set("sort", "-"+col.key)
			}
		}
		if q.Get("sort") == "no" {
			q.Del("sort")
		}
		out[i].URL = "/campaigns?" + q.Encode()
	}
	return out
}

type stateOption struct {
	Value, Label string
	Count        int
}

// campaigns lists the campaign status table, filtered by country and
// state.
func (s *Server) campaigns(w http.ResponseWriter, r *http.Request) {
	all, err := s.staff.Store.Campaigns(r.Context(), store.CampaignFilter{})
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	q := r.URL.Query()
	country, state, query := q.Get("country"), q.Get("state"), strings.TrimSpace(q.Get("q"))
	p := campaignsPage{staffPage: s.newStaffPage(r, "campaigns", "Campaigns"), Country: country, State: state, Query: query, Total: len(all)}
	counts := map[campaign.State]int{}
	var kept []campaign.Campaign
	for _, c := range all {
		if !slices.Contains(p.Countries, c.Country) {
			p.Countries = append(p.Countries, c.Country)
		}
		if country != "" && !strings.EqualFold(c.Country, country) || !matches(c, query) {
			continue
		}
		counts[c.State()]++
		if state != "" && string(c.State()) != state {
			continue
		}
		kept = append(kept, c)
	}
	sortedBy, desc := sortCampaigns(kept, q.Get("sort"))
	p.Columns = columns(r, sortedBy, desc)
	var rows []campaignRow
	for _, c := range kept {
		rows = append(rows, campaignRow{Row: status.Rows([]campaign.Campaign{c})[0], Target: c.TargetEmail})
	}
	slices.Sort(p.Countries)
	for _, st := range campaignStates {
		p.States = append(p.States, stateOption{Value: string(st.State), Label: st.Label, Count: counts[st.State]})
	}
	p.Rows = rows
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, rows)
		return
	}
	s.renderStaff(w, http.StatusOK, "campaigns", p)
}

type campaignPage struct {
	staffPage
	Campaign campaign.Campaign
	State    string
	Target   *campaign.Target
	// Partners are all the twinnings of the same office, this one among
	// them: one letter names them all.
	Partners []campaign.Campaign
	Letters  []campaign.Letter
	Replies  []replyRow
	// Signatures are the supporters' letters to this campaign's office.
	Signatures []campaign.Signature
	// FollowUp is the latest follow-up letter, if one was planned.
	FollowUp *campaign.Letter
}

func (s *Server) campaignDetail(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.staffError(w, r, http.StatusNotFound, "No such campaign.")
		return
	}
	ctx := r.Context()
	c, err := s.staff.Store.Campaign(ctx, id)
	if err != nil {
		s.staffFail(w, r, err)
		return
	}
	p := campaignPage{staffPage: s.newStaffPage(r, "campaigns", c.Number()+" "+c.City), Campaign: c, State: stateLabel(c.State())}
	p.Partners = []campaign.Campaign{c}
	if c.TargetEmail != "" {
		t, err := s.staff.Store.Target(ctx, c.TargetEmail)
		if err != nil {
			s.staffFail(w, r, err)
			return
		}
		p.Target = &t
		if p.Partners, err = s.staff.Store.Campaigns(ctx, store.CampaignFilter{TargetID: t.ID}); err != nil {
			s.staffFail(w, r, err)
			return
		}
	}
	if p.Letters, err = s.staff.Store.Letters(ctx, store.LetterFilter{CampaignID: id}); err != nil {
		s.staffFail(w, r, err)
		return
	}
	for i := range p.Letters {
		if p.Letters[i].Kind == campaign.KindFollowUp {
			p.FollowUp = &p.Letters[i]
		}
	}
	if p.Replies, err = s.repliesOfCampaign(r, id); err != nil {
		s.staffFail(w, r, err)
		return
	}
	if p.Signatures, err = s.staff.Store.Signatures(ctx, id); err != nil {
		s.staffFail(w, r, err)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]any{"campaign": c, "target": p.Target, "partners": p.Partners, "letters": p.Letters, "replies": p.Replies})
		return
	}
	s.renderStaff(w, http.StatusOK, "campaign", p)
}

func stateLabel(st campaign.State) string {
	for _, s := range campaignStates {
		if s.State == st {
			return s.Label
		}
	}
	return string(st)
}

// wantsJSON: the staff API shares its handlers with the pages; a path under
// /api/ answers JSON.
func wantsJSON(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }
