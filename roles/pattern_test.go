package roles

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", s, err)
	}
	return u
}

func mustPattern(t *testing.T, s string) Pattern {
	t.Helper()
	p, err := ParsePattern(s)
	if err != nil {
		t.Fatalf("ParsePattern(%q): %v", s, err)
	}
	return p
}

// testVars are the role variables of the matching tests.
func testVars(role, name string) (string, bool) {
	vars := map[string]map[string]string{
		"alice": {"note_id": "7", "empty": ""},
		"bob":   {"note_id": "9"},
	}
	v, ok := vars[role][name]
	return v, ok
}

func TestParsePattern(t *testing.T) {
	tests := []struct {
		in       string
		method   string
		segs     int
		query    int
		refs     []string
		errWants string // substring of the error; "" means no error
	}{
		{in: "GET /admin/**", method: "GET", segs: 2},
		{in: "/x", method: "", segs: 1},
		{in: "* /x", method: "", segs: 1},
		{in: "get /x", method: "GET", segs: 1},
		{in: "  POST\t /a/b/  ", method: "POST", segs: 3},
		{in: "/", segs: 1},
		{in: "GET /api/orders/{self.order_id}", method: "GET", segs: 3, refs: []string{"self.order_id"}},
		{in: "/n/{alice.note_id}/{bob.x}/{alice.note_id}", segs: 4, refs: []string{"alice.note_id", "bob.x"}},
		{in: "GET /wp-admin/admin.php?page=audit-*", method: "GET", segs: 2, query: 1},
		{in: "/s?a&b=1", segs: 1, query: 2},
		{in: "/report-*.csv", segs: 1},
		{in: "", errWants: "empty pattern"},
		{in: "   ", errWants: "empty pattern"},
		{in: "GET", errWants: "without a path"},
		{in: "GET admin", errWants: "must start with \"/\""},
		{in: "admin/x", errWants: "must start with \"/\""},
		{in: "GET /a b", errWants: "unexpected blank at column 7"},
		{in: "G(T /a", errWants: "invalid character"},
		{in: "/a//b", errWants: "empty path segment at column 4"},
		{in: "/a/{id", errWants: "unbalanced \"{\" at column 4"},
		{in: "/a/id}", errWants: "unbalanced \"}\" at column 6"},
		{in: "/a/{}", errWants: "empty \"{}\" at column 4"},
		{in: "/a/{x}y", errWants: "must be a whole segment"},
		{in: "/a/x{y}", errWants: "must be a whole segment"},
		{in: "/a/{a.b.c}", errWants: "invalid role variable"},
		{in: "/a/{.b}", errWants: "invalid role variable"},
		{in: "/a/{a b}", errWants: "unexpected blank"},
		{in: "/a/{a/b}", errWants: "unbalanced"},
		{in: "/a/x**", errWants: "\"**\" at column 5 must be a whole segment"},
		{in: "/a/***", errWants: "must be a whole segment"},
		{in: "/a/%zz", errWants: "invalid percent-encoding"},
		{in: "/a#frag", errWants: "fragment at column 3"},
		{in: "/a?", segs: 1},                                                          // no query at all
		{in: "GET /w/index.php?!oldid=12&unhide=1", method: "GET", segs: 2, query: 2}, // exactly these keys
		{in: "/a?%21x", segs: 1, query: 1},                                            // a key that starts with "!"
		{in: "/a?!", errWants: "\"?!\" at column 3 names no query key"},
		{in: "GET /a?!x&&y", errWants: "empty query parameter at column 11"},
		{in: "/a?!=1", errWants: "invalid query key \"\" at column 5"},
		{in: "/a?!x={self.id}", errWants: "variable at column 7"},
		{in: "/a?x&&y", errWants: "empty query parameter"},
		{in: "/a?=1", errWants: "invalid query key"},
		{in: "/a?id={self.id}", errWants: "not supported in the query"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePattern(tt.in)
			if tt.errWants != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errWants) {
					t.Fatalf("ParsePattern(%q) error = %v, want one containing %q", tt.in, err, tt.errWants)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePattern(%q): %v", tt.in, err)
			}
			if p.Raw != tt.in || p.String() != tt.in {
				t.Errorf("Raw = %q, String() = %q, want %q", p.Raw, p.String(), tt.in)
			}
			if p.Method != tt.method {
				t.Errorf("Method = %q, want %q", p.Method, tt.method)
			}
			if len(p.segs) != tt.segs {
				t.Errorf("%d segments, want %d", len(p.segs), tt.segs)
			}
			if len(p.query) != tt.query {
				t.Errorf("%d query matchers, want %d", len(p.query), tt.query)
			}
			if got := p.VarRefs(); !slices.Equal(got, tt.refs) {
				t.Errorf("VarRefs() = %q, want %q", got, tt.refs)
			}
		})
	}
}

