package roles

import (
	"slices"
	"testing"
)

func TestRuleName(t *testing.T) {
	tests := []struct {
		rule Rule
		want string
	}{
		{Rule{Index: 3, Match: []Pattern{{Raw: "GET /admin/**"}}}, "rule 3 (GET /admin/**)"},
		{Rule{Index: 1, Match: []Pattern{{Raw: "GET /a"}, {Raw: "HEAD /a"}}}, "rule 1 (GET /a and 1 more)"},
	}
	for _, tt := range tests {
		if got := tt.rule.Name(); got != tt.want {
			t.Errorf("Name() = %q, want %q", got, tt.want)
		}
	}
}

const matrixYAML = `
target: http://127.0.0.1:1
roles:
  viewer:
    vars: {order_id: "17"}
  customer:
    inherits: [viewer]
    vars: {order_id: "18"}
  admin:
    inherits: [customer]
  auditor: {}
matrix:
  default: %s
  rules:
    - match: "GET /"
      allow: ["*"]
    - match: ["GET /admin/**", "HEAD /admin/**"]
      allow: [admin]
    - match: "GET /api/orders/{self.order_id}"
      allow: [viewer]
    - match: "GET /api/orders/{id}"
      allow: [admin]
      deny_as: [404, login]
    - match: "GET /viewer/{viewer.order_id}"
      allow: [auditor]
`

func TestExpect(t *testing.T) {
	cfg := parseTest(t, sprintf(matrixYAML, "deny"), nil)
	tests := []struct {
		method, url, role string
		want              Expectation
	}{
		{"GET", "http://127.0.0.1:1/", "anonymous", Expectation{Allow: true, Rule: "GET / (line 15)", RuleIdx: 1}},
		{"GET", "/admin/users", "admin", Expectation{Allow: true, Rule: "GET /admin/** and 1 more (line 17)", RuleIdx: 2}},
		{"HEAD", "/admin", "admin", Expectation{Allow: true, Rule: "GET /admin/** and 1 more (line 17)", RuleIdx: 2}},
		{"GET", "/admin/", "customer", Expectation{Rule: "GET /admin/** and 1 more (line 17)", RuleIdx: 2}},
		{"POST", "/admin/", "admin", Expectation{Rule: "default"}},
		// {self.order_id}: viewer's own order is rule 3, another's falls to rule 4.
		{"GET", "/api/orders/17", "viewer", Expectation{Allow: true, Rule: "GET /api/orders/{self.order_id} (line 19)", RuleIdx: 3}},
		{"GET", "/api/orders/18", "viewer", Expectation{Rule: "GET /api/orders/{id} (line 21)", RuleIdx: 4,
			DenyAs: []DenyForm{{Class: "hidden", Status: 404}, {Class: "unauthenticated"}}}},
		// customer's own order (18) matches rule 3 and customer inherits viewer.
		{"GET", "/api/orders/18", "customer", Expectation{Allow: true, Rule: "GET /api/orders/{self.order_id} (line 19)", RuleIdx: 3}},
		// admin has no order_id of its own: rule 4, where admin is allowed.
		{"GET", "/api/orders/17", "admin", Expectation{Allow: true, Rule: "GET /api/orders/{id} (line 21)", RuleIdx: 4}},
		{"GET", "/api/orders/17", "anonymous", Expectation{Rule: "GET /api/orders/{id} (line 21)", RuleIdx: 4,
			DenyAs: []DenyForm{{Class: "hidden", Status: 404}, {Class: "unauthenticated"}}}},
		{"GET", "/viewer/17", "auditor", Expectation{Allow: true, Rule: "GET /viewer/{viewer.order_id} (line 24)", RuleIdx: 5}},
		{"GET", "/viewer/18", "auditor", Expectation{Rule: "default"}},
		{"GET", "/nowhere", "admin", Expectation{Rule: "default"}},
	}
	for _, tt := range tests {
		got := cfg.Expect(tt.method, mustURL(t, tt.url), tt.role, nil)
		if !equalExpectation(got, tt.want) {
			t.Errorf("Expect(%s %s, %s) = %+v, want %+v", tt.method, tt.url, tt.role, got, tt.want)
		}
	}

	unmapped := parseTest(t, sprintf(matrixYAML, "unmapped"), nil)
	got := unmapped.Expect("GET", mustURL(t, "/nowhere"), "admin", nil)
	if want := (Expectation{Rule: "default", Unmapped: true}); !equalExpectation(got, want) {
		t.Errorf("Expect with default unmapped = %+v, want %+v", got, want)
	}
}

func TestExpectDenyAsIsACopy(t *testing.T) {
	cfg := parseTest(t, sprintf(matrixYAML, "deny"), nil)
	e := cfg.Expect("GET", mustURL(t, "/api/orders/99"), "anonymous", nil)
	if len(e.DenyAs) == 0 {
		t.Fatalf("no DenyAs in %+v", e)
	}
	e.DenyAs[0] = DenyForm{Status: 999}
	if got := cfg.Matrix.Rules[3].DenyAs[0]; got.Status == 999 {
		t.Errorf("changing an Expectation's DenyAs changed the rule")
	}
}

func equalExpectation(a, b Expectation) bool {
	return a.Allow == b.Allow && a.Rule == b.Rule && a.RuleIdx == b.RuleIdx &&
		a.Unmapped == b.Unmapped && slices.Equal(a.DenyAs, b.DenyAs)
}

func TestAllows(t *testing.T) {
	// Built in code: Load rejects cycles, Allows must still end on them.
	cfg := &Config{Roles: []*Role{
		{Name: "anonymous"},
		{Name: "viewer"},
		{Name: "customer", Inherits: []string{"viewer"}},
		{Name: "admin", Inherits: []string{"customer", "ghost"}},
		{Name: "a", Inherits: []string{"b"}},
		{Name: "b", Inherits: []string{"a"}},
	}}
	tests := []struct {
		allow []string
		role  string
		want  bool
	}{
		{[]string{"*"}, "anonymous", true},
		{[]string{"*"}, "nobody", true},
		{[]string{"viewer"}, "viewer", true},
		{[]string{"viewer"}, "customer", true},
		{[]string{"viewer"}, "admin", true},
		{[]string{"admin"}, "viewer", false},
		{[]string{"customer"}, "anonymous", false},
		{nil, "admin", false},
		{[]string{}, "admin", false},
		{[]string{"viewer"}, "a", false},
		{[]string{"b"}, "a", true},
		{[]string{"ghost"}, "admin", true},
	}
	for _, tt := range tests {
		if got := cfg.Allows(tt.allow, tt.role); got != tt.want {
			t.Errorf("Allows(%q, %s) = %v, want %v", tt.allow, tt.role, got, tt.want)
		}
	}
}

// TestConfigRuleName: the compiled matrix names each rule as Rule.Name
// does, and the default "default".
func TestConfigRuleName(t *testing.T) {
	cfg := parseTest(t, sprintf(matrixYAML, "deny"), nil)
	for i := range cfg.Matrix.Rules {
		if got, want := cfg.RuleName(i+1), cfg.Matrix.Rules[i].Name(); got != want {
			t.Errorf("RuleName(%d) = %q, want %q", i+1, got, want)
		}
	}
	for _, i := range []int{0, -1, len(cfg.Matrix.Rules) + 1} {
		if got := cfg.RuleName(i); got != "default" {
			t.Errorf("RuleName(%d) = %q, want default", i, got)
		}
	}
}
