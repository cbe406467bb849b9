// Package queue moves letters through Redis with asynq: the task type and
// payload of a letter, enqueueing with the letter's id as the task id (so
// nothing is queued twice), the scheduler that queues started waves, and
// the worker that sends each letter once.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// Task types.
const (
	// TypeSendLetter sends one letter; its payload names the letter.
	TypeSendLetter = "letter:send"
)

// Queues and their priorities (asynq weights: when both have work, a queue
// of weight 6 is served six times for every three of a queue of weight 3).
const (
	// QueueMail holds mail a person is waiting for: supporters'
	// confirmation mails. It comes first, so that a link arrives in
	// seconds even while a large wave is being sent.
	QueueMail = "mail"
	// QueueLetters holds letters to the offices: waves' letters and
	// follow-ups, supporters' letters and digests.
	QueueLetters = "letters"
)

// Priorities maps each queue to its weight, for the worker's server.
var Priorities = map[string]int{
	QueueMail:    6,
	QueueLetters: 3,
}

// QueueOf is the queue a letter of kind k travels in.
func QueueOf(k campaign.LetterKind) string {
	if k == campaign.KindConfirmation {
		return QueueMail
	}
	return QueueLetters
}

// letterPayload is what a letter task carries: ids only, so that Redis
// holds little per task and the store stays the one source of truth.
type letterPayload struct {
	LetterID string `json:"letter_id"`
	// Resend is the letter's resend count when queued: a task queued
	// before a staff resend is stale and does nothing.
	Resend int `json:"resend"`
}

// TaskID is the asynq task id of a letter's send: the letter's id, with the
// resend number after a staff resend (the first task may still be kept in
// Redis), after the store's namespace when there is one.
func TaskID(namespace, letterID string, resend int) string {
	id := letterID
	if resend > 0 {
		id += "-r" + strconv.Itoa(resend)
	}
	if namespace != "" {
		id = namespace + ":" + id
	}
	return id
}

// Client queues letters.
type Client struct {
	opt       asynq.RedisConnOpt
	mu        sync.Mutex // guards client
	client    *asynq.Client
	inspector *asynq.Inspector
	// MaxRetry is how many times a letter is retried after a temporary
	// failure before it is marked failed.
	MaxRetry int
	// Retention keeps a finished task in Redis, so that queueing the same
	// letter again within it is refused by asynq as well as by the store.
	Retention time.Duration
	// Namespace starts every task id: letter ids are unique within a
	// store, and a new store (a fresh start) on an old Redis must not find
	// its letters' ids taken by the tasks of another.
	Namespace string
}

// NewClient returns a Client on the Redis server of opt.
func NewClient(opt asynq.RedisConnOpt, maxRetry int) *Client {
	return &Client{
		opt:       opt,
		client:    asynq.NewClient(opt),
		inspector: asynq.NewInspector(opt),
		MaxRetry:  maxRetry,
		Retention: 7 * 24 * time.Hour,
	}
}

// Close closes the connections to Redis.
func (c *Client) Close() error {
	return errors.Join(c.asynqClient().Close(), c.inspector.Close())
}

func (c *Client) asynqClient() *asynq.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.client
}

// renew replaces the asynq client. An asynq client remembers the queues it
// has registered in Redis and never registers them again; after Redis lost
// its data, a new client is needed for the queue to be listed again.
func (c *Client) renew() {
	c.mu.Lock()
	old := c.client
	c.client = asynq.NewClient(c.opt)
	c.mu.Unlock()
	old.Close()
}

// EnqueueLetter queues the sending of l at its SendAt (now if zero). A
// letter already queued is not queued again: asynq refuses its task id,
// which counts as success.
func (c *Client) EnqueueLetter(ctx context.Context, l campaign.Letter) error {
	payload, err := json.Marshal(letterPayload{LetterID: l.ID, Resend: l.Resends})
	if err != nil {
		return err
	}
	opts := []asynq.Option{
		asynq.TaskID(c.taskID(l)),
		asynq.Queue(QueueOf(l.Kind)),
		asynq.MaxRetry(c.MaxRetry),
		asynq.Retention(c.Retention),
		// A send is bounded by the SMTP timeouts; this only guards against
		// a handler stuck for good.
		asynq.Timeout(10 * time.Minute),
	}
	if !l.SendAt.IsZero() {
		opts = append(opts, asynq.ProcessAt(l.SendAt))
	}
	_, err = c.asynqClient().EnqueueContext(ctx, asynq.NewTask(TypeSendLetter, payload), opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("queue: enqueue letter %s: %w", l.ID, err)
	}
	return nil
}

// Queued reports whether the task of l is in Redis and will run: waiting,
// scheduled, running or retrying (not finished, nor given up on).
func (c *Client) Queued(l campaign.Letter) (bool, error) {
	info, err := c.inspector.GetTaskInfo(QueueOf(l.Kind), c.taskID(l))
	switch {
	case err == nil:
		// A task that has finished, or that asynq gave up on, will not run
		// again: the letter is not queued any more.
		return info.State != asynq.TaskStateCompleted && info.State != asynq.TaskStateArchived, nil
	case errors.Is(err, asynq.ErrQueueNotFound):
		c.renew() // Redis lost everything, the list of queues included
		return false, nil
	case errors.Is(err, asynq.ErrTaskNotFound):
		return false, nil
	}
	return false, fmt.Errorf("queue: look up letter %s: %w", l.ID, err)
}

// Remove deletes the waiting task of l from Redis, if any, so that a
// cancelled letter does not sit in the queue until its time. It is a
// tidying step: a worker that gets the task finds the letter cancelled and
// does nothing, so a running task, which cannot be deleted, is no harm.
func (c *Client) Remove(l campaign.Letter) error {
	err := c.inspector.DeleteTask(QueueOf(l.Kind), c.taskID(l))
	if err == nil || errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return nil
	}
	return fmt.Errorf("queue: remove letter %s: %w", l.ID, err)
}

func (c *Client) taskID(l campaign.Letter) string { return TaskID(c.Namespace, l.ID, l.Resends) }

func parsePayload(t *asynq.Task) (letterPayload, error) {
	var p letterPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("queue: task %s: bad payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	if p.LetterID == "" {
		return p, fmt.Errorf("queue: task %s: no letter id: %w", t.Type(), asynq.SkipRetry)
	}
	return p, nil
}
