package queue

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/wneessen/go-mail"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
)

// countingWriter counts the letters written, and dates each a day after
// the last, so that a letter written again could not pass for the first.
type countingWriter struct {
	Writer
	mu     sync.Mutex
	writes map[string]int
}

func (c *countingWriter) Write(ctx context.Context, l campaign.Letter, t campaign.Target, date time.Time) (*mail.Msg, error) {
	c.mu.Lock()
	c.writes[l.ID]++
	n := c.writes[l.ID]
	c.mu.Unlock()
	return c.Writer.Write(ctx, l, t, date.AddDate(0, 0, n))
}

// TestRetrySendsTheKeptCopy: a letter refused with a 4xx goes out on the
// retry as it was kept on the first attempt, byte for byte, without being
// written again; a letter accepted at once goes out as kept too.
func TestRetrySendsTheKeptCopy(t *testing.T) {
	h := newHarness(t, smtptest.WithRcptReply(func(rcpt string, attempt int) *smtp.SMTPError {
		if strings.HasPrefix(rcpt, "mayor1@") && attempt <= 2 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Greylisted, try later"}
		}
		return nil
	}))
	h.seed(2, false)
	w, _ := h.createWave(WaveSpec{Countries: []string{"Canada"}}, time.Now())
	if _, err := h.sched.StartWave(context.Background(), w.ID); err != nil {
		t.Fatal(err)
	}
	m, err := mailer.New(mailer.Config{Host: h.sink.Host, Port: h.sink.Port, TLS: "none", Timeout: 5 * time.Second, Connections: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := NewSender(h.st, h.comp, m, nil, quietLog())
	cw := &countingWriter{Writer: s.Writers[campaign.KindWave], writes: map[string]int{}}
	s.Writers[campaign.KindWave] = cw
	srv := NewServer(h.redis, WorkerConfig{Concurrency: 1, RetryBase: 20 * time.Millisecond,
		RetryMax: 200 * time.Millisecond, ShutdownTimeout: 5 * time.Second, Log: quietLog()})
	if err := srv.Start(NewMux(s)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); m.Close() })
	h.waitDone(w.ID, 60*time.Second)

	for id, attempts := range map[string]int{"w1-t1": 3, "w1-t2": 1} {
		l := h.letter(id)
		if l.State != campaign.Sent || l.Attempts != attempts {
			t.Fatalf("%s: %s after %d attempts, want sent after %d", id, l.State, l.Attempts, attempts)
		}
		cw.mu.Lock()
		writes := cw.writes[id]
		cw.mu.Unlock()
		if writes != 1 {
			t.Errorf("%s written %d times, want once", id, writes)
		}
		kept, err := h.st.LetterAsSent(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		for _, msg := range h.sink.Messages() {
			if msg.MessageID == "<"+l.MessageID+">" {
				got = msg.Data
			}
		}
		if !bytes.Equal(got, kept.Message) {
			t.Errorf("%s: the server received\n%s\nbut the copy kept is\n%s", id, got, kept.Message)
		}
		if !kept.Whole || !strings.Contains(kept.Text, "City "+id[len(id)-1:]) || !strings.Contains(kept.Subject, "[ref W1-T") {
			t.Errorf("%s kept as subject %q, text %q (whole %v)", id, kept.Subject, kept.Text, kept.Whole)
		}
	}
}
