package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	netmail "net/mail"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/wneessen/go-mail"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/mailer"
	"github.com/outreach-campaign/outreach/internal/mailer/smtptest"
	"github.com/outreach-campaign/outreach/internal/store"
	"github.com/outreach-campaign/outreach/internal/testservers"
	"github.com/outreach-campaign/outreach/templates"
)

// harness is a store, a real Redis, a real SMTP server and the queue
// around them.
type harness struct {
	t     testing.TB
	st    *store.SQLite
	redis asynq.RedisClientOpt
	sink  *smtptest.Server
	comp  *letter.Composer
	queue *Client
	sched *Scheduler
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newHarness(t testing.TB, sinkOpts ...smtptest.Option) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "outreach.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tpl, err := letter.LoadTemplates(templates.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := letter.NewSigner([]byte("queue-test-secret-0123456789"), "outreach.example")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{
		t:     t,
		st:    st,
		redis: asynq.RedisClientOpt{Addr: testservers.Redis(t)},
		sink:  smtptest.Start(t, sinkOpts...),
		comp: &letter.Composer{Templates: tpl, Signer: signer,
			Org: letter.Organisation{Name: "Sister City Campaign", Address: "campaign@outreach.example"}},
	}
	h.queue = NewClient(h.redis, 3)
	t.Cleanup(func() { h.queue.Close() })
	h.sched = &Scheduler{Store: st, Queue: h.queue, Log: quietLog(), Parallel: 4}
	return h
}

// seed stores n campaigns in Canada, each with an office of its own at
// local@domainN.example (or all at one domain when sameDomain).
func (h *harness) seed(n int, sameDomain bool) {
	h.t.Helper()
	ctx := context.Background()
	var cs []campaign.Campaign
	var contacts []store.Contact
	for i := 1; i <= n; i++ {
		cs = append(cs, campaign.Campaign{ID: int64(i), No: fmt.Sprint(i), Partner: campaign.Partner{Region: "Seoul"},
			Country: "Canada", City: fmt.Sprintf("City %d", i), AgreementDate: campaign.Date{Year: 2000, Month: time.Month(i%12 + 1), Day: i%28 + 1},
			Relationship: campaign.Sister, RelationshipLabel: "Sister City"})
		domain := fmt.Sprintf("city%d.example", i)
		if sameDomain {
			domain = "same.example"
		}
		contacts = append(contacts, store.Contact{
			Target: campaign.Target{Email: fmt.Sprintf("mayor%d@%s", i, domain), Country: "Canada",
				City: fmt.Sprintf("City %d", i), Language: "en", TimeZone: "America/Toronto"},
			CampaignIDs: []int64{int64(i)},
		})
	}
	if _, err := h.st.ImportCampaigns(ctx, cs); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.st.ImportContacts(ctx, contacts); err != nil {
		h.t.Fatal(err)
	}
}

// worker starts an asynq server sending through a mailer of its own, as a
// separate worker process would; it stops at cleanup.
func (h *harness) worker(concurrency int, limiter Limiter) *asynq.Server {
	h.t.Helper()
	m, err := mailer.New(mailer.Config{Host: h.sink.Host, Port: h.sink.Port, TLS: "none",
		Timeout: 5 * time.Second, Connections: concurrency})
	if err != nil {
		h.t.Fatal(err)
	}
	srv := NewServer(h.redis, WorkerConfig{Concurrency: concurrency, RetryBase: 20 * time.Millisecond,
		RetryMax: 200 * time.Millisecond, ShutdownTimeout: 5 * time.Second, Log: quietLog()})
	s := NewSender(h.st, h.comp, m, limiter, quietLog())
	if err := srv.Start(NewMux(s)); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { srv.Shutdown(); m.Close() })
	return srv
}

func (h *harness) createWave(spec WaveSpec, now time.Time) (campaign.Wave, campaign.Plan) {
	h.t.Helper()
	if spec.Name == "" {
		spec.Name = "test wave"
	}
	w, plan, err := CreateWave(context.Background(), h.st, h.comp, spec, now)
	if err != nil {
		h.t.Fatal(err)
	}
	return w, plan
}

