package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/outreach-campaign/outreach/internal/campaign"
)

func openTest(t *testing.T) *SQLite {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustDate(s string) campaign.Date {
	d, err := campaign.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func sample() []campaign.Campaign {
	return []campaign.Campaign{
		{ID: 19, No: "18", Partner: campaign.Partner{Region: "Seoul"}, Country: "Canada", City: "Montreal",
			AgreementDate: mustDate("2015-04-08"), Relationship: campaign.Friendship, RelationshipLabel: "Friendship City",
			CampaignDate: mustDate("2017-07-25")},
		{ID: 24, No: "23", Partner: campaign.Partner{Region: "Busan"}, Country: "Canada", City: "Montreal",
			AgreementDate: mustDate("2000-09-19"), Relationship: campaign.Sister, RelationshipLabel: "Sister City",
			CampaignDate: mustDate("2015-01-29")},
		{ID: 37, No: "36", Partner: campaign.Partner{Region: "Jeollanam-do", District: "Yeosu"}, Country: "Canada",
			City: "Moncton, New Brunswick", AgreementDate: mustDate("2007-12-06"), Relationship: campaign.Friendship,
			RelationshipLabel: "Friendship City", CampaignDate: mustDate("2017-07-30"),
			ResponseDate: mustDate("2017-08-09"), ResponseNote: "Response from Yeosu."},
	}
}

func TestImportCampaignsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	st, err := s.ImportCampaigns(ctx, sample())
	if err != nil {
		t.Fatal(err)
	}
	if st != (ImportStats{Added: 3}) {
		t.Errorf("first import: %+v, want 3 added", st)
	}
	st, err = s.ImportCampaigns(ctx, sample())
	if err != nil {
		t.Fatal(err)
	}
	if st != (ImportStats{Unchanged: 3}) {
		t.Errorf("second import: %+v, want 3 unchanged", st)
	}
	got, err := s.Campaigns(ctx, CampaignFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d campaigns, want 3", len(got))
	}
	for i, want := range sample() {
		if got[i] != want {
			t.Errorf("campaign %d:\n got %+v\nwant %+v", want.ID, got[i], want)
		}
	}
}

func TestImportKeepsRecordedOutreach(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.ImportCampaigns(ctx, sample()); err != nil {
		t.Fatal(err)
	}
	// An older table, without the dates and note recorded since.
	older := sample()
	for i := range older {
		older[i].CampaignDate, older[i].ResponseDate, older[i].ResponseNote = campaign.Date{}, campaign.Date{}, ""
	}
	older[0].City = "Montréal" // a corrected spelling is taken
	st, err := s.ImportCampaigns(ctx, older)
	if err != nil {
		t.Fatal(err)
	}
	if st != (ImportStats{Updated: 1, Unchanged: 2}) {
		t.Errorf("stats %+v, want 1 updated, 2 unchanged", st)
	}
	c, err := s.Campaign(ctx, 37)
	if err != nil {
		t.Fatal(err)
	}
	if c.ResponseDate != mustDate("2017-08-09") || c.ResponseNote != "Response from Yeosu." || c.CampaignDate != mustDate("2017-07-30") {
		t.Errorf("recorded dates lost: %+v", c)
	}
	c, _ = s.Campaign(ctx, 19)
	if c.City != "Montréal" {
		t.Errorf("city = %q, want the corrected spelling", c.City)
	}
}

func TestImportCampaignsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	bad := sample()
	bad[2].Relationship = "cousin"
	if _, err := s.ImportCampaigns(ctx, bad); err == nil {
		t.Fatal("import of an invalid campaign succeeded")
	}
	got, _ := s.Campaigns(ctx, CampaignFilter{})
	if len(got) != 0 {
		t.Errorf("%d campaigns stored after a failed import, want 0", len(got))
	}
}

