package main

import (
	"context"
	"errors"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/outreach-campaign/outreach/internal/inbox"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/replies"
	"github.com/outreach-campaign/outreach/internal/store"
)

func (a *app) pollerCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "poller",
		Short: "Read replies from the campaign mailbox over IMAP, match them to letters and record them",
		Long: `Read the campaign mailbox (the imap settings) and record every new message
once: classified as a person's reply, an auto-reply or a bounce, matched to
the letter it answers with the signals that say so, and confirmed when a
signed signal (our Message-ID or reply token) makes the match confident
enough (replies.confirm_threshold); otherwise it waits for review
("outreach replies list --pending"). A confirmed reply from an office
sets its campaigns' response date; a permanent bounce marks the letter
bounced and the address suspect.

The poller waits with IDLE where the server offers it (or polls every
imap.poll_interval), resumes after a restart where it stopped, reconnects
after a lost connection, and never deletes mail. "outreach run" runs it too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.cfg.IMAP.Host == "" {
				return errors.New("imap.host is empty: the poller has no mailbox to read (see config/outreach.example.yaml)")
			}
			return a.serve(cmd.Context(), false, false, false, true)
		},
	}
}

// inboxConfig is the IMAP client's view of the imap settings: with
// imap.auth xoauth2 or oauthbearer, each connection signs in with the
// mailbox's stored OAuth2 sign-in instead of the password.
func (a *app) inboxConfig(ctx context.Context) (inbox.Config, error) {
	m := a.cfg.IMAP
	auth, err := a.oauthSASL(ctx, m.Auth, m.Username, m.Host, m.Port)
	if err != nil {
		return inbox.Config{}, err
	}
	return inbox.Config{
		Addr: net.JoinHostPort(m.Host, strconv.Itoa(m.Port)), TLS: m.TLS, AllowPlaintext: m.AllowPlaintext, Username: m.Username,
		Password: m.Password.Value(), Folder: m.Folder, Idle: m.Idle, PollInterval: m.PollInterval,
		Timeout: m.Timeout, ReconnectMax: m.ReconnectMax, MaxMessageBytes: int64(m.MaxMessageBytes),
		MoveTo: m.MoveTo, Keyword: m.Keyword, TLSCAFile: m.TLSCAFile, TLSServerName: m.TLSServerName,
		SASL: auth,
	}, nil
}

// poller wires the poller to the mailbox, the matcher and the store.
func (a *app) poller(ctx context.Context) (*inbox.Poller, error) {
	st, err := a.store(ctx)
	if err != nil {
		return nil, err
	}
	comp, err := a.composer(ctx)
	if err != nil {
		return nil, err
	}
	matcher := &replies.Matcher{
		Lookup: st, Verifier: comp.Signer, RefPattern: letter.RefPattern,
		Sent: st, AuthServID: a.cfg.IMAP.TrustedAuthServID,
	}
	cfg, err := a.inboxConfig(ctx)
	if err != nil {
		return nil, err
	}
	return &inbox.Poller{
		Config: cfg, Store: st, Log: a.log(),
		Handler: &inbox.Recorder{Store: st, Matcher: matcher, Threshold: a.cfg.Replies.ConfirmThreshold, Log: a.log(),
			MessageDeadline: a.cfg.IMAP.MessageDeadline, Probes: comp.Signer},
	}, nil
}

// The store answers the matcher's lookups.
var (
	_ replies.Lookup      = store.Store(nil)
	_ replies.SentLetters = store.Store(nil)
)
