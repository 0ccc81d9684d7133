package roles

import (
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
