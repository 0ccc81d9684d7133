package learn

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/permaudit/permaudit/roles"
)

// node is a path prefix of the units of one method.
type node struct {
	unit     *unit
	children map[string]*node // by path segment
}

func (n *node) child(seg string) *node {
	if c := n.children[seg]; c != nil {
		return c
	}
	c := &node{children: map[string]*node{}}
	n.children[seg] = c
	return c
}

// segments returns the path segments of n's children, sorted: the order
// every walk of the tree takes.
func (n *node) segments() []string {
	return slices.Sorted(maps.Keys(n.children))
}

// all returns the units of n's subtree, in path order.
func (n *node) all() []*unit {
	var out []*unit
	if n.unit != nil {
		out = append(out, n.unit)
	}
	for _, s := range n.segments() {
		out = append(out, n.children[s].all()...)
	}
	return out
}

// trees builds one prefix tree per method, methods sorted.
func (l *learner) trees() ([]string, map[string]*node) {
	roots := map[string]*node{}
	var methods []string
	for _, u := range l.units {
		root := roots[u.method]
		if root == nil {
			root = &node{children: map[string]*node{}}
			roots[u.method] = root
			methods = append(methods, u.method)
		}
		n := root // "/" itself is the root's unit
		if u.path != "/" {
			for _, seg := range strings.Split(u.path[1:], "/") {
				n = n.child(seg)
			}
		}
		n.unit = u
	}
	sort.Strings(methods)
	return methods, roots
}

// placed is a pattern with the expectation it carries.
type placed struct {
	pattern  string
	exp      string
	set      roleSet
	deny     string
	comments []string
}

// group writes the patterns: a subtree of two or more templates whose
// main expectations agree becomes "prefix/**"; any other template is its
// own pattern; the URLs that are exceptions to their template become
// literal patterns (or {self.var} ones), placed first.
func (l *learner) group() (general, exceptions []placed) {
	methods, roots := l.trees()
	for _, m := range methods {
		var walk func(n *node, prefix []string)
		walk = func(n *node, prefix []string) {
			units := n.all()
			if len(units) >= 2 && sameExp(units) {
				var comments []string
				for _, u := range units {
					comments = append(comments, u.comments...)
				}
				general = append(general, placed{pattern: m + " " + subtreePattern(prefix), exp: units[0].exp,
					set: units[0].main, deny: units[0].deny, comments: comments})
				return
			}
			if n.unit != nil {
				u := n.unit
				general = append(general, placed{pattern: m + " " + escapePattern(u.path), exp: u.exp, set: u.main, deny: u.deny, comments: u.comments})
			}
			for _, s := range n.segments() {
				walk(n.children[s], append(append([]string(nil), prefix...), s))
			}
		}
		walk(roots[m], nil)
	}
	for _, u := range l.units {
		exceptions = append(exceptions, l.exceptionsOf(u)...)
	}
	return general, exceptions
}

func sameExp(units []*unit) bool {
	for _, u := range units[1:] {
		if u.exp != units[0].exp {
			return false
		}
	}
	return true
}

// subtreePattern is "/a/b/**" for the prefix [a b], "/**" for the root.
func subtreePattern(prefix []string) string {
	// A placeholder last segment makes every prefix segment an inner one.
	p := joinSegments(append(append([]string(nil), prefix...), "x"), true)
	return strings.TrimSuffix(p, "x") + "**"
}

// escapePattern writes a template path as a pattern path (see
// joinSegments); "{id}" stays a named segment.
func escapePattern(path string) string {
	return joinSegments(strings.Split(strings.TrimPrefix(path, "/"), "/"), true)
}

// literalPattern is the pattern of one concrete path (query left out).
func literalPattern(method, p string) string {
	path, _, _ := strings.Cut(p, "?")
	return method + " " + joinSegments(strings.Split(strings.TrimPrefix(path, "/"), "/"), false)
}

// exactPattern is the pattern of the one URL p of u: its literal path and
// querySuffix.
func exactPattern(u *unit, method, p string) string {
	return literalPattern(method, p) + querySuffix(u, p)
}

// querySuffix says which query an exception's pattern takes, so that it
// decides p and not the other URLs of its path the run observed: "?!"
// and p's query (exactly these keys, these values) when p has one; a
// trailing "?" (no query) when p has none but another URL of u with the
// same path does; else nothing, as before exact patterns existed. A
// query no exact pattern decides (one that does not parse as key=value
// pairs) gets nothing either.
func querySuffix(u *unit, p string) string {
	path, q, hasQ := strings.Cut(p, "?")
	if hasQ && q != "" {
		// In a pattern "*" globs a value, "{...}" names a variable and a
		// leading "!" means exact: spelled escaped, patterns decode them.
		s := "?!" + escapeQuery(q)
		pat, err := roles.ParsePattern("/" + s)
		if err != nil || !pat.Match("", &url.URL{Path: "/", RawQuery: q}, roles.Bindings{}) {
			return ""
		}
		return s
	}
	if u != nil {
		for _, o := range u.urls {
			if op, oq, ok := strings.Cut(o, "?"); ok && oq != "" && op == path {
				return "?"
			}
		}
	}
	return ""
}

