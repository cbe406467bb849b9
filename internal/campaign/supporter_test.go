package campaign

import (
	"testing"
	"time"
)

func TestWorkingHours(t *testing.T) {
	h, err := ParseWorkingHours("09:00-17:30")
	if err != nil || h.String() != "09:00-17:30" {
		t.Fatalf("%v %v", h, err)
	}
	for _, bad := range []string{"9-5", "17:00-09:00", "09:00", "09:00-25:00"} {
		if _, err := ParseWorkingHours(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, rome)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct{ now, want string }{
		{"2026-03-02 08:00", "2026-03-02 09:00"}, // Monday morning
		{"2026-03-02 10:15", "2026-03-02 10:15"}, // within hours
		{"2026-03-02 17:30", "2026-03-03 09:00"}, // closing time
		{"2026-03-06 18:00", "2026-03-09 09:00"}, // Friday evening
		{"2026-03-07 12:00", "2026-03-09 09:00"}, // Saturday
		{"2026-03-29 12:00", "2026-03-30 09:00"}, // the Sunday clocks change: 09:00 is still 09:00
	} {
		if got := h.Next(at(tt.now)); !got.Equal(at(tt.want)) {
			t.Errorf("Next(%s) = %s, want %s", tt.now, got, tt.want)
		}
		if h.Contains(at(tt.now)) != (tt.now == tt.want) {
			t.Errorf("Contains(%s)", tt.now)
		}
	}
}

func TestDigestPeriods(t *testing.T) {
	perth, _ := time.LoadLocation("Australia/Perth")
	wed := time.Date(2026, 3, 4, 15, 0, 0, 0, perth)
	s, e := Daily.Bounds(wed)
	if !s.Equal(time.Date(2026, 3, 4, 0, 0, 0, 0, perth)) || !e.Equal(s.AddDate(0, 0, 1)) {
		t.Errorf("day %s %s", s, e)
	}
	s, e = Weekly.Bounds(wed)
	if !s.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, perth)) || !e.Equal(time.Date(2026, 3, 9, 0, 0, 0, 0, perth)) {
		t.Errorf("week %s %s", s, e)
	}
	if s, _ := Weekly.Bounds(time.Date(2026, 3, 8, 23, 0, 0, 0, perth)); s.Day() != 2 {
		t.Errorf("Sunday belongs to the week from Monday 2, got %s", s)
	}
	if id := DigestLetterID(7, Weekly, Date{2026, 3, 2}, 2); id != "d7-w20260302-2" {
		t.Errorf("digest id %s", id)
	}
	if id := SupporterLetterID(12, 1); id != "s12" {
		t.Errorf("supporter letter id %s", id)
	}
	if id := ConfirmationLetterID(12, 3); id != "c12-3" {
		t.Errorf("confirmation id %s", id)
	}
	d := Delivery{Mode: Digest}.Or(Delivery{Mode: Individual, DailyCap: 20, Period: Daily})
	if d.Mode != Digest || d.DailyCap != 20 || d.Period != Daily {
		t.Errorf("Or: %+v", d)
	}
}
