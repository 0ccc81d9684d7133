package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/internal/demoapp"
	"github.com/permaudit/permaudit/model"
)

// cellKey names one expected or reported finding.
type cellKey struct{ Verdict, Method, Path, Role string }

func (c cellKey) String() string {
	return fmt.Sprintf("%s %s %s as %s", c.Verdict, c.Method, c.Path, c.Role)
}

// truthOf computes, from the demo's policy code alone, the findings that
// switching bugs on must produce: every cell of the route table whose
// answer differs from the intended policy's, with the bug's verdict.
func truthOf(t *testing.T, bugs demoapp.Bugs) []cellKey {
	t.Helper()
	verdict := map[string]string{}
	for _, b := range demoapp.AllBugs() {
		verdict[b.Name] = b.Verdict
	}
	intended := demoapp.Policy{}
	planted := demoapp.Policy{Bugs: bugs}
	var want []cellKey
	for _, e := range demoapp.Endpoints() {
		for _, role := range demoapp.Roles() {
			got := planted.Decide(role, e.Method, e.Path)
			if got == intended.Decide(role, e.Method, e.Path) {
				continue
			}
			if got.Bug == "" {
				t.Fatalf("policy: %s %s as %s changed without a bug naming it", e.Method, e.Path, role)
			}
			want = append(want, cellKey{verdict[got.Bug], e.Method, e.Path, role})
		}
	}
	sortKeys(want)
	return want
}

func sortKeys(ks []cellKey) {
	sort.Slice(ks, func(i, j int) bool { return ks[i].String() < ks[j].String() })
}

// runDemoAudit runs the demo command's run function, as the cobra command
// does, and returns the exit code, the saved run, the demo app (for its
// request log) and everything printed.
func runDemoAudit(t *testing.T, bugs, failOn string) (int, *model.Run, *demoapp.App, string) {
	t.Helper()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	var app *demoapp.App
	opts := &demoOptions{
		IO:      ioStreams{Out: &out, Err: &errb, Env: func(string) (string, bool) { return "", false }},
		Bugs:    bugs,
		Dir:     dir,
		Flags:   auditFlags{FailOn: failOn},
		Now:     time.Now,
		RunID:   func() string { return "test" },
		Started: func(s *demoapp.Server) { app = s.App },

		LogRequests: true,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := exitCode(runDemo(ctx, opts), &errb)
	f, err := os.Open(filepath.Join(dir, demoRunFile))
	if err != nil {
		t.Fatalf("demo wrote no run JSON: %v\nstderr:\n%s", err, errb.String())
	}
	defer f.Close()
	run, err := model.ReadRun(f)
	if err != nil {
		t.Fatalf("read run JSON: %v", err)
	}
	return code, run, app, out.String() + errb.String()
}

func TestDemoAuditFindsExactlyThePlantedBugs(t *testing.T) {
	cases := []struct {
		name string
		bugs string
	}{{"no bug", "none"}}
	for _, b := range demoapp.AllBugs() {
		cases = append(cases, struct{ name, bugs string }{b.Name, b.Name})
	}
	cases = append(cases, struct{ name, bugs string }{"all bugs", "all"})

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bugs, err := demoapp.ParseBugs(tc.bugs)
			if err != nil {
				t.Fatal(err)
			}
			want := truthOf(t, bugs)
			if tc.bugs != "none" && len(want) == 0 {
				t.Fatalf("the policy says bug %q changes no answer", tc.bugs)
			}
			// Every finding verdict fails the gate, so the exit code says
			// whether any finding was reported.
			code, run, app, output := runDemoAudit(t, tc.bugs, "leak,blocked,existence-leak,wrong-code,error")

			var got []cellKey
			for _, f := range run.Findings {
				u, err := url.Parse(f.URL)
				if err != nil {
					t.Fatalf("finding URL %q: %v", f.URL, err)
				}
				got = append(got, cellKey{string(f.Verdict), f.Method, u.RequestURI(), f.Role})
			}
			sortKeys(got)
			if !slices.Equal(got, want) {
				t.Errorf("findings:\n got  %v\n want %v\noutput:\n%s", got, want, output)
			}
			wantCode := exitOK
			if len(want) > 0 {
				wantCode = exitGate
			}
			if code != wantCode {
				t.Errorf("exit code = %d, want %d\noutput:\n%s", code, wantCode, output)
			}
			if !run.Complete {
				t.Errorf("run marked incomplete: %s", run.Incomplete)
			}
			// The audit must have probed every endpoint of the route table
			// as every role, and never requested an excluded one.
			probed := map[string]int{}
			for _, c := range run.Observations {
				u, _ := url.Parse(c.URL)
				probed[c.Method+" "+u.RequestURI()]++
			}
			for _, e := range demoapp.Endpoints() {
				if n := probed[e.Method+" "+e.Path]; n != len(demoapp.Roles()) {
					t.Errorf("%s %s probed as %d roles, want %d", e.Method, e.Path, n, len(demoapp.Roles()))
				}
			}
			if n := app.LogoutHits(); n != 0 {
				t.Errorf("/logout was requested %d times", n)
			}
			if len(app.Requests()) < len(run.Observations) {
				t.Fatalf("the demo logged %d requests for %d observations", len(app.Requests()), len(run.Observations))
			}
			for _, r := range app.Requests() {
				for _, ex := range demoapp.Excluded() {
					if r.Target == ex.Path {
						t.Errorf("excluded endpoint requested: %s %s as %s", r.Method, r.Target, r.Role)
					}
				}
			}
			// No secret reaches an output.
			raw, _ := json.Marshal(run)
			for _, secret := range demoapp.Env() {
				if strings.Contains(string(raw), secret) || strings.Contains(output, secret) {
					t.Errorf("secret %q found in the run or the output", secret[:3]+"...")
				}
			}
		})
	}
}

