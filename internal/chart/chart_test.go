package chart

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

type rect struct {
	Class  string  `xml:"class,attr"`
	Y      float64 `xml:"y,attr"`
	Width  float64 `xml:"width,attr"`
	Height float64 `xml:"height,attr"`
	Title  string  `xml:"title"`
}

// rects parses an SVG and returns its bars, failing on malformed XML.
func rects(t *testing.T, svg string) []rect {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	var out []rect
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("malformed SVG: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			var r rect
			if err := d.DecodeElement(&r, &se); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(r.Class, "bar") && r.Title != "" {
				out = append(out, r)
			}
		}
	}
}

func TestBars(t *testing.T) {
	svg := Bars("Letters per week", []string{"W1", "W2", "W3"}, []Series{
		{Name: "sent", Values: []float64{19, 0, 38}, Class: "a"},
		{Name: "responses", Values: []float64{2, 1, 0}, Class: "b"},
	}, 600, 240)
	bars := rects(t, svg)
	if len(bars) != 6 {
		t.Fatalf("%d bars, want 6", len(bars))
	}
	// The axis tops at 40 (38 rounded up): 19 is half as tall as 38.
	h := map[string]float64{}
	for _, r := range bars {
		h[r.Title] = r.Height
	}
	if h["sent, W3: 38"] == 0 || h["sent, W1: 19"]*2 != h["sent, W3: 38"] {
		t.Errorf("bar heights not proportional: %v", h)
	}
	if h["sent, W2: 0"] != 0 {
		t.Errorf("a zero bar has height %v", h["sent, W2: 0"])
	}
	if !strings.Contains(svg, `>40</text>`) {
		t.Error("axis does not top at 40")
	}
}

func TestRatesAndEscaping(t *testing.T) {
	svg := Rates(`Response rate <by> "country"`, []Rate{
		{Label: "Canada", Part: 1, Whole: 21},
		{Label: `<script>alert(1)</script>`, Part: 2, Whole: 4},
		{Label: "Nowhere", Part: 0, Whole: 0},
	}, 500)
	if strings.Contains(svg, "<script>") || strings.Contains(svg, `"country"`) {
		t.Fatalf("labels not escaped:\n%s", svg)
	}
	bars := rects(t, svg)
	if len(bars) != 3 {
		t.Fatalf("%d bars, want 3", len(bars))
	}
	if bars[2].Width != 0 {
		t.Errorf("a row with nothing to count has a bar %v wide", bars[2].Width)
	}
	if !strings.Contains(svg, "5% (1 of 21)") || !strings.Contains(svg, "50% (2 of 4)") || !strings.Contains(svg, "0% (0 of 0)") {
		t.Errorf("percentages wrong:\n%s", svg)
	}
	// 50% of the plot width (500 - 130 - 110 = 260) is 130.
	if bars[1].Width != 130 {
		t.Errorf("a 50%% bar is %v wide, want 130", bars[1].Width)
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0: 4, 3: 4, 7: 10, 19: 20, 38: 40, 64: 100, 120: 200, 450: 500} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestRatePercent(t *testing.T) {
	for _, c := range []struct {
		r    Rate
		want string
	}{
		{Rate{Part: 2, Whole: 19}, "11%"},
		{Rate{Part: 1, Whole: 2}, "50%"},
		{Rate{Part: 2, Whole: 3}, "67%"},
		{Rate{Part: 0, Whole: 0}, "0%"},
	} {
		if got := c.r.Percent(); got != c.want {
			t.Errorf("%d of %d: %s, want %s", c.r.Part, c.r.Whole, got, c.want)
		}
	}
}
