package roles

import (
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// fuzzBytes hands out the fuzzer's bytes; past the end it gives zeros.
type fuzzBytes struct{ b []byte }

func (f *fuzzBytes) next() int {
	if len(f.b) == 0 {
		return 0
	}
	c := f.b[0]
	f.b = f.b[1:]
	return int(c)
}

func (f *fuzzBytes) pick(xs []string) string { return xs[f.next()%len(xs)] }

var (
	fuzzMethods  = []string{"", "GET ", "HEAD ", "POST ", "* ", "get "}
	fuzzPatSegs  = []string{"a", "b", "", "*", "**", "{id}", "{self.v}", "{alice.v}", "a*", "*b", "%61", "x%2Fy", "7", "a%00b", "%00"}
	fuzzPatQuery = []string{"", "", "?q", "?q=1", "?q=a*", "?r&q", "?", "?!q", "?!q=a*", "?!r&q", "?!q=1&q"}
	fuzzURLSegs  = []string{"a", "b", "", "x", "%61", "x%2Fy", "ab", "7", "*", "%zz", "a%00b", "%00"}
	fuzzURLQuery = []string{"", "?q=1", "?q=abc", "?q", "?r=1&q=ab", "?q=%zz", "?q=a&q=1", "?", "?&", "?q=1&x=%zz", "?q=1;r", "?=1&q"}
	fuzzReqMeths = []string{"GET", "HEAD", "POST", "get", "PoSt", "GEt", "poſt", ""}
	fuzzAllows   = [][]string{nil, {"alice"}, {"bob"}, {"*"}, {"alice", "bob"}}
)

// fuzzConfig builds a matrix of up to 8 rules from fb: patterns from a
// small vocabulary, so that patterns and URLs meet often.
func fuzzConfig(fb *fuzzBytes) *Config {
	c := &Config{Roles: []*Role{
		{Name: "anonymous"},
		{Name: "alice", Vars: map[string]string{"v": "a"}},
		{Name: "bob", Inherits: []string{"alice"}, Vars: map[string]string{"v": "7"}},
	}}
	if fb.next()%2 == 1 {
		c.Matrix.Default = "unmapped"
	}
	nRules := 1 + fb.next()%8
	for i := range nRules {
		r := Rule{Index: i + 1, Allow: fuzzAllows[fb.next()%len(fuzzAllows)]}
		if fb.next()%3 == 0 {
			r.DenyAs = []DenyForm{{Class: "hidden", Status: 404}}
		}
		for range 1 + fb.next()%3 {
			var s strings.Builder
			s.WriteString(fb.pick(fuzzMethods))
			for range 1 + fb.next()%4 {
				s.WriteString("/" + fb.pick(fuzzPatSegs))
			}
			s.WriteString(fb.pick(fuzzPatQuery))
			if p, err := ParsePattern(s.String()); err == nil {
				r.Match = append(r.Match, p)
			}
		}
		if fb.next()%4 == 0 {
			r.Match = append(r.Match, Pattern{}) // matches nothing
		}
		c.Matrix.Rules = append(c.Matrix.Rules, r)
	}
	return c
}

func fuzzURL(fb *fuzzBytes) *url.URL {
	var s strings.Builder
	s.WriteString("http://127.0.0.1:8080")
	for range fb.next() % 5 {
		s.WriteString("/" + fb.pick(fuzzURLSegs))
	}
	s.WriteString(fb.pick(fuzzURLQuery))
	u, err := url.Parse(s.String())
	if err != nil {
		return nil
	}
	return u
}

// FuzzCompiledMatrix checks that the compiled matrix picks exactly the
// rule a plain first-match scan of every pattern picks (expectScan), with
// the same expectation, for every role, with configured and captured
// variables, whatever the method's case.
func FuzzCompiledMatrix(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 3, 1, 0, 2, 1, 0, 4, 0, 2, 0, 0, 1, 0, 5, 3, 2, 0, 0, 1, 4, 0})
	f.Add([]byte("\x01\x05\x02\x00\x02\x01\x03\x04\x05\x06\x07\x03\x01\x02\x03\x04\x00\x01\x02\x08\x09\x0a\x0b\x0c"))
	f.Add([]byte("GET /a/**/b/{self.v}?q=a* HEAD /a/* /x%2Fy/7 anything"))
	f.Add([]byte{0, 1, 1, 0, 0, 0, 6, 0, 1, 0, 0, 7, 0, 1, 0, 0, 0, 5, 1, 0, 0, 8, 0, 1, 0, 0, 9, 0, 3, 0, 0, 7, 0, 0, 1, 0, 10, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		fb := &fuzzBytes{b: data}
		c := fuzzConfig(fb)
		captured := map[string]map[string]string{}
		if fb.next()%2 == 1 {
			captured["alice"] = map[string]string{"v": fb.pick(fuzzURLSegs)}
		}
		varsList := []Vars{nil, c.VarsWith(captured)}
		for range 1 + fb.next()%6 {
			u := fuzzURL(fb)
			method := fb.pick(fuzzReqMeths)
			for _, vars := range varsList {
				for _, role := range []string{"anonymous", "alice", "bob", "carol"} {
					got := c.Expect(method, u, role, vars)
					want := expectScan(c, method, u, role, vars)
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("%s %v as %s: compiled %+v, scan %+v\nrules: %s", method, u, role, got, want, describeRules(c))
					}
					// The rule's index alone gives the expectation back.
					if again := c.ExpectRule(got.RuleIdx, role); !reflect.DeepEqual(again, got) {
						t.Fatalf("%s %v as %s: ExpectRule(%d) %+v, Expect %+v\nrules: %s", method, u, role, got.RuleIdx, again, got, describeRules(c))
					}
					// Matching names every rule that matches, the first
					// (Expect's) among them.
					all := map[int]bool{}
					c.Matching(method, u, role, vars, func(i int) { all[i] = true })
					if scan := scanMatching(c, method, u, role, vars); !reflect.DeepEqual(all, scan) {
						t.Fatalf("%s %v as %s: Matching %v, scan %v\nrules: %s", method, u, role, all, scan, describeRules(c))
					}
				}
			}
		}
	})
}

