package replies

import "strings"

// OptOutSubject is the subject of the mailto in our letters'
// List-Unsubscribe header (RFC 2369, RFC 8058): a mail client that offers
// "unsubscribe" sends a message with it to our reply address.
const OptOutSubject = "unsubscribe"

// OptOutRequest reports whether m asks the campaign to stop writing: its
// subject is OptOutSubject, as a mail client writes it from the
// List-Unsubscribe mailto. Anyone can send such a message, so it is only a
// request, for staff to review.
func OptOutRequest(m *Message) bool {
	return m != nil && strings.EqualFold(strings.TrimSpace(m.Subject), OptOutSubject)
}
