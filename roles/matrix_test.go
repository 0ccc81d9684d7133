package roles

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRuleNameDefault(t *testing.T) {
	c := parseTest(t, `target: http://h
roles: {admin: {}}
matrix:
  rules:
    - match: "GET /"
      allow: ["*"]
    - name: admin area
      match: ["GET /admin/**", "HEAD /admin/**", "GET /api/admin/**"]
      allow: [admin]
    - match:
        - GET /api/**
      allow: []
`, nil)
	var got []string
	for _, r := range c.Matrix.Rules {
		got = append(got, r.Name())
	}
	want := []string{"GET / (line 5)", "admin area", "GET /api/** (line 10)"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("names %q, want %q", got, want)
	}
}

func TestRuleCovers(t *testing.T) {
	rule := func(pats ...string) *Rule {
		r := &Rule{Index: 1}
		for _, s := range pats {
			p, err := ParsePattern(s)
			if err != nil {
				t.Fatalf("ParsePattern(%q): %v", s, err)
			}
			r.Match = append(r.Match, p)
		}
		return r
	}
	tests := []struct {
		name           string
		earlier, later []string
		want           bool
	}{
		{"same literal", []string{"GET /a"}, []string{"GET /a"}, true},
		{"glob covers literal", []string{"GET /admin/**"}, []string{"GET /admin/users", "GET /admin"}, true},
		{"any method covers a method", []string{"/admin/**"}, []string{"POST /admin/x"}, true},
		{"a method does not cover any method", []string{"GET /admin/**"}, []string{"/admin/x"}, false},
		{"other method", []string{"GET /admin/**"}, []string{"HEAD /admin/x"}, false},
		{"one pattern of the later rule uncovered", []string{"GET /admin/**"}, []string{"GET /admin/x", "GET /other"}, false},
		{"patterns of the earlier rule together", []string{"GET /a", "GET /b/*"}, []string{"GET /a", "GET /b/c"}, true},
		{"later wildcard is not decided", []string{"GET /**"}, []string{"GET /a/*"}, false},
		{"later variable is not decided", []string{"GET /**"}, []string{"GET /a/{id}"}, false},
		{"earlier role variable depends on the role", []string{"GET /o/{self.id}"}, []string{"GET /o/7"}, false},
		{"earlier name segment covers", []string{"GET /o/{id}"}, []string{"GET /o/7"}, true},
		{"earlier query narrows", []string{"GET /a?x=1"}, []string{"GET /a"}, false},
		{"later query within earlier", []string{"GET /a"}, []string{"GET /a?x=1"}, true},
		{"same query", []string{"GET /a?page=audit-*"}, []string{"GET /a?page=audit-log&y=2"}, true},
		{"trailing slash differs", []string{"GET /a"}, []string{"GET /a/"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rule(tt.earlier...).Covers(rule(tt.later...)); got != tt.want {
				t.Errorf("%q covers %q = %v, want %v", tt.earlier, tt.later, got, tt.want)
			}
		})
	}
}

// TestDocsDenialExample loads the example of docs/config.md, "Denial
// signatures", so that it cannot rot.
func TestDocsDenialExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "config.md"))
	if err != nil {
		t.Fatalf("read docs: %v", err)
	}
	_, rest, ok := strings.Cut(string(doc), "## Denial signatures\n")
	_, rest, ok2 := strings.Cut(rest, "```yaml\n")
	example, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatalf("no yaml block under Denial signatures in docs/config.md")
	}
	c := parseTest(t, "target: http://h\n"+example, nil)
	var classes []string
	for _, d := range c.Denials {
		classes = append(classes, d.Class)
	}
	if want := []string{"unauthenticated", "unauthenticated", "forbidden", "hidden"}; !slices.Equal(classes, want) {
		t.Errorf("classes %q, want %q", classes, want)
	}
}