// scanMatching is Matching by a plain scan of every pattern.
func scanMatching(c *Config, method string, u *url.URL, role string, vars Vars) map[int]bool {
	if vars == nil {
		vars = c.staticVar
	}
	out := map[int]bool{}
	for _, r := range c.Matrix.Rules {
		for _, p := range r.Match {
			if p.match(method, u, Bindings{Self: role, Vars: vars}) {
				out[r.Index] = true
			}
		}
	}
	return out
}

func describeRules(c *Config) string {
	var s []string
	for _, r := range c.Matrix.Rules {
		s = append(s, r.Name())
	}
	return strings.Join(s, "; ")
}

func TestCompiledMatrixFirstMatch(t *testing.T) {
	const cfgText = `target: http://127.0.0.1:8080
roles:
  alice:
    login: {bearer: alice-token}
    vars: {uid: "7"}
  bob:
    login: {bearer: bob-token}
    vars: {uid: "8"}
matrix:
  default: unmapped
  rules:
    - match: "HEAD /items/1"
      allow: [bob]
    - match: "GET /items/*"
      allow: [alice]
    - match: "GET /items/1"
      allow: ["*"]
    - match: "/users/{self.uid}"
      allow: [alice, bob]
    - match: "GET /users/{alice.uid}/notes"
      allow: [alice]
    - match: "GET /search?q=a*"
      allow: [bob]
    - match: "GET /search"
      allow: [alice]
    - match: "GET /files/**/raw"
      allow: [bob]
    - match: "GET /files/a/raw"
      allow: [alice]
    - match: "GET /a%2Fb/x"
      allow: [bob]
    - match: "GET /api.php?"
      allow: [alice]
    - match: "GET /w/index.php?!oldid=12&unhide=1"
      allow: [alice]
    - match: ["GET /api.php", "GET /w/index.php"]
      allow: [bob]
`
	c, err := Parse("first.yaml", []byte(cfgText), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, url, role string
		captured          map[string]map[string]string
		wantRule          int // 0: the default
	}{
		{"HEAD", "/items/1", "alice", nil, 1},
		{"GET", "/items/1", "alice", nil, 2}, // the wildcard comes first
		{"get", "/items/1", "alice", nil, 2},
		{"POST", "/items/1", "alice", nil, 0},
		{"GET", "/items/", "alice", nil, 0}, // "*" needs a segment
		{"GET", "/users/7", "alice", nil, 4},
		{"POST", "/users/8", "bob", nil, 4},
		{"GET", "/users/7", "bob", nil, 0},
		{"GET", "/users/9", "alice", map[string]map[string]string{"alice": {"uid": "9"}}, 4},
		{"GET", "/users/7", "alice", map[string]map[string]string{"alice": {"uid": "9"}}, 0},
		{"GET", "/users/7/notes", "bob", nil, 5},
		{"GET", "/search?q=abc", "alice", nil, 6},
		{"GET", "/search?q=b", "alice", nil, 7},
		{"GET", "/files/raw", "alice", nil, 8},
		{"GET", "/files/a/raw", "alice", nil, 8},
		{"GET", "/a%2Fb/x", "alice", nil, 10},
		{"GET", "/a/b/x", "alice", nil, 0},
		{"PO\u017fT", "/users/7", "alice", nil, 4}, // a method outside ASCII goes to the scan
		{"GET", "/api.php", "alice", nil, 11},
		{"GET", "/api.php?", "alice", nil, 11},
		{"GET", "/api.php?action=x", "alice", nil, 13},
		{"GET", "/w/index.php?unhide=1&oldid=12", "alice", nil, 12},
		{"GET", "/w/index.php?action=historysubmit&oldid=12&unhide=1", "alice", nil, 13},
		{"GET", "/w/index.php?oldid=12&unhide=1&x=%zz", "alice", nil, 13},
	}
	for _, tt := range tests {
		u, err := url.Parse("http://127.0.0.1:8080" + tt.url)
		if err != nil {
			t.Fatal(err)
		}
		vars := c.VarsWith(tt.captured)
		got := c.Expect(tt.method, u, tt.role, vars)
		want := expectScan(c, tt.method, u, tt.role, vars)
		if got.RuleIdx != tt.wantRule || !reflect.DeepEqual(got, want) {
			t.Errorf("Expect(%s %s as %s) = rule %d (%+v), want rule %d (scan: %+v)", tt.method, tt.url, tt.role, got.RuleIdx, got, tt.wantRule, want)
		}
	}
}