// waitDone waits until every letter of the wave is in a final state.
func (h *harness) waitDone(waveID int64, timeout time.Duration) map[campaign.LetterState]int {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		counts, err := h.st.LetterCounts(context.Background(), waveID)
		if err != nil {
			h.t.Fatal(err)
		}
		pending := counts[campaign.Planned] + counts[campaign.Queued] + counts[campaign.Sending]
		if pending == 0 {
			return counts
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("wave %d not done after %s: %v", waveID, timeout, counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) letter(id string) campaign.Letter {
	h.t.Helper()
	l, err := h.st.Letter(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return l
}

// delivered counts the messages the SMTP server accepted, by Message-ID.
func (h *harness) delivered() map[string]int {
	out := map[string]int{}
	for _, m := range h.sink.Messages() {
		out[strings.Trim(m.MessageID, "<>")]++
	}
	return out
}

func TestWaveDeliversEachLetterOnce(t *testing.T) {
	h := newHarness(t)
	h.seed(12, false)
	w, plan := h.createWave(WaveSpec{Countries: []string{"Canada"}}, time.Now())
	if len(plan.Letters) != 12 {
		t.Fatalf("%d letters planned, want 12", len(plan.Letters))
	}
	// Two schedulers racing to start the wave, and a third start after:
	// nothing may be queued twice.
	other := &Scheduler{Store: h.st, Queue: NewClient(h.redis, 3), Log: quietLog(), Parallel: 3}
	defer other.Queue.Close()
	var wg sync.WaitGroup
	for _, s := range []*Scheduler{h.sched, other} {
		wg.Go(func() {
			if _, err := s.StartWave(context.Background(), w.ID); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	h.worker(4, nil)
	counts := h.waitDone(w.ID, 30*time.Second)
	if n, err := h.sched.StartWave(context.Background(), w.ID); err != nil || n != 0 {
		t.Errorf("starting a finished wave queued %d letters (%v)", n, err)
	}
	if counts[campaign.Sent] != 12 {
		t.Errorf("counts %v, want 12 sent", counts)
	}
	got := h.delivered()
	if len(got) != 12 || h.sink.Count() != 12 {
		t.Errorf("server got %d messages with %d Message-IDs, want 12 and 12", h.sink.Count(), len(got))
	}
	for _, l := range plan.Letters {
		sent := h.letter(l.ID)
		if got[sent.MessageID] != 1 {
			t.Errorf("letter %s (%s) delivered %d times", l.ID, sent.MessageID, got[sent.MessageID])
		}
		if id, ok := h.comp.Signer.ParseMessageID(sent.MessageID); !ok || id != l.ID {
			t.Errorf("letter %s: Message-ID %s does not verify", l.ID, sent.MessageID)
		}
	}
	cs, _ := h.st.Campaigns(context.Background(), store.CampaignFilter{})
	for _, c := range cs {
		if c.CampaignDate.IsZero() {
			t.Errorf("campaign %d has no campaign date after its letter was sent", c.ID)
		}
	}
}

func TestFaults(t *testing.T) {
	// mayor1: 421 twice then accepted; mayor2: 451 once then accepted;
	// mayor3: 550 (unknown user); mayor4: connection dropped in DATA on the
	// first attempt; mayor5: 451 for ever; mayor6: fine.
	var dropped sync.Map
	h := newHarness(t,
		smtptest.WithRcptReply(func(rcpt string, attempt int) *smtp.SMTPError {
			switch {
			case strings.HasPrefix(rcpt, "mayor1@") && attempt <= 2:
				return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "Service not available, try later"}
			case strings.HasPrefix(rcpt, "mayor2@") && attempt == 1:
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Greylisted, try later"}
			case strings.HasPrefix(rcpt, "mayor3@"):
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
			case strings.HasPrefix(rcpt, "mayor5@"):
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Busy"}
			}
			return nil
		}),
		smtptest.WithDropInData(func(msgID string, attempt int) bool {
			if strings.HasPrefix(msgID, "<w1-t4.") && attempt == 1 {
				dropped.Store(msgID, true)
				return true
			}
			return false
		}),
	)
	h.seed(6, false)
	w, _ := h.createWave(WaveSpec{Countries: []string{"Canada"}}, time.Now())
	if _, err := h.sched.StartWave(context.Background(), w.ID); err != nil {
		t.Fatal(err)
	}
	h.worker(3, nil)
	h.waitDone(w.ID, 60*time.Second)

	want := map[string]campaign.LetterState{
		"w1-t1": campaign.Sent, "w1-t2": campaign.Sent, "w1-t3": campaign.Failed,
		"w1-t4": campaign.Uncertain, "w1-t5": campaign.Failed, "w1-t6": campaign.Sent,
	}
	delivered := h.delivered()
	for id, state := range want {
		l := h.letter(id)
		if l.State != state {
			t.Errorf("%s: %s (%s), want %s", id, l.State, l.LastError, state)
		}
		n := delivered[l.MessageID]
		switch {
		case state == campaign.Sent && n != 1:
			t.Errorf("%s sent but delivered %d times", id, n)
		case state != campaign.Sent && n != 0:
			t.Errorf("%s is %s but was delivered %d times", id, state, n)
		}
	}
	if l := h.letter("w1-t3"); !strings.Contains(l.ServerReply, "550") || !strings.Contains(l.ServerReply, "No such user") {
		t.Errorf("the 550 reply was not kept: %q", l.ServerReply)
	}
	if tg, _ := h.st.Target(context.Background(), "mayor3@city3.example"); !tg.Suspect {
		t.Error("the refused address is not marked suspect")
	}
	if tg, _ := h.st.Target(context.Background(), "mayor5@city5.example"); tg.Suspect {
		t.Error("an address that only ever got 4xx replies is marked suspect")
	}
	if l := h.letter("w1-t5"); !strings.Contains(l.LastError, "gave up after 4 attempts") {
		t.Errorf("retries of w1-t5: %q, want it to give up after 4 attempts (3 retries)", l.LastError)
	}
	if l := h.letter("w1-t1"); l.Attempts != 3 {
		t.Errorf("w1-t1 took %d attempts, want 3 (two 421s)", l.Attempts)
	}

	// Staff resend the uncertain letter: it goes once more, once.
	if _, err := h.sched.Resend(context.Background(), "w1-t4"); err != nil {
		t.Fatal(err)
	}
	h.waitDone(w.ID, 30*time.Second)
	l := h.letter("w1-t4")
	if l.State != campaign.Sent || l.Resends != 1 {
		t.Errorf("resent letter: %s, resends %d", l.State, l.Resends)
	}
	if n := h.delivered()[l.MessageID]; n != 1 {
		t.Errorf("resent letter delivered %d times", n)
	}
	if _, err := h.sched.Resend(context.Background(), "w1-t4"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("resending a sent letter: %v, want ErrConflict", err)
	}
}

// fakeMailer records sends, for the cases no SMTP server is needed for.
type fakeMailer struct {
	mu    sync.Mutex
	sends int
}

func (f *fakeMailer) Send(context.Context, *mail.Msg) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sends++
	return "250 OK", nil
}

func (f *fakeMailer) SendRaw(context.Context, mailer.Raw) (string, error) {
	return f.Send(context.Background(), nil)
}

func (f *fakeMailer) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sends
}

// task builds the task a worker would get for letter l.
func task(l campaign.Letter) *asynq.Task {
	return asynq.NewTask(TypeSendLetter, []byte(fmt.Sprintf(`{"letter_id":%q,"resend":%d}`, l.ID, l.Resends)))
}

func TestLetterFoundMidSendBecomesUncertain(t *testing.T) {
	h := newHarness(t)
	h.seed(2, false)
	w, plan := h.createWave(WaveSpec{}, time.Now())
	ctx := context.Background()
	if _, err := h.st.StartWave(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	// A worker began sending the first letter, then died.
	l := plan.Letters[0]
	if err := h.st.BeginSending(ctx, l.ID, h.comp.Signer.MessageID(l.ID)); err != nil {
		t.Fatal(err)
	}
	fm := &fakeMailer{}
	s := NewSender(h.st, h.comp, fm, nil, quietLog())
	if err := s.ProcessTask(ctx, task(l)); err != nil {
		t.Fatal(err)
	}
	if got := h.letter(l.ID); got.State != campaign.Uncertain {
		t.Errorf("letter found mid-send is %s, want uncertain", got.State)
	}
	// Processing the task again (asynq may deliver it again) sends nothing.
	if err := s.ProcessTask(ctx, task(l)); err != nil {
		t.Fatal(err)
	}
	// The other letter is sent once, however often its task runs.
	other := plan.Letters[1]
	for range 3 {
		if err := s.ProcessTask(ctx, task(other)); err != nil {
			t.Fatal(err)
		}
	}
	if fm.count() != 1 {
		t.Errorf("%d sends, want exactly 1 (the second letter, once)", fm.count())
	}
	if err := h.st.MarkUncertain(ctx, other.ID, "x"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a sent letter could be made uncertain: %v", err)
	}
	// Staff resend the uncertain letter: the task queued before the resend
	// is stale and does nothing; the new one sends it.
	resent, err := h.st.Resend(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ProcessTask(ctx, task(l)); err != nil {
		t.Fatal(err)
	}
	if fm.count() != 1 {
		t.Errorf("a stale task sent the letter")
	}
	if err := s.ProcessTask(ctx, task(resent)); err != nil {
		t.Fatal(err)
	}
	if fm.count() != 2 || h.letter(l.ID).State != campaign.Sent {
		t.Errorf("after the resend: %d sends, letter %s", fm.count(), h.letter(l.ID).State)
	}
}

func TestCancelledWaveSendsNothing(t *testing.T) {
	h := newHarness(t)
	h.seed(5, false)
	ctx := context.Background()
	now := time.Now()
	w, plan := h.createWave(WaveSpec{At: now.Add(time.Hour)}, now)
	if n, err := h.sched.StartWave(ctx, w.ID); err != nil || n != 5 {
		t.Fatalf("queued %d, %v", n, err)
	}
	insp := asynq.NewInspector(h.redis)
	defer insp.Close()
	for _, l := range plan.Letters {
		info, err := insp.GetTaskInfo(QueueLetters, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if info.State != asynq.TaskStateScheduled {
			t.Errorf("%s is %v, want scheduled", l.ID, info.State)
		}
	}
	n, err := h.sched.CancelWave(ctx, w.ID)
	if err != nil || n != 5 {
		t.Fatalf("cancelled %d, %v", n, err)
	}
	for _, l := range plan.Letters {
		if _, err := insp.GetTaskInfo(QueueLetters, l.ID); !errors.Is(err, asynq.ErrTaskNotFound) {
			t.Errorf("%s still in Redis after cancel: %v", l.ID, err)
		}
	}
	// Even a task that escaped the cancel sends nothing.
	fm := &fakeMailer{}
	s := NewSender(h.st, h.comp, fm, nil, quietLog())
	if err := s.ProcessTask(ctx, task(plan.Letters[0])); err != nil {
		t.Fatal(err)
	}
	if fm.count() != 0 {
		t.Error("a cancelled letter was sent")
	}
	if _, err := h.sched.StartWave(ctx, w.ID); !errors.Is(err, store.ErrConflict) {
		t.Errorf("starting a cancelled wave: %v, want ErrConflict", err)
	}
}

// fourZones stores four campaigns in Canada whose offices are in four time
// zones: Toronto, Perth, Rome and Vancouver.
func fourZones(t testing.TB, st *store.SQLite) {
	t.Helper()
	ctx := context.Background()
	cs := []campaign.Campaign{}
	var contacts []store.Contact
	for i, z := range []struct{ city, tz string }{
		{"Montreal", "America/Toronto"}, {"Perth", "Australia/Perth"}, {"Rome", "Europe/Rome"}, {"Vancouver", "America/Vancouver"},
	} {
		id := int64(i + 1)
		cs = append(cs, campaign.Campaign{ID: id, No: fmt.Sprint(id), Partner: campaign.Partner{Region: "Seoul"}, Country: "Canada",
			City: z.city, AgreementDate: campaign.Date{Year: 2000, Month: 1, Day: 1}, Relationship: campaign.Sister})
		contacts = append(contacts, store.Contact{Target: campaign.Target{Email: strings.ToLower(z.city) + "@mayor.example",
			Country: "Canada", City: z.city, Language: "en", TimeZone: z.tz}, CampaignIDs: []int64{id}})
	}
	if _, err := st.ImportCampaigns(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ImportContacts(ctx, contacts); err != nil {
		t.Fatal(err)
	}
}

// TestWaveSendTimes checks when the letters of a wave at local time and of
// a wave at a set time are due. Its fixed date is safe: it touches only
// the store and the planner, both on the injected now; Redis, which keeps
// real time, is TestScheduledWaves's.
func TestWaveSendTimes(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "outreach.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// Friday 27 November 2026, 15:30 UTC: 10:30 in Montreal, 23:30 in
	// Perth, 16:30 in Rome, 07:30 in Vancouver.
	now := time.Date(2026, 11, 27, 15, 30, 0, 0, time.UTC)
	st.Now = func() time.Time { return now }
	fourZones(t, st)
	tpl, err := letter.LoadTemplates(templates.FS, "")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := letter.NewSigner([]byte("queue-test-secret-0123456789"), "outreach.example")
	if err != nil {
		t.Fatal(err)
	}
	comp := &letter.Composer{Templates: tpl, Signer: signer,
		Org: letter.Organisation{Name: "Sister City Campaign", Address: "campaign@outreach.example"}}
	zone := func(name string) *time.Location { l, _ := time.LoadLocation(name); return l }
	wantLocal := map[string]time.Time{
		"montreal@mayor.example":  time.Date(2026, 11, 30, 9, 0, 0, 0, zone("America/Toronto")),   // Monday: Friday 09:00 has passed
		"perth@mayor.example":     time.Date(2026, 11, 30, 9, 0, 0, 0, zone("Australia/Perth")),   // Monday: it is already Friday night
		"rome@mayor.example":      time.Date(2026, 11, 30, 9, 0, 0, 0, zone("Europe/Rome")),       // Monday
		"vancouver@mayor.example": time.Date(2026, 11, 27, 9, 0, 0, 0, zone("America/Vancouver")), // today: 09:00 is still ahead
	}
	_, plan, err := CreateWave(ctx, st, comp, WaveSpec{Name: "local", LocalTime: "09:00"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Letters) != len(wantLocal) {
		t.Fatalf("%d letters, want %d", len(plan.Letters), len(wantLocal))
	}
	for _, l := range plan.Letters {
		if want := wantLocal[l.Email]; !l.SendAt.Equal(want) {
			t.Errorf("%s: send at %s, want %s", l.Email, l.SendAt, want)
		}
	}
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	_, plan, err = CreateWave(ctx, st, comp, WaveSpec{Name: "at", At: at, IncludeContacted: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range plan.Letters {
		if !l.SendAt.Equal(at) {
			t.Errorf("%s: send at %s, want %s", l.ID, l.SendAt, at)
		}
	}
	if _, _, err := CreateWave(ctx, st, comp, WaveSpec{Name: "past", At: now.Add(-time.Hour), IncludeContacted: true}, now); err == nil {
		t.Error("a wave at a past time was created")
	}
}

// TestScheduledWaves checks that the tasks of scheduled waves wait in Redis
// until their letters are due. Redis and asynq keep real time, so its
// times are built from time.Now (TestWaveSendTimes checks the times
// themselves on a fixed date).
func TestScheduledWaves(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	fourZones(t, h.st)
	now := time.Now()
	// Half past the minute of now plus half an hour: the four zones are
	// whole hours apart from UTC, so in each of them the letter is due at
	// least 29 minutes from now, never in the second the task is queued.
	local := now.UTC().Add(30 * time.Minute).Format("15:04")
	w, plan := h.createWave(WaveSpec{Name: "local", LocalTime: local}, now)
	insp := asynq.NewInspector(h.redis)
	defer insp.Close()
	if _, err := h.sched.StartWave(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	zones := map[string]string{"montreal@mayor.example": "America/Toronto", "perth@mayor.example": "Australia/Perth",
		"rome@mayor.example": "Europe/Rome", "vancouver@mayor.example": "America/Vancouver"}
	if len(plan.Letters) != len(zones) {
		t.Fatalf("%d letters, want %d", len(plan.Letters), len(zones))
	}
	for _, l := range plan.Letters {
		loc, err := time.LoadLocation(zones[l.Email])
		if err != nil {
			t.Fatal(err)
		}
		day := l.SendAt.In(loc).Weekday()
		if !l.SendAt.After(now) || l.SendAt.After(now.Add(4*24*time.Hour)) ||
			l.SendAt.In(loc).Format("15:04") != local || day == time.Saturday || day == time.Sunday {
			t.Errorf("%s: send at %s, want %s on a working day there, within four days of %s", l.Email, l.SendAt.In(loc), local, now)
		}
		info, err := insp.GetTaskInfo(QueueLetters, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if info.State != asynq.TaskStateScheduled || !info.NextProcessAt.Equal(l.SendAt.Truncate(time.Second)) {
			t.Errorf("%s: task %v due %s, want scheduled for %s", l.ID, info.State, info.NextProcessAt, l.SendAt)
		}
	}

	at := now.Add(50 * time.Hour).Truncate(time.Second)
	w2, plan2 := h.createWave(WaveSpec{Name: "at", At: at, IncludeContacted: true}, now)
	if _, err := h.sched.StartWave(ctx, w2.ID); err != nil {
		t.Fatal(err)
	}
	for _, l := range plan2.Letters {
		info, err := insp.GetTaskInfo(QueueLetters, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !l.SendAt.Equal(at) || info.State != asynq.TaskStateScheduled || !info.NextProcessAt.Equal(at) {
			t.Errorf("%s: send at %s, task %v due %s, want scheduled for %s", l.ID, l.SendAt, info.State, info.NextProcessAt, at)
		}
	}
}

// grantLog wraps a Limiter and records when it granted a slot.
type grantLog struct {
	Limiter
	mu     sync.Mutex
	grants []time.Time
}

func (g *grantLog) Reserve(ctx context.Context, domain string) (time.Duration, error) {
	wait, err := g.Limiter.Reserve(ctx, domain)
	if err == nil && wait == 0 {
		g.mu.Lock()
		g.grants = append(g.grants, time.Now())
		g.mu.Unlock()
	}
	return wait, err
}

func TestRateLimitSharedByTwoWorkers(t *testing.T) {
	h := newHarness(t)
	const (
		n       = 12
		limit   = 3
		window  = 1500 * time.Millisecond
		letters = n
	)
	h.seed(letters, true) // every office at same.example
	w, _ := h.createWave(WaveSpec{}, time.Now())
	// Two workers, each with a Redis client and limiter of its own, as on
	// two machines.
	var logs []*grantLog
	for range 2 {
		rdb := redis.NewClient(&redis.Options{Addr: h.redis.Addr})
		t.Cleanup(func() { rdb.Close() })
		g := &grantLog{Limiter: mailer.NewLimiter(rdb, mailer.Limits{PerDomain: limit, Window: window, Prefix: "test:rate:"})}
		logs = append(logs, g)
		h.worker(3, g)
	}
	if _, err := h.sched.StartWave(context.Background(), w.ID); err != nil {
		t.Fatal(err)
	}
	counts := h.waitDone(w.ID, 60*time.Second)
	if counts[campaign.Sent] != letters {
		t.Fatalf("counts %v, want %d sent", counts, letters)
	}
	var all []time.Time
	for i, g := range logs {
		if len(g.grants) == 0 {
			t.Errorf("worker %d sent nothing: the test did not exercise two workers", i+1)
		}
		all = append(all, g.grants...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Before(all[j]) })
	if len(all) != letters {
		t.Fatalf("%d grants for %d letters: a held-back letter was granted twice or lost", len(all), letters)
	}
	// Any limit+1 consecutive grants must span at least the window. The
	// grants are stamped here, after the round trip to Redis that decided
	// them, so allow for that trip's jitter.
	const jitter = 50 * time.Millisecond
	for i := 0; i+limit < len(all); i++ {
		if span := all[i+limit].Sub(all[i]); span < window-jitter {
			t.Errorf("grants %d..%d span %s: more than %d in %s", i, i+limit, span, limit, window)
		}
	}
	if h.sink.Count() != letters {
		t.Errorf("server got %d messages, want %d", h.sink.Count(), letters)
	}
	delivered := h.delivered()
	for id, c := range delivered {
		if c != 1 {
			t.Errorf("%s delivered %d times", id, c)
		}
	}
}

func TestSchedulerRequeuesWhatRedisLost(t *testing.T) {
	h := newHarness(t)
	h.seed(3, false)
	ctx := context.Background()
	w, _ := h.createWave(WaveSpec{At: time.Now().Add(time.Hour)}, time.Now())
	if _, err := h.sched.StartWave(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	// Redis restarts without persistence: every task is gone.
	rdb := redis.NewClient(&redis.Options{Addr: h.redis.Addr})
	defer rdb.Close()
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	h.sched.StaleAfter = time.Nanosecond
	if err := h.sched.Round(ctx); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspector(h.redis)
	defer insp.Close()
	ls, _ := h.st.Letters(ctx, store.LetterFilter{WaveID: w.ID})
	for _, l := range ls {
		info, err := insp.GetTaskInfo(QueueLetters, l.ID)
		if err != nil {
			t.Errorf("%s not re-queued: %v", l.ID, err)
			continue
		}
		if !info.NextProcessAt.Equal(l.SendAt.Truncate(time.Second)) {
			t.Errorf("%s re-queued for %s, want its time %s", l.ID, info.NextProcessAt, l.SendAt)
		}
	}
	if !slices.ContainsFunc(ls, func(l campaign.Letter) bool { return l.State == campaign.Queued }) {
		t.Error("no letter is queued")
	}
}

// TestFollowUps checks, with an injected clock, that a wave's follow-ups
// go once, when due, in the first letter's thread, to the offices that
// have not replied: not to one that replied, nor to one marked
// do-not-contact; an auto-reply does not count as a reply.
func TestFollowUps(t *testing.T) {
	h := newHarness(t)
	h.seed(4, false)
	ctx := context.Background()
	const after = 21 * 24 * time.Hour
	w, plan := h.createWave(WaveSpec{FollowUpAfter: after}, time.Now())
	if w.FollowUpTemplate != "follow-up" {
		t.Fatalf("follow-up template %q, want the default", w.FollowUpTemplate)
	}
	if _, err := h.sched.StartWave(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	h.worker(2, nil)
	h.waitDone(w.ID, 30*time.Second)

	// Office 1 replied, office 2 sent an auto-reply, office 3 asked not to
	// be contacted again, office 4 said nothing.
	var rs []campaign.Reply
	for i, kind := range []campaign.ReplyKind{campaign.ReplyHuman, campaign.ReplyAuto} {
		l := h.letter(plan.Letters[i].ID)
		raw := []byte(fmt.Sprintf("Message-ID: <r%d@x.example>\r\n\r\nx", i))
		rs = append(rs, campaign.Reply{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1), MessageID: fmt.Sprintf("r%d@x.example", i),
			SHA256: campaign.HashRaw(raw), Raw: raw, Kind: kind, Status: campaign.ReplyConfirmed, LetterID: l.ID, TargetID: l.TargetID,
			CampaignIDs: l.CampaignIDs, Confidence: 0.95, ReceivedAt: l.SentAt.Add(time.Hour)})
	}
	if _, err := h.st.RecordReplies(ctx, rs, store.Checkpoint{Mailbox: "INBOX", UIDValidity: 1, UID: 2}); err != nil {
		t.Fatal(err)
	}
	if err := h.st.SetDoNotContact(ctx, plan.Letters[2].Email, true); err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	for _, day := range []int{20, 22, 40} {
		h.sched.Now = func() time.Time { return now.Add(time.Duration(day) * 24 * time.Hour) }
		if err := h.sched.Round(ctx); err != nil {
			t.Fatal(err)
		}
		h.waitDone(w.ID, 30*time.Second)
		if day == 20 && h.sink.Count() != 4 {
			t.Fatalf("%d messages before the follow-ups were due, want the 4 letters", h.sink.Count())
		}
	}
	if n := h.sink.Count(); n != 6 {
		t.Errorf("%d messages, want 4 letters and 2 follow-ups", n)
	}
	inReplyTo := map[string]int{}
	for _, m := range h.sink.Messages() {
		msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		if irt := msg.Header.Get("In-Reply-To"); irt != "" {
			inReplyTo[strings.Trim(irt, "<>")]++
			if !strings.HasPrefix(m.MessageID, "<w1-t") || !strings.Contains(m.MessageID, "-f.") {
				t.Errorf("follow-up Message-ID %s", m.MessageID)
			}
		}
	}
	for i, want := range []int{0, 1, 0, 1} {
		first := h.letter(plan.Letters[i].ID)
		if got := inReplyTo[first.MessageID]; got != want {
			t.Errorf("office %d got %d follow-ups, want %d", i+1, got, want)
		}
		f, err := h.st.Letter(ctx, campaign.FollowUpID(first.ID))
		switch {
		case want == 1 && (err != nil || f.State != campaign.Sent || f.Kind != campaign.KindFollowUp):
			t.Errorf("follow-up of %s: %+v %v", first.ID, f, err)
		case want == 0 && err == nil:
			t.Errorf("office %d has a follow-up %s (%s)", i+1, f.ID, f.State)
		}
	}
}

func TestCreateWaveFollowUpChecks(t *testing.T) {
	h := newHarness(t)
	h.seed(1, false)
	ctx := context.Background()
	for name, spec := range map[string]WaveSpec{
		"template without a time": {Name: "a", FollowUpTemplate: "follow-up"},
		"negative time":           {Name: "b", FollowUpAfter: -time.Hour},
		"unknown template":        {Name: "c", FollowUpAfter: time.Hour, FollowUpTemplate: "reminder"},
	} {
		if _, _, err := CreateWave(ctx, h.st, h.comp, spec, time.Now()); err == nil {
			t.Errorf("%s: wave created", name)
		}
	}
	if ws, _ := h.st.Waves(ctx); len(ws) != 0 {
		t.Errorf("%d waves stored after refused specs", len(ws))
	}
}

// TestQueuesByKind: mail a person waits for goes in the mail queue, ahead
// of letters to the offices.
func TestQueuesByKind(t *testing.T) {
	h := newHarness(t)
	insp := asynq.NewInspector(h.redis)
	defer insp.Close()
	for _, tt := range []struct {
		kind  campaign.LetterKind
		queue string
	}{{campaign.KindConfirmation, QueueMail}, {campaign.KindWave, QueueLetters}, {campaign.KindSupporter, QueueLetters}, {campaign.KindFollowUp, QueueLetters}} {
		l := campaign.Letter{ID: "q-" + string(tt.kind), Kind: tt.kind, SendAt: time.Now().Add(time.Hour)}
		if err := h.queue.EnqueueLetter(context.Background(), l); err != nil {
			t.Fatal(err)
		}
		if _, err := insp.GetTaskInfo(tt.queue, l.ID); err != nil {
			t.Errorf("%s: not in queue %s: %v", tt.kind, tt.queue, err)
		}
		if ok, err := h.queue.Queued(l); err != nil || !ok {
			t.Errorf("%s: Queued = %v, %v", tt.kind, ok, err)
		}
	}
	if Priorities[QueueMail] <= Priorities[QueueLetters] {
		t.Error("the mail queue does not come first")
	}
}

// TestNewStoreOnOldRedis: a fresh store (with a namespace of its own) on a
// Redis that still keeps the finished tasks of another store's letters of
// the same ids sends its letters all the same.
func TestNewStoreOnOldRedis(t *testing.T) {
	h := newHarness(t)
	h.queue.Namespace = "aaaa"
	h.seed(3, false)
	w, _ := h.createWave(WaveSpec{}, time.Now())
	if _, err := h.sched.StartWave(context.Background(), w.ID); err != nil {
		t.Fatal(err)
	}
	old := h.worker(2, nil)
	h.waitDone(w.ID, 30*time.Second)
	// The old store's worker goes with it: left running on the same queue
	// it could take a task of the new store, find the letter of that id
	// sent in its own store and drop the task, leaving the new letter
	// queued.
	old.Shutdown()

	// A new store, the same Redis, the same letter ids.
	h2 := newHarness(t)
	h2.redis = h.redis
	h2.queue = NewClient(h.redis, 3)
	h2.queue.Namespace = "bbbb"
	t.Cleanup(func() { h2.queue.Close() })
	h2.sched = &Scheduler{Store: h2.st, Queue: h2.queue, Log: quietLog(), Parallel: 2}
	h2.seed(3, false)
	w2, plan := h2.createWave(WaveSpec{}, time.Now())
	if plan.Letters[0].ID != "w1-t1" {
		t.Fatalf("letter id %s, want the same as the old store's", plan.Letters[0].ID)
	}
	if _, err := h2.sched.StartWave(context.Background(), w2.ID); err != nil {
		t.Fatal(err)
	}
	h2.worker(2, nil)
	if counts := h2.waitDone(w2.ID, 30*time.Second); counts[campaign.Sent] != 3 {
		t.Errorf("the new store's wave: %v, want 3 sent", counts)
	}
}

// TestSchedulerMendsStrandedLetters: a queued letter whose task finished
// is queued again; a letter left mid-send whose task is gone is marked
// uncertain, not sent again.
func TestSchedulerMendsStrandedLetters(t *testing.T) {
	h := newHarness(t)
	h.seed(2, false)
	ctx := context.Background()
	w, plan := h.createWave(WaveSpec{At: time.Now().Add(time.Hour)}, time.Now())
	if _, err := h.sched.StartWave(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	// The first letter's task ran to its end without sending (as a task
	// of another store with the same id would have); the second letter
	// was being sent when its worker and its task vanished.
	insp := asynq.NewInspector(h.redis)
	defer insp.Close()
	first, second := plan.Letters[0], plan.Letters[1]
	if err := insp.DeleteTask(QueueLetters, first.ID); err != nil {
		t.Fatal(err)
	}
	c := asynq.NewClient(h.redis)
	defer c.Close()
	if _, err := c.Enqueue(asynq.NewTask("noop", nil), asynq.TaskID(first.ID), asynq.Queue(QueueLetters), asynq.Retention(time.Hour)); err != nil {
		t.Fatal(err)
	}
	srv := asynq.NewServer(h.redis, asynq.Config{Queues: map[string]int{QueueLetters: 1}, Logger: asynqLogger{quietLog()}})
	mux := asynq.NewServeMux()
	done := make(chan struct{}, 1)
	mux.HandleFunc("noop", func(context.Context, *asynq.Task) error { done <- struct{}{}; return nil })
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	<-done
	srv.Shutdown()
	if err := h.st.BeginSending(ctx, second.ID, h.comp.Signer.MessageID(second.ID)); err != nil {
		t.Fatal(err)
	}
	if err := insp.DeleteTask(QueueLetters, second.ID); err != nil {
		t.Fatal(err)
	}

	h.sched.StaleAfter = time.Nanosecond
	if err := h.sched.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.queue.Queued(first); err != nil || !ok {
		t.Errorf("the queued letter whose task had finished was not queued again: %v %v", ok, err)
	}
	if l := h.letter(second.ID); l.State != campaign.Uncertain {
		t.Errorf("the letter left mid-send is %s, want uncertain", l.State)
	}
}

// racingStore is a store on which another scheduler queues a started
// wave's letters the moment it is marked started, as "outreach run" does
// while "wave create --start" runs.
type racingStore struct {
	*store.SQLite
	other *Scheduler
}

func (r racingStore) StartWave(ctx context.Context, id int64) (campaign.Wave, error) {
	w, err := r.SQLite.StartWave(ctx, id)
	if err == nil {
		_, err = r.other.queuePlanned(ctx, store.LetterFilter{WaveID: id, States: []campaign.LetterState{campaign.Planned}})
	}
	return w, err
}

// TestStartWaveCountsLettersQueuedMeanwhile: when a running scheduler
// queues a wave's letters while it is being started, the start still
// reports them queued (it said "0 letters queued" and staff were told
// nothing went), and starting it again reports nothing queued.
func TestStartWaveCountsLettersQueuedMeanwhile(t *testing.T) {
	h := newHarness(t)
	h.seed(4, false)
	ctx := context.Background()
	now := time.Now()
	w, _ := h.createWave(WaveSpec{At: now.Add(time.Hour)}, now)
	sched := &Scheduler{Store: racingStore{SQLite: h.st, other: h.sched}, Queue: h.queue, Log: quietLog(), Parallel: 2}
	n, err := sched.StartWave(ctx, w.ID)
	if err != nil || n != 4 {
		t.Fatalf("start: %d letters queued, %v; want 4", n, err)
	}
	if c, _ := h.st.LetterCounts(ctx, w.ID); c[campaign.Queued] != 4 {
		t.Errorf("letters %v, want 4 queued", c)
	}
	if n, err := h.sched.StartWave(ctx, w.ID); err != nil || n != 0 {
		t.Errorf("starting again: %d letters queued, %v; want 0", n, err)
	}
}
