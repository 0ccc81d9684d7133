package learn_test

import (
	"bytes"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/learn"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// shopRoles is a configuration without its matrix section, for the roles
// of every run below: anonymous, customer (whose order is 17) and admin,
// which inherits customer.
const shopRoles = `target: http://127.0.0.1:8080
roles:
  customer: {login: {bearer: customer-token}, vars: {order_id: "17"}}
  admin: {inherits: [customer], login: {bearer: admin-token}}
`

const base = "http://127.0.0.1:8080"

// learnYAML drafts a matrix from run and checks that it loads as the
// matrix of shopRoles.
func learnYAML(t *testing.T, run *model.Run, opts learn.Options) (*learn.Draft, string, *roles.Config) {
	t.Helper()
	d := learn.Learn(run, opts)
	var buf bytes.Buffer
	if err := d.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	cfg, err := roles.Parse("draft.yaml", []byte(shopRoles+buf.String()), roles.LoadOptions{})
	if err != nil {
		t.Fatalf("the draft does not load: %v\n%s", err, buf.String())
	}
	return d, buf.String(), cfg
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want, err := os.ReadFile(path); err != nil {
		t.Fatalf("%v (go test ./learn -update writes it)", err)
	} else if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./learn -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// shopRun is the run of a small shop audited as anonymous, customer and
// admin. Each switch plants a bug: leak lets customer read
// /admin/users/{id}, code answers 403 to anonymous on /admin/, hide
// answers 403 to customer for another customer's order.
func shopRun(leak, code, hide bool) *model.Run {
	table := map[string]string{
		"/": "aaa", "/admin/": "lfa", "/admin/settings": "lfa", "/admin/users/1": "lfa", "/admin/users/2": "lfa",
		"/api/orders/17": "haa", "/api/orders/18": "hha", "/api/orders/19": "hha",
	}
	if leak {
		table["/admin/users/1"], table["/admin/users/2"] = "laa", "laa"
	}
	if code {
		table["/admin/"] = "ffa"
	}
	if hide {
		table["/api/orders/18"], table["/api/orders/19"] = "hfa", "hfa"
	}
	run := cells(table)
	run.RunID = "shop"
	return run
}

func observationsOf(run *model.Run) []model.Observation {
	obs := make([]model.Observation, run.Observations.Len())
	for i, c := range run.Observations.All() {
		obs[i] = c.Observation
	}
	return obs
}

func TestLearnDescribesTheRun(t *testing.T) {
	for _, vars := range []bool{false, true} {
		t.Run(fmt.Sprintf("vars=%v", vars), func(t *testing.T) {
			run := shopRun(false, false, false)
			var opts learn.Options
			if vars {
				opts.Vars = map[string]map[string]string{"customer": {"order_id": "17"}}
			}
			d, text, cfg := learnYAML(t, run, opts)
			// Judged against its own draft, the run has no finding.
			again := &model.Run{Gate: model.Gate{FailOn: model.DefaultFailOn}, Complete: true}
			judge.Judge(again, cfg, observationsOf(run))
			if len(again.Findings) != 0 {
				t.Errorf("the run judged against its draft has findings %+v\n%s", again.Findings, text)
			}
			for _, n := range again.Notes {
				if n.Verdict == model.DeadRule {
					t.Errorf("the draft has a dead rule: %s\n%s", n.Message, text)
				}
			}
			if len(d.Suspicious) != 0 {
				t.Errorf("suspicious answers in a correct run: %+v", d.Suspicious)
			}
			if !strings.Contains(text, `"GET /admin/**"`) {
				t.Errorf("the admin subtree is not grouped with **:\n%s", text)
			}
			own := `"GET /api/orders/17"`
			if vars {
				own = `"GET /api/orders/{self.order_id}"`
			}
			if !strings.Contains(text, own) {
				t.Errorf("the draft does not hold %s:\n%s", own, text)
			}
			if d.Endpoints != 8 || len(d.Rules) > d.Endpoints/2 {
				t.Errorf("%d rules for %d endpoints", len(d.Rules), d.Endpoints)
			}
		})
	}
}

func TestLearnSuspicious(t *testing.T) {
	run := shopRun(true, true, true)
	d, text, _ := learnYAML(t, run, learn.Options{})
	golden(t, "learn.yaml.golden", []byte(text))
	want := []struct{ kind, template, role string }{
		{learn.SuspectAllowedOutlier, "GET /admin/users/{id}", "customer"},
		{learn.SuspectAnonymous403, "GET /admin/", "anonymous"},
		{learn.SuspectExistence, "GET /api/orders/{id}", "customer"},
	}
	for _, w := range want {
		found := false
		for _, s := range d.Suspicious {
			if s.Kind == w.kind && s.Template == w.template && s.Role == w.role {
				found = true
				if !strings.Contains(text, "# suspicious: "+s.Message) {
					t.Errorf("suspicion %q is not a comment of the draft", s.Message)
				}
			}
		}
		if !found {
			t.Errorf("no %s suspicion for %s as %s; got %+v", w.kind, w.template, w.role, d.Suspicious)
		}
	}
	if len(d.Suspicious) != len(want) {
		t.Errorf("got %d suspicions, want %d: %+v", len(d.Suspicious), len(want), d.Suspicious)
	}
}

// cells builds a run from a table: for each path, the answer class of
// each role (anonymous, customer, admin) as a letter: a allowed,
// u unauthenticated (401), l unauthenticated (a redirect to the login
// page), f forbidden (403), h hidden (404), o other (405), e error (503).
func cells(table map[string]string) *model.Run {
	classes := map[byte]struct {
		status int
		class  model.Class
	}{
		'a': {200, model.Allowed}, 'u': {401, model.Unauthenticated}, 'l': {302, model.Unauthenticated}, 'f': {403, model.Forbidden},
		'h': {404, model.Hidden}, 'o': {405, model.Other}, 'e': {503, model.Error},
	}
	run := &model.Run{RunID: "t", Target: base, Complete: true, Observations: model.NewCells(0),
		Roles: []model.RoleInfo{{Name: "anonymous"}, {Name: "customer"}, {Name: "admin", Inherits: []string{"customer"}}}}
	var paths []string
	for p := range table {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		for i, role := range []string{"anonymous", "customer", "admin"} {
			c := classes[table[p][i]]
			o := model.Observation{Endpoint: model.Endpoint{Method: "GET", URL: base + p}, Role: role,
				Status: c.status, Class: c.class, Why: fmt.Sprintf("status %d", c.status)}
			if c.status == 302 {
				o.Location, o.Why = "/login", "redirect to login /login"
			}
			run.Observations.Append(model.Cell{Observation: o, Template: model.Template("GET", o.URL)})
		}
	}
	return run
}

func TestLearnSuspicionKinds(t *testing.T) {
	cases := []struct {
		name  string
		table map[string]string
		kind  string
		role  string
	}{
		{"401 to a signed-in role", map[string]string{"/a": "uua"}, learn.SuspectSignedIn401, "customer"},
		{"403 to anonymous", map[string]string{"/a": "ffa"}, learn.SuspectAnonymous403, "anonymous"},
		{"hidden and forbidden", map[string]string{"/o/1": "hfa"}, learn.SuspectExistence, "customer"},
		{"a higher role denied", map[string]string{"/a": "uaf", "/b": "uaa"}, learn.SuspectInheritance, "admin"},
		{"a role sees everything a higher role sees", map[string]string{"/a": "uaa", "/b": "uaa"}, learn.SuspectSeesAll, "customer"},
		{"allowed unlike its subtree", map[string]string{"/x/a": "ufa", "/x/b": "ufa", "/x/c": "uaa"}, learn.SuspectAllowedOutlier, "customer"},
		{"denied unlike its subtree", map[string]string{"/x/a": "uaa", "/x/b": "uaa", "/x/c": "ufa", "/y": "ufa"}, learn.SuspectDeniedOutlier, "customer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, text, _ := learnYAML(t, cells(tc.table), learn.Options{})
			for _, s := range d.Suspicious {
				if s.Kind == tc.kind && s.Role == tc.role {
					return
				}
			}
			t.Errorf("no %s suspicion for %s; got %+v\n%s", tc.kind, tc.role, d.Suspicious, text)
		})
	}
}

func TestLearnNotes(t *testing.T) {
	_, text, _ := learnYAML(t, cells(map[string]string{"/m": "uoa", "/down": "uea"}), learn.Options{})
	for _, want := range []string{"note: customer gets 405 other on /m", "note: customer gets 503 error on /down"} {
		if !strings.Contains(text, want) {
			t.Errorf("the draft does not say %q:\n%s", want, text)
		}
	}
}

func TestLearnHostilePaths(t *testing.T) {
	// Paths with pattern syntax, quotes and control characters must give a
	// draft that loads and still matches them.
	run := cells(map[string]string{
		"/a/%2A%2A":           "uaa",
		"/a/%7Bx%7D":          "ufa",
		"/a/x%22%0A%20y":      "uha",
		"/a/report-%2A.csv":   "ufa",
		"/b/x%3Fy=1":          "aaa",
		"/c/%E2%80%AEevil":    "ufa",
		"/d/1?page=%0A--%0Ax": "ufa",
	})
	_, text, cfg := learnYAML(t, run, learn.Options{})
	again := &model.Run{Gate: model.Gate{FailOn: model.DefaultFailOn}, Complete: true}
	judge.Judge(again, cfg, observationsOf(run))
	if len(again.Findings) != 0 {
		t.Errorf("findings against the draft: %+v\n%s", again.Findings, text)
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.ContainsAny(line, "\x1b\r\u202e") {
			t.Errorf("unsafe character in line %q", line)
		}
	}
}

func FuzzLearn(f *testing.F) {
	f.Add("/a", "uaa", "/a/b", "ufa")
	f.Add("/x/%2A", "hfa", "/x/{y}", "uea")
	f.Add("/", "aaa", "/o/1?x=2", "hha")
	f.Add("/a?b=1", "aaa", "/a?b=1&c=%2A", "afa")
	f.Fuzz(func(t *testing.T, p1, c1, p2, c2 string) {
		table := map[string]string{}
		for _, pc := range [][2]string{{p1, c1}, {p2, c2}} {
			if !strings.HasPrefix(pc[0], "/") || len(pc[1]) != 3 || strings.Trim(pc[1], "aufhoe") != "" {
				return
			}
			table[pc[0]] = pc[1]
		}
		run := cells(table)
		for _, c := range run.Observations.All() {
			if _, err := url.Parse(c.URL); err != nil {
				return
			}
		}
		_, text, cfg := learnYAML(t, run, learn.Options{})
		// Every answer a matrix can accept passes against the draft,
		// unless the draft said it cannot express it.
		if strings.Contains(text, "cannot express") {
			return
		}
		again := &model.Run{Gate: model.Gate{FailOn: model.DefaultFailOn}, Complete: true}
		judge.Judge(again, cfg, observationsOf(run))
		for _, fd := range again.Findings {
			if fd.Verdict == model.Leak || fd.Verdict == model.Blocked && !strings.Contains(text, "inherits") {
				t.Fatalf("finding %s against the draft:\n%s", fd.Message, text)
			}
		}
	})
}

// TestLearnOwnRun: judged against its own draft, a run fails the gate on
// no finding that the draft's header does not name, with why.
func TestLearnOwnRun(t *testing.T) {
	cases := map[string]*model.Run{
		"shop with bugs":     shopRun(true, true, true),
		"errors":             cells(map[string]string{"/m": "uoa", "/down": "uea", "/gone": "eee", "/ok": "aaa"}),
		"higher role denied": cells(map[string]string{"/a": "uaf", "/b": "uaa"}),
		"codes":              cells(map[string]string{"/a": "ffa", "/b": "uua", "/o/1": "hfa", "/o/2": "hha"}),
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			_, text, cfg := learnYAML(t, run, learn.Options{})
			again := &model.Run{Gate: model.Gate{FailOn: model.DefaultFailOn}, Complete: true, Roles: run.Roles}
			judge.Judge(again, cfg, observationsOf(run))
			named := 0
			for _, f := range again.Findings {
				if !slices.Contains(again.Gate.FailOn, f.Verdict) {
					continue
				}
				want := fmt.Sprintf("# note:   %s %s %s as %s: ", f.Verdict, f.Method, f.Path, f.Role)
				if !strings.Contains(text, want) {
					t.Errorf("the draft leaves %s %s %s as %s failing the gate without a word (want %q):\n%s", f.Verdict, f.Method, f.Path, f.Role, want, text)
				}
				named++
			}
			if named > 0 && !strings.Contains(text, fmt.Sprintf("still fails the gate (%s) on %d finding", model.JoinVerdicts(model.DefaultFailOn), named)) {
				t.Errorf("the header does not count the %d findings left:\n%s", named, text)
			}
			if named == 0 && strings.Contains(text, "still fails the gate") {
				t.Errorf("the header names findings the run does not have:\n%s", text)
			}
		})
	}
}

