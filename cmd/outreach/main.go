// Command outreach runs the sister-city letter-writing campaign: it keeps
// the twinning table and the mayors' offices, renders each office its
// personalised letter, and (with the other subcommands) sends, tracks and
// reports on them. Run "outreach --help" for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // time zones of the offices, on machines without a zoneinfo database
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ()})
	stop()
	os.Exit(code)
}
