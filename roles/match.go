package roles

import (
	"fmt"
	"net/url"
	"strings"
)

// parsePattern parses "[METHOD] PATH[?QUERY]" (see Pattern).
//
// Choices where docs/config.md is silent:
//   - leading and trailing blanks are ignored; Raw keeps s as written;
//   - an empty segment is allowed only last ("/admin/"): "/a//b" is an error;
//   - "{...}" must span a whole segment, and "**" must be a whole segment;
//   - "*" and "{name}" match one non-empty segment;
//   - path literals and query keys and values are percent-decoded, so they
//     compare with the decoded segments of a URL;
//   - variables are not supported in the query, and a "#fragment" is an error;
//   - "?!" names the exact key set, so a key that starts with "!" is written
//     "%21" in its place; "?!" naming no key is an error ("?" says no query).
func parsePattern(s string) (Pattern, error) {
	p := Pattern{Raw: s}
	body := strings.TrimSpace(s)
	if body == "" {
		return Pattern{}, fmt.Errorf("empty pattern")
	}
	off := strings.Index(s, body) // column of body in s, for positions
	path := body
	pathOff := off
	if i := strings.IndexAny(body, " \t"); i >= 0 && !strings.HasPrefix(body, "/") {
		method := body[:i]
		rest := strings.TrimLeft(body[i:], " \t")
		pathOff = off + len(body) - len(rest)
		path = rest
		if method != "*" {
			for j := 0; j < len(method); j++ {
				if !isTokenChar(method[j]) {
					return Pattern{}, fmt.Errorf("method %q at column %d: invalid character %q", method, off+j+1, method[j])
				}
			}
			p.Method = strings.ToUpper(method)
		}
		if j := strings.IndexAny(path, " \t"); j >= 0 {
			return Pattern{}, fmt.Errorf("unexpected blank at column %d: a pattern is [METHOD] PATH[?QUERY]", pathOff+j+1)
		}
	}
	if j := strings.IndexAny(path, " \t"); j >= 0 && path == body {
		return Pattern{}, fmt.Errorf("unexpected blank at column %d: a pattern is [METHOD] PATH[?QUERY]", pathOff+j+1)
	}
	if !strings.HasPrefix(path, "/") {
		if !strings.ContainsAny(path, "/?") && path == strings.ToUpper(path) && path != "" && path != "*" && !strings.ContainsAny(path, "{}") {
			return Pattern{}, fmt.Errorf("method %s without a path: a pattern is [METHOD] PATH[?QUERY]", path)
		}
		return Pattern{}, fmt.Errorf("path %q at column %d must start with \"/\"", path, pathOff+1)
	}
	if i := strings.IndexByte(path, '#'); i >= 0 {
		return Pattern{}, fmt.Errorf("fragment at column %d: a pattern has no fragment", pathOff+i+1)
	}
	query := ""
	hasQuery := false
	if i := strings.IndexByte(path, '?'); i >= 0 {
		query, path, hasQuery = path[i+1:], path[:i], true
	}
	segs, err := parseSegments(path, pathOff)
	if err != nil {
		return Pattern{}, err
	}
	p.segs = segs
	if hasQuery {
		qOff := pathOff + len(path) + 1 // 0-based column of the query
		switch {
		case query == "":
			p.qmode = queryNone
			return p, nil
		case strings.HasPrefix(query, "!"):
			p.qmode = queryExact
			query = query[1:]
			qOff++
			if query == "" {
				return Pattern{}, fmt.Errorf("\"?!\" at column %d names no query key: write \"?!key=value&key2\" for exactly those keys, or a trailing \"?\" for no query", qOff-1)
			}
		}
		q, err := parseQuery(query, qOff)
		if err != nil {
			return Pattern{}, err
		}
		p.query = q
	}
	return p, nil
}

// isTokenChar reports whether c may appear in an HTTP method (RFC 9110 tchar).
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isIdent reports whether s is a variable or role name part: letters,
// digits, '_' and '-', not empty.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// parseSegments parses path, which starts with "/"; off is its column
// offset in the pattern (0-based), for error positions.
func parseSegments(path string, off int) ([]segment, error) {
	parts := strings.Split(path[1:], "/")
	segs := make([]segment, 0, len(parts))
	col := off + 1 // 0-based offset of the current part
	for i, part := range parts {
		seg, err := parseSegment(part, col, i == len(parts)-1)
		if err != nil {
			return nil, err
		}
		segs = append(segs, seg)
		col += len(part) + 1
	}
	return segs, nil
}

