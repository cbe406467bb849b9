package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/outreach-campaign/outreach/internal/status"
	"github.com/outreach-campaign/outreach/internal/store"
)

func (a *app) statusCommand() *cobra.Command {
	var (
		format    string
		countries []string
		ids       bool
	)
	cmd := &cobra.Command{
		Use:   "status [--format table|csv|json|html] [--country C]...",
		Short: "Print the campaign status table",
		Long: `Print the campaign status table as the campaign page shows it: No., Korean
local government, country, sister city, agreement date, sister/friendship,
campaign date, and the victory or response received (date and note). Dates
are ISO 8601. --ids adds each campaign's number as a first column ("#19": its
id, which other commands take and staff pages show); the table's printed No.
(18 for Montreal's row 19) repeats and names no campaign on its own.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !contains(status.Formats, format) {
				return usagef("--format %s: choose one of %s", format, strings.Join(status.Formats, ", "))
			}
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			cs, err := st.Campaigns(cmd.Context(), store.CampaignFilter{Countries: countries})
			if err != nil {
				return err
			}
			return status.Write(a.stdout, format, cs, status.Options{IDs: ids})
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table, csv, json or html")
	cmd.Flags().StringArrayVar(&countries, "country", nil, "only this country (repeatable)")
	cmd.Flags().BoolVar(&ids, "ids", false, "add the campaigns' numbers (#19) as a first column")
	return cmd
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
