package inbox

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

// signInError is a failure to obtain credentials before talking to the
// server (an OAuth2 sign-in revoked, expired or missing): reconnecting
// does not help until someone signs in again.
type signInError struct{ err error }

func (e *signInError) Error() string { return e.err.Error() }
func (e *signInError) Unwrap() error { return e.err }

// saslClient makes the SASL client of a new connection when cfg.SASL is
// set (a fresh OAuth2 access token); nil for a password login.
func saslClient(cfg Config) (sasl.Client, error) {
	if cfg.SASL == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	sc, err := cfg.SASL(ctx)
	if err != nil {
		return nil, &signInError{fmt.Errorf("inbox: sign in to %s as %s: %w", cfg.Addr, cfg.Username, err)}
	}
	return sc, nil
}

// login logs in with sc, or with the password when sc is nil.
func login(c *imapclient.Client, cfg Config, sc sasl.Client) error {
	if sc == nil {
		if err := c.Login(cfg.Username, cfg.Password).Wait(); err != nil {
			return fmt.Errorf("inbox: log in to %s as %s: %w", cfg.Addr, cfg.Username, err)
		}
		return nil
	}
	if err := c.Authenticate(sc); err != nil {
		return fmt.Errorf("inbox: authenticate to %s as %s: %w", cfg.Addr, cfg.Username, err)
	}
	return nil
}
