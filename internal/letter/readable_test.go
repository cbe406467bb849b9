package letter

import (
	"strings"
	"testing"
)

func TestReadable(t *testing.T) {
	raw := strings.ReplaceAll(`Date: Wed, 02 Dec 2026 09:00:00 +0100
MIME-Version: 1.0
Message-ID: <w1-t17.sig@outreach.example>
Subject: =?utf-8?q?Votre_jumelage_avec_Montr=C3=A9al?=
X-Mailer: outreach
From: "Sister City Campaign" <campaign@outreach.example>
To: =?utf-8?q?Cabinet_de_la_mairie_de_Montr=C3=A9al?=
 <maire@montreal.example>
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Transfer-Encoding: quoted-printable
Content-Type: text/plain; charset=UTF-8

Nous vous =C3=A9crivons au nom de la campagne, avec une ligne assez longue =
pour =C3=AAtre coup=C3=A9e.
--inner
Content-Transfer-Encoding: base64
Content-Type: text/html; charset=UTF-8

PHA+Tm91cyB2b3VzIMOpY3Jpdm9u
cy48L3A+
--inner--
--outer--
`, "\n", "\r\n")
	want := `Date:        Wed, 02 Dec 2026 09:00:00 +0100
From:        "Sister City Campaign" <campaign@outreach.example>
To:          Cabinet de la mairie de Montréal <maire@montreal.example>
Subject:     Votre jumelage avec Montréal
Message-ID:  <w1-t17.sig@outreach.example>

--- text/plain; charset=UTF-8 ---
Nous vous écrivons au nom de la campagne, avec une ligne assez longue pour être coupée.

--- text/html; charset=UTF-8 ---
<p>Nous vous écrivons.</p>
`
	var b strings.Builder
	if err := Readable(&b, strings.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if err := Readable(&b, strings.NewReader("no header block")); err == nil {
		t.Error("a message without headers was read")
	}
}
