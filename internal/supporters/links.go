package supporters

import (
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/outreach-campaign/outreach/internal/keyring"
)

// Action is what a link in a confirmation mail does.
type Action string

const (
	ActionConfirm  Action = "confirm"
	ActionWithdraw Action = "withdraw"
)

// Errors of links. They are what a supporter who followed a link is told.
var (
	// ErrBadLink: the link was not made by us, or was altered.
	ErrBadLink = errors.New("this link is not valid")
	// ErrLinkExpired: the link's time is up (an unconfirmed letter is
	// deleted then).
	ErrLinkExpired = errors.New("this link has expired")
)

// Claim is what a valid link says.
type Claim struct {
	Action      Action
	SignatureID int64
	// Version is the signing the link confirms; a withdrawal link carries
	// it too but withdraws whatever version is current.
	Version int
	Expires time.Time
}

// Links makes and checks the signed links of confirmation mails:
// BASE/confirm/TOKEN and BASE/withdraw/TOKEN, where the token carries the
// signature's id, its version, an expiry and an HMAC of them all with the
// action, so a link cannot be forged, altered, extended or turned from one
// action into the other; and the id of the key that signed it, so that the
// key can be replaced while links already mailed keep working.
type Links struct {
	keys *keyring.Ring
	base string
}

// NewLinks returns Links keyed by secret (at least 16 bytes) for pages
// served under baseURL (such as https://act.example.org); previous secrets
// still verify the links they signed.
func NewLinks(secret []byte, baseURL string, previous ...[]byte) (*Links, error) {
	keys, err := keyring.New(secret, previous...)
	if err != nil {
		return nil, fmt.Errorf("supporters: link keys: %w", err)
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("supporters: %q is not an http(s) base URL", baseURL)
	}
	return &Links{keys: keys, base: strings.TrimSuffix(baseURL, "/")}, nil
}

// Token returns the token of a link: ID.VERSION.EXPIRES.KEY.MAC.
func (l *Links) Token(c Claim) string {
	body := fmt.Sprintf("%d.%d.%d", c.SignatureID, c.Version, c.Expires.Unix())
	k := l.keys.Current()
	return body + "." + k.ID + "." + mac(k, c.Action, body)
}

// URL returns the link's address.
func (l *Links) URL(c Claim) string {
	return l.base + "/" + string(c.Action) + "/" + l.Token(c)
}

func mac(k keyring.Key, a Action, body string) string {
	// 128 bits: no one guesses that.
	return base64.RawURLEncoding.EncodeToString(k.MAC("outreach supporter " + string(a) + " " + body)[:16])
}

// verify reports whether sig is the MAC of body for action a under the key
// named kid, or, for a link made before links named their key (kid
// empty), under any key of the ring.
func (l *Links) verify(a Action, body, kid, sig string) bool {
	if kid != "" {
		k, ok := l.keys.Key(kid)
		return ok && hmac.Equal([]byte(sig), []byte(mac(k, a, body)))
	}
	for _, k := range l.keys.All() {
		if hmac.Equal([]byte(sig), []byte(mac(k, a, body))) {
			return true
		}
	}
	return false
}

// Parse checks a token for action at time now. The signature is checked
// before the expiry, so a forged token is ErrBadLink whatever time it
// names.
func (l *Links) Parse(a Action, tok string, now time.Time) (Claim, error) {
	parts := strings.Split(tok, ".")
	var kid string
	switch len(parts) {
	case 5:
		kid = parts[3]
		if kid == "" {
			return Claim{}, ErrBadLink
		}
	case 4: // made before links named their key
	default:
		return Claim{}, ErrBadLink
	}
	body := strings.Join(parts[:3], ".")
	if !l.verify(a, body, kid, parts[len(parts)-1]) {
		return Claim{}, ErrBadLink
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	v, err2 := strconv.Atoi(parts[1])
	exp, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return Claim{}, ErrBadLink
	}
	c := Claim{Action: a, SignatureID: id, Version: v, Expires: time.Unix(exp, 0)}
	if !now.Before(c.Expires) {
		return c, ErrLinkExpired
	}
	return c, nil
}
