package roles

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzPattern checks that parsing never panics, that a parsed pattern
// keeps its text and re-parses identically, that a literal path always
// matches itself (and only with its method; with a trailing "?", only
// when the URL has no query), and that matching any URL never panics.
func FuzzPattern(f *testing.F) {
	f.Add("GET /admin/**", "/admin/x")
	f.Add("/api/orders/{self.order_id}", "/api/orders/7")
	f.Add("GET /wp-admin/admin.php?page=audit-*", "/wp-admin/admin.php?page=audit-log")
	f.Add("* /a/**/b/*.csv", "/a/x/b/c.csv")
	f.Add("/a%20b/{alice.note_id}", "/a%20b/7?x=1")
	f.Add("GET /api.php?", "/api.php?action=x")
	f.Add("/w/index.php?!oldid=12&unhide=1", "/w/index.php?unhide=1&oldid=12")
	f.Add("/s?!", "/s")
	f.Fuzz(func(t *testing.T, s, target string) {
		p, err := ParsePattern(s)
		if err == nil {
			if p.Raw != s || p.String() != s {
				t.Fatalf("ParsePattern(%q): Raw %q, String %q", s, p.Raw, p.String())
			}
			q, err := ParsePattern(p.Raw)
			if err != nil || !reflect.DeepEqual(p, q) {
				t.Fatalf("re-parsing %q: %v, %+v vs %+v", s, err, q, p)
			}
			for _, ref := range p.VarRefs() {
				if strings.Count(ref, ".") != 1 {
					t.Fatalf("VarRefs of %q holds %q", s, ref)
				}
			}
		} else if err.Error() == "" {
			t.Fatalf("ParsePattern(%q): empty error", s)
		}
		u, uerr := url.Parse(target)
		if uerr != nil {
			return
		}
		b := Bindings{Self: "alice", Vars: testVars}
		if err == nil {
			got := p.Match("GET", u, b)
			if p.Method != "" && p.Method != "GET" && got {
				t.Fatalf("%q matched method GET", s)
			}
		}
		// A literal path, as a pattern, matches its own URL.
		path := u.EscapedPath()
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "*{}?# \t") || strings.Contains(path, "//") {
			return
		}
		lit, err := ParsePattern("GET " + path)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", "GET "+path, err)
		}
		if !lit.Match("GET", u, b) || !lit.Match("get", u, Bindings{}) {
			t.Fatalf("pattern %q does not match its own URL %q", lit.Raw, target)
		}
		if lit.Match("HEAD", u, b) {
			t.Fatalf("pattern %q matched HEAD", lit.Raw)
		}
		// With a trailing "?", only when the URL has no query.
		if none, err := ParsePattern("GET " + path + "?"); err != nil {
			t.Fatalf("ParsePattern(%q): %v", "GET "+path+"?", err)
		} else if got := none.Match("GET", u, b); got != (u.RawQuery == "") {
			t.Fatalf("pattern %q on %q (query %q): %v", none.Raw, target, u.RawQuery, got)
		}
		if all := (Pattern{}); all.Match("GET", u, b) {
			t.Fatalf("the zero Pattern matched %q", target)
		}
		if any, _ := ParsePattern("/**"); !any.Match("PATCH", u, b) {
			t.Fatalf("/** does not match %q", target)
		}
	})
}

// FuzzParse checks the loader on hostile input: it never panics; it returns
// either a Config or ConfigErrors, never both nor neither; every error is
// positioned and the list is sorted; a loaded config has a 64-hex-digit
// fingerprint that a second parse reproduces; and no value taken from the
// environment appears in any error message.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatalf("read seed: %v", err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var given []string
		env := func(name string) (string, bool) {
			if strings.HasPrefix(name, "M") {
				return "", false
			}
			if strings.HasPrefix(name, "E") {
				return "", true
			}
			v := "fz\u00b7" + name + "\u00b7val"
			given = append(given, v)
			return v, true
		}
		c, err := Parse("fuzz.yaml", data, LoadOptions{Env: env})
		if err == nil {
			if c == nil {
				t.Fatalf("no Config and no error")
			}
			fp := c.Fingerprint()
			if len(fp) != 64 || strings.Trim(fp, "0123456789abcdef") != "" {
				t.Fatalf("fingerprint %q", fp)
			}
			if len(c.Roles) == 0 || c.Roles[0].Name != "anonymous" || c.Secrets == nil {
				t.Fatalf("roles %q, secrets %v", c.RoleNames(), c.Secrets)
			}
			for i, r := range c.Matrix.Rules {
				if r.Index != i+1 || len(r.Match) == 0 || r.Line < 1 {
					t.Fatalf("rule %d: %+v", i, r)
				}
			}
			for _, v := range given {
				if !contains(c.Secrets.Values(), v) {
					t.Fatalf("env value %q is not a secret", v)
				}
			}
			again, err := Parse("fuzz.yaml", data, LoadOptions{Env: env})
			if err != nil || again.Fingerprint() != fp {
				t.Fatalf("second parse: %v, fingerprint %s vs %s", err, again.Fingerprint(), fp)
			}
			return
		}
		if c != nil {
			t.Fatalf("a Config with an error")
		}
		var ce ConfigErrors
		if !errors.As(err, &ce) || len(ce) == 0 {
			t.Fatalf("error %T %v, want ConfigErrors", err, err)
		}
		for i, e := range ce {
			if e.Line < 1 || e.Col < 1 || e.File != "fuzz.yaml" || e.Msg == "" {
				t.Fatalf("unpositioned error %+v", e)
			}
			if i > 0 && (ce[i-1].Line > e.Line || ce[i-1].Line == e.Line && ce[i-1].Col > e.Col) {
				t.Fatalf("errors not sorted: %v then %v", ce[i-1], e)
			}
			for _, v := range given {
				if strings.Contains(e.Msg, v) {
					t.Fatalf("error %q holds the env value %q", e.Msg, v)
				}
			}
		}
	})
}

func contains(vs []string, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}
