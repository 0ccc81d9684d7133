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
	for _, c := range run.Observations.All() {
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
	cells := run.Observations.Len()
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

// TestTrapProbeOrder cuts an audit of the trap at max_probes: what is
// probed is exactly the endpoints the user named (the start URL and the
// listed ones), as every role, and the rest is listed per page as left
// by max_probes. On the code before, the cut kept the first endpoints in
// URL order: /admin/users and its variants, not /api/*.
func TestTrapProbeOrder(t *testing.T) {
	srv := trapapp.New()
	defer srv.Close()
	named := append([]string{"/"}, trapapp.DeclaredPaths...)
	cfg := trapConfig(t, srv.URL, fmt.Sprintf("crawl:\n  max_probes: %d\n", 4*len(named)))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg, Options{RunID: "trap-order", UserAgent: "permaudit-test"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	run := res.Run
	probed := map[string]int{}
	for _, c := range run.Observations.All() {
		probed[strings.TrimPrefix(c.URL, srv.URL)]++
	}
	want := map[string]int{}
	for _, p := range named {
		want[p] = len(cfg.RoleNames())
	}
	if fmt.Sprint(probed) != fmt.Sprint(want) {
		t.Errorf("probed %v, want the named endpoints as every role: %v", probed, want)
	}
	if run.Complete || !strings.Contains(run.Incomplete, "max_probes") {
		t.Errorf("complete %v, reason %q: want incomplete by max_probes", run.Complete, run.Incomplete)
	}
	left := 0
	for _, l := range run.Inventory.Left {
		if l.Reason == "max_probes" {
			left += l.Count
		}
	}
	gets := 0 // the login form's POST is never sent
	for _, e := range run.Inventory.Entries {
		if e.Method == "GET" {
			gets++
		}
	}
	if left != gets-len(named) {
		t.Errorf("%d left by max_probes, want the %d GET endpoints not named", left, gets-len(named))
	}
}

// TestTrapTimeCap stops an audit of the trap by time, with caps lifted
// and a rate that discovery cannot finish at within its half of the
// time: the run is incomplete and says so, discovery was stopped with
// URLs left unfetched, and what was not probed is listed per page. (That
// the probes left are the least important is TestTrapProbeOrder's: which
// cells a clock cuts depends on the machine.)
func TestTrapTimeCap(t *testing.T) {
	srv := trapapp.New()
	defer srv.Close()
	cfg := trapConfig(t, srv.URL, "crawl:\n  max_duration: 2s\n  rate: 200\n  max_query_variants: 100000\n  max_per_template: 100000\n")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg, Options{RunID: "trap-time", UserAgent: "permaudit-test"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	run := res.Run
	t.Logf("incomplete: %s; %d cells; left %d group(s)", run.Incomplete, run.Observations.Len(), len(run.Inventory.Left))
	if run.Complete || !strings.Contains(run.Incomplete, "max duration 2s reached (discovery stopped after its share, 1s: ") {
		t.Fatalf("complete %v, reason %q: want the time cap, discovery stopped at its share", run.Complete, run.Incomplete)
	}
	if run.Inventory.Cut.MaxDuration == 0 {
		t.Errorf("cut %+v: no URL counted as never fetched by time", run.Inventory.Cut)
	}
	probed := map[string]bool{}
	for _, c := range run.Observations.All() {
		probed[c.URL] = true
	}
	unprobed := 0
	for _, e := range run.Inventory.Entries {
		if !probed[e.URL] {
			unprobed++
		}
	}
	left := 0
	for _, l := range run.Inventory.Left {
		if l.Reason == "max_duration" {
			left += l.Count
		}
	}
	if unprobed > 0 && left == 0 {
		t.Errorf("%d endpoints never probed, none listed as left by max_duration: %+v", unprobed, run.Inventory.Left)
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
