package judge

import (
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/permaudit/permaudit/judge/judgetest"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

const unmappedConfig = `target: http://127.0.0.1:8080
roles:
  customer:
    login: {bearer: customer-token}
matrix:
  default: unmapped
  rules:
    - match: "GET /"
      allow: ["*"]
`

func judgeOne(t *testing.T, cfg *roles.Config, o model.Observation) *model.Run {
	t.Helper()
	run := &model.Run{Gate: model.Gate{FailOn: model.DefaultFailOn}}
	Judge(run, cfg, []model.Observation{o})
	if run.Observations.Len() != 1 {
		t.Fatalf("judge: got %d cells, want 1", run.Observations.Len())
	}
	return run
}

func TestJudgeVerdicts(t *testing.T) {
	cfg := parseConfig(t, testConfig)
	tests := []struct {
		name         string
		obs          model.Observation
		verdict      model.Verdict
		expected     string
		observed     string // checked when not empty
		msgHas       string // checked when not empty
		wantSeverity model.Severity
	}{
		// expected allow
		{name: "allow allowed", obs: ob("anonymous", "/", 200, model.Allowed, "status 200"),
			verdict: model.Pass, expected: "allow"},
		{name: "allow inherited", obs: ob("admin", "/members/x", 200, model.Allowed, "status 200"),
			verdict: model.Pass, expected: "allow"},
		{name: "allow forbidden is blocked", obs: ob("admin", "/admin/", 403, model.Forbidden, "status 403"),
			verdict: model.Blocked, expected: "allow", observed: "403 forbidden", wantSeverity: model.High},
		{name: "allow hidden is blocked", obs: ob("admin", "/admin/users", 404, model.Hidden, "status 404"),
			verdict: model.Blocked, expected: "allow", observed: "404 hidden", wantSeverity: model.High},
		{name: "allow 401 to signed-in is blocked, session hinted", obs: ob("customer", "/api/orders/17", 401, model.Unauthenticated, "status 401"),
			verdict: model.Blocked, expected: "allow", msgHas: "session", wantSeverity: model.High},
		{name: "login redirect after a followed redirect", obs: withChain(withLocation(ob("admin", "/admin", 302, model.Unauthenticated, "redirect to login /login"), "/login"), 301, 302),
			verdict: model.Blocked, expected: "allow", observed: "302 to /login (unauthenticated; after 1 redirect)", wantSeverity: model.High},
		{name: "allow login redirect is blocked", obs: withLocation(ob("anonymous", "/", 302, model.Unauthenticated, "redirect to login /login"), "/login"),
			verdict: model.Blocked, expected: "allow", observed: "302 to /login (unauthenticated)", wantSeverity: model.High},
		{name: "allow other is inconclusive", obs: ob("admin", "/admin/", 405, model.Other, "status 405"),
			verdict: model.Inconclusive, expected: "allow", observed: "405 other", msgHas: "deny_as", wantSeverity: model.Info},

		// expected deny, no deny_as
		{name: "deny allowed is a leak", obs: ob("customer", "/admin/", 200, model.Allowed, "status 200"),
			verdict: model.Leak, expected: "deny", observed: "200 allowed", wantSeverity: model.Critical},
		{name: "anonymous 401 passes", obs: ob("anonymous", "/admin/", 401, model.Unauthenticated, "status 401"),
			verdict: model.Pass, expected: "deny"},
		{name: "anonymous login redirect passes", obs: withLocation(ob("anonymous", "/admin/", 302, model.Unauthenticated, "redirect to login /login"), base+"/login?next=%2Fadmin%2F"),
			verdict: model.Pass, expected: "deny", observed: "302 to /login?next=%2Fadmin%2F (unauthenticated)"},
		{name: "anonymous 404 passes", obs: ob("anonymous", "/admin/", 404, model.Hidden, "status 404"),
			verdict: model.Pass, expected: "deny"},
		{name: "anonymous 403 is wrong-code", obs: ob("anonymous", "/admin/", 403, model.Forbidden, "status 403"),
			verdict: model.WrongCode, expected: "deny", msgHas: "403 to anonymous", wantSeverity: model.Low},
		{name: "anonymous denial signature is wrong-code", obs: ob("anonymous", "/admin/", 200, model.Forbidden, "denial signature 1"),
			verdict: model.WrongCode, expected: "deny", observed: "200 forbidden (denial signature 1)", wantSeverity: model.Low},
		{name: "signed-in 403 passes", obs: ob("customer", "/admin/", 403, model.Forbidden, "status 403"),
			verdict: model.Pass, expected: "deny"},
		{name: "signed-in 410 passes", obs: ob("customer", "/admin/", 410, model.Hidden, "status 410"),
			verdict: model.Pass, expected: "deny"},
		{name: "signed-in 401 is wrong-code", obs: ob("customer", "/admin/", 401, model.Unauthenticated, "status 401"),
			verdict: model.WrongCode, expected: "deny", msgHas: "401 to a signed-in role", wantSeverity: model.Low},
		{name: "leak after a followed redirect", obs: withChain(ob("customer", "/admin", 200, model.Allowed, "status 200"), 301, 200),
			verdict: model.Leak, expected: "deny", observed: "200 allowed (after 1 redirect)", wantSeverity: model.Critical},
		{name: "off-scope redirect is inconclusive", obs: withLocation(ob("customer", "/admin/go", 302, model.Other, "redirect off scope"), "https://other.example/x"),
			verdict: model.Inconclusive, expected: "deny", observed: "302 to https://other.example/x (other)", wantSeverity: model.Info},
		{name: "deny other is inconclusive", obs: ob("customer", "/admin/", 400, model.Other, "status 400"),
			verdict: model.Inconclusive, expected: "deny", observed: "400 other", wantSeverity: model.Info},
		{name: "default deny covers unknown paths", obs: ob("admin", "/elsewhere", 200, model.Allowed, "status 200"),
			verdict: model.Leak, expected: "deny", wantSeverity: model.Critical},

		// expected deny with deny_as 404 (hidden)
		{name: "hidden 404 passes", obs: ob("customer", "/api/orders/99", 404, model.Hidden, "status 404"),
			verdict: model.Pass, expected: "deny as 404"},
		{name: "hidden 410 passes", obs: ob("customer", "/api/orders/99", 410, model.Hidden, "status 410"),
			verdict: model.Pass, expected: "deny as 404"},
		{name: "hidden 403 is an existence leak", obs: ob("customer", "/api/orders/99", 403, model.Forbidden, "status 403"),
			verdict: model.ExistenceLeak, expected: "deny as 404", msgHas: "exists", wantSeverity: model.Medium},
		{name: "hidden login redirect is an existence leak", obs: withLocation(ob("anonymous", "/api/orders/99", 302, model.Unauthenticated, "redirect to login /login"), "/login"),
			verdict: model.ExistenceLeak, expected: "deny as 404", wantSeverity: model.Medium},
		{name: "hidden or 401: 401 passes", obs: ob("anonymous", "/notes/5", 401, model.Unauthenticated, "status 401"),
			verdict: model.Pass, expected: "deny as 401 or 404"},
		{name: "hidden or 401: 403 is an existence leak", obs: ob("customer", "/notes/5", 403, model.Forbidden, "status 403"),
			verdict: model.ExistenceLeak, expected: "deny as 401 or 404", msgHas: "exists", wantSeverity: model.Medium},
		{name: "hidden allowed is a leak", obs: ob("customer", "/api/orders/99", 200, model.Allowed, "status 200"),
			verdict: model.Leak, expected: "deny as 404", wantSeverity: model.Critical},
		{name: "hidden other is inconclusive", obs: ob("customer", "/api/orders/99", 422, model.Other, "status 422"),
			verdict: model.Inconclusive, expected: "deny as 404", wantSeverity: model.Info},

		// deny_as with an exact code
		{name: "exact code passes", obs: ob("customer", "/teapot", 418, model.Other, "status 418"),
			verdict: model.Pass, expected: "deny as 403 or 418"},
		{name: "class form passes", obs: ob("customer", "/teapot", 403, model.Forbidden, "status 403"),
			verdict: model.Pass, expected: "deny as 403 or 418"},
		{name: "unlisted denial is wrong-code", obs: ob("customer", "/teapot", 404, model.Hidden, "status 404"),
			verdict: model.WrongCode, expected: "deny as 403 or 418", wantSeverity: model.Low},
		{name: "unlisted other is inconclusive", obs: ob("customer", "/teapot", 400, model.Other, "status 400"),
			verdict: model.Inconclusive, expected: "deny as 403 or 418", wantSeverity: model.Info},

		// deny_as 401 accepts the login page
		{name: "401 form accepts login redirect", obs: withLocation(ob("anonymous", "/members/x", 302, model.Unauthenticated, "redirect to login /login"), "/login"),
			verdict: model.Pass, expected: "deny as 401"},
		{name: "401 form accepts login page in place", obs: ob("anonymous", "/members/x", 200, model.Unauthenticated, "password field"),
			verdict: model.Pass, expected: "deny as 401"},
		{name: "401 form refuses 404", obs: ob("anonymous", "/members/x", 404, model.Hidden, "status 404"),
			verdict: model.WrongCode, expected: "deny as 401", wantSeverity: model.Low},

		// errors
		{name: "transport error", obs: withErr(ob("customer", "/admin/", 0, model.Error, ""), "connection refused"),
			verdict: model.ErrorVerdict, expected: "deny", observed: "error: connection refused", msgHas: "connection refused", wantSeverity: model.Medium},
		{name: "5xx is an error", obs: ob("admin", "/admin/", 503, model.Error, "status 503"),
			verdict: model.ErrorVerdict, expected: "allow", observed: "503 error", msgHas: "503 without a denial signature", wantSeverity: model.Medium},
		{name: "503 says unavailable", obs: ob("admin", "/admin/", 503, model.Error, "unavailable (status 503)"),
			verdict: model.ErrorVerdict, expected: "allow", observed: "503 error (unavailable)", msgHas: "no decision: unavailable (status 503)", wantSeverity: model.Medium},
		{name: "body read error", obs: withErr(ob("admin", "/admin/", 200, model.Error, "reading body"), "unexpected EOF"),
			verdict: model.ErrorVerdict, expected: "allow", observed: "200 error (reading body; unexpected EOF)", msgHas: "no decision: unexpected EOF", wantSeverity: model.Medium},
		{name: "unknown class is an error", obs: ob("admin", "/admin/", 200, "", ""),
			verdict: model.ErrorVerdict, expected: "allow", msgHas: "unknown answer class", wantSeverity: model.Medium},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := judgeOne(t, cfg, tt.obs)
			c := run.Observations.At(0)
			if c.Verdict != tt.verdict {
				t.Errorf("verdict: got %q, want %q (cell %+v)", c.Verdict, tt.verdict, c)
			}
			if c.Expected != tt.expected {
				t.Errorf("expected: got %q, want %q", c.Expected, tt.expected)
			}
			if c.Template == "" || c.Rule == "" {
				t.Errorf("cell template %q, rule %q: want both set", c.Template, c.Rule)
			}
			// Dead rules and missing WWW-Authenticate have tests of their own.
			all := append([]model.Finding{}, run.Findings...)
			for _, n := range run.Notes {
				if n.Verdict != model.DeadRule && n.Verdict != model.MissingWWWAuth {
					all = append(all, n)
				}
			}
			if tt.verdict == model.Pass {
				if len(all) != 0 {
					t.Errorf("pass: got findings/notes %+v, want none", all)
				}
				return
			}
			var f *model.Finding
			for i := range all {
				if all[i].Verdict == tt.verdict {
					f = &all[i]
				}
			}
			if f == nil {
				t.Fatalf("no %s in findings %+v / notes %+v", tt.verdict, run.Findings, run.Notes)
			}
			if f.Severity != tt.wantSeverity {
				t.Errorf("severity: got %q, want %q", f.Severity, tt.wantSeverity)
			}
			if tt.observed != "" && f.Observed != tt.observed {
				t.Errorf("observed: got %q, want %q", f.Observed, tt.observed)
			}
			if tt.msgHas != "" && !strings.Contains(f.Message, tt.msgHas) {
				t.Errorf("message %q: want it to contain %q", f.Message, tt.msgHas)
			}
			if f.Cell != 0 || f.Role != tt.obs.Role || f.Method != "GET" || f.Expected != tt.expected {
				t.Errorf("finding %+v: want cell 0, role %s, method GET, expected %q", f, tt.obs.Role, tt.expected)
			}
			if f.Fingerprint != model.Fingerprint(f.Verdict, f.Method, f.Template, f.Role) {
				t.Errorf("fingerprint %q: want Fingerprint of its fields", f.Fingerprint)
			}
			if len(all) != 1 || f.Verdict.IsFinding() != (len(run.Findings) == 1) {
				t.Errorf("got findings %+v, notes %+v: want one %s, filed as a finding only if it is one", run.Findings, run.Notes, f.Verdict)
			}
		})
	}
}

