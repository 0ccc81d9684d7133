package roles

import (
	"fmt"
	"strings"
	"testing"
)

// TestShadowedRules: a literal rule an earlier rule covers never decides
// anything (first match wins); five rules of a first honest configuration
// were shadowed this way and produced 276 false blocked and 68 false
// leaks, and validate said nothing.
func TestShadowedRules(t *testing.T) {
	c := parseTest(t, `target: http://127.0.0.1:8080
roles:
  editor: {login: {bearer: tok-123456789}}
matrix:
  rules:
    - match: "GET /admin/**"
      allow: []
    - match: "GET /admin/settings"
      allow: [editor]
    - match: "GET /wiki/{page}"
      allow: ["*"]
    - match: ["GET /wiki/Main", "GET /help"]
      allow: [editor]
    - match: "GET /help"
      allow: ["*"]
    - match: "POST /admin/users"
      allow: [editor]
    - match: "GET /admin"
      allow: [editor]
`, nil)
	var got []string
	for _, s := range c.Shadowed() {
		got = append(got, fmt.Sprintf("%s by %s", s.Rule.Name(), s.By.Name()))
	}
	want := []string{
		"GET /admin/settings (line 8) by GET /admin/** (line 6)",
		"GET /help (line 14) by GET /wiki/Main and 1 more (line 12)",
		"GET /admin (line 18) by GET /admin/** (line 6)", // /x/** matches /x
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("shadowed:\n got %q\nwant %q", got, want)
	}
}

func BenchmarkShadowed(b *testing.B) {
	var y strings.Builder
	y.WriteString("target: http://127.0.0.1:8080\nmatrix:\n  rules:\n")
	for i := range 20000 {
		fmt.Fprintf(&y, "    - {match: \"GET /e/%d\", allow: []}\n", i)
	}
	c, err := Parse("bench.yaml", []byte(y.String()), LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if s := c.Shadowed(); len(s) != 0 {
			b.Fatalf("%d shadowed", len(s))
		}
	}
}

// TestExactQueryDoesNotShadow: a rule for "no query" or "exactly these
// keys" matches fewer URLs than a later rule that ignores unnamed keys,
// so it does not shadow it.
func TestExactQueryDoesNotShadow(t *testing.T) {
	c := parseTest(t, `target: http://127.0.0.1:8080
matrix:
  rules:
    - {match: "GET /api.php?", allow: []}
    - {match: "GET /api.php", allow: ["*"]}
    - {match: "GET /w?!oldid=1", allow: []}
    - {match: "GET /w?oldid=1", allow: ["*"]}
    - {match: "GET /x", allow: []}
    - {match: "GET /x?", allow: ["*"]}
`, nil)
	var got []string
	for _, s := range c.Shadowed() {
		got = append(got, s.Rule.Name())
	}
	if want := []string{"GET /x? (line 9)"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("shadowed %q, want %q (only the no-query rule after the bare one)", got, want)
	}
}
