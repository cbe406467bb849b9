package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

func (a *app) letterCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "letter",
		Short: "Look at letters and resend an uncertain one",
	}
	var (
		waveID int64
		states []string
		asJSON bool
	)
	list := &cobra.Command{
		Use:   "list [--wave ID] [--state S]...",
		Short: "List letters with their state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			f := store.LetterFilter{WaveID: waveID}
			for _, s := range states {
				f.States = append(f.States, campaign.LetterState(s))
			}
			ls, err := st.Letters(ctx, f)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(ls)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTO\tSTATE\tCAMPAIGNS\tSENT\tLAST ERROR")
			for _, l := range ls {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.ID, l.Email, l.State, campaign.Numbers(l.CampaignIDs), fmtTime(l.SentAt), l.LastError)
			}
			return tw.Flush()
		},
	}
	list.Flags().Int64Var(&waveID, "wave", 0, "only this wave's letters")
	list.Flags().StringArrayVar(&states, "state", nil, "only letters in this state (repeatable)")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one letter and the history of its states",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			l, err := st.Letter(ctx, args[0])
			if err != nil {
				return err
			}
			evs, err := st.LetterEvents(ctx, l.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "letter %s to %s (wave %d, campaigns %s)\n", l.ID, l.Email, l.WaveID, campaign.Numbers(l.CampaignIDs))
			fmt.Fprintf(a.stdout, "state:       %s\n", l.State)
			fmt.Fprintf(a.stdout, "message-id:  %s\n", l.MessageID)
			fmt.Fprintf(a.stdout, "attempts:    %d (resent %d times)\n", l.Attempts, l.Resends)
			if !l.SendAt.IsZero() {
				fmt.Fprintf(a.stdout, "send at:     %s\n", fmtTime(l.SendAt))
			}
			if !l.SentAt.IsZero() {
				fmt.Fprintf(a.stdout, "sent:        %s\n", fmtTime(l.SentAt))
			}
			if l.ServerReply != "" {
				fmt.Fprintf(a.stdout, "server said: %s\n", l.ServerReply)
			}
			if l.LastError != "" {
				fmt.Fprintf(a.stdout, "last error:  %s\n", l.LastError)
			}
			for _, e := range evs {
				fmt.Fprintf(a.stdout, "  %s  %s -> %s  %s\n", fmtTime(e.At), e.From, e.To, e.Detail)
			}
			return nil
		},
	}
	resend := &cobra.Command{
		Use:   "resend ID",
		Short: "Send an uncertain (or failed) letter once more",
		Long: `Send an uncertain or failed letter once more. An uncertain letter is one whose
send was interrupted: it may have reached the office already. Check the
office's replies (or ask the SMTP provider) before resending: the resend
carries the same Message-ID, so mail programs that keep both show one.`,
		Args: exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			sched, err := a.scheduler(cmd.Context())
			if err != nil {
				return err
			}
			l, err := sched.Resend(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "letter %s queued again (resend %d)\n", l.ID, l.Resends)
			return nil
		},
	}
	cmd.AddCommand(list, show, resend)
	return cmd
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
