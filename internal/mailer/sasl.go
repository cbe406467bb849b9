package mailer

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/wneessen/go-mail/smtp"
)

// authenticateSASL logs the session in with a SASL client made for it
// (OAuth2: a fresh token for each connection).
func authenticateSASL(sc *smtp.Client, c sasl.Client) error {
	if ok, _ := sc.Extension("AUTH"); !ok {
		return errors.New("auth: server offers no AUTH (over TLS only, perhaps?)")
	}
	if err := sc.Auth(saslAuth{c}); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	return nil
}

// saslAuth lets go-mail's SMTP client run a go-sasl client: go-mail
// v0.8.1 has XOAUTH2 but not OAUTHBEARER, and one implementation of each
// mechanism serves IMAP and SMTP alike.
type saslAuth struct{ c sasl.Client }

func (a saslAuth) Start(info *smtp.ServerInfo) (string, []byte, error) {
	mech, ir, err := a.c.Start()
	if err != nil {
		return "", nil, err
	}
	if !slices.ContainsFunc(info.Auth, func(m string) bool { return strings.EqualFold(m, mech) }) {
		return "", nil, fmt.Errorf("server does not offer AUTH %s (it offers %s)", mech, strings.Join(info.Auth, " "))
	}
	return mech, ir, nil
}

func (a saslAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	return a.c.Next(fromServer)
}
