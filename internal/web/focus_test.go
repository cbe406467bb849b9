package web

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestFocusRingContrast reads the style sheets as they are served and
// checks that every focus ring is at least 3:1 against the background it
// is drawn on (WCAG 1.4.11): the page's for a ring anywhere, the header's
// for a ring inside the header.
func TestFocusRingContrast(t *testing.T) {
	for _, file := range []struct {
		name string
		// contexts are the places a ring must be checked in: "" for the
		// page, else the selector of the box it sits in.
		contexts []string
	}{
		{"staff.css", []string{"", ".bar"}},
		{"style.css", []string{"", "header"}},
	} {
		t.Run(file.name, func(t *testing.T) {
			src, err := staticFS.ReadFile("static/" + file.name)
			if err != nil {
				t.Fatal(err)
			}
			sheet := parseCSS(string(src))
			seen := map[string]bool{}
			for _, r := range sheet.rules {
				for _, sel := range strings.Split(r.selector, ",") {
					ctx, ok := focusContext(sel)
					if !ok || !r.setsOutline() {
						continue
					}
					ring, err := sheet.ringColour(r)
					if err != nil {
						t.Fatalf("%s: %q: %v", file.name, r.selector, err)
					}
					bg, err := sheet.background(ctx)
					if err != nil {
						t.Fatalf("%s: %q: %v", file.name, r.selector, err)
					}
					if c := contrast(ring, bg); c < 3 {
						t.Errorf("%s: %q: the focus ring %s is %.2f:1 against the background %s, want at least 3:1", file.name, strings.TrimSpace(sel), ring, c, bg)
					}
					seen[ctx] = true
				}
			}
			for _, ctx := range file.contexts {
				if !seen[ctx] {
					t.Errorf("%s: no focus ring for %q (\"\" is the page)", file.name, ctx)
				}
			}
		})
	}
}

// TestContrast checks the WCAG contrast ratio against figures worked out
// by hand from the definition.
func TestContrast(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#fff", "#fff", 1},
		{"#777777", "#ffffff", 4.48},
		{"#e0a800", "#f6f7f9", 2.01}, // the old focus ring on the staff pages
	} {
		if got := contrast(c.a, c.b); math.Abs(got-c.want) > 0.005 {
			t.Errorf("contrast(%s, %s) = %.3f, want %.2f", c.a, c.b, got, c.want)
		}
	}
}

type cssRule struct {
	selector string
	decls    map[string]string
}

type styleSheet struct {
	rules []cssRule
	vars  map[string]string
}

var (
	cssComment = regexp.MustCompile(`(?s)/\*.*?\*/`)
	// A rule without nested braces: at-rules around it (@media) are
	// skipped, their rules kept.
	cssRuleRE = regexp.MustCompile(`([^{}]+)\{([^{}]*)\}`)
	cssVar    = regexp.MustCompile(`var\((--[a-z0-9-]+)\)`)
	hexColour = regexp.MustCompile(`#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?\b`)
)

func parseCSS(src string) styleSheet {
	src = cssComment.ReplaceAllString(src, "")
	sheet := styleSheet{vars: map[string]string{}}
	for _, m := range cssRuleRE.FindAllStringSubmatch(src, -1) {
		r := cssRule{selector: strings.TrimSpace(m[1]), decls: map[string]string{}}
		for _, d := range strings.Split(m[2], ";") {
			name, val, ok := strings.Cut(d, ":")
			if !ok {
				continue
			}
			r.decls[strings.TrimSpace(name)] = strings.TrimSpace(val)
		}
		if r.selector == ":root" {
			for k, v := range r.decls {
				if strings.HasPrefix(k, "--") {
					sheet.vars[k] = v
				}
			}
		}
		sheet.rules = append(sheet.rules, r)
	}
	return sheet
}

// focusContext tells whether a selector styles a focus ring, and the
// selector of the box it sits in ("" for the page): ".bar :focus-visible"
// is in ".bar", "a:focus-visible" anywhere on the page.
func focusContext(sel string) (string, bool) {
	parts := strings.Fields(sel)
	if len(parts) == 0 || !strings.Contains(parts[len(parts)-1], ":focus") {
		return "", false
	}
	return strings.Join(parts[:len(parts)-1], " "), true
}

// colour finds the colour in a declaration's value, custom properties
// resolved.
func (s styleSheet) colour(val string) (string, error) {
	val = cssVar.ReplaceAllStringFunc(val, func(v string) string {
		return s.vars[cssVar.FindStringSubmatch(v)[1]]
	})
	c := hexColour.FindString(val)
	if c == "" {
		return "", fmt.Errorf("no #rgb or #rrggbb colour in %q", val)
	}
	return c, nil
}

func (r cssRule) setsOutline() bool {
	_, a := r.decls["outline"]
	_, b := r.decls["outline-color"]
	return a || b
}

func (s styleSheet) ringColour(r cssRule) (string, error) {
	if v, ok := r.decls["outline-color"]; ok {
		return s.colour(v)
	}
	if v, ok := r.decls["outline"]; ok {
		return s.colour(v)
	}
	return "", fmt.Errorf("no outline colour")
}

// background is the background colour of the box a selector names, or of
// the body for "".
func (s styleSheet) background(ctx string) (string, error) {
	if ctx == "" {
		ctx = "body"
	}
	for _, r := range s.rules {
		for _, sel := range strings.Split(r.selector, ",") {
			if strings.TrimSpace(sel) != ctx {
				continue
			}
			for _, p := range []string{"background-color", "background"} {
				if v, ok := r.decls[p]; ok {
					return s.colour(v)
				}
			}
		}
	}
	return "", fmt.Errorf("no background colour for %q", ctx)
}

// contrast is the WCAG 2 contrast ratio of two #rgb or #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is the relative luminance of WCAG 2.
func luminance(hex string) float64 {
	h := strings.TrimPrefix(hex, "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	var rgb [3]float64
	for i := range rgb {
		v, _ := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		c := float64(v) / 255
		if c <= 0.04045 {
			rgb[i] = c / 12.92
		} else {
			rgb[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2]
}
