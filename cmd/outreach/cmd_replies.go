package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

func (a *app) repliesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "replies",
		Short: "Review the replies the poller found: list, show, confirm, reject",
		Long: `Every message the poller finds in the campaign mailbox is kept as a reply:
classified (human, auto-reply or bounce), matched to the letter it answers
with the signals that say so and a confidence, and confirmed when the
confidence reaches replies.confirm_threshold. Replies below it, and people's
messages matched to nothing, wait for review: confirm them (naming the
campaigns when needed) or reject them. A confirmed reply from a person sets
the response date of its campaigns, which "outreach status" shows.`,
	}
	cmd.AddCommand(a.repliesListCommand(), a.repliesShowCommand(), a.repliesConfirmCommand(), a.repliesRejectCommand())
	return cmd
}

func (a *app) repliesListCommand() *cobra.Command {
	var (
		pending    bool
		campaignID int64
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "list [--pending] [--campaign ID] [--json]",
		Short: "List replies, oldest first; --pending lists those waiting for review",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			rs, err := st.Replies(ctx, store.ReplyFilter{Pending: pending, CampaignID: campaignID})
			if err != nil {
				return err
			}
			if asJSON {
				if rs == nil {
					rs = []campaign.Reply{}
				}
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rs)
			}
			tw := tabwriter.NewWriter(termSafe(a.stdout), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tRECEIVED\tKIND\tSTATUS\tCONF\tLETTER\tCAMPAIGNS\tFROM\tSUBJECT")
			for _, r := range rs {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.2f\t%s\t%s\t%s\t%s\n", r.ID, r.ReceivedAt.Local().Format("2006-01-02 15:04"),
					r.Kind, r.Status, r.Confidence, dash(r.LetterID), dash(campaign.Numbers(r.CampaignIDs)), dash(oneLine(r.From)), clip(oneLine(r.Subject), 60))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&pending, "pending", false, "only replies waiting for review")
	cmd.Flags().Int64Var(&campaignID, "campaign", 0, "only replies that answer this campaign")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) repliesShowCommand() *cobra.Command {
	var raw bool
	cmd := &cobra.Command{
		Use:   "show ID [--raw]",
		Short: "Show a reply: who wrote, what, which letter it was matched to and why",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := replyID(args[0])
			if err != nil {
				return err
			}
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			r, err := st.Reply(ctx, id)
			if err != nil {
				return err
			}
			if raw {
				// Piped to a file, the message goes as it came; on a
				// terminal, nothing in it may act on the terminal.
				w := a.stdout
				if isTerminal(w) {
					w = termSafe(w)
				}
				_, err := w.Write(r.Raw)
				return err
			}
			a.printReply(r)
			return nil
		},
	}
	cmd.Flags().BoolVar(&raw, "raw", false, "print the message as it was fetched (its header only when it was over the size limit)")
	return cmd
}

func (a *app) printReply(r campaign.Reply) {
	w := termSafe(a.stdout)
	fmt.Fprintf(w, "reply %d: %s, %s (confidence %.2f)\n", r.ID, r.Kind, r.Status, r.Confidence)
	from := r.From
	if r.FromName != "" {
		from = r.FromName + " <" + r.From + ">"
	}
	fmt.Fprintf(w, "from:        %s\n", dash(oneLine(from)))
	fmt.Fprintf(w, "subject:     %s\n", oneLine(r.Subject))
	fmt.Fprintf(w, "received:    %s\n", fmtTime(r.ReceivedAt))
	if !r.Date.IsZero() {
		fmt.Fprintf(w, "dated:       %s\n", fmtTime(r.Date))
	}
	fmt.Fprintf(w, "message-id:  %s\n", dash(r.MessageID))
	fmt.Fprintf(w, "mailbox:     %s (UIDVALIDITY %d, UID %d), %d bytes%s\n", r.Mailbox, r.UIDValidity, r.UID, r.Size,
		map[bool]string{true: ", over the size limit: header only", false: ""}[r.Oversized])
	fmt.Fprintf(w, "classified:  %s (%s)\n", r.Kind, r.KindReason)
	fmt.Fprintf(w, "letter:      %s (campaigns %s)\n", dash(r.LetterID), dash(campaign.Numbers(r.CampaignIDs)))
	if len(r.Signals) > 0 {
		fmt.Fprintln(w, "signals:")
		for _, s := range r.Signals {
			other := ""
			if s.LetterID != r.LetterID {
				other = " (letter " + s.LetterID + ")"
			}
			fmt.Fprintf(w, "  %-16s %.2f  %s%s\n", s.Name, s.Weight, s.Detail, other)
		}
	}
	if b := r.Bounce; b != nil {
		fmt.Fprintf(w, "bounce:      %s; recipients %s; status %s; %s\n", bounceNature(b), dash(strings.Join(b.Recipients, ", ")),
			dash(b.Status), dash(b.Diagnostic))
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem:     %s\n", p)
	}
	if r.Note != "" {
		fmt.Fprintf(w, "note:        %s\n", r.Note)
	}
	if !r.ReviewedAt.IsZero() {
		fmt.Fprintf(w, "reviewed:    %s\n", fmtTime(r.ReviewedAt))
	}
	fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(r.NewText))
}

