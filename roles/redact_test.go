package roles

import (
	"fmt"
	"strings"
	"testing"
)

func TestRedactorOnePass(t *testing.T) {
	r := NewRedactor()
	r.Add("roles.a.login.bearer", "tok-123456")
	r.Add("roles.b.login.bearer", "tok-1234567890") // overlaps the first
	r.Add("x", "ole")                               // appears inside a placeholder name
	cases := []struct{ in, want string }{
		{"Bearer tok-1234567890!", "Bearer [REDACTED:roles.b.login.bearer]!"},
		{"a tok-123456 b", "a [REDACTED:roles.a.login.bearer] b"},
		{"whole", "wh[REDACTED:x]"},
		{"nothing here", "nothing here"},
	}
	for _, tc := range cases {
		if got := r.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, v := range r.Values() {
		if strings.Contains(r.Redact("x "+v+" y"), v) {
			t.Errorf("secret %q survived redaction", v)
		}
	}
	if got := (*Redactor)(nil).Redact("s"); got != "s" {
		t.Errorf("nil Redactor changed its input: %q", got)
	}
}

// A username from ${ENV} equal to its role's name does not redact the
// role's name, which every output prints; the password and the
// Authorization value still are.
func TestRoleNameIsNeverRedacted(t *testing.T) {
	env := map[string]string{"ED_USER": "editor", "ED_PW": "editor-pw-1234"}
	cfg, err := Parse("test.yaml", []byte(`target: http://127.0.0.1:8080
roles:
  editor:
    login:
      basic: {username: "${ED_USER}", password: "${ED_PW}"}
`), LoadOptions{Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Redactor{cfg.Secrets, cfg.Secrets.Clone()} {
		if got := r.Redact("role editor: 3 leaks"); got != "role editor: 3 leaks" {
			t.Errorf("the role's name is redacted: %q", got)
		}
		if got := r.Redact("pw editor-pw-1234"); strings.Contains(got, "editor-pw-1234") {
			t.Errorf("the password is not redacted: %q", got)
		}
		r.Add("obtained", "editor")
		if got := r.Redact("editor"); got != "editor" {
			t.Errorf("a secret obtained later redacts the role's name: %q", got)
		}
	}
}

// TestRedactorFewAndMany: with a few secrets Redact looks for them before
// it copies the string (the replacer copies even when it replaces
// nothing); with many it runs the replacer alone. Both redact alike, and
// a string without a secret comes back as it was.
func TestRedactorFewAndMany(t *testing.T) {
	for _, n := range []int{1, 64, 65, 200} {
		r := NewRedactor()
		for i := range n {
			r.Add(fmt.Sprintf("s%d", i), fmt.Sprintf("secret-%03d-value", i))
		}
		last := fmt.Sprintf("secret-%03d-value", n-1)
		if got, want := r.Redact("a "+last+" b"), fmt.Sprintf("a [REDACTED:s%d] b", n-1); got != want {
			t.Errorf("%d secrets: got %q, want %q", n, got, want)
		}
		if got := r.Redact("nothing to hide"); got != "nothing to hide" {
			t.Errorf("%d secrets: got %q", n, got)
		}
		if got := r.Longest(); got != len(last) {
			t.Errorf("%d secrets: Longest %d, want %d", n, got, len(last))
		}
	}
	if NewRedactor().Longest() != 0 || (*Redactor)(nil).Longest() != 0 {
		t.Error("Longest of no secret is not 0")
	}
}
