package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/store"
)

// Errors reach people here, at the edge: pages and API answers say what
// went wrong in words, never with the text a package below wrote for the
// log ("store: resend w1-t2: letter is queued: state conflict").

// internalText matches error text written for the log: our packages and
// the libraries below them start theirs with their name.
var internalText = regexp.MustCompile(`(?:^|: )(?:(?:store|queue|letter|mailer|supporters|auth|inbox|replies|cities|status|web|sql|sqlite|redis|asynq|json|http):|(?:dial|read|write) tcp )|context (?:deadline exceeded|canceled)`)

// internal reports whether err carries text meant for the log only, so
// that it must be answered as an internal error.
func internal(err error) bool { return internalText.MatchString(err.Error()) }

// reason is what err says for people: the outermost error of its chain
// whose text is not meant for the log (the package that wrapped it may
// have said more than the one below: "the \"confirmation\" letter is not
// a letter a wave can send"), without the sentinel it wraps, as a
// sentence. It is empty when every text of the chain is for the log.
func reason(err error) string {
	for e := err; e != nil && e != store.ErrConflict && e != campaign.ErrNotFound; e = errors.Unwrap(e) {
		msg := strings.TrimSuffix(e.Error(), ": "+store.ErrConflict.Error())
		if m, ok := strings.CutSuffix(msg, ": "+campaign.ErrNotFound.Error()); ok {
			msg = m + " does not exist"
		}
		if msg != "" && !internalText.MatchString(msg) {
			return sentence(msg)
		}
	}
	return ""
}

// sentence starts s with a capital and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// jsonProblem says why a request body could not be decoded, in words for
// the person who wrote it, without the decoder's "json: " text.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return "the body is too large"
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends before its JSON does"
	case errors.As(err, &syntax):
		return fmt.Sprintf("the body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ) && typ.Field == "":
		return "the body must be a JSON object"
	case errors.As(err, &typ):
		return fmt.Sprintf("the field %q must be a %s", typ.Field, jsonKind(typ.Type.Kind().String()))
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "there is no field " + f
	}
	if strings.HasPrefix(err.Error(), "parsing time ") {
		return "a time must be written as in RFC 3339, such as 2026-12-01T09:00:00Z"
	}
	return "the body is not what this call takes"
}

func jsonKind(k string) string {
	switch k {
	case "slice", "array":
		return "list"
	case "map", "struct":
		return "JSON object"
	case "int", "int64", "int32", "uint32", "uint64", "float64":
		return "number"
	case "bool":
		return "true or false"
	}
	return k
}
