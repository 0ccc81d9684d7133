package roles

import (
	"net/url"
	"strings"
)

// The compiled matrix (issue 12, "Fast at scale").
//
// A matrix written the way learn writes one holds a rule per endpoint:
// tens of thousands of patterns, almost all of them literal paths. A
// linear scan that splits the URL again for every pattern made judging
// grow with endpoints x rules. The compiled matrix splits and unescapes
// the URL once per lookup and finds the few patterns that could match: a
// literal pattern (every segment literal, no query read) by its method and
// segments in a map, every other one in a segment trie: literal segments
// are map keys, every other one-segment
// matcher ("*", "{name}", "{role.var}", "a*.css") is a single wildcard
// child, and a pattern holding "**" hangs, by its number, on the node its
// segments before the first "**" lead to. The trie only proposes: each
// proposed pattern is matched in full (method, every segment, role
// variables as the lookup binds them, query), in rule order, and the
// first that matches decides, exactly as expectScan, the reference scan,
// would. Role variables are never compiled in, since they differ per
// role and per run.

// matrixIndex is the compiled form of one Matrix.Rules slice.
type matrixIndex struct {
	rules    []Rule   // the slice compiled, to tell when Matrix.Rules was replaced
	names    []string // Rule.Name() of each rule, made once
	entries  []entry  // every pattern of every rule, in rule order
	byMethod map[string]*trieNode
	anyMeth  *trieNode // patterns with no method
	// literals holds the literal entries (entry.literal) by literalKey of
	// their method and segments, the first of each key; more holds the
	// others of a key, rarely any. In a trie they cost a node and a map
	// entry each, 4 MB at 40,000 rules; here 1.5.
	literals map[string]int32
	more     map[string][]int32
}

