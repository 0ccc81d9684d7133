package roles

import (
	"net/url"
	"strings"
)

// Pattern matches concrete endpoints: "GET /admin/**",
// "GET /api/orders/{self.order_id}", "GET /wp-admin/admin.php?page=audit-*".
//
// The method is optional ("*" or absent matches any). Path segments: "*"
// matches one segment, "**" any number (zero included), "{name}" one segment,
// "{role.var}" one segment equal to that role variable ("{self.var}": the
// role being probed). A "*" inside a segment ("audit-*") is a glob within
// that segment. Query: the keys named must be present and match (a value
// glob with "*"); other keys are ignored. A trailing "?" with nothing
// after ("GET /api.php?") matches only a URL with no query; "?!" before
// the keys ("?!oldid=12&unhide=1") matches only a URL whose query holds
// exactly the keys named, in any order, and no other.
type Pattern struct {
	Raw    string // as written
	Method string // upper case; "" matches any
	segs   []segment
	query  []queryMatcher
	qmode  queryMode
}

// queryMode says what a pattern makes of the keys it does not name.
type queryMode int

const (
	queryAny   queryMode = iota // "?k=v" or no "?": other keys are ignored
	queryNone                   // a trailing "?": the URL has no query
	queryExact                  // "?!k=v": the URL has the keys named and no other
)

// segment is one segment of a pattern's path. It is 32 bytes: a matrix
// written the way learn writes one holds a rule per endpoint, and
// hundreds of thousands of segments.
type segment struct {
	kind segKind
	// lit is the literal (decoded), the glob as written, the name of
	// "{name}", or "role.var" of "{role.var}".
	lit    string
	pieces *[]string // for segGlob: the decoded text around each '*'
}

// role is the role of a segVar: "self" of "{self.user_id}".
func (s segment) role() string { r, _, _ := strings.Cut(s.lit, "."); return r }

// name is the variable of a segName or segVar: "user_id".
func (s segment) name() string {
	if s.kind == segVar {
		_, n, _ := strings.Cut(s.lit, ".")
		return n
	}
	return s.lit
}

type segKind uint8

const (
	segLiteral    segKind = iota
	segGlob               // contains '*' but is not exactly "*" or "**"
	segStar               // "*"
	segDoubleStar         // "**"
	segName               // "{name}"
	segVar                // "{role.var}"
)

type queryMatcher struct {
	key    string   // decoded
	glob   string   // as written; "*" when only the key is named
	pieces []string // decoded text around each '*'; nil: any value
}

// Bindings resolves role variables while matching. Self is the role being
// probed; Vars maps role name to its variables.
type Bindings struct {
	Self string
	Vars func(role, name string) (string, bool)
}

// ParsePattern parses s. The error says what is wrong and where in s.
func ParsePattern(s string) (Pattern, error) { return parsePattern(s) }

// Match reports whether method and u (absolute, or path plus query) match p.
func (p Pattern) Match(method string, u *url.URL, b Bindings) bool { return p.match(method, u, b) }

// VarRefs returns the "role.var" references the pattern holds.
func (p Pattern) VarRefs() []string { return p.varRefs() }

func (p Pattern) String() string { return p.Raw }

// Bare reports whether p names a page and says nothing of its query: no
// "**" (a subtree pattern means everything under it), no key, no
// trailing "?" and no "?!". Such a pattern matches every query variant
// of its path (judge.BroadRules).
func (p Pattern) Bare() bool {
	if len(p.query) > 0 || p.qmode != queryAny {
		return false
	}
	for _, s := range p.segs {
		if s.kind == segDoubleStar {
			return false
		}
	}
	return true
}
