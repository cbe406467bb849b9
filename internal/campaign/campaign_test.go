package campaign

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParseDate(t *testing.T) {
	d, err := ParseDate("2015-12-04")
	if err != nil || d != (Date{2015, 12, 4}) || d.String() != "2015-12-04" {
		t.Errorf("ParseDate: %v %v", d, err)
	}
	for _, bad := range []string{"2015-12-4", "12/4/2015", "2015-02-30", "tomorrow"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	if z, err := ParseDate(""); err != nil || !z.IsZero() || z.String() != "" {
		t.Errorf("empty date: %v %v", z, err)
	}
	b, _ := json.Marshal(struct{ A, B Date }{A: d})
	if string(b) != `{"A":"2015-12-04","B":null}` {
		t.Errorf("JSON %s", b)
	}
	var back struct{ A, B Date }
	if err := json.Unmarshal(b, &back); err != nil || back.A != d || !back.B.IsZero() {
		t.Errorf("JSON round trip: %+v %v", back, err)
	}
	if (Date{2000, 1, 100}).Valid() || !(Date{2000, 2, 29}).Valid() || (Date{2001, 2, 29}).Valid() || !(Date{}).Valid() {
		t.Error("Valid")
	}
	bad := Campaign{ID: 1, No: "1", Partner: Partner{Region: "Seoul"}, Country: "Italy", City: "Rome",
		AgreementDate: Date{2000, 1, 100}, Relationship: Sister}
	var fe *FieldError
	if err := bad.Validate(); !errors.As(err, &fe) || fe.Field != "agreement_date" {
		t.Errorf("an impossible agreement date passed validation: %v", err)
	}
	if !(Date{2000, 9, 19}).Before(Date{2015, 4, 8}) || (Date{2015, 4, 8}).Before(Date{2015, 4, 8}) {
		t.Error("Before")
	}
}

func TestParseRelationship(t *testing.T) {
	for in, want := range map[string]Relationship{
		"Sister City": Sister, "Friendship City": Friendship, "Sister": Sister, "friendship": Friendship, " SISTER ": Sister,
	} {
		if got, err := ParseRelationship(in); err != nil || got != want {
			t.Errorf("ParseRelationship(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseRelationship("Cousin City"); err == nil {
		t.Error("Cousin City accepted")
	}
}

func TestState(t *testing.T) {
	c := Campaign{}
	if c.State() != NeverContacted {
		t.Error(c.State())
	}
	c.CampaignDate = Date{2017, 7, 25}
	if c.State() != Waiting {
		t.Error(c.State())
	}
	c.ResponseDate = Date{2017, 8, 9}
	if c.State() != Replied {
		t.Error(c.State())
	}
	c.Outcome = Victory
	if c.State() != Won {
		t.Error(c.State())
	}
}

func TestCheckHeaderText(t *testing.T) {
	for _, bad := range []string{"a\rb", "a\nb", "a\r\nBcc: x", "a\u2028b", "a\x00b"} {
		if err := CheckHeaderText(bad); !errors.Is(err, ErrHeaderInjection) {
			t.Errorf("CheckHeaderText(%q) = %v", bad, err)
		}
	}
	if err := CheckHeaderText("Cabinet de la mairie de Montréal"); err != nil {
		t.Error(err)
	}
}

func TestTargetValidate(t *testing.T) {
	good := Target{Email: "mayor@london.example", City: "London", Language: "en", TimeZone: "Europe/London"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for field, mutate := range map[string]func(*Target){
		"email":    func(t *Target) { t.Email = "Mayor <mayor@london.example>" },
		"mayor":    func(t *Target) { t.Mayor = "Jane\nDoe" },
		"language": func(t *Target) { t.Language = "de" },
		"timezone": func(t *Target) { t.TimeZone = "Mars/Olympus" },
		"city":     func(t *Target) { t.City = "" },
	} {
		tg := good
		mutate(&tg)
		var fe *FieldError
		if err := tg.Validate(); !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: err = %v", field, err)
		}
	}
	if d := good.Domain(); d != "london.example" {
		t.Errorf("Domain = %q", d)
	}
}

// TestCampaignNumber: a campaign is named by its id everywhere, with the
// table's printed No. beside it where they differ (Montreal is row 19,
// printed No. 18; two rows are printed 9).
func TestCampaignNumber(t *testing.T) {
	for _, tt := range []struct {
		c             Campaign
		number, label string
	}{
		{Campaign{ID: 19, No: "18"}, "#19", "#19 (No. 18 in the table)"},
		{Campaign{ID: 10, No: "9"}, "#10", "#10 (No. 9 in the table)"},
		{Campaign{ID: 9, No: "9"}, "#9", "#9"},
		{Campaign{ID: 1, No: ""}, "#1", "#1"},
	} {
		if got := tt.c.Number(); got != tt.number {
			t.Errorf("Number(%d) = %q, want %q", tt.c.ID, got, tt.number)
		}
		if got := tt.c.Label(); got != tt.label {
			t.Errorf("Label(%d, No. %s) = %q, want %q", tt.c.ID, tt.c.No, got, tt.label)
		}
	}
	if got := Numbers([]int64{19, 24}); got != "#19, #24" {
		t.Errorf("Numbers = %q", got)
	}
}
