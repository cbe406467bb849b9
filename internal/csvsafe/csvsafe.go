// Package csvsafe guards the cells of CSV files that people open in a
// spreadsheet: text from outside (a city, a supporter's name, a note) that
// begins like a formula is written so that it is shown, not run.
package csvsafe

import "strings"

// Cells returns vs with each cell that a spreadsheet would run as a
// formula (it starts with =, +, -, @, a tab or a carriage return) behind a
// single quote, the usual defence against CSV injection. It changes vs in
// place.
func Cells(vs ...string) []string {
	for i, v := range vs {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			vs[i] = "'" + v
		}
	}
	return vs
}
