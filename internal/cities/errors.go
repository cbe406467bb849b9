// Package cities imports the campaign's data: the twinning table, from the
// project's CSV or from the campaign page's text as pasted, and the targets'
// contacts. Every file is checked whole before anything is stored, and a bad
// row is reported with its file, line and field.
package cities

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

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

// MaxReported is how many bad lines an error spells out; the rest are
// counted.
const MaxReported = 20

// LineErrors is every bad line of a file, in line order. errors.As finds
// the first as a *LineError.
type LineErrors []*LineError

func (es LineErrors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i == MaxReported {
			fmt.Fprintf(&b, "\nand %d more", len(es)-MaxReported)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

func (es LineErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// lineErrors collects the bad lines of a file, so that one reading
// reports them all rather than the first.
type lineErrors struct{ es LineErrors }

// add records err, a *LineError or LineErrors; any other error is
// returned, for the reader to stop at.
func (c *lineErrors) add(err error) error {
	var le *LineError
	var les LineErrors
	switch {
	case err == nil:
	case errors.As(err, &les):
		c.es = append(c.es, les...)
	case errors.As(err, &le):
		c.es = append(c.es, le)
	default:
		return err
	}
	return nil
}

// err is the bad lines found, sorted by line, or nil.
func (c *lineErrors) err() error {
	if len(c.es) == 0 {
		return nil
	}
	slices.SortStableFunc(c.es, func(a, b *LineError) int { return a.Line - b.Line })
	return c.es
}

// WithFile names the file in a LineError, or in each of LineErrors, so
// that the message reads FILE:LINE: reason. Other errors are returned
// unchanged.
func WithFile(err error, file string) error {
	var les LineErrors
	if errors.As(err, &les) {
		out := make(LineErrors, len(les))
		for i, le := range les {
			c := *le
			if c.File == "" {
				c.File = file
			}
			out[i] = &c
		}
		return out
	}
	var le *LineError
	if errors.As(err, &le) && le.File == "" {
		c := *le
		c.File = file
		return &c
	}
	return err
}

// readRows reads cr's records to the end, handing each to row with its
// line number and collecting in bad every row's error (a record with the
// wrong number of fields is reported and the next one read; a broken
// quote ends the reading, since what follows cannot be trusted). It
// returns an error that is not about a row, for the reader to stop at.
func readRows(cr *csv.Reader, bad *lineErrors, row func(line int, rec []string) error) error {
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if err := bad.add(csvErr(err)); err != nil {
				return err
			}
			if errors.Is(err, csv.ErrFieldCount) {
				continue
			}
			return nil
		}
		line, _ := cr.FieldPos(0)
		if err := bad.add(row(line, rec)); err != nil {
			return err
		}
	}
}
