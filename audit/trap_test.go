package audit

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/internal/trapapp"
	"github.com/permaudit/permaudit/report"
	"github.com/permaudit/permaudit/roles"
)

// trapConfig is an honest configuration of the crawl trap: its roles,
// its declared endpoints, rules written per page, and nothing else: no
// exclusion pattern, every crawl limit at its default.
func trapConfig(t *testing.T, target, extraCrawl string) *roles.Config {
	t.Helper()
	var list strings.Builder
	for _, p := range trapapp.DeclaredPaths {
		fmt.Fprintf(&list, "    - GET %s\n", p)
	}
	yaml := `target: ` + target + `
roles:
  viewer:
    login: {bearer: ` + trapapp.Tokens["viewer"] + `}
    check: {url: /api/me}
  editor:
    login: {bearer: ` + trapapp.Tokens["editor"] + `}
    check: {url: /api/me}
  admin:
    login: {bearer: ` + trapapp.Tokens["admin"] + `}
    check: {url: /api/me}
` + extraCrawl + `sources:
  list:
` + list.String() + `matrix:
  rules:
    - match: ["GET /", "GET /login", "GET /wiki/**", "GET /api/health"]
      allow: ["*"]
    - match: ["GET /calendar", "GET /changes", "GET /preferences", "GET /api/me"]
      allow: [viewer, editor, admin]
    - match: ["GET /editor/**", "GET /api/reports/export"]
      allow: [editor, admin]
    - match: ["GET /admin/**", "GET /api/tokens"]
      allow: [admin]
`
	cfg, err := roles.Parse("trap.yaml", []byte(yaml), roles.LoadOptions{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

// TestTrapFinishes audits the crawl trap (internal/trapapp: list tables
// with every sort, filter, view and page, an endless calendar, recent
// changes, wiki revisions and a returnto link on every page, a few
// thousand URLs reachable) with every limit at its default and no
// exclusion: the audit finishes complete, probes every declared endpoint
// as every role, judges every cell right, and stays within a bounded
// number of requests. On the code before query variants were folded it
// ended incomplete (max_requests reached by every signed-in role).
func TestTrapFinishes(t *testing.T) {
	srv := trapapp.New()
	defer srv.Close()
	cfg := trapConfig(t, srv.URL, "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, cfg, Options{RunID: "trap", UserAgent: "permaudit-test"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	wall := time.Since(start)
	run := res.Run
	if !run.Complete {
		t.Errorf("incomplete: %s", run.Incomplete)
	}
	probed := map[string]int{}
	for _, c := range run.Observations {
		probed[strings.TrimPrefix(c.URL, srv.URL)]++
	}
	for _, p := range trapapp.DeclaredPaths {
		if probed[p] != len(cfg.RoleNames()) {
			t.Errorf("declared %s probed as %d role(s), want %d", p, probed[p], len(cfg.RoleNames()))
		}
	}
	for _, f := range run.Findings {
		t.Errorf("finding: %s %s as %s: %s", f.Verdict, f.Path, f.Role, f.Observed)
	}
	cells := len(run.Observations)
	requests := srv.Requests()
	t.Logf("trap: %d endpoints found, %d probes (%d cells, %d canary probes), %d requests in all (%.2f per cell), discovery %v, wall %v; cut %+v",
		len(run.Inventory.Entries), cells+len(run.Canaries), cells, len(run.Canaries), requests, float64(requests)/float64(cells), run.Inventory.Pages, wall.Round(time.Millisecond), run.Inventory.Cut)
	if run.Inventory.Cut.MaxQueryVariants == 0 {
		t.Errorf("no query variant was folded: the trap did not trap")
	}
	// Bounded: far below 4 roles x max_requests (2,000) for discovery.
	if requests > 6000 {
		t.Errorf("%d requests: want at most 6000", requests)
	}
	for _, l := range run.Inventory.Left {
		if l.Reason != "max_query_variants" && l.Reason != "max_per_template" {
			t.Errorf("left %+v: want only what the caps fold", l)
		}
	}
}

// TestTrapTimeCap stops an audit of the trap by time, with discovery
// unbounded enough that the time ends it: the run is incomplete, says so
// per path, and the declared endpoints were probed first.
func TestTrapTimeCap(t *testing.T) {
	srv := trapapp.New()
	defer srv.Close()
	// Every request waits, so that a short maximum duration cuts the run.
	cfg := trapConfig(t, srv.URL, "crawl:\n  max_duration: 2s\n  rate: 200\n  max_query_variants: 100000\n  max_per_template: 100000\n")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg, Options{RunID: "trap-time", UserAgent: "permaudit-test"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	run := res.Run
	if run.Complete {
		t.Fatalf("complete: the time cap did not cut the run")
	}
	t.Logf("incomplete: %s; %d cells; left %d group(s)", run.Incomplete, len(run.Observations), len(run.Inventory.Left))
	probed := map[string]int{}
	for _, c := range run.Observations {
		probed[strings.TrimPrefix(c.URL, srv.URL)]++
	}
	for _, p := range trapapp.DeclaredPaths {
		if probed[p] != len(cfg.RoleNames()) {
			t.Errorf("declared %s probed as %d role(s), want %d: declared endpoints go first", p, probed[p], len(cfg.RoleNames()))
		}
	}
	if !strings.Contains(run.Incomplete, "discovery stopped") && !strings.Contains(run.Incomplete, "max duration") {
		t.Errorf("incomplete reason %q names no time cap", run.Incomplete)
	}
	var timeLeft int
	for _, l := range run.Inventory.Left {
		if l.Reason == "max_duration" {
			timeLeft += l.Count
		}
	}
	if run.Inventory.Cut.MaxDuration == 0 && timeLeft == 0 {
		t.Errorf("nothing recorded as left by time: cut %+v, left %+v", run.Inventory.Cut, run.Inventory.Left)
	}
}

// TestTrapBaselineWrittenBefore: folding query variants changes which
// URLs are probed, not fingerprints. A baseline written by permaudit
// 13ec601 (before folding; testdata/trap-baseline-13ec601.yaml, from
// its incomplete audit of the trap with the users table leaking to
// editor: 420 findings under 3 fingerprints) still accepts every finding
// of an audit now, and the gate passes.
func TestTrapBaselineWrittenBefore(t *testing.T) {
	srv := trapapp.NewWith(trapapp.Options{LeakUsersTable: true})
	defer srv.Close()
	data, err := os.ReadFile("testdata/trap-baseline-13ec601.yaml")
	if err != nil {
		t.Fatal(err)
	}
	base, err := report.ParseBaseline("trap-baseline-13ec601.yaml", data)
	if err != nil {
		t.Fatalf("ParseBaseline: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, trapConfig(t, srv.URL, ""), Options{RunID: "trap-baseline", UserAgent: "permaudit-test", Baseline: base})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	run := res.Run
	if !run.Complete {
		t.Errorf("incomplete: %s", run.Incomplete)
	}
	if len(run.Findings) == 0 {
		t.Fatal("no finding: the planted leak was not found")
	}
	for _, f := range run.Findings {
		if f.Baseline != "baselined" {
			t.Errorf("finding %s %s as %s (fingerprint %s): baseline %q, want baselined", f.Verdict, f.Path, f.Role, f.Fingerprint, f.Baseline)
		}
	}
	if run.Gate.Failed {
		t.Errorf("the gate failed on %d finding(s) the old baseline lists", run.Gate.Failing)
	}
}