func TestPatternMatch(t *testing.T) {
	type probe struct {
		method, url string
		self        string
		want        bool
	}
	tests := []struct {
		pattern string
		probes  []probe
	}{
		{"GET /admin/**", []probe{
			{method: "GET", url: "/admin", want: true},
			{method: "GET", url: "/admin/", want: true},
			{method: "GET", url: "/admin/x/y", want: true},
			{method: "get", url: "http://h:1/admin/x", want: true},
			{method: "HEAD", url: "/admin/x", want: false},
			{method: "GET", url: "/administrator", want: false},
			{method: "GET", url: "/", want: false},
			{method: "GET", url: "/Admin/x", want: false},
		}},
		{"/x/*/**", []probe{ // docs/config.md: strictly under /x
			{method: "GET", url: "/x", want: false},
			{method: "GET", url: "/x/", want: false},
			{method: "GET", url: "/x/a", want: true},
			{method: "GET", url: "/x/a/b", want: true},
		}},
		{"/admin/", []probe{
			{method: "POST", url: "/admin/", want: true},
			{method: "GET", url: "/admin", want: false},
			{method: "GET", url: "/admin/x", want: false},
		}},
		{"* /admin", []probe{
			{method: "DELETE", url: "/admin", want: true},
			{method: "GET", url: "/admin/", want: false},
		}},
		{"HEAD /x", []probe{
			{method: "HEAD", url: "/x", want: true},
			{method: "GET", url: "/x", want: false},
		}},
		{"/", []probe{
			{method: "GET", url: "/", want: true},
			{method: "GET", url: "http://h", want: true},
			{method: "GET", url: "/?a=1", want: true},
			{method: "GET", url: "/a", want: false},
		}},
		{"/**", []probe{
			{method: "GET", url: "/", want: true},
			{method: "GET", url: "/a/b/c/", want: true},
		}},
		{"/a/**/z", []probe{
			{method: "GET", url: "/a/z", want: true},
			{method: "GET", url: "/a/b/c/z", want: true},
			{method: "GET", url: "/a/b/c/z/", want: false},
			{method: "GET", url: "/a/zz", want: false},
		}},
		{"/users/*/edit", []probe{
			{method: "GET", url: "/users/3/edit", want: true},
			{method: "GET", url: "/users//edit", want: false},
			{method: "GET", url: "/users/3/4/edit", want: false},
		}},
		{"/orders/{id}", []probe{
			{method: "GET", url: "/orders/17", want: true},
			{method: "GET", url: "/orders/", want: false},
			{method: "GET", url: "/orders/17/", want: false},
		}},
		{"/files/report-*.csv", []probe{
			{method: "GET", url: "/files/report-.csv", want: true},
			{method: "GET", url: "/files/report-2024.csv", want: true},
			{method: "GET", url: "/files/report-2024.csv.bak", want: false},
			{method: "GET", url: "/files/a/report-1.csv", want: false},
		}},
		{"/a b/%2F", []probe{}}, // parse error checked elsewhere; here: not reached
		{"/a%20b/x%2Fy", []probe{
			{method: "GET", url: "/a%20b/x%2Fy", want: true},
			{method: "GET", url: "/a%20b/x/y", want: false},
		}},
		{"/notes/{alice.note_id}", []probe{
			{method: "GET", url: "/notes/7", self: "bob", want: true},
			{method: "GET", url: "/notes/9", self: "bob", want: false},
		}},
		{"/notes/{self.note_id}", []probe{
			{method: "GET", url: "/notes/7", self: "alice", want: true},
			{method: "GET", url: "/notes/9", self: "bob", want: true},
			{method: "GET", url: "/notes/9", self: "alice", want: false},
			{method: "GET", url: "/notes/7", self: "carol", want: false},
			{method: "GET", url: "/notes/7", self: "", want: false},
		}},
		{"/notes/{alice.empty}", []probe{
			{method: "GET", url: "/notes/", self: "alice", want: false},
		}},
		{"/notes/{carol.note_id}", []probe{
			{method: "GET", url: "/notes/7", self: "alice", want: false},
		}},
		{"GET /wp-admin/admin.php?page=audit-*", []probe{
			{method: "GET", url: "/wp-admin/admin.php?page=audit-log", want: true},
			{method: "GET", url: "/wp-admin/admin.php?x=1&page=audit-", want: true},
			{method: "GET", url: "/wp-admin/admin.php?page=other&page=audit-x", want: true},
			{method: "GET", url: "/wp-admin/admin.php?page=other", want: false},
			{method: "GET", url: "/wp-admin/admin.php", want: false},
		}},
		{"/s?q&lang=en", []probe{
			{method: "GET", url: "/s?q=&lang=en", want: true},
			{method: "GET", url: "/s?q", want: false},
			{method: "GET", url: "/s?lang=en", want: false},
			{method: "GET", url: "/s?q=1&lang=EN", want: false},
		}},
		{"/s?q=a%20b", []probe{
			{method: "GET", url: "/s?q=a+b", want: true},
			{method: "GET", url: "/s?q=a%20b", want: true},
		}},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			if len(tt.probes) == 0 {
				continue
			}
			t.Fatalf("ParsePattern(%q): %v", tt.pattern, err)
		}
		for _, pr := range tt.probes {
			b := Bindings{Self: pr.self, Vars: testVars}
			if got := p.Match(pr.method, mustURL(t, pr.url), b); got != pr.want {
				t.Errorf("%q.Match(%s %s, self=%q) = %v, want %v", tt.pattern, pr.method, pr.url, pr.self, got, pr.want)
			}
		}
	}
}

