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

// progress shows live progress on a terminal and, without one, a single
// summary line at the end. Both go to stderr.
type progress struct {
	io    ioStreams
	tty   bool
	start time.Time

	mu     sync.Mutex
	bar    *progressbar.ProgressBar
	phase  string
	pages  int
	probes int
	roles  int
}

func newProgress(io ioStreams, roles int) *progress {
	tty := false
	if io.TTY != nil {
		tty = *io.TTY
	} else if f, ok := io.Err.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{io: io, tty: tty, start: time.Now(), roles: roles}
}

func (p *progress) update(ev crawl.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev.Phase == "discover" {
		p.pages++
	} else {
		p.probes = ev.Done
	}
	if !p.tty {
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
		rate = float64(p.pages+len(run.Observations)) / d.Seconds()
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
		len(run.Roles), len(run.Inventory.Entries), p.pages, len(run.Observations), len(run.Findings), len(run.Notes),
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
