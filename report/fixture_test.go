package report

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

// probe is one hand-written cell of a fixture run.
type probe struct {
	role     string
	status   int
	class    model.Class
	why      string
	location string
	verdict  model.Verdict
	excerpt  string
	chain    []model.Hop
	err      string
	body     []model.BodyCheckResult
}

// fixtureEndpoint is one row of a fixture run.
type fixtureEndpoint struct {
	path, template, expected, rule string
	probes                         []probe
}

// fixtureRoles are the roles of richRun, in configuration order.
var fixtureRoles = []model.RoleInfo{
	{Name: "anonymous", SignIn: "none"},
	{Name: "customer", SignIn: "cookies"},
	{Name: "support", SignIn: "bearer", Inherits: []string{"customer"}},
	{Name: "admin", SignIn: "basic", Inherits: []string{"support"}},
}

// richEndpoints has one row per situation the report must show: every
// verdict, a redirect chain, a login redirect, a denial signature, an
// error without an answer and a role that did not probe an endpoint.
func richEndpoints() []fixtureEndpoint {
	login := probe{role: "anonymous", status: 302, class: model.Unauthenticated, why: "redirect to login /login", location: "/login", verdict: model.Pass}
	ok := func(role string) probe {
		return probe{role: role, status: 200, class: model.Allowed, why: "status 200", verdict: model.Pass, excerpt: "<h1>Acme</h1>"}
	}
	forbid := func(role string, v model.Verdict) probe {
		return probe{role: role, status: 403, class: model.Forbidden, why: "status 403", verdict: v, excerpt: "Forbidden"}
	}
	return []fixtureEndpoint{
		// Probes out of column order: the page must map cells explicitly.
		{path: "/", template: "GET /", expected: "allow", rule: "rule 1 (GET /)",
			probes: []probe{ok("admin"), ok("anonymous"), ok("support"), ok("customer")}},
		{path: "/account/", template: "GET /account/", expected: "allow", rule: "rule 2 (GET /account/)",
			probes: []probe{login, {role: "customer", status: 200, class: model.Allowed, why: "status 200", verdict: model.Pass,
				chain: []model.Hop{{URL: "http://127.0.0.1:8080/account", Status: 301, Location: "/account/"}, {URL: "http://127.0.0.1:8080/account/", Status: 200}}},
				ok("support"), ok("admin")}},
		{path: "/admin/", template: "GET /admin/", expected: "deny", rule: "rule 5 (GET /admin/**)",
			probes: []probe{login, forbid("customer", model.Pass),
				{role: "support", status: 200, class: model.Allowed, why: "status 200", verdict: model.Leak, excerpt: "<h1>Admin</h1><p>users: 3</p>"}, ok("admin")}},
		{path: "/api/admin/stats", template: "GET /api/admin/stats", expected: "deny", rule: "rule 6 (GET /api/admin/**)",
			probes: []probe{forbid("anonymous", model.WrongCode), forbid("customer", model.Pass), forbid("support", model.Pass),
				{role: "admin", status: 0, class: model.Error, why: "transport error", verdict: model.ErrorVerdict, err: "read tcp 127.0.0.1:8080: connection reset by peer"}}},
		{path: "/api/orders/17", template: "GET /api/orders/{id}", expected: "deny as 404", rule: "rule 4 (GET /api/orders/{id})",
			probes: []probe{{role: "anonymous", status: 404, class: model.Hidden, why: "status 404", verdict: model.Pass}, ok("customer"), ok("support"), ok("admin")}},
		{path: "/api/orders/18", template: "GET /api/orders/{id}", expected: "deny as 404", rule: "rule 4 (GET /api/orders/{id})",
			probes: []probe{{role: "anonymous", status: 401, class: model.Unauthenticated, why: "status 401", verdict: model.ExistenceLeak}, forbid("customer", model.ExistenceLeak), ok("support")}},
		{path: "/search?q=x", template: "GET /search?q={id}", expected: "allow", rule: "rule 1 (GET /search)",
			probes: []probe{ok("anonymous"), {role: "customer", status: 405, class: model.Other, why: "status 405", verdict: model.Inconclusive}, ok("support"), ok("admin")}},
		{path: "/support/tickets", template: "GET /support/tickets", expected: "allow", rule: "rule 7 (GET /support/**)",
			probes: []probe{login, {role: "customer", status: 200, class: model.Forbidden, why: "denial signature 1", verdict: model.Pass, excerpt: "Sorry, you are not allowed to see this page"},
				forbid("support", model.Blocked), ok("admin")}},
	}
}

