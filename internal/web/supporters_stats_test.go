package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

// TestSupportersCountsBeforeBatch: between a supporter's confirmation and
// the next batch, the supporters' page and the API answer with the counts.
func TestSupportersCountsBeforeBatch(t *testing.T) {
	h := newHarness(t, harnessOptions{staff: true})
	ctx := context.Background()
	sig, _, err := h.st.SignLetter(ctx, campaign.Signature{CampaignID: 1, Name: "Jane Doe", Email: "jane@supporter.example",
		Country: "Canada", City: "Toronto", Message: "Please write to Seoul.", Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.ConfirmSignature(ctx, sig.ID, sig.Version); err != nil {
		t.Fatal(err)
	}
	s := h.login(t)
	page := string(h.getPage(t, s.c, "/supporters", http.StatusOK))
	if !strings.Contains(page, "Montreal") {
		t.Errorf("the supporters' page does not list Montreal:\n%s", page)
	}
	api := string(h.getPage(t, s.c, "/api/v1/supporters", http.StatusOK))
	for _, want := range []string{`"confirmed":1`, `"waiting":1`, `"delivered":0`} {
		if !strings.Contains(strings.ReplaceAll(api, " ", ""), want) {
			t.Errorf("the API's counts lack %s:\n%s", want, api)
		}
	}
}
