//go:build !race

package replies_test

const raceEnabled = false
