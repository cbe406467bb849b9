package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
	"github.com/outreach-campaign/outreach/internal/store"
)

// buildBinary builds outreach into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "outreach")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// workerFixture is a wave to all 64 offices of the seed, sent by worker
// processes to an SMTP server that holds each message a while before
// accepting it, so that letters are mid-send when a worker is stopped.
type workerFixture struct {
	t    *testing.T
	bin  string
	c    *cli
	sink *smtptest.Server
	st   *store.SQLite
}

func newWorkerFixture(t *testing.T, shutdownTimeout string) *workerFixture {
	t.Helper()
	f := &workerFixture{t: t, bin: buildBinary(t), c: newCLI(t)}
	f.sink = smtptest.Start(t, smtptest.WithDelay(150*time.Millisecond))
	f.c.withServices(t, f.sink.Host, f.sink.Port)
	f.c.env = append(f.c.env, "OUTREACH_SENDING_CONCURRENCY=4", "OUTREACH_SENDING_SHUTDOWN_TIMEOUT="+shutdownTimeout)
	f.c.ok("import", "cities", citiesCSV)
	f.c.ok("import", "contacts", contactsCSV)
	f.c.ok("wave", "create", "--name", "everyone", "--include-replied", "--start") // 64 offices
	st, err := store.OpenSQLite(context.Background(), filepath.Join(f.c.dir, "outreach.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	return f
}

func (f *workerFixture) counts() map[campaign.LetterState]int {
	f.t.Helper()
	n, err := f.st.LetterCounts(context.Background(), 1)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *workerFixture) startWorker(name string) *exec.Cmd {
	t := f.t
	cmd := exec.Command(f.bin, "worker")
	cmd.Dir = f.c.dir
	cmd.Env = append(os.Environ(), f.c.env...)
	log, err := os.Create(filepath.Join(f.c.dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		log.Close()
	})
	return cmd
}

func (f *workerFixture) waitFor(what string, timeout time.Duration, cond func(map[campaign.LetterState]int) bool) map[campaign.LetterState]int {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := f.counts()
		if cond(n) {
			return n
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%s: not after %s: %v", what, timeout, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkDelivery checks every letter against what the SMTP server received:
// a sent letter exactly once, an uncertain one at most once, nothing else.
func (f *workerFixture) checkDelivery() {
	t := f.t
	delivered := map[string]int{}
	for _, m := range f.sink.Messages() {
		delivered[strings.Trim(m.MessageID, "<>")]++
	}
	ls, err := f.st.Letters(context.Background(), store.LetterFilter{WaveID: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		n := delivered[l.MessageID]
		switch l.State {
		case campaign.Sent:
			if n != 1 {
				t.Errorf("%s is sent and was delivered %d times", l.ID, n)
			}
		case campaign.Uncertain:
			if n > 1 {
				t.Errorf("%s is uncertain and was delivered %d times", l.ID, n)
			}
		default:
			t.Errorf("%s ended %s", l.ID, l.State)
		}
	}
	for id, n := range delivered {
		if n > 1 {
			t.Errorf("message %s delivered %d times", id, n)
		}
	}
}

// inFlight: some letters are out and others on the wire.
func inFlight(n map[campaign.LetterState]int) bool {
	return n[campaign.Sent] >= 8 && n[campaign.Sending] >= 2
}

// TestWorkerKilledMidWave kills a worker process with SIGKILL while letters
// are in flight, starts another, and checks that the wave completes with
// no letter delivered twice and none lost: letters caught mid-send end
// uncertain, every other letter is sent exactly once.
func TestWorkerKilledMidWave(t *testing.T) {
	f := newWorkerFixture(t, "1s")
	first := f.startWorker("worker1")
	atKill := f.waitFor("letters in flight", 60*time.Second, inFlight)
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	t.Logf("killed the worker with %v", atKill)

	f.startWorker("worker2")
	// asynq hands the dead worker's tasks back once their lease has run
	// out (about a minute); the new worker then finds their letters still
	// marked sending.
	final := f.waitFor("the wave to complete", 4*time.Minute, func(n map[campaign.LetterState]int) bool {
		return n[campaign.Sent]+n[campaign.Uncertain] == 64
	})
	t.Logf("after the second worker: %v", final)
	if final[campaign.Uncertain] == 0 {
		t.Error("no letter ended uncertain, though letters were mid-send when the worker died")
	}

	f.checkDelivery()
}

// TestWorkerStopsGracefully stops a worker with SIGTERM mid-wave: the
// letters on the wire finish (none is left sending or made uncertain), the
// rest stay queued, and a new worker sends them, each once.
func TestWorkerStopsGracefully(t *testing.T) {
	f := newWorkerFixture(t, "30s")
	first := f.startWorker("worker1")
	atStop := f.waitFor("letters in flight", 60*time.Second, inFlight)
	if err := first.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("the worker did not exit cleanly on SIGTERM: %v", err)
	}
	after := f.counts()
	t.Logf("stopped the worker with %v; after it exited: %v", atStop, after)
	if after[campaign.Sending] != 0 || after[campaign.Uncertain] != 0 {
		t.Errorf("letters left mid-send by a graceful stop: %v", after)
	}
	if after[campaign.Sent] < atStop[campaign.Sent]+atStop[campaign.Sending] {
		t.Errorf("letters on the wire at SIGTERM were not finished: %v then %v", atStop, after)
	}
	f.startWorker("worker2")
	final := f.waitFor("the wave to complete", 2*time.Minute, func(n map[campaign.LetterState]int) bool {
		return n[campaign.Sent] == 64
	})
	t.Logf("after the second worker: %v", final)
	f.checkDelivery()
}