func parseSegment(part string, col int, last bool) (segment, error) {
	at := func(i int) int { return col + i + 1 } // 1-based column of part[i]
	switch {
	case part == "":
		if !last {
			return segment{}, fmt.Errorf("empty path segment at column %d", at(0))
		}
		return segment{kind: segLiteral}, nil
	case part == "*":
		return segment{kind: segStar}, nil
	case part == "**":
		return segment{kind: segDoubleStar}, nil
	}
	if i := strings.Index(part, "**"); i >= 0 {
		return segment{}, fmt.Errorf("\"**\" at column %d must be a whole segment", at(i))
	}
	if strings.HasPrefix(part, "{") {
		end := strings.IndexByte(part, '}')
		if end < 0 {
			return segment{}, fmt.Errorf("unbalanced \"{\" at column %d", at(0))
		}
		if end != len(part)-1 {
			return segment{}, fmt.Errorf("\"{...}\" at column %d must be a whole segment", at(0))
		}
		inner := part[1:end]
		if inner == "" {
			return segment{}, fmt.Errorf("empty \"{}\" at column %d", at(0))
		}
		if strings.ContainsAny(inner, "{*") {
			return segment{}, fmt.Errorf("invalid variable %q at column %d", part, at(0))
		}
		if role, name, ok := strings.Cut(inner, "."); ok {
			if !isIdent(role) || !isIdent(name) {
				return segment{}, fmt.Errorf("invalid role variable %q at column %d: want {role.var}", part, at(0))
			}
			return segment{kind: segVar, lit: role + "." + name}, nil
		}
		if !isIdent(inner) {
			return segment{}, fmt.Errorf("invalid name %q at column %d: letters, digits, '_' and '-' only", part, at(0))
		}
		return segment{kind: segName, lit: inner}, nil
	}
	if i := strings.IndexAny(part, "{}"); i >= 0 {
		if part[i] == '}' && !strings.Contains(part[:i], "{") {
			return segment{}, fmt.Errorf("unbalanced \"}\" at column %d", at(i))
		}
		return segment{}, fmt.Errorf("\"{...}\" at column %d must be a whole segment", at(i))
	}
	if strings.Contains(part, "*") {
		raw := strings.Split(part, "*")
		pieces := make([]string, len(raw))
		for k, r := range raw {
			d, err := url.PathUnescape(r)
			if err != nil {
				return segment{}, fmt.Errorf("invalid percent-encoding in segment %q at column %d", part, at(0))
			}
			pieces[k] = d
		}
		return segment{kind: segGlob, lit: part, pieces: &pieces}, nil
	}
	d, err := url.PathUnescape(part)
	if err != nil {
		return segment{}, fmt.Errorf("invalid percent-encoding in segment %q at column %d", part, at(0))
	}
	return segment{kind: segLiteral, lit: d}, nil
}

// parseQuery parses "k=glob&k2" starting at 0-based column off.
func parseQuery(q string, off int) ([]queryMatcher, error) {
	if q == "" {
		return nil, fmt.Errorf("empty query at column %d", off)
	}
	var out []queryMatcher
	col := off
	for _, item := range strings.Split(q, "&") {
		if item == "" {
			return nil, fmt.Errorf("empty query parameter at column %d", col+1)
		}
		if i := strings.IndexAny(item, "{}"); i >= 0 {
			return nil, fmt.Errorf("variable at column %d: variables are not supported in the query", col+i+1)
		}
		k, v, hasV := strings.Cut(item, "=")
		key, err := url.QueryUnescape(k)
		if err != nil || key == "" {
			return nil, fmt.Errorf("invalid query key %q at column %d", k, col+1)
		}
		m := queryMatcher{key: key, glob: "*"}
		if hasV {
			raw := strings.Split(v, "*")
			for i, r := range raw {
				d, err := url.QueryUnescape(r)
				if err != nil {
					return nil, fmt.Errorf("invalid percent-encoding in query value %q at column %d", v, col+len(k)+2)
				}
				raw[i] = d
			}
			m.glob = v
			m.pieces = raw
		}
		out = append(out, m)
		col += len(item) + 1
	}
	return out, nil
}

