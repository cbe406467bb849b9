// Package inbox reads the campaign mailbox over IMAP (go-imap v2): it
// connects, waits for new mail with IDLE where the server offers it (or
// polls), fetches each new message once, and hands batches to a Handler
// together with the checkpoint (UIDVALIDITY and last UID) they bring the
// mailbox to. The Recorder is the Handler that classifies, matches and
// stores replies, moving the checkpoint in the same transaction, so that a
// message is recorded exactly once across restarts and lost connections.
// It never deletes mail.
package inbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"github.com/outreach-campaign/outreach/internal/mailtls"
	"github.com/outreach-campaign/outreach/internal/plaintext"
	"github.com/outreach-campaign/outreach/internal/store"
)

// TLS modes, as the imap.tls setting names them.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which is required
	TLSImplicit = "tls"      // TLS from the first byte (IMAPS, port 993)
	TLSNone     = "none"     // no TLS: only for a server on this machine, unless AllowPlaintext
)

// Config says which mailbox to read and how.
type Config struct {
	Addr string // host:port
	TLS  string // TLSStartTLS, TLSImplicit or TLSNone
	// AllowPlaintext lets TLSNone reach a server that is not this machine
	// (a private network); without it the password is never sent there
	// in clear: no connection is made (see package plaintext).
	AllowPlaintext bool
	Username       string
	Password       string
	Folder         string
	// TLSConfig, when set, replaces the default TLS settings (tests use it
	// to trust their own certificate).
	TLSConfig *tls.Config

	// Idle waits with IDLE when the server offers it; otherwise, and
	// every PollInterval in any case, the mailbox is looked at anew.
	Idle         bool
	PollInterval time.Duration
	// Timeout bounds connecting.
	Timeout time.Duration
	// ReconnectMin and ReconnectMax bound the wait before reconnecting,
	// which doubles after each failure.
	ReconnectMin, ReconnectMax time.Duration

	// MaxMessageBytes is the size above which only the header of a
	// message is fetched.
	MaxMessageBytes int64
	// MoveTo, when set, is the folder processed messages are moved to;
	// Keyword, when set, is a keyword set on them.
	MoveTo, Keyword string
	// BatchSize and BatchBytes bound the messages fetched and recorded
	// together (one store transaction).
	BatchSize  int
	BatchBytes int64

	// TLSCAFile, when set, is a PEM file of the CA (or CAs) the server's
	// certificate must chain to, instead of the system's roots
	// (imap.tls_ca_file); TLSServerName, when set, is the name the
	// certificate must hold instead of the host of Addr
	// (imap.tls_server_name). Certificates are always verified.
	TLSCAFile, TLSServerName string
	// SASL, when set, logs in with the client it returns for each
	// connection (XOAUTH2 or OAUTHBEARER with a fresh access token: see
	// package oauth) instead of Username and Password.
	SASL func(ctx context.Context) (sasl.Client, error)
}

// withDefaults fills in what was left zero.
func (c Config) withDefaults() Config {
	if c.Folder == "" {
		c.Folder = "INBOX"
	}
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Minute
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.ReconnectMin <= 0 {
		c.ReconnectMin = time.Second
	}
	if c.ReconnectMax < c.ReconnectMin {
		c.ReconnectMax = max(c.ReconnectMin, 5*time.Minute)
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 10 << 20
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 200
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = 8 << 20
	}
	return c
}

// Mailbox is the name the checkpoint and the replies of a mailbox are kept
// under: user@host/folder. A server moved to another port is the same
// mailbox; another server is another one (and rescanned, its messages
// recognised by Message-ID).
func (c Config) Mailbox() string {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		host = c.Addr
	}
	return c.Username + "@" + host + "/" + c.withDefaults().Folder
}

// Message is one message fetched from the mailbox.
type Message struct {
	UID uint32
	// Raw is the whole message, or only its header when Oversized.
	Raw       []byte
	Size      int64
	Oversized bool
	// InternalDate is when the server received it.
	InternalDate time.Time
}

// Handler records a batch of new messages, in UID order, and moves the
// mailbox's checkpoint to cp in the same step: if it fails, nothing of the
// batch counts as processed and the batch comes again.
type Handler interface {
	Handle(ctx context.Context, batch []Message, cp store.Checkpoint) error
}

