package campaign

// Cause is what moves a letter from one state to another.
type Cause string

const (
	// CauseQueue: the scheduler puts a planned letter on the queue.
	CauseQueue Cause = "queue"
	// CauseSendBegan: a worker is about to hand the letter to the server.
	CauseSendBegan Cause = "send began"
	// CauseAccepted: the server accepted the message.
	CauseAccepted Cause = "server accepted"
	// CauseTemporaryFailure: the send failed in a way a retry may mend;
	// the letter goes back to the queue.
	CauseTemporaryFailure Cause = "temporary failure"
	// CausePermanentRefusal: the server refused the message for good, or
	// the letter cannot be written.
	CausePermanentRefusal Cause = "permanent refusal"
	// CauseInterrupted: the send stopped where its outcome is unknown.
	CauseInterrupted Cause = "interrupted"
	// CauseBounce: a confirmed bounce report says the letter did not arrive.
	CauseBounce Cause = "bounce report"
	// CauseCancel: the letter will not be sent (wave cancelled, office
	// marked do-not-contact or replied, a supporter's letter withdrawn).
	CauseCancel Cause = "cancel"
	// CauseResend: staff send a failed or uncertain letter again.
	CauseResend Cause = "resend"
)

// Causes lists every cause, in the order of a letter's life.
var Causes = []Cause{CauseQueue, CauseSendBegan, CauseAccepted, CauseTemporaryFailure,
	CausePermanentRefusal, CauseInterrupted, CauseBounce, CauseCancel, CauseResend}

// Transition is one move a letter may make.
type Transition struct {
	From  LetterState
	To    LetterState
	Cause Cause
}

// Lifecycle is the letter's state machine: every move a letter may make,
// and nothing else. The store's compare-and-set and the worker both ask it;
// each cause leads to a single state, whatever the state it comes from.
var Lifecycle = []Transition{
	{Planned, Queued, CauseQueue},
	// A planned letter may be sent directly: the scheduler may hand its
	// task to the queue before it records the letter queued.
	{Planned, Sending, CauseSendBegan},
	{Queued, Sending, CauseSendBegan},
	{Sending, Sent, CauseAccepted},
	{Sending, Queued, CauseTemporaryFailure},
	// A letter that cannot be written fails before its send begins.
	{Planned, Failed, CausePermanentRefusal},
	{Queued, Failed, CausePermanentRefusal},
	{Sending, Failed, CausePermanentRefusal},
	{Sending, Uncertain, CauseInterrupted},
	// An uncertain letter that bounces did arrive at the server after all.
	{Sent, Bounced, CauseBounce},
	{Uncertain, Bounced, CauseBounce},
	{Planned, Cancelled, CauseCancel},
	{Queued, Cancelled, CauseCancel},
	{Failed, Queued, CauseResend},
	{Uncertain, Queued, CauseResend},
}

// Allowed is the state cause moves a letter in state from to, and whether
// the move is allowed at all.
func Allowed(from LetterState, cause Cause) (LetterState, bool) {
	for _, t := range Lifecycle {
		if t.From == from && t.Cause == cause {
			return t.To, true
		}
	}
	return "", false
}

// FromStates lists the states cause may move a letter from, in the
// order of LetterStates.
func FromStates(cause Cause) []LetterState {
	var out []LetterState
	for _, s := range LetterStates {
		if _, ok := Allowed(s, cause); ok {
			out = append(out, s)
		}
	}
	return out
}

// To is the state cause moves a letter to ("" for a cause not in the
// table). Every transition of one cause ends in the same state, so that
// one statement can move a letter whichever state it comes from.
func (c Cause) To() LetterState {
	for _, t := range Lifecycle {
		if t.Cause == c {
			return t.To
		}
	}
	return ""
}
