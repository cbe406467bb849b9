// Package cities imports the campaign's data: the twinning table, from the
// project's CSV or from the campaign page's text as pasted, and the targets'
// contacts. Every file is checked whole before anything is stored, and a bad
// row is reported with its file, line and field.
package cities

import (
	"errors"
	"fmt"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// LineError reports what is wrong with one line of an input file.
type LineError struct {
	File   string // set by the caller that knows the file name
	Line   int
	Field  string // may be empty when the whole line is wrong
	Reason string
}

func (e *LineError) Error() string {
	where := fmt.Sprintf("line %d", e.Line)
	if e.File != "" {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Field == "" {
		return where + ": " + e.Reason
	}
	return where + ": " + e.Field + ": " + e.Reason
}

func lineErr(line int, field, format string, args ...any) error {
	return &LineError{Line: line, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// fieldLineErr places a domain validation error on a line, keeping the
// field it names.
func fieldLineErr(line int, err error) error {
	var fe *campaign.FieldError
	if errors.As(err, &fe) {
		return &LineError{Line: line, Field: fe.Field, Reason: fe.Err.Error()}
	}
	return &LineError{Line: line, Reason: err.Error()}
}

// WithFile names the file in a LineError, so that the message reads
// FILE:LINE: reason. Other errors are returned unchanged.
func WithFile(err error, file string) error {
	var le *LineError
	if errors.As(err, &le) && le.File == "" {
		c := *le
		c.File = file
		return &c
	}
	return err
}