func TestJudgeUnmappedGrouped(t *testing.T) {
	cfg := parseConfig(t, unmappedConfig)
	obs := []model.Observation{
		ob("anonymous", "/", 200, model.Allowed, "status 200"),
		ob("anonymous", "/orders/1", 200, model.Allowed, "status 200"),
		ob("customer", "/orders/1", 200, model.Allowed, "status 200"),
		ob("customer", "/orders/2", 503, model.Error, "status 503"), // not judged: unmapped
		ob("customer", "/reports", 403, model.Forbidden, "status 403"),
	}
	run := &model.Run{Gate: model.Gate{FailOn: model.DefaultFailOn}}
	Judge(run, cfg, obs)

	if len(run.Findings) != 0 {
		t.Errorf("findings: got %+v, want none (unmapped is not judged)", run.Findings)
	}
	var got []string
	for _, n := range run.Notes {
		if n.Verdict != model.Unmapped {
			t.Errorf("note %+v: want only unmapped notes", n)
			continue
		}
		got = append(got, n.Template+" | "+n.Message)
	}
	want := []string{
		"GET /orders/{id} | GET /orders/{id}: no rule covers it and the matrix default is unmapped (2 endpoints; roles: anonymous, customer)",
		"GET /reports | GET /reports: no rule covers it and the matrix default is unmapped (1 endpoint; roles: customer)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unmapped notes:\n got %q\nwant %q", got, want)
	}
	if n := run.Notes[0]; n.Cell != 1 || n.Role != "" || n.Expected != "unmapped" {
		t.Errorf("first unmapped note: got cell %d, role %q, expected %q; want 1, empty, unmapped", n.Cell, n.Role, n.Expected)
	}
	for i, v := range []model.Verdict{model.Pass, model.Unmapped, model.Unmapped, model.Unmapped, model.Unmapped} {
		if run.Observations.At(i).Verdict != v {
			t.Errorf("cell %d: got %q, want %q", i, run.Observations.At(i).Verdict, v)
		}
	}
	if run.Counts[model.Unmapped] != 2 || run.Counts[model.Pass] != 1 {
		t.Errorf("counts: got unmapped %d, pass %d; want 2, 1", run.Counts[model.Unmapped], run.Counts[model.Pass])
	}
}