// A configuration built in code may grow its rules after a lookup (learn
// drafts so): the compiled matrix must follow.
func TestCompiledMatrixFollowsRules(t *testing.T) {
	c := &Config{Roles: []*Role{{Name: "anonymous"}}}
	u, _ := url.Parse("http://127.0.0.1:8080/x")
	if e := c.Expect("GET", u, "anonymous", nil); e.RuleIdx != 0 {
		t.Fatalf("empty matrix: rule %d, want the default", e.RuleIdx)
	}
	p, err := ParsePattern("GET /x")
	if err != nil {
		t.Fatal(err)
	}
	c.Matrix.Rules = append(c.Matrix.Rules, Rule{Index: 1, Match: []Pattern{p}, Allow: []string{"*"}})
	if e := c.Expect("GET", u, "anonymous", nil); e.RuleIdx != 1 || !e.Allow {
		t.Fatalf("after adding a rule: %+v, want rule 1, allow", e)
	}
}

// Lookups run at once from many goroutines on a configuration not yet
// compiled (run with -race): each gets the scan's answer.
func TestCompiledMatrixConcurrent(t *testing.T) {
	c := fuzzConfig(&fuzzBytes{b: []byte{0, 7, 3, 0, 2, 1, 4, 2, 0, 1, 1, 5, 3, 2, 1, 1, 4, 2, 0, 3, 1, 2, 2, 1, 0, 0, 3}})
	u, err := url.Parse("http://127.0.0.1:8080/a/b")
	if err != nil {
		t.Fatal(err)
	}
	want := expectScan(c, "GET", u, "alice", nil)
	got := make([]Expectation, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() { got[i] = c.Expect("GET", u, "alice", nil) })
	}
	wg.Wait()
	for i, g := range got {
		if !reflect.DeepEqual(g, want) {
			t.Errorf("lookup %d: %+v, want %+v", i, g, want)
		}
	}
}
