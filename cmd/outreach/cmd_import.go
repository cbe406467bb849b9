package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/cities"
	"github.com/outreach-campaign/outreach/internal/store"
)

func (a *app) importCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Load the twinning table or the offices' contacts into the store",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "cities FILE",
		Short: "Load the twinning table from its CSV or from the campaign page's text",
		Long: `Load the twinning table into the store, from either of its two forms:

  - the CSV of config/sister-cities.csv (header: ` + strings.Join(cities.TableHeader, ",") + `);
  - the campaign page's text as pasted, with everything around the table.

Both give the same store contents. The file is checked whole first: every bad
row is reported, one line each (FILE:LINE: field: reason; after ` + strconv.Itoa(cities.MaxReported) + `, a count
of the rest), and nothing of the file is imported.
Importing the same file again changes nothing; dates and notes already
recorded are kept where the file leaves them empty.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, err := readFile(args[0], cities.ReadTable)
			if err != nil {
				return err
			}
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			stats, err := st.ImportCampaigns(cmd.Context(), cs)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s: %d campaigns: %s\n", args[0], len(cs), statsLine(stats))
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "contacts FILE",
		Short: "Load the mayors' offices (targets) and link them to their campaigns",
		Long: `Load the mayors' offices from a CSV with the header

  ` + strings.Join(cities.ContactsHeader, ",") + `

optionally followed by ` + strings.Join(cities.OptionalContactsColumns, " and ") + ` (in any order). title is what the
office's holder is called, one of
` + campaign.TitleKeys() + ` (empty: mayor); names gives the place's name in other languages, "fr=Montréal" or
"it=il Veneto|fr=la Vénétie" (with the article running text puts before it).

Each row is linked to the campaigns of its country whose city, as the twinning
table prints it, is one of the row's spellings, separated by "|"
("Milano|Milan"). Offices are keyed by e-mail address: campaigns whose cities
share an address are one target, which gets one letter naming all its
partners. An empty language defaults from the place (Italy: it, Quebec: fr,
else en) and an empty time zone from the city. A row without an address
leaves its campaigns without an office. Import the cities first. As for the
cities, every bad row is reported and nothing of a bad file is imported.`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			cs, err := st.Campaigns(ctx, store.CampaignFilter{})
			if err != nil {
				return err
			}
			if len(cs) == 0 {
				return fmt.Errorf("the store has no campaigns yet: run \"outreach import cities FILE\" first")
			}
			read, err := readFile(args[0], func(r io.Reader) (cities.Contacts, error) { return cities.ReadContacts(r, cs) })
			if err != nil {
				return err
			}
			stats, err := st.ImportContacts(ctx, read.Contacts)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s: %d offices: %s\n", args[0], len(read.Contacts), statsLine(stats))
			for _, c := range read.NoAddress {
				fmt.Fprintf(a.stdout, "  no address for %s, %s (campaign %s): no letter can go to it\n", c.City, c.Country, c.Label())
			}
			after, err := st.Campaigns(ctx, store.CampaignFilter{})
			if err != nil {
				return err
			}
			var without []string
			for _, c := range after {
				if c.TargetEmail == "" {
					without = append(without, fmt.Sprintf("%d (%s)", c.ID, c.City))
				}
			}
			if len(without) > 0 {
				fmt.Fprintf(a.stdout, "  %d campaigns have no office yet: %s\n", len(without), strings.Join(without, ", "))
			}
			return nil
		},
	})
	return cmd
}

// readFile opens path and parses it with read, naming the file in any
// line error.
func readFile[T any](path string, read func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	v, err := read(f)
	if err != nil {
		return zero, cities.WithFile(err, path)
	}
	return v, nil
}

func statsLine(s store.ImportStats) string {
	return fmt.Sprintf("%d added, %d updated, %d unchanged", s.Added, s.Updated, s.Unchanged)
}

// exactArgs is cobra.ExactArgs with a message that names the arguments.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %s (see %s --help)", cmd.CommandPath(), names, cmd.CommandPath())
		}
		return nil
	}
}
