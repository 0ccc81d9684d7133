package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/crawl"
)

// TestProgressLogsLinesWithoutTerminal: without a terminal, a CI log got
// nothing from a long audit until its last line. A line now comes on
// every tick (every 30 s): the phase, done of total, the rate, the time
// taken and the findings so far. The ticker and the clock are injected: no test waits.
func TestProgressLogsLinesWithoutTerminal(t *testing.T) {
	w := &signalWriter{wrote: make(chan struct{}, 1)}
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ticks := make(chan time.Time)
	p := newLoggedProgress(ioStreams{Err: w}, 4, ticks, func() time.Time { return start })
	tick := func(after time.Duration) {
		ticks <- start.Add(after)
		<-w.wrote // the line is written before the next event
	}

	tick(30 * time.Second) // before any request: signing in
	for range 150 {
		p.update(crawl.Progress{Phase: "discover", Role: "admin"})
	}
	tick(60 * time.Second)
	p.update(crawl.Progress{Phase: "probe", Done: 300, Total: 1200, Findings: 7})
	tick(90 * time.Second)
	p.done()
	p.done() // twice is harmless

	got := strings.Split(strings.TrimSpace(w.b.String()), "\n")
	want := []string{
		"permaudit: signing in as 4 roles, 30s elapsed",
		"permaudit: discovering as 4 roles: 150 pages, 2 req/s, 1m0s elapsed",
		"permaudit: probing: 300/1200 probes (25%), 150 pages discovered, 5 req/s, 1m30s elapsed, 7 finding(s) so far",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("progress lines:\n got %q\nwant %q", got, want)
	}
}

// signalWriter records what is written and signals each write.
type signalWriter struct {
	b     bytes.Buffer
	wrote chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	n, err := w.b.Write(p)
	w.wrote <- struct{}{}
	return n, err
}