func TestJudgeMissingWWWAuthenticate(t *testing.T) {
	cfg := parseConfig(t, testConfig)
	withAuth := ob("anonymous", "/admin/b", 401, model.Unauthenticated, "status 401")
	withAuth.WWWAuth = true
	obs := []model.Observation{
		ob("anonymous", "/admin/a", 401, model.Unauthenticated, "status 401"),
		ob("customer", "/admin/a", 401, model.Unauthenticated, "status 401"),
		withAuth,
		withLocation(ob("anonymous", "/admin/c", 302, model.Unauthenticated, "redirect to login /login"), "/login"),
	}
	run := &model.Run{Gate: model.Gate{FailOn: model.DefaultFailOn}, Filters: model.Filters{Only: []string{"GET /admin/**"}}}
	Judge(run, cfg, obs)
	var notes []model.Finding
	for _, n := range run.Notes {
		if n.Verdict == model.MissingWWWAuth {
			notes = append(notes, n)
		}
	}
	if len(notes) != 1 {
		t.Fatalf("missing-www-authenticate notes: got %+v, want 1", notes)
	}
	if n := notes[0]; n.Template != "GET /admin/a" || n.Cell != 0 || !strings.Contains(n.Message, "roles: anonymous, customer") {
		t.Errorf("note: got %+v, want template GET /admin/a, cell 0, both roles named", n)
	}
}

