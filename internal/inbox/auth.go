package inbox

import (
	"context"
	"fmt"

	"github.com/emersion/go-imap/v2/imapclient"
)

// signInError is a failure to obtain credentials before talking to the
// server (an OAuth2 sign-in revoked, expired or missing): reconnecting
// does not help until someone signs in again.
type signInError struct{ err error }

func (e *signInError) Error() string { return e.err.Error() }
func (e *signInError) Unwrap() error { return e.err }

// login logs in with the password, or with the SASL client cfg.SASL makes.
func login(c *imapclient.Client, cfg Config) error {
	if cfg.SASL == nil {
		if err := c.Login(cfg.Username, cfg.Password).Wait(); err != nil {
			return fmt.Errorf("inbox: log in to %s as %s: %w", cfg.Addr, cfg.Username, err)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	sc, err := cfg.SASL(ctx)
	if err != nil {
		return &signInError{fmt.Errorf("inbox: sign in to %s as %s: %w", cfg.Addr, cfg.Username, err)}
	}
	if err := c.Authenticate(sc); err != nil {
		return fmt.Errorf("inbox: authenticate to %s as %s: %w", cfg.Addr, cfg.Username, err)
	}
	return nil
}