// TestInterruptedDemoWritesIncompleteOutputs cancels the demo's audit in
// the middle, as the first Ctrl-C does (main cancels the context): the run
// JSON and the HTML report are still written, both marked incomplete, and
// the exit code is 130.
func TestInterruptedDemoWritesIncompleteOutputs(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	var served int
	opts := &demoOptions{
		IO:          ioStreams{Out: &out, Err: &errb, Env: func(string) (string, bool) { return "", false }},
		Bugs:        "all",
		Dir:         dir,
		Now:         time.Now,
		RunID:       func() string { return "test" },
		LogRequests: true,
		Started: func(s *demoapp.Server) {
			go func() { // interrupt once the audit is well under way
				for ctx.Err() == nil && len(s.App.Requests()) < 120 {
					time.Sleep(time.Millisecond)
				}
				served = len(s.App.Requests())
				cancel()
			}()
		},
	}
	code := exitCode(runDemo(ctx, opts), &errb)
	if code != exitInterrupted {
		t.Fatalf("exit code = %d, want %d (the audit finished before the interrupt?)\n%s", code, exitInterrupted, errb.String())
	}
	f, err := os.Open(filepath.Join(dir, demoRunFile))
	if err != nil {
		t.Fatalf("no run JSON after the interrupt: %v", err)
	}
	defer f.Close()
	run, err := model.ReadRun(f)
	if err != nil {
		t.Fatalf("run JSON after the interrupt is not valid: %v", err)
	}
	if run.Complete || run.Incomplete == "" {
		t.Errorf("run complete = %v, reason %q; want incomplete", run.Complete, run.Incomplete)
	}
	if served == 0 {
		t.Errorf("the demo served nothing before the interrupt")
	}
	html, err := os.ReadFile(filepath.Join(dir, demoReportFile))
	if err != nil {
		t.Fatalf("no HTML report after the interrupt: %v", err)
	}
	if !strings.Contains(string(html), "INCOMPLETE") {
		t.Errorf("the HTML report does not say the run is incomplete")
	}
}