func TestJudgeDeadRules(t *testing.T) {
	cfg := parseConfig(t, testConfig)
	obs := []model.Observation{
		ob("anonymous", "/", 200, model.Allowed, "status 200"),
		ob("customer", "/admin/", 403, model.Forbidden, "status 403"),
		ob("customer", "/api/orders/17", 200, model.Allowed, "status 200"),
		ob("admin", "/api/orders/17", 200, model.Allowed, "status 200"),
	}
	// inv lists the endpoints of obs, and more when an incomplete run
	// left some unprobed.
	inv := func(more ...string) model.Inventory {
		var in model.Inventory
		for _, p := range append([]string{"/", "/admin/", "/api/orders/17"}, more...) {
			in.Entries = append(in.Entries, model.Entry{Endpoint: model.Endpoint{Method: "GET", URL: base + p}})
		}
		return in
	}
	const left = "; the run is incomplete, but it probed every endpoint it found that this rule could decide"
	cut := inv("/members/x")
	cut.Cut.MaxRequests = 3
	tests := []struct {
		name       string
		filters    model.Filters
		incomplete string
		inventory  model.Inventory
		obs        []model.Observation
		want       []string
	}{
		{name: "unmatched rules", obs: obs, want: []string{
			"rule GET /teapot (line 22) matched no probed endpoint",
			"rule GET /members/** (line 25) matched no probed endpoint",
			"rule GET /never/** (line 28) matched no probed endpoint",
			"rule GET /notes/{id} (line 30) matched no probed endpoint",
		}},
		{name: "narrowed by --only", obs: obs, filters: model.Filters{Only: []string{"GET /admin/**"}}},
		{name: "narrowed by --role", obs: obs, filters: model.Filters{Roles: []string{"customer"}}},
		{name: "no observation", obs: nil},
		// Issue 15: an incomplete run still notes the rules it reached:
		// every unprobed cell (the anonymous and admin cells of /admin/,
		// /members/x and /never/y as every role) is one these could not
		// decide.
		{name: "incomplete, every rule reached", obs: obs, incomplete: "max_probes 4 reached", inventory: inv(), want: []string{
			"rule GET /teapot (line 22) matched no probed endpoint" + left,
			"rule GET /members/** (line 25) matched no probed endpoint" + left,
			"rule GET /never/** (line 28) matched no probed endpoint" + left,
			"rule GET /notes/{id} (line 30) matched no probed endpoint" + left,
		}},
		// The run stopped before probing /members/x and /never/y: their
		// rules may decide them, so they are not called dead.
		{name: "incomplete, stopped before a rule's URLs", obs: obs, incomplete: "interrupted", inventory: inv("/members/x", "/never/y"), want: []string{
			"rule GET /teapot (line 22) matched no probed endpoint" + left,
			"rule GET /notes/{id} (line 30) matched no probed endpoint" + left,
		}},
		// Discovery was cut: any rule may match a URL never found.
		{name: "incomplete, discovery cut", obs: obs, incomplete: "max_requests reached", inventory: cut},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &model.Run{Gate: model.Gate{FailOn: model.DefaultFailOn}, Filters: tt.filters, Incomplete: tt.incomplete, Inventory: tt.inventory}
			Judge(run, cfg, tt.obs)
			var got []string
			for _, n := range run.Notes {
				if n.Verdict != model.DeadRule {
					continue
				}
				got = append(got, n.Message)
				if n.Cell != -1 || n.Rule == "" || n.Fingerprint == "" || n.Severity != model.Info {
					t.Errorf("dead-rule note %+v: want cell -1, rule, fingerprint, info", n)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("dead rules:\n got %q\nwant %q", got, tt.want)
			}
			if run.Counts[model.DeadRule] != len(tt.want) {
				t.Errorf("counts[dead-rule]: got %d, want %d", run.Counts[model.DeadRule], len(tt.want))
			}
		})
	}
}

