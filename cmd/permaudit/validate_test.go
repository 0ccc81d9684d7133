package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
)

// TestValidateRefusesUnsafeCheck: a role's check is sent after every
// sign-in and every confirmation; validate refuses one that could change
// or destroy data, or end the session, where it is written.
func TestValidateRefusesUnsafeCheck(t *testing.T) {
	cfg := writeFile(t, "unsafe.yaml", `target: http://127.0.0.1:1
roles:
  admin:
    login: {bearer: t0ken-Value}
    check: {method: DELETE, url: /api/users/1/delete}
matrix:
  default: deny
`)
	valid := strings.Replace(readFile(t, cfg), "{method: DELETE, url: /api/users/1/delete}", "{method: HEAD, url: /api/me}", 1)
	if code, _, stderr := runCLI(t, nil, "validate", "-c", writeFile(t, "safe.yaml", valid)); code != 0 {
		t.Fatalf("the same configuration with a HEAD check: exit code %d, want 0\n%s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, nil, "validate", "-c", cfg)
	if code != exitUsage {
		t.Errorf("exit code = %d, want %d\nstdout %s\nstderr %s", code, exitUsage, stdout, stderr)
	}
	for _, want := range []string{
		cfg + ":5:21: roles.admin.check.method: a check may not use DELETE",
		cfg + ":5:34: roles.admin.check.url: \"/api/users/1/delete\" holds the exclusion word \"delete\"",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if n := strings.Count(stderr, ": roles."); n != 2 {
		t.Errorf("%d problems, want the 2 of the check:\n%s", n, stderr)
	}
	if strings.Contains(stderr, "t0ken-Value") {
		t.Errorf("stderr holds the role's token:\n%s", stderr)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestValidateIndentationError: a line indented too little is reported on
// that line, not where its enclosing block starts (yaml.v3's position).
func TestValidateIndentationError(t *testing.T) {
	cfg := writeFile(t, "indent.yaml", `target: http://127.0.0.1:1
roles:
  admin:
    login:
      bearer: t0ken-Value
     check: {url: /api/me}
matrix:
  default: deny
`)
	code, _, stderr := runCLI(t, nil, "validate", "-c", cfg)
	if code != exitUsage {
		t.Errorf("exit code = %d, want %d", code, exitUsage)
	}
	if want := cfg + ":6:6: invalid YAML: did not find expected key"; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
}

// TestValidateWarnsOfShadowedRules: validate names a rule that an earlier
// rule fully covers, with both lines, and the configuration stays valid.
func TestValidateWarnsOfShadowedRules(t *testing.T) {
	cfg := writeFile(t, "shadow.yaml", `target: http://127.0.0.1:8080
matrix:
  rules:
    - match: "GET /admin/**"
      allow: []
    - match: "GET /admin/settings"
      allow: ["*"]
`)
	code, stdout, stderr := runCLI(t, nil, "validate", "-c", cfg)
	if code != exitOK || !strings.Contains(stdout, "valid") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	want := cfg + ":6: warning: rule GET /admin/settings (line 6) never applies: the earlier rule GET /admin/** (line 4) matches every URL it matches"
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr:\n%s\nwant it to hold %q", stderr, want)
	}
}

// TestValidateWarnsOfBareRulesInARun: validate --run judges a saved run
// again with the configuration and warns, at the rule's line, of a
// pattern for a bare page that judged many query variants of it, some of
// them findings, saying how to write it exactly.
func TestValidateWarnsOfBareRulesInARun(t *testing.T) {
	run := &model.Run{Schema: model.SchemaVersion, Tool: model.Tool{Name: "permaudit"}, Target: "http://127.0.0.1:1",
		Roles: []model.RoleInfo{{Name: "anonymous"}, {Name: "user", SignIn: "static"}}, Gate: model.Gate{FailOn: model.DefaultFailOn},
		Observations: model.NewCells(0)}
	run.Observations.Append(model.Cell{Observation: model.Observation{Endpoint: model.Endpoint{Method: "GET", URL: "http://127.0.0.1:1/api.php"}, Role: "user", Class: model.Allowed, Status: 200}})
	for i := range 12 {
		run.Observations.Append(model.Cell{Observation: model.Observation{
			Endpoint: model.Endpoint{Method: "GET", URL: fmt.Sprintf("http://127.0.0.1:1/api.php?action=a%02d", i)}, Role: "user", Class: model.Forbidden, Status: 403}})
	}
	data, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	runPath := writeFile(t, "run.json", string(data))
	cfg := writeFile(t, "wiki.yaml", `target: http://127.0.0.1:1
roles:
  user:
    login: {bearer: t0ken-Value}
    check: {url: /api/me}
matrix:
  rules:
    - {match: "GET /api.php", allow: [user]}
`)
	code, stdout, stderr := runCLI(t, nil, "validate", "-c", cfg, "--run", runPath)
	if code != 0 {
		t.Fatalf("exit code %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if want := cfg + `:8: warning: pattern "GET /api.php" of rule GET /api.php (line 8) names no query, so it judged 12 query variants of GET /api.php (such as ?action=a00), 12 cell(s) of them findings: if the rule is for the page alone, write "GET /api.php?"`; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	exact := strings.Replace(readFile(t, cfg), `"GET /api.php"`, `"GET /api.php?"`, 1)
	if code, _, stderr := runCLI(t, nil, "validate", "-c", writeFile(t, "exact.yaml", exact), "--run", runPath); code != 0 || strings.Contains(stderr, "warning") {
		t.Errorf("with GET /api.php?: exit %d, stderr %s; want 0 and no warning", code, stderr)
	}
}

// TestValidateWarnsOfWeakChecks: a role that signs in with a form and
// also sends a static API key, and a check on a page the matrix allows
// anonymous, are checks that may prove no session: validate says so;
// proves_session: false silences it.
func TestValidateWarnsOfWeakChecks(t *testing.T) {
	cfg := writeFile(t, "weak.yaml", `target: http://127.0.0.1:8080
roles:
  editor:
    login:
      form: {url: /login, fields: {log: editor, pwd: pw}}
      headers: {X-Api-Key: key-0123456789}
    check: {url: /api/me}
  viewer:
    login: {bearer: viewer-token-1}
    check: {url: /status}
  accepted:
    login: {bearer: accepted-token-1}
    check: {url: /status, proves_session: false}
  noncer:
    login:
      form: {url: /login, fields: {log: noncer, pwd: pw}}
      capture: {nonce: "regex:nonce=(\\w+)"}
      headers: {X-Nonce: "{self.nonce}"}
    check: {url: /api/me}
matrix:
  rules:
    - {match: "GET /status", allow: ["*"]}
`)
	code, stdout, stderr := runCLI(t, nil, "validate", "-c", cfg)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		cfg + ": warning: role editor: the check GET /api/me is sent with the static credentials as well as the session its form sign-in obtains",
		cfg + ": warning: role viewer: the check GET /status is a page the matrix allows anonymous (rule GET /status (line 22))",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr:\n%s\nwant it to hold %q", stderr, want)
		}
	}
	if strings.Contains(stderr, "role accepted:") || strings.Contains(stderr, "role noncer:") || strings.Contains(stderr, "key-0123456789") {
		t.Errorf("stderr:\n%s\nwarns of a check accepted with proves_session: false, or of a header resolved from a capture, or quotes the key", stderr)
	}
}
