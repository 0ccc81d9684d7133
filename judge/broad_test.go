package judge

import (
	"fmt"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// broadRun is a wiki's API page allowed to user, and twelve crawled
// variants of it (?action=...) the application denies: cells judged by
// cfg.
func broadRun(t *testing.T, rules string) (*model.Run, *roles.Config) {
	t.Helper()
	cfg, err := roles.Parse("wiki.yaml", []byte(`target: http://h
roles:
  user:
    login: {bearer: t0ken-Value}
matrix:
  rules:
`+rules), roles.LoadOptions{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	obs := []model.Observation{{Endpoint: model.Endpoint{Method: "GET", URL: "http://h/api.php"}, Role: "user", Class: model.Allowed, Status: 200}}
	for i := range 12 {
		obs = append(obs, model.Observation{Endpoint: model.Endpoint{Method: "GET", URL: fmt.Sprintf("http://h/api.php?action=a%02d", i)}, Role: "user", Class: model.Forbidden, Status: 403})
	}
	run := &model.Run{Gate: model.Gate{FailOn: model.DefaultFailOn}}
	Judge(run, cfg, obs)
	return run, cfg
}

// TestBroadRules: a rule written for a bare page (GET /api.php) judged
// every crawled variant of it, and every one became a false "blocked";
// BroadRules names the pattern and says how to write it. Written for the
// page alone (a trailing "?"), with the variants' own rule, nothing is
// named.
func TestBroadRules(t *testing.T) {
	run, cfg := broadRun(t, "    - {match: \"GET /api.php\", allow: [user]}\n")
	got := BroadRules(run, cfg)
	if len(got) != 1 {
		t.Fatalf("BroadRules = %+v, want one", got)
	}
	b := got[0]
	if b.Pattern != "GET /api.php" || b.Path != "GET /api.php" || b.Variants != 12 || b.Findings != 12 || b.Example != "?action=a00" {
		t.Errorf("BroadRules = %+v", b)
	}
	for _, want := range []string{`pattern "GET /api.php" of rule GET /api.php (line 7)`, "judged 12 query variants", `write "GET /api.php?"`, `"?!key=value"`} {
		if !strings.Contains(b.Warning(), want) {
			t.Errorf("warning lacks %q: %s", want, b.Warning())
		}
	}

	run, cfg = broadRun(t, "    - {match: \"GET /api.php?\", allow: [user]}\n    - {match: \"GET /api.php\", allow: []}\n")
	if got := BroadRules(run, cfg); len(got) != 0 {
		t.Errorf("with an exact rule for the page: BroadRules = %+v, want none", got)
	}
	if len(run.Findings) != 0 {
		t.Errorf("findings %+v, want none", run.Findings)
	}
}

// TestBroadRulesSkipSubtrees: a "**" pattern means everything under it,
// query variants included: it is never named.
func TestBroadRulesSkipSubtrees(t *testing.T) {
	run, cfg := broadRun(t, "    - {match: \"GET /api.php/**\", allow: [user]}\n")
	if got := BroadRules(run, cfg); len(got) != 0 {
		t.Errorf("BroadRules = %+v, want none for a subtree pattern", got)
	}
}
