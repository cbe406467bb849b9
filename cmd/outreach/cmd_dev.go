package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/outreach-campaign/outreach/internal/campaign"
	"github.com/outreach-campaign/outreach/internal/config"
	"github.com/outreach-campaign/outreach/internal/devreply"
	"github.com/outreach-campaign/outreach/internal/inbox"
	"github.com/outreach-campaign/outreach/internal/letter"
	"github.com/outreach-campaign/outreach/internal/store"
)

// The user and password of the development mailbox that
// scripts/dev-services.sh starts (and internal/testservers in tests).
const (
	devMailboxUser     = "campaign"
	devMailboxPassword = "campaign-dev"
)

func (a *app) devCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Tools for trying outreach out on this machine",
	}
	cmd.AddCommand(a.devReplyCommand())
	return cmd
}

func (a *app) devReplyCommand() *cobra.Command {
	var (
		letterID     string
		auto, bounce bool
	)
	cmd := &cobra.Command{
		Use:   "reply --letter ID [--auto|--bounce]",
		Short: "Put a realistic reply to a sent letter into the local development mailbox",
		Long: `Put a realistic answer to a sent letter into the development mailbox, as the
office would: by default the mayor's office replying in its language with the
letter quoted; --auto an out-of-office auto-reply; --bounce its mail server
refusing the letter (unknown user). The poller ("outreach run" or "outreach
poller") then records it: "outreach replies list" and "outreach status" show
the result.

It writes only to the local development mailbox that scripts/dev-services.sh
starts: the imap settings must name a loopback address (127.0.0.1, ::1 or
localhost), no TLS and the user "campaign". Anything else is refused, so that
no made-up reply reaches a real campaign mailbox. With imap.password empty it
uses the development password.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if letterID == "" {
				return usagef("--letter is required (see outreach letter list)")
			}
			if auto && bounce {
				return usagef("give --auto or --bounce, not both")
			}
			if err := devMailbox(a.cfg.IMAP); err != nil {
				return err
			}
			st, err := a.store(ctx)
			if err != nil {
				return err
			}
			l, err := st.Letter(ctx, letterID)
			if err != nil {
				return err
			}
			switch l.State {
			case campaign.Sent, campaign.Uncertain, campaign.Bounced:
			default:
				return fmt.Errorf("letter %s has not been sent (it is %s): a reply needs a letter that left", l.ID, l.State)
			}
			comp, err := a.composer(ctx)
			if err != nil {
				return err
			}
			orig, err := sentLetter(ctx, st, comp, l)
			if err != nil {
				return err
			}
			now := time.Now()
			raw, what := devreply.Human(orig, now), "a reply from "+orig.To
			switch {
			case auto:
				raw, what = devreply.AutoReply(orig, now), "an auto-reply from "+orig.To
			case bounce:
				raw, what = devreply.Bounce(orig, now), "a bounce for "+orig.To
			}
			mailbox, err := a.inboxConfig(ctx)
			if err != nil {
				return err
			}
			if mailbox.Password == "" {
				mailbox.Password = devMailboxPassword
			}
			uid, err := inbox.Append(ctx, mailbox, raw, now)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "put %s to letter %s into %s (UID %d)\n", what, l.ID, mailbox.Mailbox(), uid)
			fmt.Fprintln(a.stdout, "the poller (outreach run) records it within seconds: outreach replies list; outreach status")
			return nil
		},
	}
	cmd.Flags().StringVar(&letterID, "letter", "", "the letter answered, e.g. w1-t17 (required)")
	cmd.Flags().BoolVar(&auto, "auto", false, "an out-of-office auto-reply")
	cmd.Flags().BoolVar(&bounce, "bounce", false, "a bounce: the office's address is unknown")
	return cmd
}

// devMailbox refuses any mailbox but the local development one: on a
// loopback address, without TLS, for the development user. A real
// campaign mailbox is reached over TLS, on another host, as another user.
func devMailbox(m config.IMAP) error {
	ip := net.ParseIP(m.Host)
	local := m.Host == "localhost" || ip != nil && ip.IsLoopback()
	if !local || m.TLS != config.TLSNone || m.Username != devMailboxUser {
		return fmt.Errorf("dev reply writes only to the local development mailbox (imap.host a loopback address, "+
			"imap.tls none, imap.username %s, as scripts/dev-services.sh starts it); the settings name %s@%s (tls %s)",
			devMailboxUser, m.Username, m.Host, m.TLS)
	}
	return nil
}

// sentLetter is letter l as it was sent (the copy kept when it left), for
// an answer to quote.
func sentLetter(ctx context.Context, st store.Store, comp *letter.Composer, l campaign.Letter) (devreply.Letter, error) {
	r, err := st.LetterAsSent(ctx, l.ID)
	if errors.Is(err, campaign.ErrNotFound) {
		return devreply.Letter{}, fmt.Errorf("letter %s was sent before copies of sent letters were kept: nothing to quote", l.ID)
	}
	if err != nil {
		return devreply.Letter{}, err
	}
	t, err := st.TargetByID(ctx, l.TargetID)
	if err != nil {
		return devreply.Letter{}, err
	}
	replyTo := comp.ReplyTo
	if replyTo != "" && comp.ReplyToken {
		if replyTo, err = comp.Signer.PlusAddress(replyTo, l.ID); err != nil {
			return devreply.Letter{}, err
		}
	}
	toName := t.Mayor
	if toName == "" {
		toName = t.Office
	}
	messageID := l.MessageID
	if messageID == "" {
		messageID = comp.Signer.MessageID(l.ID)
	}
	return devreply.Letter{
		MessageID: messageID, Subject: r.Subject, Text: r.Text, SentAt: l.SentAt,
		FromName: comp.Org.Name, From: comp.Org.Address, ReplyTo: replyTo,
		To: t.Email, ToName: toName, Language: t.Language,
	}, nil
}
