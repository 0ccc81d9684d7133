package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/internal/demoapp"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/report"
	"github.com/permaudit/permaudit/roles"
)

// everyVerdict makes every finding fail the gate, so that exit 0 proves
// there was none.
const everyVerdict = "leak,blocked,existence-leak,wrong-code,error"

func readRunJSON(t *testing.T, path string) *model.Run {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no run JSON: %v", err)
	}
	defer f.Close()
	run, err := model.ReadRun(f)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return run
}

func bugsOf(t *testing.T, s string) demoapp.Bugs {
	t.Helper()
	b, err := demoapp.ParseBugs(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// findingKeys lists findings as "verdict METHOD /path as role".
func findingKeys(fs []model.Finding) []string {
	var out []string
	for _, f := range fs {
		u, _ := url.Parse(f.URL)
		out = append(out, cellKey{string(f.Verdict), f.Method, u.RequestURI(), f.Role}.String())
	}
	return out
}

// TestRegressionGate walks the gate a team adopts: a first audit writes a
// baseline; the same application audited with it passes; one more planted
// leak fails the gate with exactly that finding; diff shows it; a matrix
// edit is tried on the saved run without a request; learn drafts a matrix.
func TestRegressionGate(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	env := demoapp.Env()
	known := "blocked,wrong-code,existence-leak"

	// 1. The first audit, with three known bugs, writes the baseline.
	srv, cfg := startDemo(t, bugsOf(t, known))
	code, _, stderr := runCLI(t, env, "audit", "-c", cfg, "--target", srv.URL(), "--fail-on", everyVerdict, "--out", "json="+at("first.json"))
	if code != exitGate {
		t.Fatalf("first audit: exit %d, want %d (three known bugs)\n%s", code, exitGate, stderr)
	}
	code, baseline, stderr := runCLI(t, nil, "baseline", at("first.json"), "--reason", "known since the first audit")
	if code != exitOK || !strings.HasPrefix(baseline, "# permaudit baseline") {
		t.Fatalf("baseline: exit %d, stdout %q\n%s", code, baseline, stderr)
	}
	if err := os.WriteFile(at("baseline.yaml"), []byte(baseline), 0o644); err != nil {
		t.Fatal(err)
	}
	first := readRunJSON(t, at("first.json"))

	// 2. The same application audited with the baseline is clean.
	code, _, stderr = runCLI(t, env, "audit", "-c", cfg, "--target", srv.URL(), "--fail-on", everyVerdict,
		"--baseline", at("baseline.yaml"), "--out", "json="+at("second.json"))
	if code != exitOK {
		t.Fatalf("second audit with the baseline: exit %d, want 0\n%s", code, stderr)
	}
	second := readRunJSON(t, at("second.json"))
	if b := second.Baseline; b == nil || b.New != 0 || b.Accepted != len(first.Findings) || len(b.Fixed) != 0 {
		t.Errorf("baseline outcome %+v: want all %d findings baselined", b, len(first.Findings))
	}
	if want := fmt.Sprintf("gate passed (baseline: 0 new, %d baselined, 0 expired, 0 fixed)", len(first.Findings)); !strings.Contains(stderr, want) {
		t.Errorf("the summary line does not give the baseline counts:\n%s", stderr)
	}

	// 3. One more planted leak fails the gate with exactly that finding.
	leaky, _ := startDemo(t, bugsOf(t, known+","+demoapp.BugLeak))
	code, _, stderr = runCLI(t, env, "audit", "-c", cfg, "--target", leaky.URL(), "--fail-on", everyVerdict,
		"--baseline", at("baseline.yaml"), "--out", "json="+at("third.json"))
	if code != exitGate {
		t.Fatalf("audit with the new leak: exit %d, want %d\n%s", code, exitGate, stderr)
	}
	third := readRunJSON(t, at("third.json"))
	var leakCells []string
	for _, b := range demoapp.AllBugs() {
		if b.Name == demoapp.BugLeak {
			for _, c := range b.Cells {
				leakCells = append(leakCells, cellKey{b.Verdict, c.Method, c.Path, c.Role}.String())
			}
		}
	}
	var fresh []model.Finding
	for _, f := range third.Findings {
		if f.Baseline != report.BaselineAccepted {
			fresh = append(fresh, f)
		}
	}
	if got := findingKeys(fresh); !slices.Equal(got, leakCells) {
		t.Errorf("findings not in the baseline: %v, want exactly the planted leak %v", got, leakCells)
	}
	if third.Gate.Failing != 1 || third.Baseline.New != 1 {
		t.Errorf("gate %+v, baseline %+v: want one failing, new finding", third.Gate, third.Baseline)
	}

	// 4. diff shows the new finding and the answer that changed.
	code, text, stderr := runCLI(t, nil, "diff", at("second.json"), at("third.json"))
	if code != exitOK {
		t.Fatalf("diff: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"new findings (1):", "fixed findings (0):",
		"403 forbidden became 200 allowed for support on GET /api/admin/export (pass became leak)"} {
		if !strings.Contains(text, want) {
			t.Errorf("diff does not say %q:\n%s", want, text)
		}
	}
	code, js, _ := runCLI(t, nil, "diff", "--format", "json", at("second.json"), at("third.json"))
	var d model.Diff
	if err := json.Unmarshal([]byte(js), &d); code != exitOK || err != nil {
		t.Fatalf("diff --format json: exit %d, %v", code, err)
	}
	if got := findingKeys(d.NewFindings); !slices.Equal(got, leakCells) || len(d.Changed) != 1 {
		t.Errorf("diff json: new %v, changed %+v; want the leak and its cell", got, d.Changed)
	}
	code, md, _ := runCLI(t, nil, "diff", "-f", "markdown", at("second.json"), at("third.json"))
	if code != exitOK || !strings.Contains(md, "| `GET /api/admin/export` | support | 403 forbidden | 200 allowed | pass → leak |") {
		t.Errorf("diff markdown: exit %d\n%s", code, md)
	}

	// The report of the new run shows the same diff when given the old one.
	code, _, stderr = runCLI(t, nil, "report", at("third.json"), "--diff", at("second.json"), "--out", "json="+at("diffed.json"))
	if code != exitOK {
		t.Fatalf("report --diff: exit %d\n%s", code, stderr)
	}
	if diffed := readRunJSON(t, at("diffed.json")); diffed.Diff == nil || !slices.Equal(findingKeys(diffed.Diff.NewFindings), leakCells) {
		t.Errorf("report --diff: the run's diff is %+v, want the new leak", diffed.Diff)
	}

	// 5. report -c tries a matrix edit on the saved run: no request sent.
	before := len(srv.App.Requests()) + len(leaky.App.Requests())
	edited := strings.Replace(string(demoapp.Config()), `    - match: ["GET /admin/**", "GET /api/admin/**"]`,
		"    - match: \"GET /api/admin/export\"\n      allow: [support]\n\n"+`    - match: ["GET /admin/**", "GET /api/admin/**"]`, 1)
	if edited == string(demoapp.Config()) {
		t.Fatal("setup: the demo's admin rule was not found")
	}
	editedCfg := writeFile(t, "edited.yaml", edited)
	// No environment: judging needs the matrix, not the credentials.
	code, _, stderr = runCLI(t, nil, "report", at("third.json"), "-c", editedCfg, "--out", "json="+at("fourth.json"))
	if code != exitGate {
		t.Errorf("report -c: exit %d, want %d (the known bugs fail the gate without the baseline)\n%s", code, exitGate, stderr)
	}
	fourth := readRunJSON(t, at("fourth.json"))
	if got, want := findingKeys(fourth.Findings), findingKeys(first.Findings); !slices.Equal(got, want) {
		t.Errorf("re-judged findings:\n got  %v\n want %v (the known bugs, the leak now allowed)", got, want)
	}
	if fourth.Rejudged == nil || fourth.Rejudged.ConfigFile != editedCfg {
		t.Errorf("rejudged = %+v, want the edited configuration", fourth.Rejudged)
	}
	code, _, stderr = runCLI(t, nil, "report", at("third.json"), "-c", editedCfg, "--baseline", at("baseline.yaml"))
	if code != exitOK {
		t.Errorf("report -c --baseline: exit %d, want 0\n%s", code, stderr)
	}
	if after := len(srv.App.Requests()) + len(leaky.App.Requests()); after != before {
		t.Errorf("re-judging sent %d requests to the demo, want none", after-before)
	}
}

// TestLearnOnTheDemo drafts the demo's matrix from a run of the correct
// application and checks the draft against the demo's policy in code.
func TestLearnOnTheDemo(t *testing.T) {
	dir := t.TempDir()
	env := demoapp.Env()
	srv, cfgPath := startDemo(t, demoapp.Bugs{})
	code, _, stderr := runCLI(t, env, "audit", "-c", cfgPath, "--target", srv.URL(), "--out", "json="+filepath.Join(dir, "run.json"))
	if code != exitOK {
		t.Fatalf("audit: exit %d\n%s", code, stderr)
	}
	code, draft, stderr := runCLI(t, nil, "learn", filepath.Join(dir, "run.json"), "-c", cfgPath)
	if code != exitOK {
		t.Fatalf("learn: exit %d\n%s", code, stderr)
	}

	// The draft is the matrix section of a configuration that loads.
	demo := string(demoapp.Config())
	i := strings.Index(demo, "\nmatrix:\n")
	whole := demo[:i+1] + draft
	cfg, err := roles.Parse("draft.yaml", []byte(whole), roles.LoadOptions{Env: demoapp.LookupEnv})
	if err != nil {
		t.Fatalf("the draft does not load: %v\n%s", err, draft)
	}
	endpoints := len(demoapp.Endpoints())
	if n := len(cfg.Matrix.Rules); n*3 > endpoints {
		t.Errorf("%d rules for %d endpoints, want at most a third\n%s", n, endpoints, draft)
	}
	// "**" where the demo's policy groups a subtree (policy.go: needs).
	for _, p := range []string{"GET /admin/**", "GET /api/admin/**", "GET /support/**", "GET /account/**"} {
		if !strings.Contains(draft, `"`+p+`"`) {
			t.Errorf("the draft does not group %s:\n%s", p, draft)
		}
	}
	if strings.Contains(draft, "# suspicious: ") {
		t.Errorf("the correct demo has suspicious answers:\n%s", draft)
	}

	// Auditing the demo with the draft as its matrix gives no finding.
	code, _, stderr = runCLI(t, env, "audit", "-c", writeFile(t, "draft.yaml", whole), "--target", srv.URL(), "--fail-on", everyVerdict)
	if code != exitOK {
		t.Errorf("audit with the draft: exit %d, want 0\n%s\n%s", code, stderr, draft)
	}

	// Learned from the run with every bug, the suspicious answers name
	// each planted bug: the bug's role and its endpoint's template.
	buggy, _ := startDemo(t, demoapp.AllBugsOn())
	code, _, stderr = runCLI(t, env, "audit", "-c", cfgPath, "--target", buggy.URL(), "--fail-on", "none", "--out", "json="+filepath.Join(dir, "bugs.json"))
	if code != exitOK {
		t.Fatalf("audit with --fail-on none: exit %d\n%s", code, stderr)
	}
	code, draft, _ = runCLI(t, nil, "learn", filepath.Join(dir, "bugs.json"))
	if code != exitOK {
		t.Fatalf("learn: exit %d", code)
	}
	var suspicious []string
	for _, line := range strings.Split(draft, "\n") {
		if _, s, ok := strings.Cut(line, "# suspicious: "); ok {
			suspicious = append(suspicious, s)
		}
	}
	for _, b := range demoapp.AllBugs() {
		for _, c := range b.Cells {
			tmpl := model.Template(c.Method, "http://x"+c.Path)
			named := false
			for _, s := range suspicious {
				named = named || strings.Contains(s, tmpl) && strings.Contains(s, c.Role)
			}
			if !named {
				t.Errorf("bug %s: no suspicious comment names %s as %s:\n%s", b.Name, tmpl, c.Role, strings.Join(suspicious, "\n"))
			}
		}
	}
	if len(suspicious) != len(demoapp.AllBugs()) {
		t.Errorf("%d suspicious comments for %d planted bugs:\n%s", len(suspicious), len(demoapp.AllBugs()), strings.Join(suspicious, "\n"))
	}
}

// TestSameFindingsOnAnyPort audits one application on two ports: the
// findings, their fingerprints and their order are the same.
func TestSameFindingsOnAnyPort(t *testing.T) {
	dir := t.TempDir()
	var runs []*model.Run
	for i := range 2 {
		srv, cfg := startDemo(t, demoapp.AllBugsOn())
		out := filepath.Join(dir, []string{"a.json", "b.json"}[i])
		code, _, stderr := runCLI(t, demoapp.Env(), "audit", "-c", cfg, "--target", srv.URL(), "--out", "json="+out)
		if code != exitGate {
			t.Fatalf("audit: exit %d\n%s", code, stderr)
		}
		runs = append(runs, readRunJSON(t, out))
	}
	if runs[0].Target == runs[1].Target {
		t.Fatal("setup: both demos listen on the same address")
	}
	key := func(r *model.Run) []string {
		var out []string
		for _, f := range append(append([]model.Finding{}, r.Findings...), r.Notes...) {
			out = append(out, f.Fingerprint+" "+string(f.Verdict)+" "+f.Path+" "+f.Role)
		}
		return out
	}
	if a, b := key(runs[0]), key(runs[1]); !slices.Equal(a, b) || len(a) == 0 {
		t.Errorf("findings differ between ports:\n%v\n%v", a, b)
	}
	if d := report.Compare(runs[0], runs[1]); !d.Empty() {
		t.Errorf("diff between ports is not empty: %+v", d)
	}
}

func TestGateCommandsUsageErrors(t *testing.T) {
	srv, cfg := startDemo(t, demoapp.Bugs{})
	dir := t.TempDir()
	runFile := filepath.Join(dir, "run.json")
	if code, _, stderr := runCLI(t, demoapp.Env(), "audit", "-c", cfg, "--target", srv.URL(), "--out", "json="+runFile); code != exitOK {
		t.Fatalf("audit: exit %d\n%s", code, stderr)
	}
	requests := len(srv.App.Requests())
	badBaseline := writeFile(t, "bad.yaml", "schema: permaudit.baseline/v1\nfindings:\n  - fingerprint: nope\n")
	notRun := writeFile(t, "not-a-run.json", `{"schema": "permaudit.run/v0"}`)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"audit with a bad baseline", []string{"audit", "-c", cfg, "--target", srv.URL(), "--baseline", badBaseline}, "bad.yaml:3:18: findings[0].fingerprint"},
		{"audit with a missing baseline", []string{"audit", "-c", cfg, "--target", srv.URL(), "--baseline", filepath.Join(dir, "none.yaml")}, "permaudit baseline run.json >"},
		{"report with a bad baseline", []string{"report", runFile, "--baseline", badBaseline}, "findings[0].reason: required"},
		{"report with a config lacking a role", []string{"report", runFile, "-c", writeFile(t, "small.yaml", "target: http://127.0.0.1:1\nmatrix: {}\n")}, "does not declare"},
		{"report with a missing earlier run", []string{"report", runFile, "--diff", filepath.Join(dir, "old.json")}, "--diff: open the run"},
		{"baseline of no run", []string{"baseline", filepath.Join(dir, "none.json")}, "none.json"},
		{"baseline of another schema", []string{"baseline", notRun}, "permaudit.run/v0"},
		{"baseline with a bad expiry", []string{"baseline", runFile, "--expires", "next week"}, "--expires"},
		{"diff of one run", []string{"diff", runFile}, "accepts 2 arg(s)"},
		{"diff in an unknown format", []string{"diff", runFile, runFile, "--format", "pdf"}, "--format"},
		{"diff of stdin twice", []string{"diff", "-", "-"}, "stdin"},
		{"learn of no run", []string{"learn"}, "accepts 1 arg(s)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, demoapp.Env(), tc.args...)
			if code != exitUsage {
				t.Errorf("exit code = %d, want %d\nstderr:\n%s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Errorf("want %q on stderr and nothing on stdout; stdout %q, stderr:\n%s", tc.want, stdout, stderr)
			}
		})
	}
	if n := len(srv.App.Requests()) - requests; n != 0 {
		t.Errorf("usage errors sent %d requests to the target, want none", n)
	}
	for _, verb := range []string{"baseline", "diff", "learn"} {
		if code, stdout, _ := runCLI(t, nil, verb, "--help"); code != exitOK || !strings.Contains(stdout, "permaudit "+verb) {
			t.Errorf("%s --help: exit %d, stdout %q", verb, code, stdout)
		}
	}
}