func bounceNature(b *campaign.BounceReport) string {
	switch {
	case b.Delayed:
		return "delay warning (still being retried)"
	case b.Permanent:
		return "permanent failure"
	}
	return "temporary failure"
}

func (a *app) repliesConfirmCommand() *cobra.Command {
	var (
		campaigns []int64
		outcome   string
		note      string
		human     bool
	)
	cmd := &cobra.Command{
		Use:   "confirm ID [--campaign ID]... [--outcome victory|response|disappointing] [--note TEXT] [--human]",
		Short: "Confirm a reply's match (or correct it): a person's reply sets its campaigns' response date",
		Long: `Confirm that a reply answers the letter it was matched to, or with --campaign
say which campaigns it answers (needed for a reply matched to nothing). A
person's confirmed reply gives each of its campaigns a response date, the day
it arrived in the office's time zone, unless the campaign has an earlier one;
--outcome and --note record what the response was, as the status table shows
it. A confirmed permanent bounce marks its letter bounced and the address
suspect. --human corrects a message classified as automatic.

Confirming a reply confirmed before updates its campaigns, outcome and note.`,
		Args: exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := replyID(args[0])
			if err != nil {
				return err
			}
			o, err := campaign.ParseOutcome(outcome)
			if err != nil {
				return usagef("--outcome: %v", err)
			}
			if strings.ContainsAny(note, "\r\n") {
				return usagef("--note must be one line")
			}
			for _, c := range campaigns {
				if c <= 0 {
					return usagef("--campaign %d is not a campaign number (see outreach status --ids)", c)
				}
			}
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			r, err := st.ConfirmReply(ctx, id, store.Confirmation{CampaignIDs: campaigns, Outcome: o, Note: note, Human: human})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "reply %d confirmed (%s)\n", r.ID, r.Kind)
			cs, err := st.Campaigns(ctx, store.CampaignFilter{IDs: r.CampaignIDs})
			if err != nil {
				return err
			}
			for _, c := range cs {
				fmt.Fprintf(a.stdout, "  campaign %s (%s, %s): response date %s%s\n", c.Label(), c.Partner, c.City,
					dash(c.ResponseDate.String()), prefixed(" - ", c.ResponseNote))
			}
			return nil
		},
	}
	cmd.Flags().Int64SliceVar(&campaigns, "campaign", nil, "a campaign the reply answers (repeatable; see outreach status --ids)")
	cmd.Flags().StringVar(&outcome, "outcome", "", "victory, response or disappointing")
	cmd.Flags().StringVar(&note, "note", "", "the response note the status table shows")
	cmd.Flags().BoolVar(&human, "human", false, "the message is a person's, whatever it was classified")
	return cmd
}

func (a *app) repliesRejectCommand() *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   "reject ID [--note TEXT]",
		Short: "Reject a reply's match, or mark the mail irrelevant; response dates it gave are taken back",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := replyID(args[0])
			if err != nil {
				return err
			}
			if strings.ContainsAny(note, "\r\n") {
				return usagef("--note must be one line")
			}
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			r, err := st.RejectReply(ctx, id, note)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "reply %d rejected\n", r.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why, for the record")
	return cmd
}

func replyID(s string) (int64, error) { return idArg(s, "reply", "outreach replies list") }

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// clip shortens s to n characters for a table column.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
