package queue

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

// WorkerConfig sets up a worker's asynq server.
type WorkerConfig struct {
	// Concurrency is how many letters one worker sends at once.
	Concurrency int
	// RetryBase and RetryMax bound the backoff after a temporary failure.
	RetryBase, RetryMax time.Duration
	// ShutdownTimeout is how long a stopping worker lets letters in flight
	// finish; those still running after it go back to the queue.
	ShutdownTimeout time.Duration
	Log             *slog.Logger
}

// NewServer returns the asynq server of a worker, serving the letter queues
// by their priorities.
func NewServer(opt asynq.RedisConnOpt, cfg WorkerConfig) *asynq.Server {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	return asynq.NewServer(opt, asynq.Config{
		Concurrency:     max(cfg.Concurrency, 1),
		Queues:          Priorities,
		RetryDelayFunc:  RetryDelay(cfg.RetryBase, cfg.RetryMax),
		IsFailure:       IsFailure,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          asynqLogger{log.With("component", "asynq")},
		// Letters wait in Redis as scheduled tasks until their time; check
		// for due ones every second rather than every five.
		DelayedTaskCheckInterval: time.Second,
	})
}

// NewMux routes letter tasks to s.
func NewMux(s *Sender) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Handle(TypeSendLetter, s)
	return mux
}

// asynqLogger sends asynq's own messages to slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