// CheckpointStore keeps where the poller stands.
type CheckpointStore interface {
	Checkpoint(ctx context.Context, mailbox string) (store.Checkpoint, error)
	SetCheckpoint(ctx context.Context, cp store.Checkpoint) error
}

// Poller reads new mail from one mailbox and hands it to Handler.
type Poller struct {
	Config  Config
	Store   CheckpointStore
	Handler Handler
	Log     *slog.Logger
}

// Run reads the mailbox until ctx ends, reconnecting after any failure
// with a growing delay. It returns nil when ctx ends.
func (p *Poller) Run(ctx context.Context) error {
	cfg := p.Config.withDefaults()
	log := p.logger()
	if cfg.TLS == TLSNone && cfg.AllowPlaintext && !loopback(cfg.Addr) {
		log.Warn("inbox: the IMAP password is sent without TLS (allowed by the settings)", "addr", cfg.Addr)
	}
	delay := cfg.ReconnectMin
	signIn := "" // the sign-in failure already reported
	for {
		started := time.Now()
		err := p.session(ctx, cfg)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(started) > 2*cfg.ReconnectMax {
			delay = cfg.ReconnectMin // it ran well for a while: a new failure
		}
		var se *signInError
		switch {
		case !errors.As(err, &se):
			signIn = ""
			log.Warn("inbox: mailbox session ended; reconnecting", "mailbox", cfg.Mailbox(), "err", err, "in", delay)
		case err.Error() != signIn:
			// Staff must act (sign in again): say it once, clearly, and
			// keep trying at the slowest pace rather than flood the log.
			signIn = err.Error()
			log.Error("inbox: cannot sign in to the mailbox; the poller waits until it can", "mailbox", cfg.Mailbox(),
				"err", err, "retry_within", cfg.ReconnectMax)
		default:
			log.Debug("inbox: still cannot sign in to the mailbox", "mailbox", cfg.Mailbox(), "in", delay)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, cfg.ReconnectMax)
	}
}

// errClosed reports a connection the server or the network closed.
var errClosed = errors.New("inbox: connection closed")

