package mailer_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/wneessen/go-mail"

	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
)

// BenchmarkSend measures messages per second through the pool to a go-smtp
// sink on loopback, with 1 and 8 connections, next to the raw limit of one
// go-mail client on one connection measured in the same run.
func BenchmarkSend(b *testing.B) {
	for _, conns := range []int{1, 8} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			s := smtptest.Start(b, smtptest.Discard())
			m := newMailer(b, s, mailer.Config{Connections: conns})
			var seq atomic.Int64
			// Twice as many senders as connections, so that a
			// connection is never idle for want of a letter.
			b.SetParallelism(max(1, 2*conns/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					msg, err := newLetter("mayor@city.example", fmt.Sprintf("bench-%d@outreach.example", seq.Add(1)))
					if err == nil {
						_, err = m.Send(b.Context(), msg)
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			if s.Count() != b.N || s.Connections() > conns {
				b.Fatalf("sink got %d messages on %d connections, want %d on at most %d",
					s.Count(), s.Connections(), b.N, conns)
			}
		})
	}

	// One sender on one connection: the pool's own cost, next to the raw
	// client below. (Several senders sharing one connection are slower on
	// loopback than one: each message hands the connection to a goroutine
	// parked on another thread, and waking it costs about as much as the
	// message. Against a real relay's round trips that is noise.)
	b.Run("conns=1/one-sender", func(b *testing.B) {
		s := smtptest.Start(b, smtptest.Discard())
		m := newMailer(b, s, mailer.Config{Connections: 1})
		b.ResetTimer()
		for i := range b.N {
			if _, err := m.Send(b.Context(), letter(b, "mayor@city.example", fmt.Sprintf("seq-%d@outreach.example", i))); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})

	b.Run("raw-go-mail/conns=1", func(b *testing.B) {
		s := smtptest.Start(b, smtptest.Discard())
		c, err := mail.NewClient(s.Host, mail.WithPort(s.Port), mail.WithTLSPolicy(mail.NoTLS),
			mail.WithoutNoop(), mail.WithoutRset())
		if err != nil {
			b.Fatal(err)
		}
		if err := c.DialWithContext(b.Context()); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		b.ResetTimer()
		for i := range b.N {
			if err := c.Send(letter(b, "mayor@city.example", fmt.Sprintf("raw-%d@outreach.example", i))); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}