// bodyEndpoints is a row whose rule checks the body of the allowed
// answers: every check passes for admin, one fails for customer (a leak:
// another user's record), one cannot decide for support (an error: the
// body was cut at the size cap).
func bodyEndpoints() []fixtureEndpoint {
	const own, items = `items[*].owner equals "{self.user_id}"`, `body contains "items"`
	pass := func(c string) model.BodyCheckResult { return model.BodyCheckResult{Check: c, Result: model.BodyPass} }
	json := func(role string, v model.Verdict, checks ...model.BodyCheckResult) probe {
		return probe{role: role, status: 200, class: model.Allowed, why: "status 200", verdict: v, excerpt: `{"items":[{"owner":"u1"},{"owner":"u2"}]}`, body: checks}
	}
	return []fixtureEndpoint{{path: "/api/notes", template: "GET /api/notes", expected: "allow", rule: "rule 8 (GET /api/notes)",
		probes: []probe{
			{role: "anonymous", status: 302, class: model.Unauthenticated, why: "redirect to login /login", location: "/login", verdict: model.Pass},
			json("customer", model.Leak, pass(items), model.BodyCheckResult{Check: own, Result: model.BodyFail, Detail: `items[1].owner is "u2", want "u1"`}),
			json("support", model.ErrorVerdict, model.BodyCheckResult{Check: own, Result: model.BodyUndecided, Detail: "the body was cut at the size cap before the check could decide; raise crawl.max_body"}, pass(items)),
			json("admin", model.Pass, pass(own), pass(items)),
		}}}
}

// baselinedRun is the rich run and the body-check row, judged with a
// baseline that accepts three of its findings (one of them until a day
// already past) and lists one finding since fixed and one on an endpoint
// the run did not probe.
func baselinedRun() *model.Run {
	r := fixtureRun(fixtureRoles, append(richEndpoints(), bodyEndpoints()...))
	entry := func(v model.Verdict, template, role, reason, expires string) model.BaselineEntry {
		return model.BaselineEntry{Fingerprint: model.Fingerprint(v, "GET", template, role), Verdict: v, Template: template, Role: role, Reason: reason, Expires: expires}
	}
	ApplyBaseline(r, &Baseline{File: "permaudit-baseline.yaml", Entries: []model.BaselineEntry{
		entry(model.Leak, "GET /admin/", "support", "ACME-12: support keeps the admin page until the split", "2025-12-31"),
		entry(model.ExistenceLeak, "GET /api/orders/{id}", "anonymous", "ACME-7: 401 before the lookup", "2025-01-31"),
		entry(model.ExistenceLeak, "GET /api/orders/{id}", "customer", "ACME-7: 403 before the lookup", ""),
		entry(model.Leak, "GET /", "anonymous", "ACME-3: the home page showed the user list", ""),
		entry(model.Blocked, "GET /reports/{id}", "support", "ACME-9: reports are off in staging", ""),
	}}, time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC))
	return r
}

// hostileEndpoints carry markup, script, javascript: URLs and quotes in
// every string a target controls: paths, locations, bodies, errors.
func hostileEndpoints() []fixtureEndpoint {
	const body = `</script><script>window.__pwned="excerpt"</script><!-- <img src=x onerror="window.__pwned='img'"> ` + "\u2028" + `'"`
	return []fixtureEndpoint{
		{path: `/a/<script>window.__pwned="path"</script>`, template: `GET /a/<script>window.__pwned="path"</script>`, expected: "deny", rule: `rule 1 (GET /a/**) <b onmouseover="window.__pwned='rule'">`,
			probes: []probe{
				{role: "anonymous", status: 200, class: model.Allowed, why: "status 200", verdict: model.Leak, excerpt: body,
					body: []model.BodyCheckResult{{Check: `body contains "<img src=x onerror=window.__pwned='check'>"`, Result: model.BodyFail, Detail: `the body holds "</script><script>window.__pwned='detail'</script>"`}}},
				{role: `cust"'><img src=x onerror=window.__pwned=1>`, status: 302, class: model.Other, why: "redirect off scope", location: `javascript:window.__pwned="location"`, verdict: model.Inconclusive},
			}},
		{path: `/b/"'><svg onload="window.__pwned='svg'">`, template: "GET /b/{id}", expected: `deny as 404 <script>window.__pwned="exp"</script>`, rule: "rule 2",
			probes: []probe{
				{role: "anonymous", status: 0, class: model.Error, why: "transport error", verdict: model.ErrorVerdict, err: `dial: </script><script>window.__pwned="err"</script>`},
				{role: `cust"'><img src=x onerror=window.__pwned=1>`, status: 200, class: model.Allowed, why: "status 200", verdict: model.Leak, excerpt: "{{.}} ${window.__pwned='tpl'} javascript:alert(1)",
					chain: []model.Hop{{URL: `http://127.0.0.1:8080/b/javascript:window.__pwned=1`, Status: 302, Location: `javascript:window.__pwned="hop"`}, {URL: "http://127.0.0.1:8080/b/", Status: 200}}},
			}},
	}
}

