package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/crawl/crawltest"
	"github.com/permaudit/permaudit/model"
)

// notesApp serves notes 17 and 18, both the owner's, linked from "/".
// Anonymous is told 404 for every note, as for one that does not exist.
// The other role is answered by mode:
//   - "correct": 404 with the same message as a missing note;
//   - "status": 403 for an existing note, 404 for a missing one;
//   - "message": 404 for both, but "is private" for an existing note.
//
// Every 404 ends with "(c) 2017", which removing the id 17 must keep.
func notesApp(mode string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role := "anonymous"
		switch r.Header.Get("Authorization") {
		case "Bearer owner-token-5ecret":
			role = "owner"
		case "Bearer other-token-5ecret":
			role = "other"
		}
		if r.URL.Path == "/" {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<a href="/notes/17">a</a> <a href="/notes/18">b</a>`)
			return
		}
		id, ok := strings.CutPrefix(r.URL.Path, "/notes/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		exists := id == "17" || id == "18"
		missing := func() {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, "Note %s not found. (c) 2017 Notes", id)
		}
		switch {
		case !exists || role == "anonymous":
			missing()
		case role == "owner":
			fmt.Fprintf(w, "Note %s: buy milk", id)
		case mode == "status":
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, "forbidden")
		case mode == "message":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, "Note %s is private. (c) 2017 Notes", id)
		default:
			missing()
		}
	})
}

// auditRun audits target with the configuration body cfg (after target:)
// and returns the exit code and the saved run.
func auditRun(t *testing.T, target, cfg string, env map[string]string, extra ...string) (int, *model.Run, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "permaudit.yaml")
	if err := os.WriteFile(path, []byte("target: "+target+"\n"+cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run.json")
	args := append([]string{"audit", "-c", path, "--out", "json=" + out}, extra...)
	code, stdout, stderr := runCLI(t, env, args...)
	f, err := os.Open(out)
	if err != nil {
		t.Fatalf("no run written (exit %d): %v\n%s%s", code, err, stdout, stderr)
	}
	defer f.Close()
	run, err := model.ReadRun(f)
	if err != nil {
		t.Fatal(err)
	}
	return code, run, stdout + stderr
}

func TestExistenceCanaries(t *testing.T) {
	tests := []struct {
		mode, denyAs string
		want         []string // "role path" of the existence leaks
		canaryFound  bool     // found by comparing with the canaries (not by the matrix alone)
		note         bool     // an existence-observable note instead: the rule does not ask for hiding
	}{
		{"correct", "deny_as: 404", nil, false, false},
		{"correct", "", nil, false, false},
		{"status", "deny_as: 404", []string{"other /notes/17", "other /notes/18"}, false, false},
		{"status", "", nil, true, true},
		{"message", "deny_as: 404", []string{"other /notes/17", "other /notes/18"}, true, false},
		{"message", "", nil, true, true},
		{"status", "deny_as: [401, 403, 404]", nil, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode+" "+tt.denyAs, func(t *testing.T) {
			srv := httptest.NewServer(notesApp(tt.mode))
			defer srv.Close()
			cfg := `roles:
  owner: {login: {bearer: "${OWNER}"}}
  other: {login: {bearer: "${OTHER}"}}
matrix:
  rules:
    - {match: "GET /", allow: ["*"]}
    - {match: "GET /notes/{id}", allow: [owner], ` + tt.denyAs + `}
`
			env := map[string]string{"OWNER": "owner-token-5ecret", "OTHER": "other-token-5ecret"}
			code, run, output := auditRun(t, srv.URL, cfg, env)
			var got []string
			for _, f := range run.Findings {
				if f.Verdict != model.ExistenceLeak {
					t.Errorf("unexpected finding %s %s as %s: %s", f.Verdict, f.Path, f.Role, f.Message)
					continue
				}
				got = append(got, f.Role+" "+f.Path)
				if f.Canary == nil || *f.Canary < 0 || *f.Canary >= len(run.Canaries) {
					t.Errorf("%s as %s: no canary evidence (%v)", f.Path, f.Role, f.Canary)
					continue
				}
				c := run.Canaries[*f.Canary]
				if c.Role != f.Role || !strings.HasPrefix(c.URL, srv.URL+"/notes/9") || c.Status != http.StatusNotFound || c.CanaryOf == "" {
					t.Errorf("%s as %s: canary evidence %s as %s: %d", f.Path, f.Role, c.URL, c.Role, c.Status)
				}
				if !strings.Contains(f.Observed, "missing sibling /notes/9") {
					t.Errorf("observed %q: want both answers", f.Observed)
				}
				if fromCanary := strings.Contains(f.Message, "which does not exist"); fromCanary != tt.canaryFound {
					t.Errorf("message %q: found by the canaries %v, want %v", f.Message, fromCanary, tt.canaryFound)
				}
				if cell := run.Observations.At(f.Cell); cell.Verdict != model.ExistenceLeak || cell.URL != f.URL {
					t.Errorf("cell %d: %s %s, want the existence leak's", f.Cell, cell.URL, cell.Verdict)
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("existence leaks %q, want %q\n%s", got, tt.want, output)
			}
			notes := 0
			for _, n := range run.Notes {
				if n.Verdict == model.ExistenceObservable {
					notes++
					if n.Template != "GET /notes/{id}" || n.Canary == nil || !strings.Contains(n.Message, "roles: other") {
						t.Errorf("note %+v", n)
					}
				}
			}
			if want := map[bool]int{true: 1}[tt.note]; notes != want {
				t.Errorf("%d existence-observable notes, want %d\n%s", notes, want, output)
			}
			if wantCode := map[bool]int{true: exitGate, false: exitOK}[len(tt.want) > 0]; code != wantCode {
				t.Errorf("exit %d, want %d", code, wantCode)
			}
			// Two canaries, as each role the rule denies: anonymous and other.
			roles := map[string]int{}
			for _, c := range run.Canaries {
				roles[c.Role]++
			}
			if roles["anonymous"] != 2 || roles["other"] != 2 || roles["owner"] != 0 {
				t.Errorf("canaries per role %v, want 2 as anonymous and other, none as owner", roles)
			}
			for _, c := range run.Observations.All() {
				if c.CanaryOf != "" {
					t.Errorf("a canary among the observations: %s", c.URL)
				}
			}
		})
	}
}

// TestCoverageMatchesTheFixture audits the SourcesSite from the command
// line: the run's coverage is the route table's, and two audits give the
// same inventory.
func TestCoverageMatchesTheFixture(t *testing.T) {
	site := crawltest.NewSourcesSite()
	defer site.Close()
	har := filepath.Join(t.TempDir(), "recorded.har")
	if err := os.WriteFile(har, site.HAR(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := crawltest.SourcesConfig(har, "crawl: {max_depth: 8, max_per_template: 5}\n")
	env := map[string]string{"USER_PASSWORD": crawltest.UserPassword, "ADMIN_TOKEN": crawltest.AdminToken}
	_, run, output := auditRun(t, site.URL, cfg, env, "--fail-on", "none")
	cov := run.Coverage
	if cov == nil {
		t.Fatalf("no coverage in the run\n%s", output)
	}

	// The truth: the route table, plus the traps' bounded parts: the
	// calendar's max_per_template months (one of them in the table) and
	// the loop's three levels before it repeats itself.
	const trapEntries = 5 - 1 + 3
	roleNames := []string{crawltest.Anonymous, crawltest.User, crawltest.Admin}
	union := map[string][]string{}
	for _, r := range roleNames {
		for k := range site.Discoverable(r) {
			union[k] = append(union[k], r)
		}
	}
	get := 0
	for k := range union {
		if strings.HasPrefix(k, "GET ") {
			get++
		}
	}
	if cov.Endpoints != len(union)+trapEntries || cov.Probed != get+trapEntries || cov.NotProbed != len(union)-get {
		t.Errorf("coverage %d endpoints, %d probed, %d not; want %d, %d, %d", cov.Endpoints, cov.Probed, cov.NotProbed,
			len(union)+trapEntries, get+trapEntries, len(union)-get)
	}
	for _, rc := range cov.Roles {
		disc := site.Discoverable(rc.Role)
		only := 0
		for k := range disc {
			if len(union[k]) == 1 {
				only++
			}
		}
		if rc.Found != len(disc)+trapEntries || rc.Only != only || rc.Probed != get+trapEntries {
			t.Errorf("role %s: found %d (%d only it), probed %d; want %d (%d), %d", rc.Role, rc.Found, rc.Only, rc.Probed,
				len(disc)+trapEntries, only, get+trapEntries)
		}
	}
	var partial []string
	for k, rs := range union {
		if len(rs) < len(roleNames) {
			partial = append(partial, k)
		}
	}
	sort.Strings(partial)
	var gotPartial []string
	for _, p := range cov.Partial {
		u, _ := url.Parse(p.URL)
		gotPartial = append(gotPartial, p.Method+" "+u.RequestURI())
	}
	sort.Strings(gotPartial)
	if !slices.Equal(gotPartial, partial) {
		t.Errorf("partial:\n got %q\nwant %q", gotPartial, partial)
	}
	if run.Inventory.Cut.MaxPerTemplate != 2 || run.Inventory.Cut.Loop != 1 {
		t.Errorf("cut %+v, want 2 calendar months over the cap and 1 loop", run.Inventory.Cut)
	}

	// The admin-only page was probed as every role.
	probed := map[string]bool{}
	for _, c := range run.Observations.All() {
		if strings.HasSuffix(c.URL, "/admin/audit-log") {
			probed[c.Role] = true
		}
	}
	if len(probed) != 3 {
		t.Errorf("/admin/audit-log probed as %v, want every role", probed)
	}
	// Nothing out of scope, nothing but GET, nothing recorded in the HAR.
	for _, r := range site.Requests() {
		if r.Server != "site" || r.Method != http.MethodGet {
			t.Errorf("%s %s sent to %s", r.Method, r.URI, r.Server)
		}
	}
	if strings.Contains(output, crawltest.HARSecret) || strings.Contains(output, crawltest.HARToken) {
		t.Errorf("a HAR secret reached the output")
	}

	// Twice: the same inventory in the same order.
	_, again, _ := auditRun(t, site.URL, cfg, env, "--fail-on", "none")
	a, b := fmt.Sprintf("%+v", run.Inventory), fmt.Sprintf("%+v", again.Inventory)
	if a != b {
		t.Errorf("the second audit's inventory differs:\n%s\n%s", a, b)
	}
}

func TestValidateReadsSourceFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"good.har": `{"log":{"entries":[]}}`, "bad.har": "not json", "api.json": `{"swagger":"2.0","paths":{}}`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		sources string
		code    int
		want    string
	}{
		{"{har: [good.har], openapi: [{file: api.json}]}", exitOK, "valid"},
		{"{har: [good.har, bad.har]}", exitUsage, "sources.har[1]"},
	} {
		cfg := filepath.Join(dir, "permaudit.yaml")
		if err := os.WriteFile(cfg, []byte("target: http://127.0.0.1:1\nsources: "+tt.sources+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := runCLI(t, nil, "validate", "-c", cfg)
		if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
			t.Errorf("%s: exit %d, output %q; want %d and %q", tt.sources, code, stdout+stderr, tt.code, tt.want)
		}
	}
}
