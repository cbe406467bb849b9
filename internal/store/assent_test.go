package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// TestKeepAsSentKeepsTheFirstCopy: a letter's copy is kept once; a later
// copy (a retry that wrote the letter again) does not replace it; a letter
// without a copy is ErrNotFound.
func TestKeepAsSentKeepsTheFirstCopy(t *testing.T) {
	wd := newWorld(t, 21*24*time.Hour)
	ctx := context.Background()
	id := wd.ls["Montreal"].ID
	if _, err := wd.s.LetterAsSent(ctx, id); !errors.Is(err, campaign.ErrNotFound) {
		t.Fatalf("a letter without a copy: %v, want ErrNotFound", err)
	}
	first := campaign.AsSent{Subject: "Votre jumelage [ref W1-T1]", Text: "Madame,\n",
		Message: []byte("Subject: Votre jumelage [ref W1-T1]\r\n\r\nMadame,\r\n"), Whole: true}
	if err := wd.s.KeepAsSent(ctx, id, first); err != nil {
		t.Fatal(err)
	}
	if err := wd.s.KeepAsSent(ctx, id, campaign.AsSent{Subject: "rewritten", Text: "rewritten", Message: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	got, err := wd.s.LetterAsSent(ctx, id)
	if err != nil || got.Subject != first.Subject || got.Text != first.Text || string(got.Message) != string(first.Message) || !got.Whole {
		t.Errorf("kept copy %+v %v, want the first", got, err)
	}
}
