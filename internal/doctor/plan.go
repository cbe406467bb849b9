package doctor

import (
	"context"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/outreach-campaign/outreach/internal/config"
	"github.com/outreach-campaign/outreach/internal/inbox"
	"github.com/outreach-campaign/outreach/internal/mailer"
)

// Names of the checks, in the order they run.
const (
	NameSettings  = "settings"
	NameRedis     = "redis"
	NameStore     = "store"
	NameSMTP      = "smtp"
	NameIMAP      = "imap"
	NameRoundTrip = "round trip"
	NameSPF       = "dns spf"
	NameDKIM      = "dns dkim"
	NameDMARC     = "dns dmarc"
)

// Options is what a run of the doctor checks, as cmd/outreach builds it
// from the settings.
type Options struct {
	Config config.Config
	// ConfigErr is the error loading the settings gave, if any: the
	// other checks are then skipped.
	ConfigErr error
	Mailer    mailer.Config
	Inbox     inbox.Config
	// Signer returns the probe's signer, keyed by letters.secret (which
	// may be kept in the store: it runs after the store check passed).
	Signer func(ctx context.Context) (ProbeSigner, error)
	// NoRoundTrip skips the round trip; Wait bounds it.
	NoRoundTrip bool
	Wait        time.Duration
	// Interval is how often the mailbox is looked at for the probe (0:
	// a second).
	Interval time.Duration
	// DNS, when set, looks up SPF, DKIM (at DKIMSelector) and DMARC for
	// the organisation's domain with Resolver.
	DNS          bool
	DKIMSelector string
	Resolver     Resolver
}

// Plan returns the checks of a run, in order.
func Plan(o Options) []Check {
	cfg := o.Config
	var smtpReport mailer.Report
	checks := []Check{
		{Name: NameSettings, Run: func(context.Context) Result { return Settings(cfg, o.ConfigErr) }},
		{Name: NameRedis, Needs: []string{NameSettings}, Run: func(ctx context.Context) Result {
			return Redis(ctx, &redis.Options{Addr: cfg.Redis.Addr, Password: cfg.Redis.Password.Value(), DB: cfg.Redis.DB})
		}},
		{Name: NameStore, Needs: []string{NameSettings}, Run: func(ctx context.Context) Result { return Store(ctx, cfg.Store.Path) }},
		{Name: NameSMTP, Needs: []string{NameSettings}, Run: func(ctx context.Context) Result {
			r, rep := SMTP(ctx, o.Mailer)
			smtpReport = rep
			return r
		}},
		{Name: NameIMAP, Needs: []string{NameSettings}, Run: func(ctx context.Context) Result {
			if cfg.IMAP.Host == "" {
				return skipped("imap.host is empty: replies are not read")
			}
			return IMAP(ctx, o.Inbox)
		}},
		{Name: NameRoundTrip, Needs: []string{NameStore, NameSMTP, NameIMAP}, Run: func(ctx context.Context) Result {
			if o.NoRoundTrip {
				return skipped("--no-round-trip")
			}
			if sink, yes := DeliversNowhere(smtpReport.Greeting); yes {
				return skipped("%s", describeSkip(sink, smtpReport.Greeting))
			}
			signer, err := o.Signer(ctx)
			if err != nil {
				return failed("check letters.secret", "the probe's signing key: %v", err)
			}
			return RoundTrip(ctx, RoundTripOptions{
				Mailer: o.Mailer, Inbox: o.Inbox, From: cfg.Organisation.Address, FromName: cfg.Organisation.Name,
				To: ProbeAddress(cfg), Domain: cfg.MessageIDDomain(), Signer: signer, Wait: o.Wait, Interval: o.Interval,
			})
		}},
	}
	if o.DNS {
		domain := func() string {
			_, d, _ := strings.Cut(cfg.Organisation.Address, "@")
			return strings.ToLower(d)
		}
		checks = append(checks,
			Check{Name: NameSPF, Needs: []string{NameSettings}, Run: func(ctx context.Context) Result { return SPF(ctx, o.Resolver, domain()) }},
			Check{Name: NameDKIM, Needs: []string{NameSettings}, Run: func(ctx context.Context) Result {
				return DKIM(ctx, o.Resolver, domain(), o.DKIMSelector)
			}},
			Check{Name: NameDMARC, Needs: []string{NameSettings}, Run: func(ctx context.Context) Result { return DMARC(ctx, o.Resolver, domain()) }},
		)
	}
	return checks
}

// ProbeAddress is where the probe goes: where replies to letters go,
// letters.reply_to, or the organisation's address when it is empty. With
// letters.reply_token, replies come to a plus-address of reply_to, and so
// does the probe (replies+probe@...).
func ProbeAddress(cfg config.Config) string {
	if cfg.Letters.ReplyTo == "" {
		return cfg.Organisation.Address
	}
	if at := strings.LastIndexByte(cfg.Letters.ReplyTo, '@'); cfg.Letters.ReplyToken && at > 0 {
		return cfg.Letters.ReplyTo[:at] + "+probe" + cfg.Letters.ReplyTo[at:]
	}
	return cfg.Letters.ReplyTo
}
