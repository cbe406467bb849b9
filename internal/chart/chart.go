// Package chart draws the staff UI's charts as SVG on the server, so that
// they need no JavaScript and no external library: grouped bars over time
// (letters sent and responses received per week) and horizontal bars of
// rates (response rate by country).
package chart

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Series is one set of bars, one value per label.
type Series struct {
	Name   string
	Values []float64
	// Class names the series: "a" and "b" have colours of their own; the
	// class is also set on its bars for style sheets.
	Class string
}

// Colours are presentation attributes, not a style element, so that a
// Content-Security-Policy without inline styles still shows them.
var fills = map[string]string{"a": "#2f6db5", "b": "#e08a1e"}

func fill(class string) string {
	if f, ok := fills[class]; ok {
		return f
	}
	return "#777"
}

const textAttrs = `font-family="sans-serif" font-size="12" fill="#333"`

// Bars draws grouped vertical bars: for each label (a week, say) one bar
// per series, with a value axis, the labels below (every nth when they
// would crowd) and a legend. width and height are in pixels; the SVG
// scales with its container.
func Bars(title string, labels []string, series []Series, width, height int) string {
	const (
		left, right, top, bottom = 44.0, 12.0, 28.0, 44.0
	)
	var b strings.Builder
	open(&b, title, width, height)
	maxV := 0.0
	for _, s := range series {
		for _, v := range s.Values {
			maxV = math.Max(maxV, v)
		}
	}
	top5 := niceCeil(maxV)
	plotW, plotH := float64(width)-left-right, float64(height)-top-bottom
	// Value axis: five gridlines.
	for i := 0; i <= 4; i++ {
		v := top5 * float64(i) / 4
		y := top + plotH - plotH*float64(i)/4
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`, left, y, left+plotW, y)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="end" %s>%s</text>`, left-6, y+4, textAttrs, num(v))
	}
	if len(labels) > 0 && len(series) > 0 {
		slot := plotW / float64(len(labels))
		barW := slot * 0.8 / float64(len(series))
		every := int(math.Ceil(float64(len(labels)) / (plotW / 56))) // a label every 56 px at most
		for i, label := range labels {
			x0 := left + slot*float64(i) + slot*0.1
			for j, s := range series {
				v := 0.0
				if i < len(s.Values) {
					v = s.Values[i]
				}
				h := 0.0
				if top5 > 0 {
					h = plotH * v / top5
				}
				fmt.Fprintf(&b, `<rect class="bar %s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %s</title></rect>`,
					esc(s.Class), x0+barW*float64(j), top+plotH-h, math.Max(barW-1, 1), h, fill(s.Class), esc(s.Name), esc(label), num(v))
			}
			if i%every == 0 {
				fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.1f" text-anchor="middle" %s>%s</text>`,
					left+slot*(float64(i)+0.5), top+plotH+16, textAttrs, esc(label))
			}
		}
	}
	legend(&b, series, left, float64(height)-10)
	b.WriteString(`</svg>`)
	return b.String()
}

// Rate is one bar of Rates: Part out of Whole.
type Rate struct {
	Label       string
	Part, Whole int
}

// Share is Part/Whole, 0 when Whole is 0.
func (r Rate) Share() float64 {
	if r.Whole <= 0 {
		return 0
	}
	return float64(r.Part) / float64(r.Whole)
}

// Percent is the share in whole percent, as the chart writes it beside the
// bar and its data table in the cell.
func (r Rate) Percent() string { return fmt.Sprintf("%.0f%%", r.Share()*100) }

// Rates draws one horizontal bar per row, as the share Part/Whole, with
// the percentage and the counts written beside it.
func Rates(title string, rows []Rate, width int) string {
	const (
		rowH, left, right, top = 26.0, 130.0, 110.0, 10.0
	)
	height := int(top*2 + rowH*float64(max(len(rows), 1)))
	var b strings.Builder
	open(&b, title, width, height)
	plotW := float64(width) - left - right
	for i, r := range rows {
		y := top + rowH*float64(i)
		share := r.Share()
		fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.1f" text-anchor="end" %s>%s</text>`, left-8, y+rowH/2+4, textAttrs, esc(r.Label))
		fmt.Fprintf(&b, `<rect class="track" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#eee"/>`, left, y+4, plotW, rowH-8)
		fmt.Fprintf(&b, `<rect class="bar a" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d of %d</title></rect>`,
			left, y+4, plotW*share, rowH-8, fill("a"), esc(r.Label), r.Part, r.Whole)
		fmt.Fprintf(&b, `<text class="value" x="%.1f" y="%.1f" %s>%s (%d of %d)</text>`, left+plotW+6, y+rowH/2+4, textAttrs, r.Percent(), r.Part, r.Whole)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func open(b *strings.Builder, title string, width, height int) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s">`,
		width, height, esc(title))
	fmt.Fprintf(b, `<title>%s</title>`, esc(title))
}

func legend(b *strings.Builder, series []Series, x, y float64) {
	for _, s := range series {
		fmt.Fprintf(b, `<rect class="bar %s" x="%.1f" y="%.1f" width="10" height="10" fill="%s"/>`, esc(s.Class), x, y-9, fill(s.Class))
		fmt.Fprintf(b, `<text class="legend" x="%.1f" y="%.1f" %s>%s</text>`, x+14, y, textAttrs, esc(s.Name))
		x += 24 + 7*float64(len(s.Name))
	}
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, so that the axis
// shows round numbers; at least 4, so that small counts get whole ticks.
func niceCeil(v float64) float64 {
	if v <= 4 {
		return 4
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 4, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func num(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func esc(s string) string { return html.EscapeString(s) }
