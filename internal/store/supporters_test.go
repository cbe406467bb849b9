package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// TestSupporterStatsBeforeBatch counts a campaign whose only supporters
// confirmed and wait for the next batch: the letter they wait for does not
// exist yet, and every count over it must still be a number.
func TestSupporterStatsBeforeBatch(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.ImportCampaigns(ctx, sample()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportContacts(ctx, []Contact{{Target: campaign.Target{Email: "maire@montreal.example",
		Country: "Canada", City: "Montreal", Language: "fr", TimeZone: "America/Toronto"}, CampaignIDs: []int64{19, 24}}}); err != nil {
		t.Fatal(err)
	}
	if st, err := s.SupporterStats(ctx, 0); err != nil || len(st) != 0 {
		t.Fatalf("no signature yet: %+v, %v; want nothing", st, err)
	}
	var sigs []campaign.Signature
	for i := range 2 {
		sig, _, err := s.SignLetter(ctx, campaign.Signature{CampaignID: 19, Name: fmt.Sprintf("Jane %d", i),
			Email: fmt.Sprintf("jane%d@supporter.example", i), Country: "Canada", City: "Toronto",
			Message: "Please write to Seoul.", Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		if sig, err = s.ConfirmSignature(ctx, sig.ID, sig.Version); err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, sig)
	}
	want := SupporterStats{CampaignID: 19, City: "Montreal", OfficeEmail: "maire@montreal.example",
		Signed: 2, Confirmed: 2, Waiting: 2}
	for _, id := range []int64{0, 19} {
		st, err := s.SupporterStats(ctx, id)
		if err != nil {
			t.Fatalf("stats (campaign %d) between confirmation and batch: %v", id, err)
		}
		if len(st) != 1 || st[0] != want {
			t.Errorf("stats (campaign %d): %+v, want [%+v]", id, st, want)
		}
	}
	if st, err := s.SupporterStats(ctx, 24); err != nil || len(st) != 0 {
		t.Errorf("a campaign nobody signed: %+v, %v; want nothing", st, err)
	}

	// Batched: one letter planned for the first supporter, still waiting.
	if _, err := s.PlanSupporterLetter(ctx, campaign.Letter{Kind: campaign.KindSupporter, TargetID: 1,
		Email: "maire@montreal.example", Template: "supporter", CampaignIDs: []int64{19}},
		func(int) string { return "s-test-1" }, []int64{sigs[0].ID}); err != nil {
		t.Fatal(err)
	}
	st, err := s.SupporterStats(ctx, 19)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0] != want {
		t.Errorf("after batching one: %+v, want [%+v]", st, want)
	}
}
