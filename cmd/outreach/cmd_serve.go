package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/outreach-campaign/outreach/internal/keyring"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/outreach-campaign/outreach/internal/auth"
	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/queue"
	"github.com/outreach-campaign/outreach/internal/supporters"
	"github.com/outreach-campaign/outreach/internal/web"
)

func (a *app) serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the staff UI, the public status page, the supporters' pages and the JSON APIs",
		Long: `Serve on web.listen: the staff UI (log in at /login with an account made by
"outreach staff add"), its JSON API under /api/v1/ (a session or an API token),
the public campaign status table (/status, /status.csv, /status.json), the
public page of each campaign (/act/ID), where supporters sign their own
letter to the mayor, the pages the links in confirmation mails open, and the
supporters' JSON API (POST /api/campaigns/ID/letters). Confirmation
mails are queued in Redis for the workers; confirmed letters are batched to
the offices by "outreach scheduler". "outreach run" serves them too.
Several serve processes can share one Redis and one store.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), false, false, true, false)
		},
	}
}

// queueClient returns the client that queues letters, made on first use.
// Its task ids start with the store's namespace, made once and kept in the
// store, so that every process of one store names tasks alike and a new
// store does not collide with an old one's tasks in the same Redis.
func (a *app) queueClient(ctx context.Context) (*queue.Client, error) {
	if a.queue != nil {
		return a.queue, nil
	}
	st, err := a.store(ctx)
	if err != nil {
		return nil, err
	}
	ns, err := st.GeneratedSecret(ctx, "queue.namespace", func() (string, error) {
		b := make([]byte, 4)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		return hex.EncodeToString(b), nil
	})
	if err != nil {
		return nil, err
	}
	a.queue = queue.NewClient(a.redisOpt(), a.cfg.Sending.MaxRetries)
	a.queue.Namespace = ns
	return a.queue, nil
}

func (a *app) redisClient() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: a.cfg.Redis.Addr, Password: a.cfg.Redis.Password.Value(), DB: a.cfg.Redis.DB})
}

// webSecret is the configured web.secret, or one generated once and kept
// in the store, so that every serve process signs links alike.
func (a *app) webSecret(ctx context.Context) ([]byte, error) {
	if s := a.cfg.Web.Secret.Value(); s != "" {
		return []byte(s), nil
	}
	st, err := a.store(ctx)
	if err != nil {
		return nil, err
	}
	s, err := st.GeneratedSecret(ctx, "web.secret", func() (string, error) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		return hex.EncodeToString(b), nil
	})
	return []byte(s), err
}

func (a *app) links(ctx context.Context) (*supporters.Links, error) {
	secret, err := a.webSecret(ctx)
	if err != nil {
		return nil, err
	}
	return supporters.NewLinks(secret, a.cfg.Web.BaseURL, keyring.SplitSecrets(a.cfg.Web.PreviousSecrets.Value())...)
}

// supportersService wires the intake of supporters' letters; rdb keeps
// the rate limits.
func (a *app) supportersService(ctx context.Context, rdb redis.UniversalClient) (*supporters.Service, error) {
	st, err := a.store(ctx)
	if err != nil {
		return nil, err
	}
	links, err := a.links(ctx)
	if err != nil {
		return nil, err
	}
	q, err := a.queueClient(ctx)
	if err != nil {
		return nil, err
	}
	sp := a.cfg.Supporters
	return &supporters.Service{
		Store: st, Queue: q, Links: links, Log: a.log(),
		Limiter: supporters.NewRateLimiter(rdb, supporters.Limits{PerIP: sp.PerIPPerHour, PerEmail: sp.PerEmailPerDay,
			PerHour: sp.ConfirmationsPerHour, PerDomainPerHour: sp.ConfirmationsPerDomainPerHour}),
		MaxMessage: sp.MessageMax, ConfirmWithin: sp.ConfirmWithin,
	}, nil
}

// startWeb starts the HTTP server; stop shuts it down, letting requests in
// flight finish.
func (a *app) startWeb(ctx context.Context) (stop func() error, err error) {
	rdb := a.redisClient()
	sup, err := a.supportersService(ctx, rdb)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	secret, err := a.webSecret(ctx)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	ws, err := web.New(web.Config{
		BaseURL: a.cfg.Web.BaseURL, Secret: secret,
		RealIPHeader: web.ProxyHeader{Name: a.cfg.Web.RealIPHeader, Trusted: a.cfg.Web.TrustedProxyPrefixes()},
		KeepForDays:  int(a.cfg.Supporters.KeepFor.Hours() / 24), Log: a.log(),
	}, sup)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	if err := a.addStaff(ctx, ws); err != nil {
		rdb.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", a.cfg.Web.Listen)
	if err != nil {
		rdb.Close()
		return nil, fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{
		Handler:           ws.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log().Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log().Error("web server stopped", "err", err)
		}
	}()
	a.log().Info("web server started", "listen", ln.Addr().String(), "base_url", a.cfg.Web.BaseURL)
	return func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		rdb.Close()
		a.log().Info("web server stopped")
		return err
	}, nil
}

// addStaff adds the staff UI, its API and the public status page.
func (a *app) addStaff(ctx context.Context, ws *web.Server) error {
	st, err := a.store(ctx)
	if err != nil {
		return err
	}
	comp, err := a.composer(ctx)
	if err != nil {
		return err
	}
	sched, err := a.scheduler(ctx)
	if err != nil {
		return err
	}
	staff := &web.Staff{Store: st, Auth: auth.NewService(st), Scheduler: sched, Composer: comp}
	// The server sends only staff's test copies itself; without a mail
	// server it offers none.
	if m, err := a.mailer(ctx); err == nil {
		staff.Mailer = m
	} else {
		a.log().Warn("no test copies of waves' letters from the web", "err", err)
	}
	return ws.WithStaff(staff)
}

// batcher wires the batcher of supporters' letters; done closes its Redis
// connection once it has stopped.
func (a *app) batcher(ctx context.Context) (b *supporters.Batcher, done func(), err error) {
	st, err := a.store(ctx)
	if err != nil {
		return nil, nil, err
	}
	sp := a.cfg.Supporters
	hours, err := campaign.ParseWorkingHours(sp.WorkingHours)
	if err != nil {
		return nil, nil, fmt.Errorf("supporters.working_hours: %w", err)
	}
	q, err := a.queueClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	rdb := a.redisClient()
	return &supporters.Batcher{
		Store: st, Queue: q, Hours: hours,
		Defaults: campaign.Delivery{
			Mode: campaign.DeliveryMode(sp.Mode), DailyCap: sp.DailyCap, Period: campaign.DigestPeriod(sp.DigestPeriod),
		},
		ConfirmWithin: sp.ConfirmWithin, KeepFor: sp.KeepFor, Interval: sp.BatchInterval,
		Lease: supporters.NewLease(rdb, "outreach:supporters:batcher"), Log: a.log(),
	}, func() { rdb.Close() }, nil
}

// addSupporterWriters lets a worker's sender write the confirmation mails,
// supporters' letters and digests.
func (a *app) addSupporterWriters(ctx context.Context, s *queue.Sender, comp *letter.Composer) error {
	st, err := a.store(ctx)
	if err != nil {
		return err
	}
	links, err := a.links(ctx)
	if err != nil {
		return err
	}
	w := &supporters.Writers{
		Store: st, Templates: comp.Templates, Signer: comp.Signer, Links: links, Org: comp.Org,
		ReplyTo: comp.ReplyTo, ReplyToken: comp.ReplyToken, ConfirmWithin: a.cfg.Supporters.ConfirmWithin,
		OptOutBase: comp.OptOutBase,
	}
	for kind, wr := range w.ByKind() {
		s.Writers[kind] = wr
	}
	return nil
}