// TestJudgeDeadRuleShadowed: a dead rule that an earlier rule covers (its
// literal patterns all match the earlier rule's) is told which, by name;
// one whose patterns are not literal is only said to be dead.
func TestJudgeDeadRuleShadowed(t *testing.T) {
	cfg := parseConfig(t, `target: http://127.0.0.1:8080
roles:
  admin: {login: {bearer: t}}
matrix:
  rules:
    - match: "GET /"
      allow: ["*"]
    - name: admin area
      match: ["GET /admin/**"]
      allow: [admin]
    - name: audit log
      match: ["GET /admin/audit", "GET /admin/audit/export"]
      allow: []
    - match: "GET /admin/{id}/x"
      allow: []
`)
	run := &model.Run{Gate: model.Gate{FailOn: model.DefaultFailOn}}
	Judge(run, cfg, []model.Observation{
		ob("anonymous", "/", 200, model.Allowed, "status 200"),
		ob("admin", "/admin/audit", 200, model.Allowed, "status 200"),
	})
	var got []string
	for _, n := range run.Notes {
		if n.Verdict == model.DeadRule {
			got = append(got, n.Rule+": "+n.Message)
		}
	}
	want := []string{
		`audit log: rule "audit log" (line 11) matched no probed endpoint; the earlier rule "admin area" (line 8) matches every request it could (first match wins), so it never applies`,
		`GET /admin/{id}/x (line 14): rule GET /admin/{id}/x (line 14) matched no probed endpoint`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dead rules:\n got %q\nwant %q", got, want)
	}
	if c := run.Observations.At(1); c.Rule != "admin area" {
		t.Errorf("cell %s as %s: rule %q, want the rule's name", c.URL, c.Role, c.Rule)
	}

	// A run whose discovery was cut still names the shadowed rule (dead
	// whatever the crawl finds), and only it.
	cut := &model.Run{Gate: model.Gate{FailOn: model.DefaultFailOn}, Incomplete: "max_requests reached: 9 URL(s) found but never fetched"}
	cut.Inventory.Cut.MaxRequests = 9
	Judge(cut, cfg, []model.Observation{
		ob("anonymous", "/", 200, model.Allowed, "status 200"),
		ob("admin", "/admin/audit", 200, model.Allowed, "status 200"),
	})
	got = nil
	for _, n := range cut.Notes {
		if n.Verdict == model.DeadRule {
			got = append(got, n.Rule+": "+n.Message)
		}
	}
	if !reflect.DeepEqual(got, want[:1]) {
		t.Errorf("dead rules of a run whose discovery was cut:\n got %q\nwant %q", got, want[:1])
	}
}

