package demoapp

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestDecideIntended(t *testing.T) {
	tests := []struct {
		role, method, target string
		want                 Decision
	}{
		{Anonymous, "GET", "/", Decision{Status: 200, Form: FormAllow, Route: "/"}},
		{Anonymous, "GET", "/search?q=lamp", Decision{Status: 200, Form: FormAllow, Route: "/search"}},
		{Anonymous, "HEAD", "/products/1", Decision{Status: 200, Form: FormAllow, Route: "/products/{id}"}},
		{Anonymous, "GET", "/orders/17", Decision{Status: 302, Location: "/login?next=%2Forders%2F17", Form: FormLoginRedirect, Route: "/orders/{id}"}},
		{Anonymous, "GET", "/admin/reports/sales?year=2024", Decision{Status: 302, Location: "/login?next=%2Fadmin%2Freports%2Fsales%3Fyear%3D2024", Form: FormLoginRedirect, Route: "/admin/reports/sales"}},
		{Anonymous, "GET", "/api/orders/17", Decision{Status: 404, Form: FormHidden, Route: "/api/orders/{id}"}},
		{Anonymous, "GET", "/api/orders/999", Decision{Status: 404, Form: FormNotFound, Route: "/api/orders/{id}"}},
		{Anonymous, "GET", "/api/orders/x", Decision{Status: 401, Form: FormUnauthenticated}},
		{Anonymous, "GET", "/api/tickets", Decision{Status: 401, Form: FormUnauthenticated, Route: "/api/tickets"}},
		{Anonymous, "GET", "/admin/nothing-here", Decision{Status: 302, Location: "/login?next=%2Fadmin%2Fnothing-here", Form: FormLoginRedirect}},
		{Anonymous, "GET", "/login", Decision{Status: 200, Form: FormLoginPage, Route: "/login"}},
		{"nobody", "GET", "/api/profile", Decision{Status: 401, Form: FormUnauthenticated, Route: "/api/profile"}},
		{Customer, "GET", "/orders/17", Decision{Status: 200, Form: FormAllow, Route: "/orders/{id}"}},
		{Customer, "GET", "/orders/18", Decision{Status: 404, Form: FormHidden, Route: "/orders/{id}"}},
		{Customer, "GET", "/api/orders/19", Decision{Status: 404, Form: FormHidden, Route: "/api/orders/{id}"}},
		{Customer, "GET", "/api/orders/999", Decision{Status: 404, Form: FormNotFound, Route: "/api/orders/{id}"}},
		{Customer, "GET", "/support/", Decision{Status: 200, Form: FormDenialPage, Route: "/support/"}},
		{Customer, "GET", "/support/tickets/101", Decision{Status: 403, Form: FormForbidden, Route: "/support/tickets/{id}"}},
		{Customer, "GET", "/api/tickets", Decision{Status: 403, Form: FormForbidden, Route: "/api/tickets"}},
		{Customer, "GET", "/login", Decision{Status: 302, Location: "/", Form: FormRedirect, Route: "/login"}},
		{Support, "GET", "/orders/18", Decision{Status: 200, Form: FormAllow, Route: "/orders/{id}"}},
		{Support, "GET", "/api/orders/19", Decision{Status: 200, Form: FormAllow, Route: "/api/orders/{id}"}},
		{Support, "GET", "/support/tickets/102", Decision{Status: 200, Form: FormAllow, Route: "/support/tickets/{id}"}},
		{Support, "GET", "/support/tickets/999", Decision{Status: 404, Form: FormNotFound, Route: "/support/tickets/{id}"}},
		{Support, "GET", "/api/admin/export", Decision{Status: 403, Form: FormForbidden, Route: "/api/admin/export"}},
		{Support, "GET", "/admin/nothing-here", Decision{Status: 403, Form: FormForbidden}},
		{Admin, "GET", "/admin/nothing-here", Decision{Status: 404, Form: FormNotFound}},
		{Admin, "GET", "/api/admin/export", Decision{Status: 200, Form: FormAllow, Route: "/api/admin/export"}},
		{Admin, "GET", "/orders/19", Decision{Status: 200, Form: FormAllow, Route: "/orders/{id}"}},
		{Admin, "GET", "/admin", Decision{Status: 301, Location: "/admin/", Form: FormRedirect}},
		{Anonymous, "GET", "/admin/users?x=1", Decision{Status: 301, Location: "/admin/users/?x=1", Form: FormRedirect}},
		{Admin, "GET", "/about/", Decision{Status: 404, Form: FormNotFound}},
		{Admin, "GET", "/admin/users/017", Decision{Status: 404, Form: FormNotFound}},
		{Admin, "GET", "/admin/users/1", Decision{Status: 404, Form: FormNotFound, Route: "/admin/users/{id}"}},
		{Admin, "GET", "/nowhere", Decision{Status: 404, Form: FormNotFound}},
		{Admin, "POST", "/", Decision{Status: 405, Form: FormMethod}},
		{Admin, "GET", "/logout", Decision{Status: 302, Location: "/", Form: FormRedirect, Route: "/logout"}},
		{Admin, "GET", "no-slash", Decision{Status: 400, Form: FormBadRequest}},
	}
	for _, tt := range tests {
		got := Policy{}.Decide(tt.role, tt.method, tt.target)
		if got != tt.want {
			t.Errorf("Decide(%q, %q, %q) = %+v, want %+v", tt.role, tt.method, tt.target, got, tt.want)
		}
	}
}

