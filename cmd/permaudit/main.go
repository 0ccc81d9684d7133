// Command permaudit audits a web application's permissions: it signs in as
// every configured role, discovers every endpoint, requests every endpoint as
// every role, and compares the answers with an expected access matrix.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// gcPercent is the collector's GOGC when the environment sets none. An
// audit's cells are most of its heap and stay live to the last output,
// so the heap the default (100) lets grow before a collection is as
// large again as the run itself: at a million cells, 320 MB of the peak.
// At 50 the probe rate measured the same (docs/design.md "Outputs at
// scale").
const gcPercent = 50

func main() {
	_, gogc := os.LookupEnv("GOGC")
	_, gomemlimit := os.LookupEnv("GOMEMLIMIT")
	if !gogc {
		debug.SetGCPercent(gcPercent)
	}
	if !gogc || !gomemlimit {
		tuneCollector(!gogc, !gomemlimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() { <-ctx.Done(); stop() }() // after the first signal, a second one kills
	code := run(ctx, os.Args[1:], ioStreams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Env: os.LookupEnv})
	stop()
	os.Exit(code)
}