func TestContactsLinkAndKeepFlags(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.ImportCampaigns(ctx, sample()); err != nil {
		t.Fatal(err)
	}
	montreal := campaign.Target{Email: "maire@montreal.example", Country: "Canada", City: "Montreal",
		Office: "Cabinet", Language: "fr", TimeZone: "America/Toronto"}
	contacts := []Contact{{Target: montreal, CampaignIDs: []int64{19, 24}}}
	st, err := s.ImportContacts(ctx, contacts)
	if err != nil {
		t.Fatal(err)
	}
	if st != (ImportStats{Added: 1}) {
		t.Errorf("stats %+v", st)
	}
	tg, err := s.Target(ctx, "MAIRE@montreal.example")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := s.Campaigns(ctx, CampaignFilter{TargetID: tg.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].ID != 19 || cs[1].ID != 24 || cs[0].TargetEmail != "maire@montreal.example" {
		t.Errorf("Montreal's campaigns: %+v", cs)
	}
	if err := s.SetDoNotContact(ctx, "maire@montreal.example", true); err != nil {
		t.Fatal(err)
	}
	st, err = s.ImportContacts(ctx, contacts)
	if err != nil {
		t.Fatal(err)
	}
	if st != (ImportStats{Unchanged: 1}) {
		t.Errorf("re-import stats %+v, want 1 unchanged", st)
	}
	tg, _ = s.Target(ctx, "maire@montreal.example")
	if !tg.DoNotContact {
		t.Error("re-importing contacts cleared do-not-contact")
	}
	ts, err := s.Targets(ctx, TargetFilter{City: "montreal"})
	if err != nil || len(ts) != 1 {
		t.Errorf("Targets by city: %v, %v", ts, err)
	}
	if err := s.SetDoNotContact(ctx, "nobody@example.org", true); !errors.Is(err, campaign.ErrNotFound) {
		t.Errorf("SetDoNotContact on an unknown address: %v, want ErrNotFound", err)
	}
}

func TestContactsRefusedChangeNothing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.ImportCampaigns(ctx, sample()); err != nil {
		t.Fatal(err)
	}
	good := campaign.Target{Email: "maire@montreal.example", Country: "Canada", City: "Montreal", Language: "fr", TimeZone: "America/Toronto"}
	bad := campaign.Target{Email: "mayor@moncton.example", Country: "Canada", City: "Moncton", Mayor: "Evil\r\nBcc: x@y", Language: "en", TimeZone: "America/Moncton"}
	_, err := s.ImportContacts(ctx, []Contact{{Target: good, CampaignIDs: []int64{19}}, {Target: bad, CampaignIDs: []int64{37}}})
	if !errors.Is(err, campaign.ErrHeaderInjection) {
		t.Fatalf("err = %v, want ErrHeaderInjection", err)
	}
	if ts, _ := s.Targets(ctx, TargetFilter{}); len(ts) != 0 {
		t.Errorf("%d targets stored after a refused import", len(ts))
	}
	_, err = s.ImportContacts(ctx, []Contact{{Target: good, CampaignIDs: []int64{999}}})
	if !errors.Is(err, campaign.ErrNotFound) {
		t.Errorf("link to a missing campaign: %v, want ErrNotFound", err)
	}
}

func TestGeneratedSecretIsKept(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.GeneratedSecret(ctx, "k", func() (string, error) { return "one", nil })
	if err != nil || first != "one" {
		t.Fatalf("%q %v", first, err)
	}
	s.Close()
	// Reopening applies no migration twice and keeps the secret.
	s, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	again, err := s.GeneratedSecret(ctx, "k", func() (string, error) { return "two", nil })
	if err != nil || again != "one" {
		t.Errorf("second call gave %q, %v; want the first secret", again, err)
	}
}

// TestContactsKeepTitleAndNames stores an office's holder's title and its
// place's names, counts a changed title as an update, and gives an office
// imported without a title a mayor.
func TestContactsKeepTitleAndNames(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.ImportCampaigns(ctx, sample()); err != nil {
		t.Fatal(err)
	}
	montreal := campaign.Target{Email: "maire@montreal.example", Country: "Canada", City: "Montreal",
		Names: "fr=Montréal", Language: "fr", TimeZone: "America/Toronto"}
	moncton := campaign.Target{Email: "mayor@moncton.example", Country: "Canada", City: "Moncton",
		Title: campaign.Premier, Language: "en", TimeZone: "America/Moncton"}
	contacts := []Contact{{Target: montreal, CampaignIDs: []int64{19, 24}}, {Target: moncton, CampaignIDs: []int64{37}}}
	if _, err := s.ImportContacts(ctx, contacts); err != nil {
		t.Fatal(err)
	}
	mt, err := s.Target(ctx, "maire@montreal.example")
	if err != nil || mt.Title != campaign.Mayor || mt.Names != "fr=Montréal" {
		t.Errorf("Montreal: title %q, names %q, %v; want mayor, fr=Montréal", mt.Title, mt.Names, err)
	}
	if mo, err := s.Target(ctx, "mayor@moncton.example"); err != nil || mo.Title != campaign.Premier {
		t.Errorf("Moncton: title %q, %v; want premier", mo.Title, err)
	}
	contacts[1].Target.Title = campaign.Mayor
	st, err := s.ImportContacts(ctx, contacts)
	if err != nil || st != (ImportStats{Updated: 1, Unchanged: 1}) {
		t.Errorf("re-import with a changed title: %+v, %v; want 1 updated, 1 unchanged", st, err)
	}
	if mo, _ := s.Target(ctx, "mayor@moncton.example"); mo.Title != campaign.Mayor {
		t.Errorf("Moncton's title after the update: %q", mo.Title)
	}
	bad := contacts[1]
	bad.Target.Title = "governor"
	if _, err := s.ImportContacts(ctx, []Contact{bad}); err == nil {
		t.Error("a title outside the set was stored")
	}
}