// TestPatternExactQuery: a trailing "?" says no query and "?!" exactly
// the keys named (issue 16): before, "GET /api.php" matched every crawled
// variant of the page, and "?oldid=12&unhide=1" caught
// "?action=historysubmit&oldid=12&unhide=1".
func TestPatternExactQuery(t *testing.T) {
	tests := []struct {
		pattern, url string
		want         bool
	}{
		{"GET /api.php?", "/api.php", true},
		{"GET /api.php?", "http://h:1/api.php?", true}, // an empty "?" is no query
		{"GET /api.php?", "/api.php?action=x", false},
		{"GET /api.php?", "/api.php?&", false},
		{"GET /api.php?", "/api.php?%zz", false},
		{"GET /api.php?", "/other.php", false},
		{"GET /api.php", "/api.php?action=x", true}, // unchanged: other keys ignored
		{"/w/index.php?!oldid=12&unhide=1", "/w/index.php?oldid=12&unhide=1", true},
		{"/w/index.php?!oldid=12&unhide=1", "/w/index.php?unhide=1&oldid=12", true},
		{"/w/index.php?!oldid=12&unhide=1", "/w/index.php?action=historysubmit&oldid=12&unhide=1", false},
		{"/w/index.php?!oldid=12&unhide=1", "/w/index.php?oldid=12", false},
		{"/w/index.php?!oldid=12&unhide=1", "/w/index.php?oldid=13&unhide=1", false},
		{"/w/index.php?!oldid=12&unhide=1", "/w/index.php?oldid=12&unhide=1&oldid=12", true}, // same keys, repeated
		{"/w/index.php?!oldid=12&unhide=1", "/w/index.php?oldid=12&unhide=1&=x", false},      // an empty key is a key
		{"/w/index.php?!oldid=12&unhide=1", "/w/index.php?oldid=12&unhide=1&x=%zz", false},   // an unparsed pair is a key
		{"/w/index.php?!oldid=12&unhide=1", "/w/index.php?oldid=12&unhide=1;x=1", false},
		{"/w/index.php?oldid=12&unhide=1", "/w/index.php?action=historysubmit&oldid=12&unhide=1", true}, // unchanged
		{"/s?!q", "/s?q=anything", true},
		{"/s?!q", "/s?q", true},
		{"/s?!q", "/s", false},
		{"/s?!q=a*&q=*b", "/s?q=ab", true},
		{"/s?!%21x", "/s?%21x=1", true},
		{"/s?%21x", "/s?!x=1", true},
	}
	for _, tt := range tests {
		p := mustPattern(t, tt.pattern)
		if got := p.Match("GET", mustURL(t, tt.url), Bindings{}); got != tt.want {
			t.Errorf("%q.Match(GET %s) = %v, want %v", tt.pattern, tt.url, got, tt.want)
		}
	}
}

func TestPatternMatchWithoutBindings(t *testing.T) {
	p := mustPattern(t, "/notes/{self.note_id}")
	if p.Match("GET", mustURL(t, "/notes/7"), Bindings{}) {
		t.Errorf("a role variable matched without Bindings.Vars")
	}
	var zero Pattern
	if zero.Match("GET", mustURL(t, "/"), Bindings{}) {
		t.Errorf("the zero Pattern matched")
	}
	if mustPattern(t, "/").Match("GET", nil, Bindings{}) {
		t.Errorf("a nil URL matched")
	}
}

func TestPatternManyDoubleStars(t *testing.T) {
	// Backtracking would take exponential time here.
	p := mustPattern(t, "/"+strings.Repeat("**/", 40)+"x")
	u := mustURL(t, "/"+strings.Repeat("a/", 200)+"y")
	if p.Match("GET", u, Bindings{}) {
		t.Errorf("matched a path that does not end in x")
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		glob, s string
		want    bool
	}{
		{"*", "", true},
		{"a*", "a", true},
		{"*a", "ba", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "acb", false},
		{"ab*ba", "aba", false},
		{"a**b", "ab", true},
		{"abc", "abc", true},
		{"abc", "abcd", false},
	}
	for _, tt := range tests {
		if got := globMatch(strings.Split(tt.glob, "*"), tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.glob, tt.s, got, tt.want)
		}
	}
}

// TestSegmentSize: a matrix of a rule per endpoint holds hundreds of
// thousands of segments (docs/design.md, "Outputs at scale").
func TestSegmentSize(t *testing.T) {
	if size := unsafe.Sizeof(segment{}); size > 32 {
		t.Errorf("segment is %d bytes; keep it at 32 (the rare parts behind a pointer)", size)
	}
}
