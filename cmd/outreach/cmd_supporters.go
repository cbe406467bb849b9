package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
	"github.com/outreach-campaign/outreach/internal/supporters"
)

func (a *app) supportersCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "supporters",
		Short: "Count, hold, release and export supporters' letters, and set how they are delivered",
		Long: `Supporters sign their own letter to a campaign's office on its page
("outreach serve"). Once they confirm their address, the scheduler delivers the
letters to the office: one by one (individual, at most a daily cap, spread over
the office's working hours) or as a digest per day or week.`,
	}
	cmd.AddCommand(a.supportersStatsCommand(), a.supportersHoldCommand(true), a.supportersHoldCommand(false),
		a.supportersModeCommand(), a.supportersExportCommand())
	return cmd
}

// supportersStats is one campaign's line of "supporters stats".
type supportersStats struct {
	store.SupporterStats
	Mode     campaign.DeliveryMode `json:"mode"`
	DailyCap int                   `json:"daily_cap,omitempty"`
	Period   campaign.DigestPeriod `json:"period,omitempty"`
	Held     bool                  `json:"held"`
}

func (a *app) supportersStatsCommand() *cobra.Command {
	var (
		id     int64
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "stats [--campaign ID] [--json]",
		Short: "Count supporters' letters per campaign and office: signed, confirmed, delivered, waiting",
		Long: `Count supporters' letters per campaign and its office: signed (supporters,
once each), pending confirmation, confirmed, delivered, waiting for delivery,
undelivered (the e-mail failed or may not have arrived: see "outreach letter
list"), withdrawn, expired unconfirmed, and erased (personal data deleted,
still counted); with each campaign's delivery mode and whether it is held.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			if id != 0 {
				if _, err := st.Campaign(ctx, id); err != nil {
					return err
				}
			}
			counts, err := st.SupporterStats(ctx, id)
			if err != nil {
				return err
			}
			settings, err := st.Deliveries(ctx)
			if err != nil {
				return err
			}
			def := a.deliveryDefaults()
			rows := make([]supportersStats, len(counts))
			var total store.SupporterStats
			for i, c := range counts {
				d := settings[c.CampaignID].Or(def)
				rows[i] = supportersStats{SupporterStats: c, Mode: d.Mode, Held: d.Held}
				if d.Mode == campaign.Digest {
					rows[i].Period = d.Period
				} else {
					rows[i].DailyCap = d.DailyCap
				}
				total.Signed += c.Signed
				total.Pending += c.Pending
				total.Confirmed += c.Confirmed
				total.Delivered += c.Delivered
				total.Waiting += c.Waiting
				total.Undelivered += c.Undelivered
				total.Withdrawn += c.Withdrawn
				total.Expired += c.Expired
				total.Erased += c.Erased
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Campaigns []supportersStats    `json:"campaigns"`
					Total     store.SupporterStats `json:"total"`
				}{rows, total})
			}
			// Left-aligned: right alignment would push each heading away from
			// the start of its column.
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "CAMPAIGN\tCITY\tOFFICE\tDELIVERY\tSIGNED\tPENDING\tCONFIRMED\tDELIVERED\tWAITING\tUNDELIVERED\tWITHDRAWN\tEXPIRED")
			line := func(id, city, office, mode string, c store.SupporterStats) {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", id, city, office, mode,
					c.Signed, c.Pending, c.Confirmed, c.Delivered, c.Waiting, c.Undelivered, c.Withdrawn, c.Expired)
			}
			for _, r := range rows {
				mode := fmt.Sprintf("individual, %d a day", r.DailyCap)
				if r.Mode == campaign.Digest {
					mode = "digest per " + string(r.Period)
				}
				if r.Held {
					mode += " (held)"
				}
				line(campaign.Number(r.CampaignID), r.City, r.OfficeEmail, mode, r.SupporterStats)
			}
			if len(rows) > 1 {
				line("total", "", "", "", total)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().Int64Var(&id, "campaign", 0, "only this campaign")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) deliveryDefaults() campaign.Delivery {
	sp := a.cfg.Supporters
	return campaign.Delivery{Mode: campaign.DeliveryMode(sp.Mode), DailyCap: sp.DailyCap, Period: campaign.DigestPeriod(sp.DigestPeriod)}
}

func (a *app) supportersHoldCommand(hold bool) *cobra.Command {
	var id int64
	use, short := "release --campaign ID", "Restart the delivery of a campaign's supporters' letters"
	if hold {
		use, short = "hold --campaign ID", "Stop delivering a campaign's supporters' letters until released"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `.
Holding cancels the campaign's deliveries not yet being sent; their letters
wait, and are batched again once the campaign is released. Supporters can still
sign and confirm meanwhile.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == 0 {
				return usagef("--campaign is required")
			}
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			n, err := st.HoldDeliveries(ctx, id, hold)
			if err != nil {
				return err
			}
			if hold {
				fmt.Fprintf(a.stdout, "campaign %s: supporters' letters held (%d deliveries not yet sent cancelled; their letters wait)\n", campaign.Number(id), n)
			} else {
				fmt.Fprintf(a.stdout, "campaign %s: supporters' letters released; waiting letters are batched at the scheduler's next round\n", campaign.Number(id))
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&id, "campaign", 0, "the campaign (required)")
	return cmd
}

func (a *app) supportersModeCommand() *cobra.Command {
	var (
		id       int64
		dailyCap int
		period   string
	)
	cmd := &cobra.Command{
		Use:   "mode --campaign ID individual|digest [--cap N] [--period day|week]",
		Short: "Set how a campaign's supporters' letters reach its office",
		Long: `Set how a campaign's confirmed letters reach its office: individual (each
letter its own e-mail, at most --cap a day per office, spread over the office's
working hours) or digest (one e-mail per --period, day or week, with that
period's letters in its body and as a CSV attachment). A flag left out takes
the default from the supporters section of the settings.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if id == 0 {
				return usagef("--campaign is required")
			}
			mode, err := campaign.ParseDeliveryMode(args[0])
			if err != nil {
				return usageError{err}
			}
			d := campaign.Delivery{CampaignID: id, Mode: mode, DailyCap: dailyCap}
			if period != "" {
				if d.Period, err = campaign.ParseDigestPeriod(period); err != nil {
					return usageError{err}
				}
			}
			if dailyCap < 0 {
				return usagef("--cap: %d: at least 1", dailyCap)
			}
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			if err := st.SetDelivery(ctx, d); err != nil {
				return err
			}
			d = d.Or(a.deliveryDefaults())
			if d.Mode == campaign.Digest {
				fmt.Fprintf(a.stdout, "campaign %s: one digest per %s\n", campaign.Number(id), d.Period)
			} else {
				fmt.Fprintf(a.stdout, "campaign %s: individual letters, at most %d a day per office\n", campaign.Number(id), d.DailyCap)
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&id, "campaign", 0, "the campaign (required)")
	cmd.Flags().IntVar(&dailyCap, "cap", 0, "individual: most letters per office per day (default supporters.daily_cap)")
	cmd.Flags().StringVar(&period, "period", "", "digest: day or week (default supporters.digest_period)")
	return cmd
}

func (a *app) supportersExportCommand() *cobra.Command {
	var id int64
	cmd := &cobra.Command{
		Use:   "export --campaign ID",
		Short: "Print a campaign's signatures as CSV, with the supporters' data still kept",
		Long: `Print a campaign's signatures as CSV: each one's state and dates and the
supporter's name, address, country, city, consent and message. Erased
signatures keep their row with the personal data empty. The output holds
personal data: keep it safe and delete it when done.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == 0 {
				return usagef("--campaign is required")
			}
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			if _, err := st.Campaign(ctx, id); err != nil {
				return err
			}
			sigs, err := st.Signatures(ctx, id)
			if err != nil {
				return err
			}
			return supporters.WriteExportCSV(a.stdout, sigs)
		},
	}
	cmd.Flags().Int64Var(&id, "campaign", 0, "the campaign (required)")
	return cmd
}