// fixtureRun builds a run from endpoints, with findings and notes made
// from each cell's verdict: golden files and browser tests pin rendering,
// never what the judge decides.
func fixtureRun(roles []model.RoleInfo, endpoints []fixtureEndpoint) *model.Run {
	const target = "http://127.0.0.1:8080"
	started := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	r := &model.Run{
		Observations:      model.NewCells(0),
		Schema:            model.SchemaVersion,
		Tool:              model.Tool{Name: "permaudit", Version: "0.1.0"},
		RunID:             "20250314T092653Z-fixture",
		Target:            target,
		Started:           started,
		Finished:          started.Add(3 * time.Second),
		Duration:          3 * time.Second,
		ConfigFile:        "permaudit.yaml",
		ConfigFingerprint: "9f86d081884c7d659a2feaa0c55ad015",
		Roles:             roles,
		Gate:              model.Gate{FailOn: model.DefaultFailOn},
		Complete:          true,
		Inventory:         model.Inventory{Pages: map[string]int{}},
		Findings:          []model.Finding{},
		Notes:             []model.Finding{},
		Counts:            map[model.Verdict]int{},
	}
	for _, ri := range roles {
		r.Inventory.Pages[ri.Name] = 7
	}
	for _, e := range endpoints {
		u := target + e.path
		r.Inventory.Entries = append(r.Inventory.Entries, model.Entry{Endpoint: model.Endpoint{Method: "GET", URL: u}, Template: e.template,
			FoundBy: []string{"admin"}, Sources: []string{"link"}})
		for _, p := range e.probes {
			c := model.Cell{
				Observation: model.Observation{
					Endpoint: model.Endpoint{Method: "GET", URL: u}, Role: p.role, Status: p.status, Location: p.location,
					Chain: p.chain, Class: p.class, Why: p.why, Excerpt: p.excerpt, Err: p.err,
					Latency: 1500 * time.Microsecond, BodyChecks: p.body,
				},
				Template: e.template, Expected: e.expected, Rule: e.rule, Verdict: p.verdict,
			}
			if p.excerpt != "" {
				c.ContentType, c.Size, c.BodySHA256 = "text/html; charset=utf-8", int64(len(p.excerpt)), strings.Repeat("ab", 32)
			}
			r.Observations.Append(c)
			i := r.Observations.Len() - 1
			r.Counts[p.verdict]++
			if p.verdict == model.Pass {
				continue
			}
			f := model.Finding{
				Verdict: p.verdict, Severity: p.verdict.Severity(), Method: "GET", URL: u, Path: model.PathOf(u), Template: e.template,
				Role: p.role, Expected: e.expected, Observed: c.Observation.Observed(), Rule: e.rule,
				Message:     fmt.Sprintf("GET %s as %s: expected %s, got %s", model.PathOf(u), p.role, e.expected, c.Observation.Observed()),
				Fingerprint: model.Fingerprint(p.verdict, "GET", e.template, p.role), Cell: i,
			}
			if p.verdict.IsFinding() {
				r.Findings = append(r.Findings, f)
				if slices.Contains(r.Gate.FailOn, p.verdict) {
					r.Gate.Failing++
				}
			} else {
				r.Notes = append(r.Notes, f)
			}
			if p.status == 401 {
				r.Notes = append(r.Notes, model.Finding{Verdict: model.MissingWWWAuth, Severity: model.Info, Method: "GET", URL: u, Path: model.PathOf(u), Template: e.template,
					Message: e.template + ": 401 without a WWW-Authenticate header (1 endpoint; roles: " + p.role + ")", Fingerprint: model.Fingerprint(model.MissingWWWAuth, "GET", e.template, ""), Cell: i})
				r.Counts[model.MissingWWWAuth]++
			}
		}
	}
	r.Notes = append(r.Notes, model.Finding{Verdict: model.DeadRule, Severity: model.Info, Rule: "rule 9 (GET /never/**)", Message: "rule 9 (GET /never/**) at line 40 matched no probed endpoint",
		Fingerprint: model.DeadRuleFingerprint([]string{"GET /never/**"}), Cell: -1})
	r.Counts[model.DeadRule]++
	r.Inventory.Skipped = []model.Skip{{Endpoint: model.Endpoint{Method: "GET", URL: target + "/logout"}, Reason: `excluded word "logout"`}}
	r.Gate.Failed = r.Gate.Failing > 0
	return r
}