// TestJudgeSortCountsGate judges a mixed set and checks the order of
// findings and notes, the counts and the gate.
func TestJudgeSortCountsGate(t *testing.T) {
	cfg := parseConfig(t, testConfig)
	obs := []model.Observation{
		ob("anonymous", "/admin/", 403, model.Forbidden, "status 403"),        // 0 wrong-code
		ob("admin", "/admin/", 403, model.Forbidden, "status 403"),            // 1 blocked
		ob("customer", "/admin/z", 200, model.Allowed, "status 200"),          // 2 leak
		ob("customer", "/admin/", 200, model.Allowed, "status 200"),           // 3 leak
		ob("anonymous", "/admin/", 200, model.Allowed, "status 200"),          // 4 leak
		ob("customer", "/api/orders/5", 403, model.Forbidden, "status 403"),   // 5 existence-leak
		ob("customer", "/", 502, model.Error, "status 502"),                   // 6 error
		ob("anonymous", "/", 200, model.Allowed, "status 200"),                // 7 pass
		ob("customer", "/admin/y", 405, model.Other, "status 405"),            // 8 inconclusive
		ob("anonymous", "/admin/x", 401, model.Unauthenticated, "status 401"), // 9 pass + missing-www-authenticate
		ob("anonymous", "/admin/a", 400, model.Other, "status 400"),           // 10 inconclusive
		ob("customer", "/api/orders/17", 200, model.Allowed, "status 200"),    // 11 pass
	}
	tests := []struct {
		name        string
		failOn      []model.Verdict
		wantFailing int
	}{
		{name: "default gate", failOn: model.DefaultFailOn, wantFailing: 6},
		{name: "leak only", failOn: []model.Verdict{model.Leak}, wantFailing: 3},
		{name: "wrong-code only", failOn: []model.Verdict{model.WrongCode}, wantFailing: 1},
		{name: "empty gate", failOn: []model.Verdict{}, wantFailing: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &model.Run{Gate: model.Gate{FailOn: tt.failOn}}
			Judge(run, cfg, obs)

			var got []string
			for _, f := range run.Findings {
				got = append(got, string(f.Verdict)+" "+f.Path+" "+f.Role)
			}
			want := []string{
				"leak /admin/ anonymous",
				"leak /admin/ customer",
				"leak /admin/z customer",
				"blocked /admin/ admin",
				"error / customer",
				"existence-leak /api/orders/5 customer",
				"wrong-code /admin/ anonymous",
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("findings order:\n got %q\nwant %q", got, want)
			}
			got = nil
			for _, f := range run.Notes {
				got = append(got, string(f.Verdict)+" "+f.Path+" "+f.Role)
			}
			want = []string{
				"inconclusive /admin/a anonymous",
				"inconclusive /admin/y customer",
				"dead-rule  ", "dead-rule  ", "dead-rule  ", "dead-rule  ",
				"missing-www-authenticate /admin/x ",
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("notes order:\n got %q\nwant %q", got, want)
			}
			for i, c := range run.Observations.All() {
				if c.URL != obs[i].URL || c.Role != obs[i].Role {
					t.Errorf("cell %d: got %s as %s, want the given order (%s as %s)", i, c.URL, c.Role, obs[i].URL, obs[i].Role)
				}
			}

			wantCounts := map[model.Verdict]int{
				model.Pass: 3, model.Leak: 3, model.Blocked: 1, model.ExistenceLeak: 1, model.WrongCode: 1, model.ErrorVerdict: 1,
				model.Inconclusive: 2, model.Unmapped: 0, model.DeadRule: 4, model.MissingWWWAuth: 1, model.ExistenceObservable: 0,
			}
			if !reflect.DeepEqual(run.Counts, wantCounts) {
				t.Errorf("counts:\n got %v\nwant %v", run.Counts, wantCounts)
			}
			if run.Gate.Failing != tt.wantFailing || run.Gate.Failed != (tt.wantFailing > 0) {
				t.Errorf("gate: got failing %d, failed %v; want %d, %v", run.Gate.Failing, run.Gate.Failed, tt.wantFailing, tt.wantFailing > 0)
			}
		})
	}
}

// TestJudgeAgain checks that judging a run twice gives the same run.
func TestJudgeAgain(t *testing.T) {
	cfg := parseConfig(t, testConfig)
	obs := []model.Observation{
		ob("customer", "/admin/", 200, model.Allowed, "status 200"),
		ob("anonymous", "/admin/", 403, model.Forbidden, "status 403"),
	}
	run := &model.Run{Gate: model.Gate{FailOn: model.DefaultFailOn}}
	Judge(run, cfg, obs)
	first := *run
	Judge(run, cfg, obs)
	cells, again := first.Observations, run.Observations
	first.Observations, run.Observations = nil, nil
	if cells == again || !cells.Equal(again) || !reflect.DeepEqual(first, *run) {
		t.Errorf("judging again changed the run:\n got %+v\nwant %+v", *run, first)
	}
}

