package main

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/store"
)

func (a *app) previewCommand() *cobra.Command {
	var email, city, lang, tpl string
	var text bool
	cmd := &cobra.Command{
		Use:   "preview (--target EMAIL | --city NAME) [--lang xx] [--template NAME] [--text]",
		Short: "Print the full MIME message a letter to one office would be, without sending it",
		Long: `Print the complete message (headers, plain-text part and HTML part) that a
letter to one mayor's office would be, without sending anything. The office is
chosen by its address (--target) or by its city (--city, as the table or the
contacts file names it). --lang renders it in another language than the
office's. The Message-ID is the one a letter with id "preview-tID" would get.
--text prints it as a person reads it instead: the headers that matter,
decoded, and each part (plain text, then HTML) decoded from quoted-printable.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if (email == "") == (city == "") {
				return usagef("give either --target EMAIL or --city NAME")
			}
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			t, err := findTarget(cmd, st, email, city)
			if err != nil {
				return err
			}
			cs, err := st.Campaigns(ctx, store.CampaignFilter{TargetID: t.ID})
			if err != nil {
				return err
			}
			comp, err := a.composer(ctx)
			if err != nil {
				return err
			}
			if lang != "" && !comp.Templates.Has(tpl, lang) {
				return usagef("--lang %s: the %s letter is written in %s", lang, tpl, strings.Join(comp.Templates.Languages(tpl), ", "))
			}
			msg, _, err := comp.Compose(letter.Letter{
				ID: fmt.Sprintf("preview-t%d", t.ID), Template: tpl, Target: t, Campaigns: cs,
				Lang: lang, Date: time.Now(),
			})
			if err != nil {
				return err
			}
			if !text {
				_, err = msg.WriteTo(a.stdout)
				return err
			}
			var raw bytes.Buffer
			if _, err := msg.WriteTo(&raw); err != nil {
				return err
			}
			return letter.Readable(a.stdout, &raw)
		},
	}
	cmd.Flags().StringVar(&email, "target", "", "the office's e-mail address")
	cmd.Flags().StringVar(&city, "city", "", "the office's city")
	cmd.Flags().StringVar(&lang, "lang", "", "language to render in (en, it, fr); default the office's")
	cmd.Flags().StringVar(&tpl, "template", "appeal", "letter template")
	cmd.Flags().BoolVar(&text, "text", false, "print the headers and parts decoded, not the raw MIME")
	return cmd
}

// findTarget finds one office by address or by city.
func findTarget(cmd *cobra.Command, st store.Store, email, city string) (campaign.Target, error) {
	if email != "" {
		return st.Target(cmd.Context(), email)
	}
	ts, err := st.Targets(cmd.Context(), store.TargetFilter{City: city})
	if err != nil {
		return campaign.Target{}, err
	}
	switch len(ts) {
	case 0:
		return campaign.Target{}, fmt.Errorf("no office in %q: import contacts for it, or check the spelling (see outreach targets list)", city)
	case 1:
		return ts[0], nil
	}
	var names []string
	for _, t := range ts {
		names = append(names, t.Email)
	}
	return campaign.Target{}, fmt.Errorf("%d offices in %q (%s): choose one with --target", len(ts), city, strings.Join(names, ", "))
}
