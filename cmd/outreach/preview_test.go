package main

import (
	"strings"
	"testing"
)

func TestPreviewText(t *testing.T) {
	c := newCLI(t)
	c.ok("import", "cities", citiesCSV)
	c.ok("import", "contacts", contactsCSV)
	out := c.ok("preview", "--city", "Montreal", "--text")
	for _, want := range []string{
		"\nTo:          Cabinet de la mairie de Montréal <maire@montreal.example>\n",
		"\nSubject:     Votre jumelage avec Busan et Seoul : un appel contre le commerce de viande de chien et de chat [ref PREVIEW-T17]\n",
		"\n--- text/plain; charset=UTF-8 ---\nÀ l'attention du maire de Montréal\n\nMadame, Monsieur,\n\nNous vous écrivons au nom de Sister City Campaign",
		"  - Busan, ville jumelle depuis le 19 septembre 2000\n",
		"\n--- text/html; charset=UTF-8 ---\n<!DOCTYPE html>\n<html lang=\"fr\">\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("preview --text lacks %q:\n%s", want, out)
		}
	}
	// Decoded: no quoted-printable escapes, soft line breaks or MIME
	// plumbing left.
	for _, raw := range []string{"=C3=A9", "=\n", "=3D", "Content-Transfer-Encoding", "MIME-Version", "boundary="} {
		if strings.Contains(out, raw) {
			t.Errorf("preview --text shows %q:\n%s", raw, out)
		}
	}
}
