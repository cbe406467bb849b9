package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

func (a *app) targetsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "targets",
		Short: "List the mayors' offices and mark those not to be written to",
	}
	var countries []string
	cmd.AddCommand(&cobra.Command{
		Use:   "list [--country C]...",
		Short: "List the offices with their language, time zone and flags",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			ts, err := st.Targets(ctx, store.TargetFilter{Countries: countries})
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "EMAIL\tCOUNTRY\tCITY\tTITLE\tLANG\tTIME ZONE\tCAMPAIGNS\tFLAGS")
			for _, t := range ts {
				cs, err := st.Campaigns(ctx, store.CampaignFilter{TargetID: t.ID})
				if err != nil {
					return err
				}
				ids := make([]int64, len(cs))
				for i, c := range cs {
					ids[i] = c.ID
				}
				flags := ""
				if t.DoNotContact {
					flags += "do-not-contact "
				}
				if t.Suspect {
					flags += "suspect(" + t.SuspectReason + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Email, t.Country, t.City, t.Title, t.Language, t.TimeZone, campaign.Numbers(ids), flags)
			}
			return tw.Flush()
		},
	})
	cmd.Commands()[0].Flags().StringArrayVar(&countries, "country", nil, "only this country (repeatable)")

	var off bool
	dnc := &cobra.Command{
		Use:   "do-not-contact EMAIL [--off]",
		Short: "Keep an office out of every wave (--off lifts the mark)",
		Args:  exactArgs(1, "EMAIL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			if err := st.SetDoNotContact(cmd.Context(), args[0], !off); err != nil {
				return err
			}
			if off {
				fmt.Fprintf(a.stdout, "%s may be contacted again\n", args[0])
			} else {
				fmt.Fprintf(a.stdout, "%s is marked do-not-contact\n", args[0])
			}
			return nil
		},
	}
	dnc.Flags().BoolVar(&off, "off", false, "lift the do-not-contact mark")
	cmd.AddCommand(dnc)
	return cmd
}
