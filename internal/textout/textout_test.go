package textout

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"plain /path?x=1":    "plain /path?x=1",
		"a\x1b[31mred":       `a\x1b[31mred`,
		"tab\tand\nline":     `tab\x09and\x0aline`,
		"bidi \u202egnp.exe": `bidi \u202egnp.exe`,
		"bad \xff byte":      `bad \xff byte`,
		"é and 日本":           "é and 日本",
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestQuoteAndPlainReadBack: what Quote writes, and a word Plain accepts
// written bare, YAML reads back as the same string.
func TestQuoteAndPlainReadBack(t *testing.T) {
	for _, s := range []string{"admin", "yes", "null", "a: b", "x\ny", "\"q\"", "\x00", "日本", "\xff", "-1", "on"} {
		var got string
		doc := Quote(s)
		if Plain(s) {
			doc = s
		}
		if err := yaml.Unmarshal([]byte("v: "+doc), &struct{ V *string }{&got}); err != nil {
			t.Errorf("%q written as %s: %v", s, doc, err)
			continue
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); got != want {
			t.Errorf("%q written as %s reads back as %q", s, doc, got)
		}
	}
	for _, s := range []string{"yes", "null", "Admin", "1x", "a b", ""} {
		if Plain(s) {
			t.Errorf("Plain(%q) = true, but YAML does not read it bare as itself", s)
		}
	}
}
