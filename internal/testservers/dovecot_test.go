package testservers_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/outreach-campaign/outreach/internal/testservers"
)

func letter(n int) []byte {
	return fmt.Appendf(nil, "From: mayor%d@example.org\r\nTo: campaign@example.org\r\n"+
		"Subject: Re: appeal %d\r\nMessage-ID: <reply-%d@example.org>\r\n\r\nThank you.\r\n", n, n, n)
}

func dial(t *testing.T, d *testservers.DovecotServer, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(d.Addr, opts)
	if err != nil {
		t.Fatalf("dial %s: %v", d.Addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(d.User, d.Password).Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	return c
}

func status(t *testing.T, c *imapclient.Client, mailbox string) *imap.StatusData {
	t.Helper()
	st, err := c.Status(mailbox, &imap.StatusOptions{NumMessages: true, UIDValidity: true, UIDNext: true}).Wait()
	if err != nil {
		t.Fatalf("STATUS %s: %v", mailbox, err)
	}
	return st
}

func TestDovecot(t *testing.T) {
	t.Parallel()
	start := time.Now()
	d := testservers.Dovecot(t)
	t.Logf("dovecot ready on %s in %v", d.Addr, time.Since(start).Round(time.Millisecond))

	if uid := d.Append(t, "INBOX", letter(1)); uid != 1 {
		t.Errorf("first UID = %d, want 1", uid)
	}
	if uid := d.Append(t, "INBOX", letter(2)); uid != 2 {
		t.Errorf("second UID = %d, want 2", uid)
	}

	c := dial(t, d, nil)
	if st := status(t, c, "INBOX"); *st.NumMessages != 2 {
		t.Fatalf("INBOX has %d messages, want 2", *st.NumMessages)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatalf("SELECT: %v", err)
	}
	msgs, err := c.Fetch(imap.UIDSetNum(1, 2), &imap.FetchOptions{UID: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatalf("UID FETCH: %v", err)
	}
	if len(msgs) != 2 || msgs[1].Envelope.Subject != "Re: appeal 2" || msgs[1].Envelope.MessageID != "reply-2@example.org" {
		t.Fatalf("fetched %+v", msgs)
	}
}

func TestDovecotAuth(t *testing.T) {
	t.Parallel()
	d := testservers.Dovecot(t)
	for _, tc := range []struct{ user, pass string }{
		{d.User, "wrong"},
		{"someone-else", d.Password},
	} {
		c, err := imapclient.DialInsecure(d.Addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := c.Login(tc.user, tc.pass).Wait(); err == nil {
			t.Errorf("login %s/%s succeeded, want refused", tc.user, tc.pass)
		}
		// Without the auth penalty this is ~0.5 s, not up to 15 s; logged, not
		// asserted: timings are no test assertions here.
		t.Logf("login %s refused in %v", tc.user, time.Since(start).Round(time.Millisecond))
		c.Close()
	}
}

func TestDovecotRecreateMailbox(t *testing.T) {
	t.Parallel()
	d := testservers.Dovecot(t)
	c := dial(t, d, nil)

	for _, mailbox := range []string{"INBOX", "Replies"} {
		t.Run(mailbox, func(t *testing.T) {
			if mailbox != "INBOX" {
				if err := c.Create(mailbox, nil).Wait(); err != nil {
					t.Fatalf("CREATE: %v", err)
				}
			}
			d.Append(t, mailbox, letter(1))
			d.Append(t, mailbox, letter(2))
			before := status(t, c, mailbox)

			// Twice in a row, well within a second: each time a new value.
			got := d.RecreateMailbox(t, mailbox)
			mid := status(t, c, mailbox)
			again := d.RecreateMailbox(t, mailbox)
			after := status(t, c, mailbox)
			t.Logf("%s UIDVALIDITY %d -> %d -> %d", mailbox, before.UIDValidity, mid.UIDValidity, after.UIDValidity)

			if mid.UIDValidity == before.UIDValidity || after.UIDValidity == mid.UIDValidity {
				t.Fatalf("UIDVALIDITY did not change: %d -> %d -> %d", before.UIDValidity, mid.UIDValidity, after.UIDValidity)
			}
			if got != mid.UIDValidity || again != after.UIDValidity {
				t.Errorf("RecreateMailbox returned %d, %d; STATUS says %d, %d", got, again, mid.UIDValidity, after.UIDValidity)
			}
			if *after.NumMessages != 0 || after.UIDNext != 1 {
				t.Errorf("after recreate: %d messages, UIDNEXT %d; want empty, 1", *after.NumMessages, after.UIDNext)
			}
			if uid := d.Append(t, mailbox, letter(3)); uid != 1 {
				t.Errorf("first UID after recreate = %d, want 1", uid)
			}
		})
	}
}

func TestDovecotStopStart(t *testing.T) {
	t.Parallel()
	d := testservers.Dovecot(t)
	d.Append(t, "INBOX", letter(1))
	d.Append(t, "INBOX", letter(2))
	c := dial(t, d, nil)
	before := status(t, c, "INBOX")
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("SELECT: %v", err)
	}

	start := time.Now()
	d.Stop(t)
	t.Logf("dovecot stopped in %v", time.Since(start).Round(time.Millisecond))

	// The open connection is gone and new ones are refused.
	select {
	case <-c.Closed():
	case <-time.After(5 * time.Second):
		t.Fatal("client connection still open 5s after Stop")
	}
	if conn, err := net.DialTimeout("tcp", d.Addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("dial after Stop succeeded, want refused")
	}

	start = time.Now()
	d.Start(t)
	t.Logf("dovecot restarted in %v", time.Since(start).Round(time.Millisecond))

	after := status(t, dial(t, d, nil), "INBOX")
	if *after.NumMessages != *before.NumMessages || after.UIDValidity != before.UIDValidity || after.UIDNext != before.UIDNext {
		t.Fatalf("after restart: %d messages, UIDVALIDITY %d, UIDNEXT %d; before: %d, %d, %d",
			*after.NumMessages, after.UIDValidity, after.UIDNext, *before.NumMessages, before.UIDValidity, before.UIDNext)
	}
	if uid := d.Append(t, "INBOX", letter(3)); uid != 3 {
		t.Errorf("UID after restart = %d, want 3", uid)
	}
}

// IDLE must report new mail promptly: the reply reader relies on it.
func TestDovecotIdle(t *testing.T) {
	t.Parallel()
	d := testservers.Dovecot(t)
	exists := make(chan uint32, 16)
	c := dial(t, d, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(data *imapclient.UnilateralDataMailbox) {
				if data.NumMessages != nil {
					exists <- *data.NumMessages
				}
			},
		},
	})
	if !c.Caps().Has(imap.CapIdle) {
		t.Fatal("server does not announce IDLE")
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatalf("SELECT: %v", err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatalf("IDLE: %v", err)
	}
	start := time.Now()
	d.Append(t, "INBOX", letter(1))
	select {
	case n := <-exists:
		t.Logf("IDLE reported EXISTS %d %v after APPEND", n, time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("no EXISTS during IDLE within 10s of APPEND")
	}
	if err := idle.Close(); err != nil {
		t.Fatalf("IDLE done: %v", err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatalf("IDLE: %v", err)
	}
}