func TestJudgeNilFailOn(t *testing.T) {
	cfg := parseConfig(t, testConfig)
	run := &model.Run{}
	Judge(run, cfg, []model.Observation{ob("customer", "/admin/", 200, model.Allowed, "status 200")})
	if !reflect.DeepEqual(run.Gate.FailOn, model.DefaultFailOn) || !run.Gate.Failed {
		t.Errorf("gate: got %+v, want the default gate, failed", run.Gate)
	}
}

func TestFingerprintStable(t *testing.T) {
	cfg := parseConfig(t, testConfig)
	// Two runs of the same application on different ports and ids.
	a := ob("customer", "/admin/orders/17?page=2&sort=asc", 200, model.Allowed, "status 200")
	b := a
	b.URL = "http://127.0.0.1:9999/admin/orders/18?sort=desc&page=3"
	c := a
	c.URL = "https://staging.example.test/admin/orders/19?sort=desc&page=3"
	var fps []string
	for _, o := range []model.Observation{a, b, c} {
		run := judgeOne(t, cfg, o)
		if len(run.Findings) != 1 {
			t.Fatalf("%s: got findings %+v, want one leak", o.URL, run.Findings)
		}
		fps = append(fps, run.Findings[0].Fingerprint)
	}
	if fps[0] != fps[1] || fps[0] != fps[2] {
		t.Errorf("fingerprints differ across ports, hosts and ids: %q", fps)
	}

	fp := model.Fingerprint(model.Leak, "GET", "GET /admin/orders/{id}?page={id}&sort=asc", "customer")
	if fp != fps[0] {
		t.Errorf("Fingerprint of the template: got %q, want the judged %q", fp, fps[0])
	}
	if len(fp) != 32 {
		t.Errorf("fingerprint %q: want 32 hex characters", fp)
	}
	same := []string{
		"/admin/orders/{id}?sort=x&page=y",
		"http://127.0.0.1:1/admin/orders/42?page=1&sort=1",
		"GET /admin/orders/abc123def456?sort=&page=",
	}
	for _, tmpl := range same {
		if got := model.Fingerprint(model.Leak, "GET", tmpl, "customer"); got != fp {
			t.Errorf("model.Fingerprint(%q): got %q, want %q", tmpl, got, fp)
		}
	}
	differ := []struct {
		name                   string
		v                      model.Verdict
		method, template, role string
	}{
		{"verdict", model.Blocked, "GET", "/admin/orders/{id}?page=1&sort=1", "customer"},
		{"method", model.Leak, "HEAD", "/admin/orders/{id}?page=1&sort=1", "customer"},
		{"path", model.Leak, "GET", "/admin/order/{id}?page=1&sort=1", "customer"},
		{"query keys", model.Leak, "GET", "/admin/orders/{id}?page=1", "customer"},
		{"role", model.Leak, "GET", "/admin/orders/{id}?page=1&sort=1", "admin"},
	}
	for _, d := range differ {
		if got := model.Fingerprint(d.v, d.method, d.template, d.role); got == fp {
			t.Errorf("changing the %s kept fingerprint %q", d.name, got)
		}
	}
}

