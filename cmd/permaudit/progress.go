package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/permaudit/permaudit/crawl"
	"github.com/permaudit/permaudit/model"
)

// progressEvery is how often a progress line is logged without a
// terminal (a CI log).
const progressEvery = 30 * time.Second

// progress shows live progress on a terminal; without one (a CI log) it
// logs a line every progressEvery, then a summary line at the end. All go
// to stderr.
type progress struct {
	io    ioStreams
	tty   bool
	start time.Time

	mu       sync.Mutex
	bar      *progressbar.ProgressBar
	phase    string
	pages    int
	probes   int
	total    int
	findings int // provisional, from crawl.Progress
	roles    int

	// quit stops the logging of lines; stopped is closed once it stopped.
	quit, stopped chan struct{}
	once          sync.Once
}

func newProgress(io ioStreams, roles int) *progress {
	tty := false
	if io.TTY != nil {
		tty = *io.TTY
	} else if f, ok := io.Err.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	if tty {
		return &progress{io: io, tty: true, start: time.Now(), roles: roles}
	}
	t := time.NewTicker(progressEvery)
	p := newLoggedProgress(io, roles, t.C, time.Now)
	go func() { <-p.stopped; t.Stop() }()
	return p
}

// newLoggedProgress is progress without a terminal: a line on every tick
// of ticks until done, timed by the tick; now is the clock that starts it
// (tests inject both).
func newLoggedProgress(io ioStreams, roles int, ticks <-chan time.Time, now func() time.Time) *progress {
	p := &progress{io: io, start: now(), roles: roles, quit: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(p.stopped)
		for {
			select {
			case <-p.quit:
				return
			case at := <-ticks:
				p.logLine(at)
			}
		}
	}()
	return p
}

// logLine writes where the run is: the phase, what is done of what, the
// rate since the start, the time taken, and the findings so far: answers
// that, decided alone against the matrix, are findings (a provisional
// count; the judge decides the run's findings once probing ends).
func (p *progress) logLine(at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	elapsed := at.Sub(p.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.pages+p.probes) / elapsed.Seconds()
	}
	switch p.phase {
	case "probe":
		pct := 0
		if p.total > 0 {
			pct = p.probes * 100 / p.total
		}
		fmt.Fprintf(p.io.Err, "permaudit: probing: %d/%d probes (%d%%), %d pages discovered, %.0f req/s, %s elapsed, %d finding(s) so far\n",
			p.probes, p.total, pct, p.pages, rate, elapsed.Round(time.Second), p.findings)
	case "discover":
		fmt.Fprintf(p.io.Err, "permaudit: discovering as %d roles: %d pages, %.0f req/s, %s elapsed\n", p.roles, p.pages, rate, elapsed.Round(time.Second))
	default:
		fmt.Fprintf(p.io.Err, "permaudit: signing in as %d roles, %s elapsed\n", p.roles, elapsed.Round(time.Second))
	}
}

func (p *progress) update(ev crawl.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev.Phase == "discover" {
		p.pages++
	} else {
		p.probes = ev.Done
		p.total = ev.Total
		p.findings = ev.Findings
	}
	if !p.tty {
		p.phase = ev.Phase
		return
	}
	if ev.Phase != p.phase {
		if p.bar != nil {
			_ = p.bar.Finish()
			fmt.Fprintln(p.io.Err)
		}
		p.phase = ev.Phase
		max := -1 // a spinner while discovering: the total is unknown
		desc := fmt.Sprintf("discovering as %d roles", p.roles)
		if ev.Phase == "probe" {
			max = ev.Total
			desc = "probing"
		}
		p.bar = progressbar.NewOptions(max,
			progressbar.OptionSetWriter(p.io.Err),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("req"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	if ev.Phase == "probe" {
		_ = p.bar.Set(ev.Done)
	} else {
		_ = p.bar.Add(1)
	}
}

func (p *progress) done() {
	if p.quit != nil {
		p.once.Do(func() { close(p.quit) })
		<-p.stopped
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

// summary prints the one line a CI log keeps.
func (p *progress) summary(run *model.Run) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := run.Duration
	rate := 0.0
	if d > 0 {
		rate = float64(p.pages+run.Observations.Len()) / d.Seconds()
	}
	gate := "passed"
	switch {
	case !run.Complete && !run.Gate.Failed:
		gate = "not passed: the run is incomplete"
	case run.Gate.Failed:
		gate = fmt.Sprintf("FAILED (%d finding(s) on %s)", run.Gate.Failing, joinVerdicts(run.Gate.FailOn))
	}
	if b := run.Baseline; b != nil {
		gate += fmt.Sprintf(" (baseline: %d new, %d baselined, %d expired, %d fixed)", b.New, b.Accepted, b.Expired, len(b.Fixed))
	}
	state := "complete"
	if !run.Complete {
		state = "INCOMPLETE: " + run.Incomplete
	}
	fmt.Fprintf(p.io.Err, "permaudit: %d roles, %d endpoints, %d pages discovered, %d probes, %d findings, %d notes in %s (%.0f req/s), %s; gate %s\n",
		len(run.Roles), len(run.Inventory.Entries), p.pages, run.Observations.Len(), len(run.Findings), len(run.Notes),
		d.Round(time.Millisecond), rate, state, gate)
}

func joinVerdicts(vs []model.Verdict) string {
	s := ""
	for i, v := range vs {
		if i > 0 {
			s += ","
		}
		s += string(v)
	}
	if s == "" {
		return "none"
	}
	return s
}
