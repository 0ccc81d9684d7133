package judge

import (
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
)

func TestRejudge(t *testing.T) {
	run := shopRun(t, true, false, false) // customer reads /admin/users/{id}
	if len(run.Findings) != 2 || !run.Gate.Failed {
		t.Fatalf("setup: findings %d, gate %+v; want the two leaks", len(run.Findings), run.Gate)
	}
	run.Filters.Roles = nil
	run.Baseline = &model.BaselineResult{File: "old.yaml"}

	// The edited matrix allows customer the user pages: no finding left.
	edited := strings.Replace(testConfig, "    - match: \"GET /admin/**\"\n",
		"    - match: \"GET /admin/users/{id}\"\n      allow: [customer]\n    - match: \"GET /admin/**\"\n", 1)
	cfg := parseConfig(t, edited)
	if err := Rejudge(run, cfg); err != nil {
		t.Fatal(err)
	}
	if len(run.Findings) != 0 || run.Gate.Failed || run.Counts[model.Leak] != 0 {
		t.Errorf("after re-judging: findings %+v, gate %+v; want none", run.Findings, run.Gate)
	}
	if run.Baseline != nil {
		t.Error("the old baseline outcome was kept")
	}
	if run.Rejudged == nil || run.Rejudged.ConfigFingerprint != cfg.Fingerprint() || run.ConfigFingerprint == cfg.Fingerprint() {
		t.Errorf("rejudged = %+v, config fingerprint %q: want the new configuration named apart", run.Rejudged, run.ConfigFingerprint)
	}
	for _, c := range run.Observations.All() {
		if strings.HasSuffix(c.URL, "/admin/users/1") && c.Role == "customer" && (c.Verdict != model.Pass || !strings.Contains(c.Rule, "GET /admin/users/{id}")) {
			t.Errorf("cell %s as %s: verdict %s by %s, want pass by the new rule", c.URL, c.Role, c.Verdict, c.Rule)
		}
	}

	// Back to the original matrix: the leaks again, same fingerprints.
	if err := Rejudge(run, parseConfig(t, testConfig)); err != nil {
		t.Fatal(err)
	}
	if len(run.Findings) != 2 || run.Findings[0].Fingerprint != shopRun(t, true, false, false).Findings[0].Fingerprint {
		t.Errorf("findings after judging with the first matrix again: %+v", run.Findings)
	}
}

func TestRejudgeUnknownRole(t *testing.T) {
	run := shopRun(t, false, false, false)
	err := Rejudge(run, parseConfig(t, unmappedConfig)) // no admin role
	if err == nil || !strings.Contains(err.Error(), "admin") {
		t.Errorf("error = %v, want one naming the role admin", err)
	}
}
