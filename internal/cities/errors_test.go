package cities

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestEveryBadLineReported: a file with several bad rows is reported whole,
// one line of the error for each bad row, in the file's order, and
// nothing of it is returned.
func TestEveryBadLineReported(t *testing.T) {
	header := strings.Join(TableHeader, ",") + "\n"
	page := "Our campaign page\n\nNo. Korean Local Government Country\n"
	tests := []struct {
		name  string
		read  func(string) (any, error)
		input string
		want  string
	}{
		{"table CSV", func(s string) (any, error) { return ReadTable(strings.NewReader(s)) }, header +
			"1,1,Seoul,,United Kingdom,London,2015-12-04,friendship,Friendship City,2017-07-18,2017-08-01,\n" +
			"2,2,Seoul,,Italy,Rome,2000-13-18,sister,Sister City,,,\n" +
			"3,3,Seoul,,Italy,Milano,2000-03-18,cousin,,,,\n" +
			"4,4,Seoul\n" +
			"5,5,Busan,,Italy,Napoli,2000-03-18,sister,Sister City,,,\n" +
			"1,6,Busan,,Italy,Torino,2000-03-18,sister,Sister City,,,\n" +
			"7,7,Busan,,Italy,,2000-03-18,sister,Sister City,,,\n",
			`f.csv:3: agreement_date: "2000-13-18" is not a date of the form YYYY-MM-DD
f.csv:4: relationship: "cousin" is neither a sister nor a friendship relationship
f.csv:5: wrong number of fields
f.csv:7: id: 1 is used twice
f.csv:8: city: missing`},
		{"pasted page", func(s string) (any, error) { return ReadTable(strings.NewReader(s)) }, page +
			"1 Seoul United Kingdom London 2015-12-04 Friendship City\n" +
			"2 Seoul Atlantis London 2015-12-04 Friendship City\n" +
			"3 Seoul Italy Rome 2000-03-18 Sister City\n" +
			"4 Seoul United Kingdom London Friendship City\n" +
			"5 Seoul Italy Milano 2000-03-18 Cousin City\n",
			`f.csv:5: country: no country found in "Seoul Atlantis London"
f.csv:7: agreement_date: no agreement date (YYYY-M-D) in "4 Seoul United Kingdom London Friendship City"
f.csv:8: relationship: expected Sister City, Friendship City, Sister or Friendship after the agreement date, found "Cousin City"`},
		{"contacts", func(s string) (any, error) { return ReadContacts(strings.NewReader(s), seedCampaigns(t)) }, contactsHead +
			"Italy,Rome,,,sindaco@roma.example,,\n" +
			"Italy,Napoli,,,sindaco@napoli.example,,\n" +
			"Italy,Milano,,,not an address,,\n" +
			"Italy,Rome,,,b@roma.example,,\n" +
			"Italy,Firenze\n" +
			"Italy,Milano,,,sindaco@milano.example,de,\n",
			`f.csv:3: city: unknown city "Napoli" in Italy: no campaign of the table has it
f.csv:4: email: "not an address" is not a plain e-mail address
f.csv:5: city: Rome (campaign #7) is already the office of sindaco@roma.example
f.csv:6: wrong number of fields
f.csv:7: language: "de" is not one of en, it, fr`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.read(tt.input)
			if err == nil {
				t.Fatalf("read %v, want an error", v)
			}
			if got := WithFile(err, "f.csv").Error(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			var le *LineError
			if !errors.As(err, &le) {
				t.Errorf("errors.As finds no LineError in %v", err)
			}
		})
	}
}

func TestBadLinesLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.Join(TableHeader, ",") + "\n")
	for i := 1; i <= MaxReported+5; i++ {
		fmt.Fprintf(&b, "%d,%d,Seoul,,Italy,City %d,2000-03-18,cousin,,,,\n", i, i, i)
	}
	_, err := ReadTable(strings.NewReader(b.String()))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != MaxReported+1 || lines[MaxReported] != "and 5 more" {
		t.Fatalf("%d lines, the last %q; want %d and \"and 5 more\"", len(lines), lines[len(lines)-1], MaxReported+1)
	}
	for i, l := range lines[:MaxReported] {
		if want := fmt.Sprintf("line %d: relationship: ", i+2); !strings.HasPrefix(l, want) {
			t.Errorf("line %d of the error is %q, want it to start %q", i+1, l, want)
		}
	}
}