// joinSegments writes path segments as a pattern path. In a literal
// segment the characters patterns read ("*", "{", "}") are
// percent-encoded, which patterns decode; an empty segment other than the
// last ("/a//b"), which a pattern cannot spell, becomes "**". With ids,
// "{id}" segments are kept as they are.
func joinSegments(segs []string, ids bool) string {
	out := make([]string, len(segs))
	for i, s := range segs {
		switch {
		case s == "" && i < len(segs)-1:
			out[i] = "**"
		case ids && s == "{id}":
			out[i] = s
		default:
			out[i] = strings.NewReplacer("*", "%2A", "{", "%7B", "}", "%7D").Replace(s)
		}
	}
	return "/" + strings.Join(out, "/")
}

// exceptionsOf writes the exception URLs of u, with a note saying why.
func (l *learner) exceptionsOf(u *unit) []placed {
	if len(u.exceptions) == 0 {
		return nil
	}
	var out []placed
	byPattern := map[string]int{}
	var notes []string
	for _, p := range u.exceptions {
		a, k := l.allowedAt(u, p)
		set := make(roleSet, len(a))
		for i := range a {
			set[i] = a[i] || !k[i] && u.main[i]
		}
		pattern, via := l.exceptionPattern(u, p, set)
		if i, ok := byPattern[pattern]; ok {
			for r := range set {
				out[i].set[r] = out[i].set[r] || set[r]
			}
			continue
		}
		byPattern[pattern] = len(out)
		out = append(out, placed{pattern: pattern, set: set})
		var more, less []string
		for i := range set {
			if set[i] && !u.main[i] {
				more = append(more, l.names[i])
			}
			if !set[i] && u.main[i] {
				less = append(less, l.names[i])
			}
		}
		what := ""
		switch {
		case len(more) > 0 && len(less) == 0:
			what = fmt.Sprintf("%s allowed", strings.Join(more, ", "))
		case len(more) == 0:
			what = fmt.Sprintf("%s denied", strings.Join(less, ", "))
		default:
			what = fmt.Sprintf("%s allowed and %s denied", strings.Join(more, ", "), strings.Join(less, ", "))
		}
		notes = append(notes, fmt.Sprintf("%s: %s%s", p, what, via))
	}
	for i := range out {
		var urls []string
		for _, p := range u.exceptions {
			if pat, _ := l.exceptionPattern(u, p, out[i].set); pat == out[i].pattern {
				urls = append(urls, p)
			}
		}
		out[i].deny = l.denyOf(u, urls, out[i].set)
		out[i].exp = out[i].set.key() + "|" + out[i].deny
	}
	out[0].comments = []string{fmt.Sprintf("note: %s: roles disagree between ids (%s); unlike the other %s, the exceptions come first",
		u.name, strings.Join(notes, "; "), plural(len(u.urls)-len(u.exceptions), "endpoint"))}
	return out
}

// escapeQuery spells a URL's raw query in a pattern: "*" (a value glob),
// "{", "}" (a variable), "!" (exact) and every byte that is not
// printable ASCII percent-encoded, which patterns decode, so that the
// draft's YAML holds the same bytes the URL did.
func escapeQuery(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '*' || c == '{' || c == '}' || c == '!' || c <= ' ' || c >= 0x7f:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// exceptionPattern is the literal pattern of p, or, when every role the
// exception allows beyond u's main set holds one of p's id segments as
// the same variable, that segment as {self.name}.
func (l *learner) exceptionPattern(u *unit, p string, set roleSet) (string, string) {
	lit := exactPattern(u, u.method, p)
	var extra []string
	for i := range set {
		if set[i] && !u.main[i] {
			extra = append(extra, l.names[i])
		}
	}
	// Only the minimal extra roles need the variable: those inheriting
	// them are allowed through the rule's allow list.
	extraSet := make(roleSet, len(set))
	for i := range set {
		extraSet[i] = set[i] && !u.main[i]
	}
	minimal := l.allowList(extraSet)
	if len(minimal) == 0 || minimal[0] == "*" {
		return lit, ""
	}
	path, _, _ := strings.Cut(p, "?")
	segs := strings.Split(path[1:], "/")
	tsegs := strings.Split(u.path[1:], "/")
	for i, s := range segs {
		if i >= len(tsegs) || tsegs[i] != "{id}" {
			continue
		}
		dec, err := url.PathUnescape(s)
		if err != nil {
			continue
		}
		name := ""
		for _, r := range minimal {
			found := l.varHolding(r, dec)
			if found == "" || name != "" && found != name {
				name = ""
				break
			}
			name = found
		}
		if name == "" {
			continue
		}
		pat := strings.Split(joinSegments(segs, false), "/")
		pat[i+1] = "{self." + name + "}"
		return u.method + " " + strings.Join(pat, "/") + querySuffix(u, p), fmt.Sprintf(" (%s's own %s: {self.%s})", strings.Join(minimal, ", "), name, name)
	}
	return lit, ""
}
