package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
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
	return runDemoWith(t, bugs, failOn, true)
}

// runDemoWith is runDemoAudit with or without --gate.
func runDemoWith(t *testing.T, bugs, failOn string, gate bool) (int, *model.Run, *demoapp.App, string) {
	t.Helper()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	var app *demoapp.App
	opts := &demoOptions{
		IO:      ioStreams{Out: &out, Err: &errb, Env: func(string) (string, bool) { return "", false }},
		Bugs:    bugs,
		Dir:     dir,
		Gate:    gate,
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
			for _, c := range run.Observations.All() {
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
			if len(app.Requests()) < run.Observations.Len() {
				t.Fatalf("the demo logged %d requests for %d observations", len(app.Requests()), run.Observations.Len())
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

// TestDemoExitsZeroWhenItFindsThePlantedBugs: `permaudit demo` exited 1
// after finding exactly its planted bugs, and `go run` then printed its own
// "exit status 1", which reads as a crash. Without --gate the demo now
// exits 0 when the findings are exactly the planted bugs' cells and 1
// otherwise; --gate keeps the gate's exit code.
func TestDemoExitsZeroWhenItFindsThePlantedBugs(t *testing.T) {
	for _, tt := range []struct {
		name, bugs, failOn string
		gate               bool
		code               int
		say                string
	}{
		{"all bugs", "all", "", false, exitOK, "found exactly the 4 planted bug(s) (leak, blocked, wrong-code, existence-leak) as 6 findings"},
		{"no bug", "none", "", false, exitOK, "no bug planted, and the audit found none"},
		{"all bugs, --gate", "all", "", true, exitGate, "exit 1 is expected"},
		{"no bug, --gate", "none", "", true, exitOK, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, run, _, output := runDemoWith(t, tt.bugs, tt.failOn, tt.gate)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, output)
			}
			if !strings.Contains(output, tt.say) {
				t.Errorf("output does not say %q:\n%s", tt.say, output)
			}
			if tt.bugs == "all" && (len(run.Findings) != 6 || run.Gate.Failing != 5) {
				t.Errorf("%d findings, %d failing the gate; the README says 6 and 5", len(run.Findings), run.Gate.Failing)
			}
		})
	}
}

// TestDemoSaysWhatDiffers: findings that are not the planted bugs' exit 1
// and name each missing and unexpected one.
func TestDemoSaysWhatDiffers(t *testing.T) {
	var errb bytes.Buffer
	run := &model.Run{Findings: []model.Finding{
		{Verdict: model.Leak, Method: "GET", URL: "http://127.0.0.1:1/api/admin/export", Role: demoapp.Support},
		{Verdict: model.Leak, Method: "GET", URL: "http://127.0.0.1:1/api/admin/users", Role: demoapp.Customer},
	}}
	err := checkPlanted(ioStreams{Err: &errb}, run, demoapp.Bugs{Leak: true, WrongCode: true})
	if code := exitCode(err, &errb); code != exitGate {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"missing:    wrong-code GET /api/tickets as anonymous", "unexpected: leak GET /api/admin/users as customer"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("want %q in:\n%s", want, errb.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a command writing while a test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemoServe: --serve keeps the demo running after its audit, prints
// its address, the environment of its credentials and a command line, and
// the audit that command line runs finds the planted bugs; the context's
// end (Ctrl-C) stops it.
func TestDemoServe(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var errb syncBuffer
	opts := &demoOptions{
		IO:    ioStreams{Out: io.Discard, Err: &errb, Env: func(string) (string, bool) { return "", false }},
		Bugs:  "all",
		Dir:   dir,
		Serve: true,
		Now:   time.Now,
		RunID: func() string { return "test" },
	}
	done := make(chan int, 1)
	go func() { done <- exitCode(runDemo(ctx, opts), &errb) }()

	var printed string
	for !strings.Contains(printed, "  permaudit audit -c ") {
		select {
		case code := <-done:
			t.Fatalf("the demo ended (exit %d) instead of serving:\n%s", code, errb.String())
		case <-ctx.Done():
			t.Fatalf("the demo never said how to audit it:\n%s", errb.String())
		case <-time.After(10 * time.Millisecond):
		}
		printed = errb.String()
	}
	env := map[string]string{}
	var args []string
	for _, line := range strings.Split(printed, "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok && strings.HasPrefix(line, "export ") {
			env[k] = v
		}
		if strings.HasPrefix(line, "permaudit audit ") {
			args = strings.Fields(strings.TrimPrefix(line, "permaudit "))
		}
	}
	if len(env) != len(demoapp.Env()) || len(args) == 0 {
		t.Fatalf("printed %d variables and command %q; want %d and a command line:\n%s", len(env), args, len(demoapp.Env()), printed)
	}
	runFile := filepath.Join(t.TempDir(), "run.json")
	code, _, stderr := runCLI(t, env, append(args, "--out", "json="+runFile)...)
	if code != exitGate {
		t.Fatalf("the printed audit: exit %d, want 1 (the planted bugs fail the gate)\n%s", code, stderr)
	}
	if run := readRun(t, runFile); len(run.Findings) != 6 {
		t.Errorf("the printed audit: %d findings, want the 6 of the planted bugs", len(run.Findings))
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("after the context ended: exit %d, want 0 (the demo's own audit found the planted bugs)", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the demo kept serving after its context ended")
	}
}
