package mailer

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/wneessen/go-mail"
)

// DKIM signs every message a Mailer sends (RFC 6376), for a relay that
// does not sign the organisation's mail itself.
type DKIM struct {
	Domain   string        // d=: the organisation's domain
	Selector string        // s=: the key's name under _domainkey.Domain
	Key      crypto.Signer // an RSA key of at least 2048 bits, or an Ed25519 key
}

// Key types of GenerateDKIMKey.
const (
	DKIMKeyRSA     = "rsa"
	DKIMKeyEd25519 = "ed25519"
)

// dkimRSABits is the size of generated RSA keys, and the least accepted:
// RFC 8301 allows 1024, but large receivers treat shorter keys as weak.
const dkimRSABits = 2048

// dkimHeaders are the header fields a signature covers. Each is named
// twice ("oversigned", RFC 6376 8.15): the second, absent instance makes
// a field added on the way (a second From, Subject or List-Unsubscribe)
// break the signature instead of riding on it. List-Unsubscribe and
// List-Unsubscribe-Post must be covered for receivers to honour a
// one-click opt-out (RFC 8058 4).
var dkimHeaders = func() []string {
	once := []string{
		"From", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID",
		"In-Reply-To", "References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
		"List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted", "X-Auto-Response-Suppress",
	}
	return append(once, once...)
}()

func (d *DKIM) check() error {
	switch {
	case d.Domain == "" || strings.ContainsAny(d.Domain, " ;\r\n"):
		return fmt.Errorf("dkim: domain %q is not a domain name", d.Domain)
	case d.Selector == "" || strings.ContainsAny(d.Selector, " ;\r\n"):
		return fmt.Errorf("dkim: selector %q is not a selector", d.Selector)
	}
	return checkDKIMKey(d.Key)
}

func checkDKIMKey(k crypto.Signer) error {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < dkimRSABits {
			return fmt.Errorf("dkim: RSA key of %d bits: at least %d are needed", k.N.BitLen(), dkimRSABits)
		}
	case ed25519.PrivateKey:
	case nil:
		return errors.New("dkim: no key")
	default:
		return fmt.Errorf("dkim: %T is neither an RSA nor an Ed25519 key", k)
	}
	return nil
}

// sign adds a DKIM-Signature to msg.
//
// go-mail writes a message the same way every time once it has been
// written (its Date, Message-ID and MIME boundaries are then fixed in the
// Msg), so the message is written once here to be signed, and the
// signature is added as a header field that the second writing, on the
// SMTP connection, puts in front of the same bytes.
func (d *DKIM) sign(msg *mail.Msg) error {
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return fmt.Errorf("dkim: write the message: %w", err)
	}
	value, err := d.signature(buf.Bytes())
	if err != nil {
		return err
	}
	msg.SetGenHeaderPreformatted("DKIM-Signature", value)
	return nil
}

// signature is the value of the DKIM-Signature field for message raw.
func (d *DKIM) signature(raw []byte) (string, error) {
	s, err := dkim.NewSigner(&dkim.SignOptions{
		Domain: d.Domain, Selector: d.Selector, Signer: d.Key,
		// Relaxed: relays that rewrap header lines or trim trailing
		// spaces do not break the signature.
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             dkimHeaders,
	})
	if err != nil {
		return "", fmt.Errorf("dkim: %w", err)
	}
	if _, err := s.Write(raw); err != nil {
		_ = s.Close()
		return "", fmt.Errorf("dkim: sign: %w", err)
	}
	if err := s.Close(); err != nil {
		return "", fmt.Errorf("dkim: sign: %w", err)
	}
	name, value, ok := strings.Cut(s.Signature(), ":")
	if !ok || !strings.EqualFold(name, "DKIM-Signature") {
		return "", errors.New("dkim: the signer wrote no DKIM-Signature field")
	}
	return strings.TrimSuffix(strings.TrimPrefix(value, " "), "\r\n"), nil
}

// LoadDKIMKey reads a PEM private key (PKCS #8, or PKCS #1 for RSA) as
// written by GenerateDKIMKey or openssl, and checks it can sign.
func LoadDKIMKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dkim: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("dkim: %s: no PEM private key", path)
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("dkim: %s: a %q block is not a private key", path, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("dkim: %s: %w", path, err)
	}
	signer, _ := key.(crypto.Signer)
	if err := checkDKIMKey(signer); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return signer, nil
}

// GenerateDKIMKey makes a new key of kind (DKIMKeyRSA, 2048 bits, or
// DKIMKeyEd25519) and returns its private key in PKCS #8 PEM and its
// public key in PKIX PEM.
func GenerateDKIMKey(kind string) (private, public []byte, err error) {
	var key crypto.Signer
	switch kind {
	case DKIMKeyRSA:
		key, err = rsa.GenerateKey(rand.Reader, dkimRSABits)
	case DKIMKeyEd25519:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, nil, fmt.Errorf("dkim: key type %q is not rsa or ed25519", kind)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("dkim: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("dkim: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, nil, fmt.Errorf("dkim: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), nil
}

// DKIMRecord is the text of the DNS TXT record that publishes key's
// public half at SELECTOR._domainkey.DOMAIN (RFC 6376 3.6.1; RFC 8463
// for Ed25519, whose p= is the raw 32-byte key).
func DKIMRecord(key crypto.Signer) (string, error) {
	if err := checkDKIMKey(key); err != nil {
		return "", err
	}
	switch pub := key.Public().(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub), nil
	default:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", fmt.Errorf("dkim: %w", err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	}
}

// DKIMZoneLine writes record as a zone-file line for
// SELECTOR._domainkey.DOMAIN, in quoted strings of at most 255 bytes
// each, as DNS requires of one TXT string (an RSA 2048 record is longer).
func DKIMZoneLine(domain, selector, record string) string {
	var parts []string
	for len(record) > 255 {
		parts = append(parts, `"`+record[:255]+`"`)
		record = record[255:]
	}
	parts = append(parts, `"`+record+`"`)
	return fmt.Sprintf("%s._domainkey.%s. IN TXT ( %s )", selector, strings.TrimSuffix(domain, "."), strings.Join(parts, " "))
}
