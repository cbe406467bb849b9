// Package doctor checks, one step after another, that what the campaign
// needs works: the settings, Redis, the store, the SMTP server, the
// campaign mailbox, a message's way from one to the other and, when asked,
// the organisation's DNS records for SPF, DKIM and DMARC. Each check is a
// function taking what it needs and saying, when it fails, what to change,
// naming the setting; Run prints them as a checklist.
package doctor

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Status is the outcome of one check.
type Status int

// The outcomes.
const (
	OK Status = iota
	Failed
	Skipped
)

func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Failed:
		return "FAILED"
	}
	return "skipped"
}

// Result is what a check found.
type Result struct {
	Status Status
	// Detail says what was seen: what works, why it failed or why the
	// check did not run.
	Detail string
	// Fix, for a failure, says what to change, naming the setting.
	Fix string
}

func ok(format string, args ...any) Result {
	return Result{Status: OK, Detail: fmt.Sprintf(format, args...)}
}

func failed(fix string, format string, args ...any) Result {
	return Result{Status: Failed, Detail: fmt.Sprintf(format, args...), Fix: fix}
}

func skipped(format string, args ...any) Result {
	return Result{Status: Skipped, Detail: fmt.Sprintf(format, args...)}
}

// Check is one line of the checklist.
type Check struct {
	Name string
	// Needs names earlier checks this one builds on: when one of them did
	// not pass, this one is skipped rather than failing for the same
	// reason.
	Needs []string
	Run   func(ctx context.Context) Result
}

// Run runs the checks in order, writes one line for each (and the fix
// under a failure) and a summary, and reports whether none failed.
func Run(ctx context.Context, w io.Writer, checks []Check) bool {
	passed := map[string]bool{}
	var nFailed, nSkipped int
	for _, c := range checks {
		var r Result
		if missing := slices.DeleteFunc(slices.Clone(c.Needs), func(n string) bool { return passed[n] }); len(missing) > 0 {
			r = skipped("needs %s, which did not pass", strings.Join(missing, ", "))
		} else {
			r = c.Run(ctx)
		}
		passed[c.Name] = r.Status == OK
		switch r.Status {
		case Failed:
			nFailed++
		case Skipped:
			nSkipped++
		}
		fmt.Fprintf(w, "%-8s %s: %s\n", r.Status, c.Name, oneLine(r.Detail))
		if r.Status == Failed && r.Fix != "" {
			fmt.Fprintf(w, "%-8s fix: %s\n", "", oneLine(r.Fix))
		}
	}
	switch {
	case nFailed > 0:
		fmt.Fprintf(w, "%d of %d checks FAILED, %d skipped\n", nFailed, len(checks), nSkipped)
	case nSkipped > 0:
		fmt.Fprintf(w, "every check run passed; %d skipped\n", nSkipped)
	default:
		fmt.Fprintf(w, "every check passed\n")
	}
	return nFailed == 0
}

// oneLine keeps a server's answer, which may span lines, on the
// checklist's line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