// TestLearnWritesExactQueries: a wiki's API page answers customers, but
// its crawled variants (?action=...) deny them, except one query. Without
// a query the exceptions' patterns decided every variant alike, and the
// draft said it "cannot express" them; now the bare page is written
// "GET /api.php?" (no query) and the one variant "?!" with its exact
// keys, and the run judged against the draft has no finding.
func TestLearnWritesExactQueries(t *testing.T) {
	table := map[string]string{"/api.php": "laa", "/api.php?action=query&list=x*": "laa"}
	for i := range 12 {
		table[fmt.Sprintf("/api.php?action=a%02d", i)] = "lfa"
	}
	run := cells(table)
	_, text, cfg := learnYAML(t, run, learn.Options{})
	for _, want := range []string{`GET /api.php?"`, `GET /api.php?!action=query&list=x%2A"`} {
		if !strings.Contains(text, want) {
			t.Errorf("draft lacks %s:\n%s", want, text)
		}
	}
	if strings.Contains(text, "cannot express") {
		t.Errorf("the draft says it cannot express a URL:\n%s", text)
	}
	again := &model.Run{Gate: model.Gate{FailOn: model.DefaultFailOn}, Complete: true}
	judge.Judge(again, cfg, observationsOf(run))
	if len(again.Findings) != 0 {
		t.Errorf("findings against the draft: %+v\n%s", again.Findings, text)
	}
}