// cellsWithVerdict returns the display paths of the rows that have a
// cell with verdict v.
func rowsWithVerdict(r *model.Run, v model.Verdict) map[string]bool {
	rows := map[string]bool{}
	for _, c := range r.Observations.All() {
		if c.Verdict == v {
			rows[c.Method+" "+textout.Sanitize(displayPath(r.Target, c.URL))] = true
		}
	}
	return rows
}

// bigRun is a run of endpoints x roles, shaped like a real application:
// 50 path prefixes of 10 templates each, ids under every template; the
// first half of the roles may read everything and get a body of 300 bytes
// of their own for every endpoint (no two alike, the worst case for the
// report's size), the others get the same 403 page; about 1% of the cells
// are leaks, 1% blocked and 1% errors.
func bigRun(endpoints, nRoles int) *model.Run {
	var roles []model.RoleInfo
	kinds := []string{"none", "cookies", "bearer", "basic", "headers", "cookies+headers"}
	for i := 0; i < nRoles; i++ {
		name := "anonymous"
		if i > 0 {
			name = fmt.Sprintf("role%02d", i)
		}
		roles = append(roles, model.RoleInfo{Name: name, SignIn: kinds[i%len(kinds)]})
	}
	denied := strings.Repeat("<p>Forbidden: you may not see this page.</p>", 8)[:300]
	var eps []fixtureEndpoint
	for i := 0; i < endpoints; i++ {
		prefix, tpl, id := i%50, (i/50)%10, i/500
		path := fmt.Sprintf("/area%02d/section%d/items/%d", prefix, tpl, 1000+id)
		e := fixtureEndpoint{path: path, template: fmt.Sprintf("GET /area%02d/section%d/items/{id}", prefix, tpl), expected: "allow", rule: fmt.Sprintf("rule %d (GET /area%02d/**)", prefix+1, prefix)}
		for j, ri := range roles {
			allowed := j < nRoles/2
			body := fmt.Sprintf("<h1>Item %d of %s</h1><p>Seen by %s.</p>", 1000+id, path, ri.Name)
			body += strings.Repeat(fmt.Sprintf("<li>order %d-%d shipped</li>", i, j), 20)
			p := probe{role: ri.Name, status: 200, class: model.Allowed, why: "status 200", verdict: model.Pass, excerpt: body[:300]}
			if !allowed {
				p = probe{role: ri.Name, status: 403, class: model.Forbidden, why: "status 403", verdict: model.Pass, excerpt: denied}
			}
			switch (i*7 + j*13) % 100 {
			case 0:
				p.status, p.class, p.why, p.verdict, p.excerpt = 200, model.Allowed, "status 200", model.Leak, body[:300]
			case 1:
				p.status, p.class, p.why, p.verdict, p.excerpt = 403, model.Forbidden, "status 403", model.Blocked, denied
			case 2:
				p.status, p.class, p.why, p.verdict, p.excerpt = 500, model.Error, "status 500", model.ErrorVerdict, "Internal Server Error"
			}
			e.probes = append(e.probes, p)
		}
		eps = append(eps, e)
	}
	return fixtureRun(roles, eps)
}

// fileURL is the file:// URL of a local path.
func fileURL(path string) string {
	return (&url.URL{Scheme: "file", Path: path}).String()
}