// globMatch reports whether s matches the glob made of pieces joined by
// "*" (pieces as split by strings.Split(glob, "*")).
func globMatch(pieces []string, s string) bool {
	if len(pieces) == 1 {
		return s == pieces[0]
	}
	if !strings.HasPrefix(s, pieces[0]) {
		return false
	}
	s = s[len(pieces[0]):]
	last := pieces[len(pieces)-1]
	for _, p := range pieces[1 : len(pieces)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// urlSegments returns the decoded path segments of u: "/" is [""],
// "/admin/" is ["admin", ""]. An empty path reads as "/".
func urlSegments(u *url.URL) []string {
	ep := u.EscapedPath()
	ep = strings.TrimPrefix(ep, "/")
	parts := strings.Split(ep, "/")
	for i, p := range parts {
		if d, err := url.PathUnescape(p); err == nil {
			parts[i] = d
		}
	}
	return parts
}

func (p Pattern) match(method string, u *url.URL, b Bindings) bool {
	if u == nil {
		return false
	}
	if p.Method != "" && !strings.EqualFold(p.Method, method) {
		return false
	}
	if len(p.segs) == 0 { // the zero Pattern matches nothing
		return false
	}
	if !p.matchPath(urlSegments(u), b) {
		return false
	}
	if !p.readsQuery() {
		return true
	}
	if p.qmode == queryNone {
		return u.RawQuery == ""
	}
	q, err := url.ParseQuery(u.RawQuery) // keeps the pairs that parse
	return p.matchQuery(q, err == nil)
}

// readsQuery reports whether matching p reads the URL's query at all.
func (p Pattern) readsQuery() bool { return len(p.query) > 0 || p.qmode != queryAny }

// matchQuery reports whether q holds every key p's query names, each with
// a value its glob matches, and, for "?!", no other key. clean says every
// pair of the URL's query parsed: a pair that did not is a key q does not
// show, so "?!" does not match then. The "no query" mode is decided on the
// raw query before (see match).
func (p Pattern) matchQuery(q url.Values, clean bool) bool {
	if p.qmode == queryExact {
		if !clean {
			return false
		}
		for k := range q {
			named := false
			for _, m := range p.query {
				if m.key == k {
					named = true
					break
				}
			}
			if !named {
				return false
			}
		}
	}
	for _, m := range p.query {
		vs, ok := q[m.key]
		if !ok {
			return false
		}
		if m.pieces == nil { // no value given: present is enough
			continue
		}
		hit := false
		for _, v := range vs {
			if globMatch(m.pieces, v) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// matchPath matches segments by dynamic programming, so that many "**"
// never cost more than len(p.segs)*len(segs) steps.
func (p Pattern) matchPath(segs []string, b Bindings) bool {
	n := len(segs)
	// ok[j]: the pattern prefix read so far matches segs[:j].
	ok := make([]bool, n+1)
	next := make([]bool, n+1)
	ok[0] = true
	for _, ps := range p.segs {
		clear(next)
		switch ps.kind {
		case segDoubleStar:
			reach := false
			for j := 0; j <= n; j++ {
				reach = reach || ok[j]
				next[j] = reach
			}
		default:
			var want string
			if ps.kind == segVar {
				v, found := lookupVar(ps, b)
				if !found {
					return false
				}
				want = v
			}
			for j := 0; j < n; j++ {
				if ok[j] && segMatch(ps, segs[j], want) {
					next[j+1] = true
				}
			}
		}
		ok, next = next, ok
	}
	return ok[n]
}

func lookupVar(ps segment, b Bindings) (string, bool) {
	if b.Vars == nil {
		return "", false
	}
	role := ps.role()
	if role == "self" {
		if b.Self == "" {
			return "", false
		}
		role = b.Self
	}
	v, ok := b.Vars(role, ps.name())
	if !ok || v == "" {
		return "", false
	}
	return v, true
}

func segMatch(ps segment, s, want string) bool {
	switch ps.kind {
	case segLiteral:
		return s == ps.lit
	case segGlob:
		return globMatch(*ps.pieces, s)
	case segStar, segName:
		return s != ""
	case segVar:
		return s == want
	}
	return false
}

func (p Pattern) varRefs() []string {
	var refs []string
	for _, s := range p.segs {
		if s.kind != segVar {
			continue
		}
		r := s.lit
		dup := false
		for _, x := range refs {
			dup = dup || x == r
		}
		if !dup {
			refs = append(refs, r)
		}
	}
	return refs
}
