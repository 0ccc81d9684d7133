package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/permaudit/permaudit/crawl"
	"github.com/permaudit/permaudit/crawl/hostiletest"
	"github.com/permaudit/permaudit/model"
)

// hostileYAML audits a hostile server as anonymous and one signed-in
// role, within tight bounds; every page is allowed to everyone, so that
// an answer that is not an error passes.
const hostileYAML = `target: %s
crawl:
  max_depth: 4
  max_requests: 60
  concurrency: 4
  timeout: 1s
  max_body: 65536
  max_duration: 1m
roles:
  user:
    login:
      bearer: "hostile-token-5ecret"
matrix:
  rules:
    - {match: "GET /**", allow: ["*"]}
`

// shortWaits shortens the transport's backoffs and pauses for tests.
func shortWaits(o *crawl.TransportOptions) {
	o.RetryBase, o.RetryMax = time.Millisecond, 5*time.Millisecond
	o.PauseBase, o.PauseMax = 5*time.Millisecond, 40*time.Millisecond
}

// hostileAudit runs the audit command against srv and returns the run,
// the exit code and stderr.
func hostileAudit(tb testing.TB, srv *hostiletest.Server, runFile string) (*model.Run, int, string) {
	tb.Helper()
	cfgPath := filepath.Join(tb.TempDir(), "hostile.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(hostileYAML, srv.URL)), 0o644); err != nil {
		tb.Fatal(err)
	}
	cfg, err := loadConfig(cfgPath, func(string) (string, bool) { return "", false })
	if err != nil {
		tb.Fatal(err)
	}
	var errb bytes.Buffer
	f := auditFlags{Outs: []string{"json=" + runFile}}
	f.Safety.tune = shortWaits
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := auditTarget(ctx, cfg, f, ioStreams{Out: io.Discard, Err: &errb}, time.Now, newRunID)
	return run, exitCode(err, &errb), errb.String()
}

// TestHostileAudit runs a full audit of the hostile server: it completes
// within its bounds, writes a valid run, records every hostile route as
// hostiletest.Routes says (an error verdict with its reason where the
// server misbehaves, a pass elsewhere) and exits 1 for those errors
// although discovery was cut by max_requests (an incomplete run).
func TestHostileAudit(t *testing.T) {
	srv := hostiletest.New(hostiletest.Options{})
	defer srv.Close()
	runFile := filepath.Join(t.TempDir(), "run.json")
	start := time.Now()
	run, code, stderr := hostileAudit(t, srv, runFile)
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("the audit took %v", d)
	}
	if code != exitGate {
		t.Fatalf("exit %d, want 1 (error findings)\nstderr:\n%s", code, stderr)
	}
	saved := readRun(t, runFile)
	if saved.RunID != run.RunID || saved.Observations.Len() != run.Observations.Len() {
		t.Errorf("the saved run differs from the run")
	}
	if saved.Complete || !strings.Contains(saved.Incomplete, "max_requests") {
		t.Errorf("complete %v, reason %q; want incomplete: the link farm exhausts max_requests", saved.Complete, saved.Incomplete)
	}
	if n := srv.OtherCount(); n != 0 {
		t.Errorf("the other origin got %d requests", n)
	}
	if strings.Contains(stderr, "hostile-token-5ecret") {
		t.Errorf("the token is on stderr")
	}
	cells := map[string][]model.Cell{}
	for _, c := range saved.Observations.All() {
		p := strings.TrimPrefix(c.URL, srv.URL)
		cells[p] = append(cells[p], c)
	}
	for _, rt := range hostiletest.Routes() {
		got := cells[rt.Path]
		if len(got) != 2 {
			t.Errorf("%s: %d cells, want 2", rt.Path, len(got))
			continue
		}
		for _, c := range got {
			why := c.Why + " " + c.Err
			if string(c.Class) != rt.Want || !strings.Contains(why, rt.Why) || c.Truncated != rt.Truncated {
				t.Errorf("%s as %s: %s %q %q truncated %v; want %s %q truncated %v", rt.Path, c.Role, c.Class, c.Why, c.Err, c.Truncated, rt.Want, rt.Why, rt.Truncated)
			}
			want := model.Pass
			switch rt.Want {
			case "error":
				want = model.ErrorVerdict
			case "other":
				want = model.Inconclusive
			}
			if c.Verdict != want {
				t.Errorf("%s as %s: verdict %s, want %s", rt.Path, c.Role, c.Verdict, want)
			}
		}
	}
	for _, f := range saved.Findings {
		if f.Verdict != model.ErrorVerdict || f.Message == "" {
			t.Errorf("finding %s %s as %s: %q; want only error findings, each with a reason", f.Verdict, f.Path, f.Role, f.Message)
		}
	}
	if saved.Traffic == nil || saved.Traffic.Truncated == 0 || saved.Traffic.Retries == 0 {
		t.Errorf("traffic %+v: want cut bodies and retries counted", saved.Traffic)
	}
}

// peakHeap samples the heap in use every 2 ms until stop is closed and
// returns the highest value seen.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		var m runtime.MemStats
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// BenchmarkHostileAudit measures a full audit of the hostile server
// (64 MiB bodies, 1 GiB gzip bombs, link farms, slow drips...): time per
// audit, and the peak heap in use while it runs.
//
//	go test -run '^$' -bench HostileAudit -benchtime 5x ./cmd/permaudit/
func BenchmarkHostileAudit(b *testing.B) {
	srv := hostiletest.New(hostiletest.Options{})
	defer srv.Close()
	runFile := filepath.Join(b.TempDir(), "run.json")
	runtime.GC()
	stop := make(chan struct{})
	peak := peakHeap(stop)
	var once sync.Once
	b.ResetTimer()
	for range b.N {
		if _, code, stderr := hostileAudit(b, srv, runFile); code != exitGate {
			b.Fatalf("exit %d\n%s", code, stderr)
		}
	}
	b.StopTimer()
	once.Do(func() { close(stop) })
	b.ReportMetric(float64(<-peak)/(1<<20), "peak-heap-MiB")
}