// diffCells returns the cells of Endpoints() x Roles() whose decision
// differs between the intended policy and bugs.
func diffCells(bugs Bugs) []Cell {
	var cells []Cell
	for _, e := range Endpoints() {
		for _, role := range Roles() {
			if (Policy{}).Decide(role, e.Method, e.Path) != (Policy{Bugs: bugs}).Decide(role, e.Method, e.Path) {
				cells = append(cells, Cell{e.Method, e.Path, role})
			}
		}
	}
	return cells
}

func TestEachBugChangesExactlyItsCells(t *testing.T) {
	if got := diffCells(Bugs{}); len(got) != 0 {
		t.Fatalf("the zero Bugs changes %v, want nothing", got)
	}
	var all []Cell
	for _, bug := range AllBugs() {
		t.Run(bug.Name, func(t *testing.T) {
			bugs := Bugs{}.With(bug.Name)
			if got := bugs.Names(); !slices.Equal(got, []string{bug.Name}) {
				t.Fatalf("Bugs{}.With(%q).Names() = %v, want [%s]", bug.Name, got, bug.Name)
			}
			got := diffCells(bugs)
			if len(got) == 0 || !reflect.DeepEqual(got, bug.Cells) {
				t.Fatalf("cells changed by %s = %v, want %v", bug.Name, got, bug.Cells)
			}
			for _, c := range got {
				before := Policy{}.Decide(c.Role, c.Method, c.Path)
				after := Policy{Bugs: bugs}.Decide(c.Role, c.Method, c.Path)
				if after.Bug != bug.Name {
					t.Errorf("%v: Decision.Bug = %q, want %q", c, after.Bug, bug.Name)
				}
				if !changeIs(bug.Verdict, c.Role, before, after) {
					t.Errorf("%v: %s changes %+v to %+v, which is not a %s", c, bug.Name, before, after, bug.Verdict)
				}
			}
		})
		all = append(all, bug.Cells...)
	}
	got := diffCells(AllBugsOn())
	sortCells := func(cs []Cell) {
		slices.SortFunc(cs, func(a, b Cell) int { return strings.Compare(a.Path+" "+a.Role, b.Path+" "+b.Role) })
	}
	sortCells(got)
	sortCells(all)
	if !reflect.DeepEqual(got, all) {
		t.Errorf("cells changed by every bug = %v, want the union of each bug's %v", got, all)
	}
}

// changeIs reports whether the change from before to after is of the
// kind verdict names.
func changeIs(verdict, role string, before, after Decision) bool {
	switch verdict {
	case "leak":
		return before.Form != FormAllow && after.Form == FormAllow
	case "blocked":
		return before.Form == FormAllow && after.Status == 403
	case "wrong-code":
		return role == Anonymous && before.Status == 401 && after.Status == 403
	case "existence-leak":
		return before.Form == FormHidden && after.Status == 403
	}
	return false
}

func TestBugsWithHasParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Bugs
		wantErr bool
	}{
		{"none", Bugs{}, false},
		{"all", Bugs{Leak: true, Blocked: true, WrongCode: true, ExistenceLeak: true}, false},
		{"leak", Bugs{Leak: true}, false},
		{"wrong-code, existence-leak", Bugs{WrongCode: true, ExistenceLeak: true}, false},
		{"blocked,nope", Bugs{}, true},
		{"", Bugs{}, true},
	}
	for _, tt := range tests {
		got, err := ParseBugs(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseBugs(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if got := (Bugs{}).With("nope"); got != (Bugs{}) {
		t.Errorf("Bugs{}.With(unknown) = %+v, want no bug", got)
	}
	if !AllBugsOn().Has(BugBlocked) || (Bugs{}).Has(BugBlocked) || AllBugsOn().Has("nope") {
		t.Errorf("Has disagrees with the switches")
	}
	for _, bug := range AllBugs() {
		if bug.Name != bug.Verdict {
			t.Errorf("bug %q has verdict %q; the demo names each bug after its verdict", bug.Name, bug.Verdict)
		}
	}
}

func TestEndpoints(t *testing.T) {
	es := Endpoints()
	if len(es) < 25 {
		t.Errorf("Endpoints() has %d endpoints, want 25 or more", len(es))
	}
	seen := map[string]bool{}
	for _, e := range es {
		if seen[e.Path] {
			t.Errorf("endpoint %s listed twice", e.Path)
		}
		seen[e.Path] = true
		for _, w := range []string{"logout", "log-out", "signout", "sign-out", "logoff", "delete", "destroy", "remove", "revoke", "trash"} {
			if strings.Contains(strings.ToLower(e.Path), w) {
				t.Errorf("endpoint %s holds the exclusion word %q", e.Path, w)
			}
		}
		// Admin may see everything; every endpoint exists. A signed-in
		// role is sent on from /login to /.
		want := Decision{Status: 200, Form: FormAllow, Route: e.Route}
		if e.Path == "/login" {
			want = Decision{Status: 302, Location: "/", Form: FormRedirect, Route: e.Route}
		}
		if d := (Policy{}).Decide(Admin, e.Method, e.Path); d != want {
			t.Errorf("admin on %s: %+v, want %+v", e.Path, d, want)
		}
	}
	if !slices.Equal(Roles(), []string{"anonymous", "customer", "support", "admin"}) {
		t.Errorf("Roles() = %v", Roles())
	}
}
