package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/outreach-campaign/outreach/internal/mailer"
)

// dkimSigner is the mailer's DKIM settings, its key read from
// dkim.private_key_file; nil when DKIM is off.
func (a *app) dkimSigner() (*mailer.DKIM, error) {
	d := a.cfg.DKIM
	if !d.On() {
		return nil, nil
	}
	key, err := mailer.LoadDKIMKey(d.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("dkim.private_key_file: %w", err)
	}
	return &mailer.DKIM{Domain: d.Domain, Selector: d.Selector, Key: key}, nil
}

func (a *app) dkimCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dkim",
		Short: "DKIM keys for signing outgoing mail",
	}
	var kind, selector, domain, out string
	keygen := &cobra.Command{
		Use:   "keygen [--type rsa|ed25519] [--selector S] [--domain D] --out FILE",
		Short: "Write a new DKIM key pair and print the DNS TXT record to publish",
		Long: `keygen writes a new private key to FILE (mode 0600, never overwriting a file)
and its public key to FILE.pub, then prints the TXT record to publish at
SELECTOR._domainkey.DOMAIN before setting dkim.private_key_file to FILE.

RSA (2048 bits) is read by every receiver; Ed25519 (RFC 8463) is shorter but
not checked by all, so sign with RSA unless you sign with both.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usagef("--out FILE is required")
			}
			if kind != mailer.DKIMKeyRSA && kind != mailer.DKIMKeyEd25519 {
				return usagef("--type %q: rsa or ed25519", kind)
			}
			if selector == "" {
				selector = a.cfg.DKIM.Selector
			}
			if selector == "" || strings.ContainsAny(selector, " ;.\r\n") {
				return usagef("--selector %q is not a selector (letters, digits, -)", selector)
			}
			if domain == "" {
				domain = a.cfg.DKIM.Domain
			}
			if domain == "" {
				_, domain, _ = strings.Cut(a.cfg.Organisation.Address, "@")
			}
			private, public, err := mailer.GenerateDKIMKey(kind)
			if err != nil {
				return err
			}
			if err := writeNew(out, private); err != nil {
				return err
			}
			if err := writeNew(out+".pub", public); err != nil {
				_ = os.Remove(out) // nothing half-written stays behind
				return err
			}
			key, err := mailer.LoadDKIMKey(out)
			if err != nil {
				return err
			}
			record, err := mailer.DKIMRecord(key)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Wrote the private key to %s and the public key to %s.\n\n", out, out+".pub")
			fmt.Fprintf(a.stdout, "Publish this TXT record in the DNS of %s:\n\n    %s\n\n", domain, mailer.DKIMZoneLine(domain, selector, record))
			fmt.Fprintf(a.stdout, "Once it is published, set:\n\n    dkim:\n      domain: %s\n      selector: %s\n      private_key_file: %s\n", domain, selector, out)
			return nil
		},
	}
	keygen.Flags().StringVar(&kind, "type", mailer.DKIMKeyRSA, "key type: rsa (2048 bits) or ed25519")
	keygen.Flags().StringVar(&selector, "selector", "", "the key's selector (default dkim.selector)")
	keygen.Flags().StringVar(&domain, "domain", "", "the signing domain (default dkim.domain, else the organisation's address's domain)")
	keygen.Flags().StringVar(&out, "out", "", "file to write the private key to (FILE.pub gets the public key)")
	cmd.AddCommand(keygen)
	return cmd
}

// writeNew writes a file that must not exist yet, readable by its owner
// only.
func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists already: choose another file (a key in use is never overwritten)", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return err
	}
	return nil
}
