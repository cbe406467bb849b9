package csvsafe

import (
	"slices"
	"testing"
)

func TestCells(t *testing.T) {
	in := []string{"=HYPERLINK(\"http://x.example\")", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "Montréal", "2017-07-25", "", "a=b", "18"}
	want := []string{"'=HYPERLINK(\"http://x.example\")", "'+1", "'-2+3", "'@SUM(A1)", "'\t=1", "'\r=1", "Montréal", "2017-07-25", "", "a=b", "18"}
	if got := Cells(in...); !slices.Equal(got, want) {
		t.Errorf("Cells:\n got %q\nwant %q", got, want)
	}
}
