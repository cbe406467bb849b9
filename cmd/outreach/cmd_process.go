package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/queue"
)

// The long-running processes. Each stops cleanly on SIGINT or SIGTERM (the
// command's context ends): letters in flight finish, or go back to the
// queue when they outlast sending.shutdown_timeout.

func (a *app) workerCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Send queued letters over SMTP (run as many as you like, on any machine)",
		Long: `Send queued letters over SMTP, sending.concurrency at a time, within the
rate limits shared through Redis. Each letter is sent at most once: a letter
found half-sent (its worker died) is marked uncertain, not sent again.
Several workers, on several machines, can share one Redis and one store.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), false, true, false, false)
		},
	}
}

func (a *app) schedulerCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "scheduler",
		Short: "Queue the letters of started waves, batch supporters' letters, and re-queue any Redis lost",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), true, false, false, false)
		},
	}
}

func (a *app) runCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the scheduler, a worker, the web server and the reply poller in one process (the default on one machine)",
		Long: `Run the scheduler, a worker, the web server and the reply poller in one
process, the default on one machine. The poller is left out when imap.host is
empty.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), true, true, true, a.cfg.IMAP.Host != "")
		},
	}
}

func (a *app) redisOpt() asynq.RedisClientOpt {
	return asynq.RedisClientOpt{Addr: a.cfg.Redis.Addr, Password: a.cfg.Redis.Password.Value(), DB: a.cfg.Redis.DB}
}

// scheduler wires a Scheduler to the store and Redis.
func (a *app) scheduler(ctx context.Context) (*queue.Scheduler, error) {
	st, err := a.store(ctx)
	if err != nil {
		return nil, err
	}
	q, err := a.queueClient(ctx)
	if err != nil {
		return nil, err
	}
	return &queue.Scheduler{
		Store: st, Queue: q, Log: a.log(),
		Interval: a.cfg.Sending.SchedulerInterval, Parallel: 8,
	}, nil
}

// serve runs the scheduler loop (with the supporters' batcher), a worker,
// the web server and/or the reply poller until ctx ends.
func (a *app) serve(ctx context.Context, withScheduler, withWorker, withWeb, withPoller bool) error {
	log := a.log()
	var wg sync.WaitGroup
	errc := make(chan error, 5)
	if withScheduler {
		sched, err := a.scheduler(ctx)
		if err != nil {
			return err
		}
		wg.Go(func() { errc <- sched.Run(ctx) })
		log.Info("scheduler started", "redis", a.cfg.Redis.Addr, "interval", a.cfg.Sending.SchedulerInterval)
		batcher, done, err := a.batcher(ctx)
		if err != nil {
			return err
		}
		wg.Go(func() { errc <- batcher.Run(ctx); done() })
	}
	if withWorker {
		stop, err := a.startWorker(ctx)
		if err != nil {
			return err
		}
		wg.Go(func() {
			<-ctx.Done()
			stop()
		})
	}
	if withWeb {
		stop, err := a.startWeb(ctx)
		if err != nil {
			return err
		}
		wg.Go(func() {
			<-ctx.Done()
			errc <- stop()
		})
	}
	if withPoller {
		p, err := a.poller(ctx)
		if err != nil {
			return err
		}
		wg.Go(func() { errc <- p.Run(ctx) })
	} else if withScheduler && withWorker {
		log.Info("reply poller off: imap.host is empty")
	}
	<-ctx.Done()
	log.Info("stopping")
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			return err
		}
	}
	return nil
}

// startWorker starts an asynq server sending letters; stop shuts it down,
// waiting for letters in flight.
func (a *app) startWorker(ctx context.Context) (stop func(), err error) {
	st, err := a.store(ctx)
	if err != nil {
		return nil, err
	}
	comp, err := a.composer(ctx)
	if err != nil {
		return nil, err
	}
	mcfg, err := a.mailerConfig()
	if err != nil {
		return nil, err
	}
	mcfg.Connections = a.cfg.Sending.Concurrency
	m, err := mailer.New(mcfg)
	if err != nil {
		return nil, err
	}
	rdb := redis.NewClient(&redis.Options{Addr: a.cfg.Redis.Addr, Password: a.cfg.Redis.Password.Value(), DB: a.cfg.Redis.DB})
	sender := queue.NewSender(st, comp, m, mailer.NewLimiter(rdb, mailer.Limits{
		Overall: a.cfg.Sending.PerMinute, PerDomain: a.cfg.Sending.PerDomainPerMinute,
	}), a.log())
	// Confirmation mails have a budget of their own (keys of their own):
	// a flood of signings never takes the letters' slots.
	sender.MailLimiter = mailer.NewLimiter(rdb, mailer.Limits{
		Overall: a.cfg.Supporters.ConfirmationsPerMinute, PerDomain: a.cfg.Sending.PerDomainPerMinute,
		Prefix: "outreach:rate:mail:",
	})
	if err := a.addSupporterWriters(ctx, sender, comp); err != nil {
		m.Close()
		rdb.Close()
		return nil, err
	}
	srv := queue.NewServer(a.redisOpt(), queue.WorkerConfig{
		Concurrency: a.cfg.Sending.Concurrency, RetryBase: a.cfg.Sending.RetryDelay,
		RetryMax: a.cfg.Sending.RetryMaxDelay, ShutdownTimeout: a.cfg.Sending.ShutdownTimeout, Log: a.log(),
	})
	if err := srv.Start(queue.NewMux(sender)); err != nil {
		m.Close()
		rdb.Close()
		return nil, fmt.Errorf("worker: %w", err)
	}
	a.log().Info("worker started", "smtp", fmt.Sprintf("%s:%d", mcfg.Host, mcfg.Port), "tls", mcfg.TLS,
		"concurrency", a.cfg.Sending.Concurrency, "per_minute", a.cfg.Sending.PerMinute,
		"per_domain_per_minute", a.cfg.Sending.PerDomainPerMinute)
	return func() {
		srv.Shutdown()
		m.Close()
		rdb.Close()
		a.log().Info("worker stopped")
	}, nil
}

func (a *app) log() *slog.Logger {
	if a.logger == nil {
		a.logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: a.logLevel}))
	}
	return a.logger
}
