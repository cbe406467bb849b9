package main

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/outreach-campaign/outreach/internal/doctor"
	"github.com/outreach-campaign/outreach/internal/inbox"
	"github.com/outreach-campaign/outreach/internal/mailer"
)

func (a *app) doctorCommand() *cobra.Command {
	var (
		loadErr     error
		noRoundTrip bool
		wait        time.Duration
		dns         bool
		selector    string
	)
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the settings, Redis, the store, the SMTP server and the campaign mailbox, and say what to fix",
		Long: `Check, in order, what the campaign needs and print a checklist, one line per
check (ok, FAILED or skipped), with the fix for each failure naming the setting:

  settings    they load; what sending and reading replies need is set, and
              nothing meant for a real server is the example's
  redis       the queues' server answers
  store       the database opens, is migrated (as any command would), takes writes
  smtp        the server answers, negotiates TLS as smtp.tls says, takes the login
  imap        the mailbox answers, negotiates TLS, takes the login, has imap.folder
  round trip  a probe from organisation.address to the campaign mailbox
              (letters.reply_to, or organisation.address) is seen in the folder
              within --wait; it is then flagged $OutreachProbe and \Seen, and
              the poller skips it (its X-Outreach-Probe header is signed with
              letters.secret). Skipped when the SMTP server's greeting says it is
              Mailpit (make run's), which keeps every message and delivers none.

With --dns it looks up the SPF, DKIM (--dkim-selector, default dkim.selector) and DMARC records of
the organisation's domain and says what is missing. It exits with status 1
when a check failed.`,
		Args: cobra.NoArgs,
		// A settings file that does not load is the first check's
		// failure, not the command's.
		PersistentPreRunE: func(*cobra.Command, []string) error {
			if a.verbose {
				a.logLevel = slog.LevelDebug
			}
			loadErr = a.loadConfig()
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if wait <= 0 {
				return usagef("--wait: %s is not a positive duration", wait)
			}
			// The clients are configured as the worker's and the poller's
			// are (TLS settings, OAuth2 sign-in): what doctor checks is what
			// they will use.
			var mc mailer.Config
			var ic inbox.Config
			if loadErr == nil {
				var err error
				if mc, err = a.mailerConfig(cmd.Context()); err == nil {
					ic, err = a.inboxConfig(cmd.Context())
				}
				loadErr = err
			}
			opts := doctor.Options{
				Config: a.cfg, ConfigErr: loadErr,
				Mailer: mc,
				Inbox:  ic,
				Signer: func(ctx context.Context) (doctor.ProbeSigner, error) {
					comp, err := a.composer(ctx)
					if err != nil {
						return nil, err
					}
					return comp.Signer, nil
				},
				NoRoundTrip: noRoundTrip, Wait: wait,
				DNS: dns, DKIMSelector: cmp.Or(selector, a.cfg.DKIM.Selector), Resolver: net.DefaultResolver,
			}
			if !doctor.Run(cmd.Context(), termSafe(a.stdout), doctor.Plan(opts)) {
				return errors.New("doctor: a check failed (see its fix above)")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&noRoundTrip, "no-round-trip", false, "do not send a probe to the campaign mailbox")
	f.DurationVar(&wait, "wait", 2*time.Minute, "how long to wait for the probe to arrive")
	f.BoolVar(&dns, "dns", false, "also look up the SPF, DKIM and DMARC records of the organisation's domain")
	f.StringVar(&selector, "dkim-selector", "", "the DKIM selector to look up with --dns (the name before ._domainkey; default dkim.selector)")
	return cmd
}
