package letter

import (
	"crypto/hmac"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/outreach-campaign/outreach/internal/keyring"
)

// An office's one-click opt-out (RFC 8058): every letter to an office
// carries
//
//	List-Unsubscribe: <BASE/optout/TOKEN>, <mailto:REPLYTO?subject=unsubscribe>
//	List-Unsubscribe-Post: List-Unsubscribe=One-Click
//
// where TOKEN names the office and is signed like the letters' other
// tokens (with the id of the key that signed it), so that a POST to the
// URL is its own proof: no one can opt out an office whose letter they
// were not sent.

// optOutMACLen is the length of an opt-out token's MAC: 128 bits in
// base32. A forged token would silence the campaign towards an office,
// so it gets more than a reply token's 80.
const optOutMACLen = 26

func optOutMAC(k keyring.Key, targetID int64) string {
	return strings.ToLower(sigEncoding.EncodeToString(k.MAC("outreach opt-out " + strconv.FormatInt(targetID, 10))[:16]))
}

// OptOutToken returns "TARGETID.KEYMAC", the signed token of an office's
// opt-out link.
func (s *Signer) OptOutToken(targetID int64) string {
	k := s.keys.Current()
	return strconv.FormatInt(targetID, 10) + "." + k.ID + optOutMAC(k, targetID)
}

// ParseOptOutToken returns the office an opt-out token names, checking its
// signature with the key it names; ok is false for anything else.
func (s *Signer) ParseOptOutToken(tok string) (targetID int64, ok bool) {
	idText, sig, found := strings.Cut(strings.ToLower(strings.TrimSpace(tok)), ".")
	if !found || len(sig) != keyring.IDLen+optOutMACLen {
		return 0, false
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != idText {
		return 0, false
	}
	k, found := s.keys.Key(sig[:keyring.IDLen])
	if !found || !hmac.Equal([]byte(sig[keyring.IDLen:]), []byte(optOutMAC(k, id))) {
		return 0, false
	}
	return id, true
}

// OptOutSubject is the subject of the opt-out's mailto, which the poller
// recognises (replies.OptOutSubject).
const OptOutSubject = "unsubscribe"

// OptOutHeader is the List-Unsubscribe value of a letter to office
// targetID: its one-click link under baseURL (the web server's public
// address) and a mailto to mailbox (the letter's reply address).
func (s *Signer) OptOutHeader(baseURL string, targetID int64, mailbox string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("letter: opt-out: %q is not an http(s) base URL", baseURL)
	}
	if mailbox == "" || strings.ContainsAny(mailbox, "<>?, \r\n") {
		return "", fmt.Errorf("letter: opt-out: %q is not a mailbox for the mailto", mailbox)
	}
	link := strings.TrimSuffix(baseURL, "/") + "/optout/" + s.OptOutToken(targetID)
	return "<" + link + ">, <mailto:" + mailbox + "?subject=" + OptOutSubject + ">", nil
}