func TestParseFailOn(t *testing.T) {
	tests := []struct {
		in      string
		want    []model.Verdict
		wantErr string
	}{
		{in: "leak", want: []model.Verdict{model.Leak}},
		{in: " leak , blocked,existence-leak ", want: []model.Verdict{model.Leak, model.Blocked, model.ExistenceLeak}},
		{in: "wrong-code,error,leak,blocked,existence-leak", want: []model.Verdict{model.WrongCode, model.ErrorVerdict, model.Leak, model.Blocked, model.ExistenceLeak}},
		{in: "Leak,leak", want: []model.Verdict{model.Leak}},
		{in: "none", want: []model.Verdict{}},
		{in: " none ", want: []model.Verdict{}},
		{in: "", wantErr: "empty verdict list"},
		{in: "leak,,blocked", wantErr: "empty item"},
		{in: "leak,none", wantErr: "none cannot be combined"},
		{in: "inconclusive", wantErr: "is a note"},
		{in: "dead-rule", wantErr: "is a note"},
		{in: "pass", wantErr: "pass cannot fail"},
		{in: "leaks", wantErr: `unknown verdict "leaks"; valid verdicts: leak, blocked, existence-leak, wrong-code, error`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFailOn(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseFailOn(%q): got error %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFailOn(%q): %v", tt.in, err)
			}
			if got == nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseFailOn(%q): got %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

// TestBlockedSaysWhetherALiveSessionConfirmedIt: the design's blocked
// (docs/design.md, "Verdicts") is "confirmed with a live session"; a
// denial to a role whose session no check proved says it is unconfirmed,
// one a check proved does not.
func TestBlockedSaysWhetherALiveSessionConfirmedIt(t *testing.T) {
	allow := roles.Expectation{Allow: true}
	for _, tc := range []struct {
		role, session string
		class         model.Class
		status        int
		unconfirmed   bool
	}{
		{"support", "", model.Forbidden, 403, true},
		{"support", "", model.Hidden, 404, true},
		{"support", model.SessionLive, model.Forbidden, 403, false},
		{"support", model.SessionRenewed, model.Hidden, 404, false},
		{"anonymous", "", model.Forbidden, 403, false},
	} {
		o := model.Observation{Endpoint: model.Endpoint{Method: "GET", URL: "http://127.0.0.1/x"}, Role: tc.role, Status: tc.status, Class: tc.class, Session: tc.session}
		v, why := Decide(allow, o)
		if v != model.Blocked {
			t.Fatalf("%+v: verdict %s, want blocked", tc, v)
		}
		if got := strings.Contains(why, "unconfirmed"); got != tc.unconfirmed {
			t.Errorf("%s with session %q: %q; want unconfirmed %v", tc.role, tc.session, why, tc.unconfirmed)
		}
	}
}

// TestJudgeRecordsRules: the run keeps every rule of the matrix and its
// default with the file and line it is written at, and every cell's rule
// is among them, so an output can point a finding at its rule (SARIF).
func TestJudgeRecordsRules(t *testing.T) {
	run := shopRun(t, true, false, false)
	cfg := parseConfig(t, testConfig)
	if got, want := len(run.Rules), len(cfg.Matrix.Rules)+1; got != want {
		t.Fatalf("rules: got %d, want %d (every rule and the default)", got, want)
	}
	first := run.Rules[0]
	if first.Index != 1 || first.Name != `GET / (line 13)` || first.File != "test.yaml" || first.Line != 13 || len(first.Patterns) != 1 || first.Patterns[0] != "GET /" {
		t.Errorf("rule 1: got %+v, want index 1, GET / (line 13), test.yaml line 13, pattern GET /", first)
	}
	if last := run.Rules[len(run.Rules)-1]; last.Name != "default" || last.Index != 0 || last.File != "test.yaml" {
		t.Errorf("the last entry: got %+v, want the default in test.yaml", last)
	}
	names := map[string]bool{}
	for _, r := range run.Rules {
		names[r.Name] = true
	}
	for _, c := range run.Observations.All() {
		if !names[c.Rule] {
			t.Errorf("cell %s %s as %s cites %q, which the run's rules do not list", c.Method, c.URL, c.Role, c.Rule)
		}
	}
}

// TestPassCellsKeepNoExcerpt: once judged, a pass cell keeps no excerpt
// (run schema v2); a finding's cell keeps its evidence.
func TestPassCellsKeepNoExcerpt(t *testing.T) {
	obs := shop(true, false, false)
	for i := range obs {
		obs[i].Excerpt = "body of " + obs[i].URL
	}
	run := judgetest.ShopRun()
	Judge(run, parseConfig(t, testConfig), obs)
	var pass, kept int
	for _, c := range run.Observations.All() {
		switch {
		case c.Verdict == model.Pass && c.Excerpt != "":
			t.Errorf("pass cell %s as %s kept its excerpt", c.URL, c.Role)
		case c.Verdict == model.Pass:
			pass++
		case c.Excerpt != "":
			kept++
		default:
			t.Errorf("%s cell %s as %s lost its excerpt", c.Verdict, c.URL, c.Role)
		}
	}
	if pass == 0 || kept == 0 {
		t.Errorf("%d pass cells, %d others with excerpts; want some of each", pass, kept)
	}
}

// TestCellsShareStrings: the cells of one endpoint share one template,
// and the cells of one rule one name, rather than a copy each (memory at
// a million cells, docs/design.md "Outputs at scale").
func TestCellsShareStrings(t *testing.T) {
	run := shopRun(t, true, false, false)
	for i := 1; i < run.Observations.Len(); i++ {
		a, b := run.Observations.At(i-1), run.Observations.At(i)
		if a.URL == b.URL && a.Method == b.Method && unsafe.StringData(a.Template) != unsafe.StringData(b.Template) {
			t.Errorf("cells %d and %d (%s) hold two copies of template %q", i-1, i, a.URL, a.Template)
		}
	}
	first := map[string]string{}
	for i, c := range run.Observations.All() {
		if f, ok := first[c.Rule]; ok && unsafe.StringData(f) != unsafe.StringData(c.Rule) {
			t.Errorf("cell %d holds a copy of rule name %q", i, c.Rule)
		} else if !ok {
			first[c.Rule] = c.Rule
		}
	}
}