// literalKey is the key of a literal pattern's method and decoded
// segments in matrixIndex.literals, and of a lookup's; false when a
// segment holds the separator, which no key may hold.
func literalKey(method string, segs []string) (string, bool) {
	n := len(method)
	for _, s := range segs {
		if strings.IndexByte(s, 0) >= 0 {
			return "", false
		}
		n += 1 + len(s)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(method)
	for _, s := range segs {
		b.WriteByte(0)
		b.WriteString(s)
	}
	return b.String(), true
}

// entry is one pattern of one rule; an entry's number is its position in
// matrixIndex.entries, so a smaller number is an earlier rule.
type entry struct {
	rule int // index in rules
	pat  *Pattern
	// literal: every segment is a literal and the pattern does not read
	// the query, so reaching the entry's node by the URL's segments is a
	// match.
	literal bool
}

type trieNode struct {
	lit   map[string]*trieNode // by decoded literal segment
	wild  *trieNode            // any one-segment matcher that is not a literal
	ends  []int32              // entries whose segments all end here
	tails []int32              // entries whose first "**" comes next
}

func compileMatrix(rules []Rule) *matrixIndex {
	x := &matrixIndex{rules: rules, byMethod: map[string]*trieNode{}, anyMeth: &trieNode{}, literals: map[string]int32{}, more: map[string][]int32{}}
	x.names = make([]string, len(rules))
	for i := range rules {
		x.names[i] = rules[i].Name()
		for j := range rules[i].Match {
			p := &rules[i].Match[j]
			if len(p.segs) == 0 { // the zero Pattern matches nothing
				continue
			}
			id := int32(len(x.entries))
			x.entries = append(x.entries, entry{rule: i, pat: p, literal: isLiteral(p)})
			if x.entries[id].literal {
				if k, ok := literalKey(p.Method, p.literalSegs()); ok {
					if _, dup := x.literals[k]; dup {
						x.more[k] = append(x.more[k], id)
					} else {
						x.literals[k] = id
					}
					continue
				}
			}
			root := x.anyMeth
			if p.Method != "" {
				if root = x.byMethod[p.Method]; root == nil {
					root = &trieNode{}
					x.byMethod[p.Method] = root
				}
			}
			root.insert(p.segs, id)
		}
	}
	return x
}

func isLiteral(p *Pattern) bool {
	if p.readsQuery() {
		return false
	}
	for _, s := range p.segs {
		if s.kind != segLiteral {
			return false
		}
	}
	return true
}

func (n *trieNode) insert(segs []segment, id int32) {
	for _, s := range segs {
		switch s.kind {
		case segDoubleStar:
			n.tails = append(n.tails, id)
			return
		case segLiteral:
			c := n.lit[s.lit]
			if c == nil {
				if n.lit == nil {
					n.lit = map[string]*trieNode{}
				}
				c = &trieNode{}
				n.lit[s.lit] = c
			}
			n = c
		default:
			if n.wild == nil {
				n.wild = &trieNode{}
			}
			n = n.wild
		}
	}
	n.ends = append(n.ends, id)
}

// lookup holds what one lookup reads, parsed once.
type lookup struct {
	x      *matrixIndex
	method string
	u      *url.URL
	segs   []string
	query  url.Values // parsed at the first pattern with a query
	clean  bool       // every pair of the query parsed
	parsed bool
	b      Bindings
	best   int32 // the first matching entry so far; -1 for none
	// each, when set, is called with every matching entry instead, and
	// best stays -1 (Config.Matching).
	each func(id int32)
}

// first returns the index in x.rules of the first rule one of whose
// patterns matches method and u, or -1. method must be ASCII upper case
// (see asciiUpper).
func (x *matrixIndex) first(method string, u *url.URL, b Bindings) int {
	if u == nil {
		return -1
	}
	l := lookup{x: x, method: method, u: u, segs: urlSegments(u), b: b, best: -1}
	l.tryLiterals()
	if root := x.byMethod[method]; root != nil {
		l.walk(root, 0)
	}
	l.walk(x.anyMeth, 0)
	if l.best < 0 {
		return -1
	}
	return x.entries[l.best].rule
}

// every calls fn with the index in x.rules of each rule one of whose
// patterns matches method and u, in no particular order, a rule possibly
// more than once.
func (x *matrixIndex) every(method string, u *url.URL, b Bindings, fn func(rule int)) {
	if u == nil {
		return
	}
	l := lookup{x: x, method: method, u: u, segs: urlSegments(u), b: b, best: -1}
	l.each = func(id int32) { fn(x.entries[id].rule) }
	l.tryLiterals()
	if root := x.byMethod[method]; root != nil {
		l.walk(root, 0)
	}
	l.walk(x.anyMeth, 0)
}

// tryLiterals proposes the literal entries of the lookup's method and
// of any method whose segments are the URL's (literals). A URL whose
// segments have no key has no literal entry either.
func (l *lookup) tryLiterals() {
	if len(l.x.literals) == 0 {
		return
	}
	for _, m := range [2]string{l.method, ""} {
		k, ok := literalKey(m, l.segs)
		if !ok {
			return
		}
		if id, ok := l.x.literals[k]; ok {
			l.try([]int32{id})
			if l.each != nil {
				l.try(l.x.more[k])
			}
		}
		if l.method == "" {
			return
		}
	}
}

// walk proposes the entries under n whose segments could match l.segs
// from depth d on. A trie is a tree, so each node is visited at most once.
func (l *lookup) walk(n *trieNode, d int) {
	l.try(n.tails)
	if d == len(l.segs) {
		l.try(n.ends)
		return
	}
	if c := n.lit[l.segs[d]]; c != nil {
		l.walk(c, d+1)
	}
	if n.wild != nil {
		l.walk(n.wild, d+1)
	}
}

// try matches the entries of ids (ascending) in full, up to the first
// that matches or the best found so far.
func (l *lookup) try(ids []int32) {
	if l.each != nil {
		for _, id := range ids {
			if e := &l.x.entries[id]; e.literal || l.matches(e.pat) {
				l.each(id)
			}
		}
		return
	}
	for _, id := range ids {
		if l.best >= 0 && id >= l.best {
			return
		}
		if e := &l.x.entries[id]; e.literal || l.matches(e.pat) {
			l.best = id
			return
		}
	}
}

// matches is Pattern.match on the lookup's parsed URL; the method was
// chosen by the trie the entry came from.
func (l *lookup) matches(p *Pattern) bool {
	if !p.matchPath(l.segs, l.b) {
		return false
	}
	if !p.readsQuery() {
		return true
	}
	if p.qmode == queryNone {
		return l.u.RawQuery == ""
	}
	if !l.parsed {
		var err error
		l.query, err = url.ParseQuery(l.u.RawQuery) // keeps the pairs that parse
		l.clean = err == nil
		l.parsed = true
	}
	return p.matchQuery(l.query, l.clean)
}

// asciiUpper returns method in upper case and true when it is ASCII; a
// method outside ASCII may still equal a pattern's under Unicode case
// folding (strings.EqualFold), which only the scan decides.
func asciiUpper(method string) (string, bool) {
	up := true
	for i := 0; i < len(method); i++ {
		c := method[i]
		if c >= 0x80 {
			return "", false
		}
		up = up && !('a' <= c && c <= 'z')
	}
	if up {
		return method, true
	}
	b := []byte(method)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b), true
}

// matrixIndex returns the compiled form of c.Matrix.Rules, compiling it
// at the first lookup, and again when Matrix.Rules was replaced or grown
// since (a configuration built in code, such as learn's draft). Lookups
// may run concurrently: two that compile at once each build an index,
// and either is kept.
func (c *Config) matrixIndex() *matrixIndex {
	x := c.matrix.Load()
	if x != nil && sameRules(x.rules, c.Matrix.Rules) {
		return x
	}
	x = compileMatrix(c.Matrix.Rules)
	c.matrix.Store(x)
	return x
}

func sameRules(a, b []Rule) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// literalSegs are the decoded segments of a pattern whose segments are
// all literal.
func (p *Pattern) literalSegs() []string {
	out := make([]string, len(p.segs))
	for i, s := range p.segs {
		out[i] = s.lit
	}
	return out
}