// session is one connection: it processes what is new, waits, and again,
// until ctx ends (nil) or something fails.
func (p *Poller) session(ctx context.Context, cfg Config) error {
	newMail := make(chan struct{}, 1)
	c, err := dial(cfg, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			// Called on the client's reader goroutine: only signal.
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case newMail <- struct{}{}:
					default:
					}
				}
			},
		},
	})
	if err != nil {
		return err
	}
	defer c.Close()
	// An ending ctx closes the connection, which ends any command waiting
	// on the server.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	if cfg.MoveTo != "" {
		if err := c.Create(cfg.MoveTo, nil).Wait(); err != nil && !isCode(err, imap.ResponseCodeAlreadyExists) {
			return fmt.Errorf("inbox: create folder %s: %w", cfg.MoveTo, err)
		}
	}
	idle := cfg.Idle && c.Caps().Has(imap.CapIdle)
	p.logger().Info("inbox: connected", "mailbox", cfg.Mailbox(), "tls", cfg.TLS, "idle", idle,
		"poll_interval", cfg.PollInterval)
	first := true
	for {
		if err := p.round(ctx, c, cfg, first); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		first = false
		if idle {
			err = idleWait(ctx, c, cfg.PollInterval, newMail)
		} else {
			err = pollWait(ctx, c, cfg.PollInterval)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// round selects the folder afresh (a long-lived selection may not see the
// mailbox replaced under it), notices a new UIDVALIDITY, and processes the
// messages past the checkpoint in batches.
func (p *Poller) round(ctx context.Context, c *imapclient.Client, cfg Config, first bool) error {
	log := p.logger()
	sel, err := c.Select(cfg.Folder, nil).Wait()
	if err != nil {
		return fmt.Errorf("inbox: select %s: %w", cfg.Folder, err)
	}
	cp, err := p.Store.Checkpoint(ctx, cfg.Mailbox())
	if err != nil {
		return err
	}
	if cp.UIDValidity != sel.UIDValidity {
		if cp.UIDValidity != 0 {
			log.Warn("inbox: UIDVALIDITY changed: rescanning the mailbox; messages recorded before are recognised by their Message-ID",
				"mailbox", cp.Mailbox, "old", cp.UIDValidity, "new", sel.UIDValidity)
		}
		cp = store.Checkpoint{Mailbox: cfg.Mailbox(), UIDValidity: sel.UIDValidity}
		if sel.NumMessages == 0 {
			if err := p.Store.SetCheckpoint(ctx, cp); err != nil {
				return err
			}
		}
	}
	if first && cp.UID > 0 && (cfg.MoveTo != "" || cfg.Keyword != "") {
		if err := p.tidy(c, cfg, cp); err != nil {
			return err
		}
	}
	if sel.NumMessages == 0 || sel.UIDNext != 0 && uint32(sel.UIDNext) <= cp.UID+1 {
		return nil
	}
	uids, sizes, err := newMessages(c, cp.UID)
	if err != nil {
		return err
	}
	for len(uids) > 0 {
		n, bytes := 0, int64(0)
		for n < len(uids) && n < cfg.BatchSize && (n == 0 || bytes+min(sizes[n], cfg.MaxMessageBytes) <= cfg.BatchBytes) {
			bytes += min(sizes[n], cfg.MaxMessageBytes)
			n++
		}
		batch, err := fetchBatch(c, uids[:n], sizes[:n], cfg.MaxMessageBytes)
		if err != nil {
			return err
		}
		next := store.Checkpoint{Mailbox: cp.Mailbox, UIDValidity: cp.UIDValidity, UID: uids[n-1]}
		if err := p.Handler.Handle(ctx, batch, next); err != nil {
			return err
		}
		cp = next
		if err := mark(c, cfg, uids[:n]); err != nil {
			return err
		}
		uids, sizes = uids[n:], sizes[n:]
	}
	return nil
}

// newMessages lists the UIDs after last, in order, with their sizes.
func newMessages(c *imapclient.Client, last uint32) ([]uint32, []int64, error) {
	var set imap.UIDSet
	set.AddRange(imap.UID(last+1), 0) // last+1:*
	msgs, err := c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, nil, fmt.Errorf("inbox: list new messages: %w", err)
	}
	// "n:*" includes the highest UID even when it is below n.
	msgs = slices.DeleteFunc(msgs, func(m *imapclient.FetchMessageBuffer) bool { return uint32(m.UID) <= last })
	slices.SortFunc(msgs, func(a, b *imapclient.FetchMessageBuffer) int { return int(a.UID) - int(b.UID) })
	uids := make([]uint32, len(msgs))
	sizes := make([]int64, len(msgs))
	for i, m := range msgs {
		uids[i], sizes[i] = uint32(m.UID), m.RFC822Size
	}
	return uids, sizes, nil
}

var (
	wholeMessage  = &imap.FetchItemBodySection{Peek: true}
	headerSection = &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
)

// fetchBatch fetches messages whole, or only their header when they are
// over the limit, without marking them seen, in UID order.
func fetchBatch(c *imapclient.Client, uids []uint32, sizes []int64, limit int64) ([]Message, error) {
	var small, big imap.UIDSet
	for i, uid := range uids {
		if sizes[i] > limit {
			big.AddNum(imap.UID(uid))
		} else {
			small.AddNum(imap.UID(uid))
		}
	}
	got := map[uint32]Message{}
	for _, f := range []struct {
		set       imap.UIDSet
		section   *imap.FetchItemBodySection
		oversized bool
	}{{small, wholeMessage, false}, {big, headerSection, true}} {
		if len(f.set) == 0 {
			continue
		}
		msgs, err := c.Fetch(f.set, &imap.FetchOptions{UID: true, RFC822Size: true, InternalDate: true,
			BodySection: []*imap.FetchItemBodySection{f.section}}).Collect()
		if err != nil {
			return nil, fmt.Errorf("inbox: fetch %s: %w", f.set, err)
		}
		for _, m := range msgs {
			got[uint32(m.UID)] = Message{UID: uint32(m.UID), Raw: m.FindBodySection(f.section), Size: m.RFC822Size,
				Oversized: f.oversized, InternalDate: m.InternalDate}
		}
	}
	out := make([]Message, 0, len(uids))
	for _, uid := range uids {
		// A message expunged since it was listed is simply gone.
		if m, ok := got[uid]; ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// mark moves processed messages to MoveTo, or sets Keyword on them.
func mark(c *imapclient.Client, cfg Config, uids []uint32) error {
	if cfg.MoveTo == "" && cfg.Keyword == "" || len(uids) == 0 {
		return nil
	}
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	if cfg.Keyword != "" {
		err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.Flag(cfg.Keyword)}}, nil).Close()
		if err != nil {
			return fmt.Errorf("inbox: set keyword %s: %w", cfg.Keyword, err)
		}
	}
	if cfg.MoveTo != "" {
		if _, err := c.Move(set, cfg.MoveTo).Wait(); err != nil {
			return fmt.Errorf("inbox: move to %s: %w", cfg.MoveTo, err)
		}
	}
	return nil
}

