package web

import (
	"encoding/json"
	"errors"
	"math"
	"mime"
	"net/http"
	"strconv"

	"github.com/outreach-campaign/outreach/internal/supporters"
)

// apiError is the body of every API error.
type apiError struct {
	// Error is a stable code: bad_request, invalid, no_campaign,
	// rate_limited, too_large, unsupported_media_type, internal.
	Error   string `json:"error"`
	Message string `json:"message"`
	// Fields lists each field's problem, for invalid.
	Fields []supporters.Problem `json:"fields,omitempty"`
	// RetryAfter is in seconds, for rate_limited.
	RetryAfter int `json:"retry_after,omitempty"`
}

// signed is the body of an accepted letter. It is the same whether the
// address is new, has signed before, or its letter was delivered: only
// the mail to the address says which.
type signed struct {
	// Status is pending_confirmation: a mail to the address asks its
	// owner to confirm; nothing reaches the office before.
	Status  string `json:"status"`
	Message string `json:"message"`
}

// apiSign is POST /api/campaigns/{id}/letters: a supporter's letter as
// JSON (supporters.Form). It answers 202 once the letter is stored and its
// confirmation mail queued.
func (s *Server) apiSign(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, apiError{Error: "unsupported_media_type",
			Message: "send the letter as application/json"})
		return
	}
	id, ok := campaignID(r.PathValue("id"))
	if !ok {
		s.fail(w, r, http.StatusNotFound, "error.no_campaign")
		return
	}
	var f supporters.Form
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxForm))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: "too_large", Message: "the body is too large"})
			return
		}
		writeJSON(w, http.StatusBadRequest, apiError{Error: "bad_request", Message: "the body is not a letter in JSON: " + jsonProblem(err)})
		return
	}
	if f.Lang == "" {
		f.Lang = pageLang(r)
	}
	_, err := s.supporters.Sign(r.Context(), id, f, clientIP(r, s.cfg.RealIPHeader))
	var verr *supporters.ValidationError
	var rl *supporters.RateLimitError
	switch {
	case err == nil:
		writeJSON(w, http.StatusAccepted, signed{Status: "pending_confirmation",
			Message: "check your inbox: the letter is sent to the office once you confirm your address"})
	case errors.As(err, &verr):
		writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: "invalid", Message: verr.Error(), Fields: verr.Problems})
	case errors.As(err, &rl):
		secs := int(math.Ceil(rl.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeJSON(w, http.StatusTooManyRequests, apiError{Error: "rate_limited", Message: rl.Error(), RetryAfter: secs})
	case errors.Is(err, supporters.ErrNoCampaign):
		writeJSON(w, http.StatusNotFound, apiError{Error: "no_campaign", Message: translator("en")("error.no_campaign")})
	default:
		s.log.Error("web: api sign letter", "campaign", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal", Message: "internal error"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
