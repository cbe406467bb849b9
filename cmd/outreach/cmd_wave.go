package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/queue"
	"github.com/outreach-campaign/outreach/internal/store"
)

func (a *app) waveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wave",
		Short: "Create, start, watch and cancel mailing waves",
		Long: `A wave is one mailing: one personalised letter to each office of the
selected campaigns, in the office's language, naming all its partners. Letters
are queued in Redis and sent by workers ("outreach worker" or "outreach run").`,
	}
	cmd.AddCommand(a.waveCreateCommand(), a.waveStartCommand(), a.waveStatusCommand(),
		a.waveListCommand(), a.waveCancelCommand(), a.waveTestCommand())
	return cmd
}

func (a *app) waveCreateCommand() *cobra.Command {
	var (
		spec      queue.WaveSpec
		at, local string
		followUp  string
		start     bool
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME [--country C]... [--campaign ID]... [--template appeal] [--at TIME | --local-time HH:MM] [--follow-up-after 21d [--follow-up-template follow-up]] [--include-contacted] [--include-replied] [--start]",
		Short: "Plan a wave: one letter per office of the selected campaigns",
		Long: `Plan a wave: one letter per office of the selected campaigns (all campaigns
when neither --country nor --campaign is given). Offices marked do-not-contact
and campaigns without an office address are left out and listed; so are
offices already written this letter (planned, queued, sending, sent or
uncertain in a wave not cancelled) unless --include-contacted, and offices
that have answered (a campaign with a response date or an outcome, or a
confirmed reply) unless --include-replied.

--template names a wave letter: appeal, follow-up, or a template that declares
itself one with {{define "kind"}}wave{{end}}. Every letter is rendered before
the wave is stored: one that cannot be written refuses the wave, naming the
office and the template's error.

--at TIME sends the whole wave at that time (RFC 3339, such as
2026-12-01T09:00:00+01:00, or "2026-12-01 09:00" in this machine's zone);
--local-time 09:00 sends each letter at 09:00 in its office's time zone on the
next working day there. Without either, letters go as soon as the wave starts.
--follow-up-after 21d sends each office that has not replied 21 days after its
letter one follow-up (template --follow-up-template, "follow-up" by default)
in the same thread; a person's reply, a permanent bounce or do-not-contact
stops it, an auto-reply does not. The scheduler sends it when due.
--start starts the wave at once; otherwise run "outreach wave start ID".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if spec.Name == "" {
				return usagef("--name is required")
			}
			if at != "" && local != "" {
				return usagef("give --at or --local-time, not both")
			}
			if at != "" {
				t, err := parseTime(at)
				if err != nil {
					return usagef("--at: %v", err)
				}
				spec.At = t
			}
			spec.LocalTime = local
			if followUp != "" {
				d, err := parseAfter(followUp)
				if err != nil {
					return usagef("--follow-up-after: %v", err)
				}
				spec.FollowUpAfter = d
			} else if spec.FollowUpTemplate != "" {
				return usagef("--follow-up-template needs --follow-up-after")
			}
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			comp, err := a.composer(ctx)
			if err != nil {
				return err
			}
			w, plan, err := queue.CreateWave(ctx, st, comp, spec, time.Now())
			if err != nil {
				if errors.Is(err, campaign.ErrEmptyWave) {
					printSkipped(a, plan.Skipped)
				}
				return err
			}
			campaigns := 0
			for _, l := range plan.Letters {
				campaigns += len(l.CampaignIDs)
			}
			fmt.Fprintf(a.stdout, "wave %d %q: %d letters planned for %d campaigns\n", w.ID, w.Name, len(plan.Letters), campaigns)
			printSkipped(a, plan.Skipped)
			for _, warn := range plan.Warnings {
				fmt.Fprintf(a.stdout, "  warning: %s\n", warn)
			}
			if !start {
				fmt.Fprintf(a.stdout, "start it with: outreach wave start %d\n", w.ID)
				return nil
			}
			return a.startWave(cmd, w.ID)
		},
	}
	cmd.Flags().StringVar(&spec.Name, "name", "", "the wave's name (required)")
	cmd.Flags().StringArrayVar(&spec.Countries, "country", nil, "campaigns of this country (repeatable)")
	cmd.Flags().Int64SliceVar(&spec.CampaignIDs, "campaign", nil, "this campaign id (repeatable; see outreach status --ids)")
	cmd.Flags().StringVar(&spec.Template, "template", "appeal", "letter template")
	cmd.Flags().StringVar(&at, "at", "", "send the whole wave at this time")
	cmd.Flags().StringVar(&local, "local-time", "", "send each letter at HH:MM in its office's time zone, next working day")
	cmd.Flags().StringVar(&followUp, "follow-up-after", "", "send offices that have not replied one follow-up after this long (21d, 2w, 36h)")
	cmd.Flags().StringVar(&spec.FollowUpTemplate, "follow-up-template", "", "the follow-up's template (default follow-up)")
	cmd.Flags().BoolVar(&spec.IncludeContacted, "include-contacted", false, "also write to offices already written this letter")
	cmd.Flags().BoolVar(&spec.IncludeReplied, "include-replied", false, "also write to offices that have answered")
	cmd.Flags().BoolVar(&start, "start", false, "start the wave now")
	return cmd
}

// parseAfter reads a delay in days ("21d"), weeks ("3w") or as a Go
// duration ("36h").
func parseAfter(s string) (time.Duration, error) {
	var d time.Duration
	if n, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil && strings.HasSuffix(s, "d") {
		d = time.Duration(n) * 24 * time.Hour
	} else if n, err := strconv.Atoi(strings.TrimSuffix(s, "w")); err == nil && strings.HasSuffix(s, "w") {
		d = time.Duration(n) * 7 * 24 * time.Hour
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("%q is not a delay such as 21d, 3w or 36h", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: a follow-up comes some time after the letter", s)
	}
	return d, nil
}

func printSkipped(a *app, skipped []campaign.Skipped) {
	for _, s := range skipped {
		who := s.Email
		if who == "" {
			who = s.City
		}
		fmt.Fprintf(a.stdout, "  left out %s (campaigns %s): %s\n", who, campaign.Numbers(s.CampaignIDs), s.Reason)
	}
}

// parseTime reads RFC 3339, or "YYYY-MM-DD HH:MM" in the local zone.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02 15:04", s, time.Local); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-12-01T09:00:00+01:00) nor \"2026-12-01 09:00\"", s)
}

func (a *app) waveStartCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "start ID",
		Short: "Queue a wave's letters for sending (starting it again queues nothing twice)",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := waveID(args[0])
			if err != nil {
				return err
			}
			return a.startWave(cmd, id)
		},
	}
}

func (a *app) startWave(cmd *cobra.Command, id int64) error {
	sched, err := a.scheduler(cmd.Context())
	if err != nil {
		return err
	}
	n, err := sched.StartWave(cmd.Context(), id)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wave %d started: %d letters queued\n", id, n)
	return nil
}

func (a *app) waveStatusCommand() *cobra.Command {
	var wait, asJSON bool
	cmd := &cobra.Command{
		Use:   "status ID [--wait] [--json]",
		Short: "Count a wave's letters by state; --wait shows progress until it is done",
		Long: `Count a wave's letters by state: planned, queued, sending, sent, failed,
uncertain, bounced (and cancelled). A started wave is done once none of its
letters is planned, queued or sending and none of its follow-ups is still to
come; failed if by then none was sent. --wait shows a progress bar until every
letter has reached a final state (sent, failed, uncertain, bounced or
cancelled), then prints the counts.`,
		Args: exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := waveID(args[0])
			if err != nil {
				return err
			}
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			w, err := queue.Status(ctx, st, id)
			if err != nil {
				return err
			}
			if wait {
				if _, err = a.waitForWave(ctx, st, id, w.Counts); err != nil {
					return err
				}
				if w, err = queue.Status(ctx, st, id); err != nil {
					return err
				}
			}
			if asJSON {
				out := map[string]any{"id": w.ID, "name": w.Name, "state": w.State, "counts": countsMap(w.Counts),
					"follow_ups_due": w.FollowUpsDue}
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			fmt.Fprintf(a.stdout, "wave %d %q (%s)\n", w.ID, w.Name, w.State)
			if w.FollowUpAfter > 0 {
				fmt.Fprintf(a.stdout, "  follow-up %s after each letter, template %s", days(w.FollowUpAfter), w.FollowUpTemplate)
				if w.FollowUpsDue > 0 {
					fmt.Fprintf(a.stdout, "; %d still to come", w.FollowUpsDue)
				}
				fmt.Fprintln(a.stdout)
			}
			for _, s := range campaign.LetterStates {
				fmt.Fprintf(a.stdout, "  %-10s %d\n", s, w.Counts[s])
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "show progress until every letter is done")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// waitForWave shows progress until every letter of wave id is in a final
// state: a bar on a terminal, a line every few seconds otherwise (a log).
func (a *app) waitForWave(ctx context.Context, st store.Store, id int64, counts map[campaign.LetterState]int) (map[campaign.LetterState]int, error) {
	total := 0
	for _, n := range counts {
		total += n
	}
	tty := false
	if f, ok := a.stderr.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(a.stderr),
		progressbar.OptionSetDescription(fmt.Sprintf("wave %d", id)),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetVisibility(tty),
	)
	lastLine := time.Time{}
	for {
		n := done(counts)
		bar.Set(n)
		if !tty && time.Since(lastLine) >= 3*time.Second {
			fmt.Fprintf(a.stderr, "wave %d: %d of %d letters done\n", id, n, total)
			lastLine = time.Now()
		}
		if n >= total {
			bar.Finish()
			return counts, nil
		}
		select {
		case <-ctx.Done():
			return counts, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		var err error
		if counts, err = st.LetterCounts(ctx, id); err != nil {
			return counts, err
		}
	}
}

// done counts letters in a final state.
func done(counts map[campaign.LetterState]int) int {
	n := 0
	for s, c := range counts {
		if s.Final() {
			n += c
		}
	}
	return n
}

func countsMap(counts map[campaign.LetterState]int) map[string]int {
	out := map[string]int{}
	for _, s := range campaign.LetterStates {
		out[string(s)] = counts[s]
	}
	return out
}

func (a *app) waveListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List waves, newest first, with their letters' states",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			ws, err := queue.Statuses(ctx, st)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSTATE\tCREATED\tLETTERS")
			for _, w := range ws {
				var parts []string
				for _, s := range campaign.LetterStates {
					if w.Counts[s] > 0 {
						parts = append(parts, fmt.Sprintf("%s %d", s, w.Counts[s]))
					}
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", w.ID, w.Name, w.State, w.CreatedAt.Local().Format("2006-01-02 15:04"), strings.Join(parts, ", "))
			}
			return tw.Flush()
		},
	}
}

func (a *app) waveCancelCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a wave: letters not yet sent are not sent",
		Args:  exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := waveID(args[0])
			if err != nil {
				return err
			}
			sched, err := a.scheduler(cmd.Context())
			if err != nil {
				return err
			}
			n, err := sched.CancelWave(cmd.Context(), id)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wave %d cancelled: %d letters will not be sent\n", id, n)
			return nil
		},
	}
}

func (a *app) waveTestCommand() *cobra.Command {
	var to, letterID string
	cmd := &cobra.Command{
		Use:   "test ID --to ADDRESS [--letter LETTERID]",
		Short: "Send a staff member a test copy of a letter of the wave",
		Long: `Send a test copy of one letter of the wave (its first, or --letter) to a staff
account's address, written as the office will get it, with "[TEST]" before its
subject. It goes straight to the SMTP server, not through the queue, and
changes nothing of the wave: no letter changes state, no campaign gets a date.`,
		Args: exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := waveID(args[0])
			if err != nil {
				return err
			}
			if to == "" {
				return usagef("--to is required: the staff account's address to send the test to")
			}
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			comp, err := a.composer(ctx)
			if err != nil {
				return err
			}
			m, err := a.mailer(ctx)
			if err != nil {
				return err
			}
			defer m.Close()
			l, err := queue.SendTest(ctx, st, comp, m, id, letterID, to, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "test copy of %s (to %s) sent to %s\n", l.ID, l.Email, to)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "a staff account's address (required)")
	cmd.Flags().StringVar(&letterID, "letter", "", "the letter to copy (default: the wave's first)")
	return cmd
}

// mailer connects to the configured SMTP server, for mail sent outside the
// queue (a test copy).
func (a *app) mailer(ctx context.Context) (*mailer.Mailer, error) {
	cfg, err := a.mailerConfig(ctx)
	if err != nil {
		return nil, err
	}
	return mailer.New(cfg)
}

// days writes a delay in days when it is a whole number of them.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func waveID(s string) (int64, error) { return idArg(s, "wave", "outreach wave list") }

// idArg reads the id of a record of kind what from the command line,
// pointing to the command that lists them when it is not one.
func idArg(s, what, list string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("%q is not a %s id (see %s)", s, what, list)
	}
	return id, nil
}
