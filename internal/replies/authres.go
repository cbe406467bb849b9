package replies

import (
	"fmt"
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// maxAuthResults bounds the Authentication-Results fields looked at: the
// mailbox's own server adds one or two at the top, and anything a sender
// piles up below them is not worth reading.
const maxAuthResults = 16

// dmarcFailure returns what the mailbox's own server said when it recorded
// that the message fails DMARC: its From is not the domain's to use. Only
// fields whose authserv-id is authservID are believed (RFC 8601 section 5:
// a receiving server removes fields that claim its own id from incoming
// mail); an empty authservID believes none. A field a sender forged with
// our id could only send its own message to review, so no field is trusted
// to say "pass".
func dmarcFailure(h Header, authservID string) (string, bool) {
	if authservID == "" {
		return "", false
	}
	vs := h.Values("Authentication-Results")
	for _, v := range vs[:min(len(vs), maxAuthResults)] {
		id, results, err := authres.Parse(v)
		if err != nil || !strings.EqualFold(id, authservID) {
			continue
		}
		for _, r := range results {
			if d, ok := r.(*authres.DMARCResult); ok && d.Value == authres.ResultFail {
				from := d.From
				if from == "" {
					from = "the sender's domain"
				}
				return fmt.Sprintf("%s, the mailbox's server, found that the message fails DMARC for %s: its From may be forged", id, from), true
			}
		}
	}
	return "", false
}
