package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/internal/authapp"
	"github.com/permaudit/permaudit/model"
)

// TestCapturedVarsJudgeTheSameAgain audits authapp, whose form roles
// capture their user id at sign-in (capture: {user_id: "regex:user
// (\\d+)"}) for the rule "GET /profile/{self.user_id}", then judges the
// saved run again with the same configuration (permaudit report -c) and
// drafts a matrix from it (permaudit learn -c). Both must use the values
// the audit captured: before the run saved them, judging again read the
// configuration alone, and every profile a role may read became a
// critical leak, with the rule reported dead.
func TestCapturedVarsJudgeTheSameAgain(t *testing.T) {
	a := runAuthAudit(t, authapp.Options{}, nil, nil, auditFlags{})
	if a.run == nil || a.code != exitOK {
		t.Fatalf("audit: exit %d, %v\nstderr:\n%s", a.code, a.err, a.stderr)
	}

	// The truth: the application's ids, saved as what each role captured.
	for _, ri := range a.run.Roles {
		id := authapp.UserID(ri.Name)
		if ri.Name == "anonymous" || ri.Name == authapp.Service { // the oauth2 role captures nothing
			if len(ri.Vars) != 0 {
				t.Errorf("role %s: vars %v, want none", ri.Name, ri.Vars)
			}
			continue
		}
		if got, want := ri.Vars["user_id"], strconv.Itoa(id); got != want {
			t.Errorf("role %s: saved user_id %q, want %q (the application's id)", ri.Name, got, want)
		}
	}
	// The rule of captured ids decided cells at audit time.
	own := 0
	for _, c := range a.run.Observations.All() {
		if strings.HasPrefix(c.Rule, "GET /profile/{self.user_id} (line ") && c.Verdict == model.Pass && c.Expected == "allow" {
			own++
		}
	}
	if own == 0 {
		t.Fatalf("no cell passed by GET /profile/{self.user_id}: the captured ids were not used\n%s", a.stderr)
	}

	cfgFile := writeFile(t, "authapp.yaml", strings.Replace(string(authapp.Config()), "target: http://127.0.0.1:8080", "target: "+a.run.Target, 1))
	runFile := writeFile(t, "run.json", string(a.json))
	again := writeFile(t, "again.json", "")
	code, _, stderr := runCLI(t, authapp.Env(), "report", runFile, "-c", cfgFile, "--out", "json="+again)
	if code != exitOK {
		t.Fatalf("report -c: exit %d\n%s", code, stderr)
	}
	rejudged, err := readRunFile(again, nil)
	if err != nil {
		t.Fatal(err)
	}
	verdicts := func(r *model.Run) []string {
		var out []string
		for _, c := range r.Observations.All() {
			out = append(out, fmt.Sprintf("%s %s as %s: %s (%s, %s)", c.Method, c.URL, c.Role, c.Verdict, c.Expected, c.Rule))
		}
		for _, f := range append(slices.Clone(r.Findings), r.Notes...) {
			out = append(out, fmt.Sprintf("%s %s", f.Verdict, f.Fingerprint))
		}
		return out
	}
	if got, want := verdicts(rejudged), verdicts(a.run); !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("first difference: judged again %q, audit %q", got[i], want[i])
				break
			}
		}
		t.Fatalf("judged again with the same configuration, the verdicts differ (%d vs %d lines)", len(got), len(want))
	}

	code, draft, stderr := runCLI(t, authapp.Env(), "learn", runFile, "-c", cfgFile)
	if code != exitOK {
		t.Fatalf("learn -c: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(draft, "GET /profile/{self.user_id}") {
		t.Errorf("learn -c: the draft does not name the captured id as {self.user_id}:\n%s", draft)
	}
}