// tidy marks messages recorded before but not yet moved or marked (the
// poller stopped in between).
func (p *Poller) tidy(c *imapclient.Client, cfg Config, cp store.Checkpoint) error {
	var set imap.UIDSet
	set.AddRange(1, imap.UID(cp.UID))
	criteria := &imap.SearchCriteria{UID: []imap.UIDSet{set}}
	if cfg.MoveTo == "" {
		criteria.NotFlag = []imap.Flag{imap.Flag(cfg.Keyword)}
	}
	data, err := c.UIDSearch(criteria, nil).Wait()
	if err != nil {
		return fmt.Errorf("inbox: search processed messages: %w", err)
	}
	var uids []uint32
	for _, u := range data.AllUIDs() {
		uids = append(uids, uint32(u))
	}
	if len(uids) > 0 {
		p.logger().Info("inbox: marking messages recorded before", "count", len(uids))
	}
	return mark(c, cfg, uids)
}

// idleWait idles until new mail is reported, interval passes, ctx ends or
// the connection is lost.
func idleWait(ctx context.Context, c *imapclient.Client, interval time.Duration, newMail <-chan struct{}) error {
	cmd, err := c.Idle()
	if err != nil {
		return fmt.Errorf("inbox: IDLE: %w", err)
	}
	timer := time.NewTimer(interval)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-newMail:
	case <-timer.C:
	case <-c.Closed():
		return errClosed
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("inbox: end IDLE: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("inbox: IDLE: %w", err)
	}
	return nil
}

// pollWait waits interval, unless ctx ends or the connection is lost.
func pollWait(ctx context.Context, c *imapclient.Client, interval time.Duration) error {
	timer := time.NewTimer(interval)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	case <-c.Closed():
		return errClosed
	}
	return nil
}

// dial connects and logs in.
func dial(cfg Config, opts *imapclient.Options) (*imapclient.Client, error) {
	cfg = cfg.withDefaults()
	// Credentials first: without them the server is not bothered.
	sc, err := saslClient(cfg)
	if err != nil {
		return nil, err
	}
	opts.Dialer = &net.Dialer{Timeout: cfg.Timeout}
	if cfg.TLS != TLSNone {
		t, err := mailtls.Config(cfg.TLSConfig, mailtls.Host(cfg.Addr), cfg.TLSCAFile, cfg.TLSServerName)
		if err != nil {
			return nil, fmt.Errorf("inbox: connect to %s: %w", cfg.Addr, err)
		}
		opts.TLSConfig = t
	}
	var c *imapclient.Client
	switch cfg.TLS {
	case TLSNone:
		host, _, serr := net.SplitHostPort(cfg.Addr)
		if serr != nil {
			host = cfg.Addr
		}
		if err := plaintext.Check(host, cfg.AllowPlaintext); err != nil {
			return nil, fmt.Errorf("inbox: connect to %s: the password would travel in clear: %w", cfg.Addr, err)
		}
		c, err = imapclient.DialInsecure(cfg.Addr, opts)
	case TLSImplicit:
		c, err = imapclient.DialTLS(cfg.Addr, opts)
	case TLSStartTLS:
		c, err = imapclient.DialStartTLS(cfg.Addr, opts)
	default:
		return nil, fmt.Errorf("inbox: TLS mode %q is not one of starttls, tls, none", cfg.TLS)
	}
	if err != nil {
		// A refused certificate is a setting to change: say which.
		return nil, fmt.Errorf("inbox: connect to %s: %w", cfg.Addr, mailtls.Explain(err, "imap"))
	}
	if err := login(c, cfg, sc); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func isCode(err error, code imap.ResponseCode) bool {
	var ie *imap.Error
	return errors.As(err, &ie) && ie.Code == code
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return plaintext.Local(host)
}

func (p *Poller) logger() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.Default()
}
