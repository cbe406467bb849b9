package inbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Steps of a Check, as CheckError.Step names them.
const (
	CheckConnect = "connect" // TCP
	CheckTLS     = "tls"     // implicit TLS, or STARTTLS
	CheckLogin   = "login"   // the configured credentials
	CheckFolder  = "folder"  // the configured folder
)

// CheckError says at which step a Check failed.
type CheckError struct {
	Step string
	Err  error
}

func (e *CheckError) Error() string { return fmt.Sprintf("inbox: check: %s: %v", e.Step, e.Err) }
func (e *CheckError) Unwrap() error { return e.Err }

// Report is what a Check saw of the mailbox.
type Report struct {
	Messages uint32 // in the folder
}

// Check connects to the mailbox as the poller does (the same dialling, TLS
// and login), step by step so that a failure names its step, and looks at
// the folder without selecting it. It changes nothing.
func Check(ctx context.Context, cfg Config) (Report, error) {
	cfg = cfg.withDefaults()
	var rep Report
	d := &net.Dialer{Timeout: cfg.Timeout}
	raw, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return rep, &CheckError{CheckConnect, err}
	}
	_ = raw.Close()

	opts := &imapclient.Options{Dialer: d, TLSConfig: cfg.TLSConfig}
	var tc *imapclient.Client
	switch cfg.TLS {
	case TLSImplicit:
		tc, err = imapclient.DialTLS(cfg.Addr, opts)
	case TLSStartTLS:
		tc, err = imapclient.DialStartTLS(cfg.Addr, opts)
	}
	if err != nil {
		return rep, &CheckError{CheckTLS, err}
	}
	if tc != nil {
		_ = tc.Close()
	}

	c, err := dial(cfg, &imapclient.Options{})
	if err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) {
			return rep, &CheckError{CheckLogin, err} // the server said no to the login
		}
		return rep, &CheckError{CheckConnect, err}
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	st, err := c.Status(cfg.Folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return rep, &CheckError{CheckFolder, fmt.Errorf("folder %s: %w", cfg.Folder, err)}
	}
	if st.NumMessages != nil {
		rep.Messages = *st.NumMessages
	}
	_ = c.Logout().Wait()
	return rep, nil
}

// ProbeKeyword marks a probe of outreach doctor once it was found, so that
// people reading the mailbox can tell it and filter it out.
const ProbeKeyword = "$OutreachProbe"

// ErrProbeNotSeen is returned (wrapped) by FindProbe when the probe did
// not arrive in time.
var ErrProbeNotSeen = errors.New("the probe did not arrive")

// FindProbe waits until a message whose ProbeHeader holds token is in the
// folder, or in MoveTo where a running poller may have moved it already,
// looking every interval; it then flags it ProbeKeyword and \Seen and
// returns the folder it was found in. It gives up when ctx ends, with an
// error wrapping ErrProbeNotSeen.
func FindProbe(ctx context.Context, cfg Config, token string, interval time.Duration) (string, error) {
	cfg = cfg.withDefaults()
	c, err := dial(cfg, &imapclient.Options{})
	if err != nil {
		return "", err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	folders := []string{cfg.Folder}
	if cfg.MoveTo != "" {
		folders = append(folders, cfg.MoveTo)
	}
	criteria := &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: ProbeHeader, Value: token}}}
	for {
		for _, f := range folders {
			if _, err := c.Select(f, nil).Wait(); err != nil {
				if ctx.Err() != nil {
					return "", fmt.Errorf("inbox: %w in %s: %w", ErrProbeNotSeen, folders[0], ctx.Err())
				}
				if f == cfg.MoveTo {
					continue // not created yet: the poller has moved nothing
				}
				return "", fmt.Errorf("inbox: select %s: %w", f, err)
			}
			data, err := c.UIDSearch(criteria, nil).Wait()
			if err != nil {
				return "", fmt.Errorf("inbox: search %s for the probe: %w", f, err)
			}
			if uids := data.AllUIDs(); len(uids) > 0 {
				var set imap.UIDSet
				set.AddNum(uids...)
				err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
					Flags: []imap.Flag{imap.Flag(ProbeKeyword), imap.FlagSeen}}, nil).Close()
				if err != nil {
					return f, fmt.Errorf("inbox: flag the probe in %s: %w", f, err)
				}
				_ = c.Logout().Wait()
				return f, nil
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("inbox: %w in %s: %w", ErrProbeNotSeen, folders[0], ctx.Err())
		case <-time.After(interval):
		}
	}
}
