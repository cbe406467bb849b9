//go:build race

package replies_test

// raceEnabled: the race detector slows this code down many times, and it
// makes sync.Pool drop what it is given, so regexps allocate on every call:
// allocation figures mean nothing under it.
const raceEnabled = true
