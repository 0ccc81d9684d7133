package report

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// LearnOptions tune Learn.
type LearnOptions struct {
	// Vars are the roles' variables (role name to variable name to value),
	// as a configuration declares them. An id that only the roles holding
	// it as a variable may read becomes {self.name} in the draft instead
	// of a literal id. Nil: ids stay literal.
	Vars map[string]map[string]string
}

// Draft is a proposed access matrix, drafted from what each role of a run
// was actually answered (Learn). WriteYAML renders it as the matrix
// section of a configuration, with its comments.
type Draft struct {
	// Header holds the comment lines written above the matrix.
	Header []string
	// Rules are the proposed rules, in order (first match wins).
	Rules []DraftRule
	// Suspicious lists the answers that look like bugs, in the order
	// their comments appear.
	Suspicious []Suspicion
	// Endpoints is the number of distinct endpoints (method, path and
	// query) the run probed.
	Endpoints int
}

// DraftRule is one proposed matrix rule.
type DraftRule struct {
	// Comments are written above the rule: "suspicious: ..." for answers
	// that look like bugs, "note: ..." for what the reader should know.
	Comments []string
	Match    []string // patterns, such as "GET /admin/**"
	Allow    []string // roles; ["*"] for every role; [] for none
	DenyAs   string   // "404" when every denial observed was a 404 or 410; "" otherwise
}

// The kinds of a Suspicion.
const (
	SuspectAnonymous403   = "403-to-anonymous"
	SuspectSignedIn401    = "401-to-signed-in"
	SuspectAllowedOutlier = "allowed-unlike-subtree" // a role sees what a higher role sees, unlike the rest of its subtree
	SuspectDeniedOutlier  = "denied-unlike-subtree"
	SuspectExistence      = "hidden-and-forbidden" // 404 to some, 403 to others: the 403 tells the resource exists
	SuspectSeesAll        = "sees-everything"      // a role is allowed everything a higher role is
	SuspectInheritance    = "higher-role-denied"   // a role is denied what a role it inherits is allowed
)

// Suspicion is an answer that looks like a bug. It is a comment of the
// draft, never a finding.
type Suspicion struct {
	Kind     string
	Template string // "GET /api/tickets"; "" for a role-wide suspicion
	Role     string
	Message  string // the comment, without its "suspicious: " prefix
}

// Learn drafts an access matrix from run: for every endpoint template, the
// roles that were allowed it, grouped into rules by path prefix, with
// "**" where a whole subtree answered alike, and comments where roles or
// answers disagree inside a group or look suspicious. The draft describes
// behaviour: judged against it, the run it was learned from passes, except
// for answers a matrix rejects whatever it says (403 to anonymous, 401 to
// a signed-in role, other and error answers). It sends no request.
func Learn(run *model.Run, opts LearnOptions) *Draft {
	l := newLearner(run, opts)
	return l.learn()
}

// WriteYAML writes the draft as a "matrix:" section with its comments,
// ready to replace the matrix section of a configuration.
func (d *Draft) WriteYAML(w io.Writer) error {
	var b bytes.Buffer
	for _, h := range d.Header {
		if h == "" {
			b.WriteString("#\n")
			continue
		}
		fmt.Fprintf(&b, "# %s\n", h)
	}
	b.WriteString("matrix:\n  default: deny\n")
	if len(d.Rules) == 0 {
		b.WriteString("  rules: []\n")
	} else {
		b.WriteString("  rules:                         # first match wins\n")
	}
	for i, r := range d.Rules {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, c := range r.Comments {
			fmt.Fprintf(&b, "    # %s\n", sanitize(c))
		}
		b.WriteString("    - match:\n")
		for _, m := range r.Match {
			fmt.Fprintf(&b, "        - %s\n", yamlDQ(m))
		}
		allow := make([]string, len(r.Allow))
		for i, a := range r.Allow {
			allow[i] = yamlDQ(a)
			if isPlainRole(a) {
				allow[i] = a
			}
		}
		fmt.Fprintf(&b, "      allow: [%s]\n", strings.Join(allow, ", "))
		if r.DenyAs != "" {
			fmt.Fprintf(&b, "      deny_as: %s\n", r.DenyAs)
		}
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write draft matrix: %w", err)
	}
	return nil
}

// isPlainRole reports whether a role name can be written unquoted: a
// lower-case word that YAML reads as a string.
func isPlainRole(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	switch s {
	case "null", "true", "false", "yes", "no", "on", "off", "y", "n":
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// roleSet is a set of roles by index in the learner's role order.
type roleSet []bool

func (s roleSet) key() string {
	b := make([]byte, len(s))
	for i, v := range s {
		b[i] = '0'
		if v {
			b[i] = '1'
		}
	}
	return string(b)
}

func (s roleSet) count() int {
	n := 0
	for _, v := range s {
		if v {
			n++
		}
	}
	return n
}

// unit is one endpoint template (method and folded path, query left out):
// the level rules are written at.
type unit struct {
	method, path string   // "GET", "/orders/{id}"
	name         string   // "GET /orders/{id}"
	urls         []string // concrete path and query, sorted
	// cells[url][role index]; a zero Cell (empty Role) was not probed.
	cells map[string][]model.Cell
	main  roleSet // the allowed set most of its URLs share
	exp   string  // expectation key of its main URLs
	deny  string
	// exceptions are the URLs whose allowed set differs from main.
	exceptions []string
	comments   []string
}

type learner struct {
	run   *model.Run
	opts  LearnOptions
	names []string
	index map[string]int
	// roles are the run's roles as a configuration holds them (names,
	// inheritance, variables): the draft is verified with them, and
	// inheritance is read through them.
	roles []*roles.Role
	// above[i][j]: role j inherits role i, transitively (j is higher).
	above [][]bool
	units []*unit
	draft *Draft
}

func newLearner(run *model.Run, opts LearnOptions) *learner {
	l := &learner{run: run, opts: opts, index: map[string]int{}, draft: &Draft{}}
	for _, r := range run.Roles {
		l.addRole(r.Name)
	}
	for _, c := range run.Observations {
		l.addRole(c.Role)
	}
	inherits := map[string][]string{}
	for _, r := range run.Roles {
		inherits[r.Name] = r.Inherits
	}
	for _, n := range l.names {
		l.roles = append(l.roles, &roles.Role{Name: n, Inherits: inherits[n], Vars: l.roleVars(n)})
	}
	// Inheritance as the audit's matcher reads it: an allow list naming i
	// admits j when j is i or inherits it. A role named "*" (which no
	// configuration can name) would admit everyone, so it is left out.
	cfg := &roles.Config{Roles: l.roles}
	n := len(l.names)
	l.above = make([][]bool, n)
	for i := range l.above {
		l.above[i] = make([]bool, n)
		for j := range l.names {
			l.above[i][j] = i != j && l.names[i] != "*" && cfg.Allows([]string{l.names[i]}, l.names[j])
		}
	}
	return l
}

// roleVars returns the variables of a role (LearnOptions.Vars): the one
// place learn reads role variables. They come from a configuration's
// static vars (learn -c); a run that kept the values its roles captured
// at sign-in would be read here instead.
func (l *learner) roleVars(role string) map[string]string {
	return l.opts.Vars[role]
}

// varHolding returns the name of role's variable whose value is v, the
// first in name order, or "" when none holds it.
func (l *learner) varHolding(role, v string) string {
	vars := l.roleVars(role)
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if vars[k] == v {
			return k
		}
	}
	return ""
}

func (l *learner) addRole(name string) {
	if _, ok := l.index[name]; ok || name == "" {
		return
	}
	l.index[name] = len(l.names)
	l.names = append(l.names, name)
}

// What an answer class means to learn. The judge reads classes too; these
// two functions are learn's reading, kept together so that a later step
// can point them at the judge's.

// known reports whether a class tells whether the role was allowed:
// allowed, or one of the three denials. Other and error tell neither.
func known(c model.Class) bool {
	switch c {
	case model.Allowed, model.Unauthenticated, model.Forbidden, model.Hidden:
		return true
	}
	return false
}

// usualDenial reports whether o is a denial in one of its role's usual
// forms: unauthenticated or hidden for anonymous, forbidden or hidden for
// a signed-in role. The others, a 403 to anonymous and a 401 to a
// signed-in role, are denials the draft never accepts (its only deny_as
// is 404): they are suspicions, not rules.
func usualDenial(o model.Observation) bool {
	switch o.Class {
	case model.Hidden:
		return true
	case model.Unauthenticated:
		return o.Role == anonymous
	case model.Forbidden:
		return o.Role != anonymous
	}
	return false
}

func (l *learner) learn() *Draft {
	l.collect()
	for _, u := range l.units {
		l.summarise(u)
	}
	l.suspectCells()
	l.suspectOutliers()
	l.suspectRoles()
	general, exceptions := l.group()
	rules := l.compose(general, exceptions)
	rules = l.verify(rules)
	l.draft.Rules = rules
	l.header()
	return l.draft
}

// collect groups the observations into units.
func (l *learner) collect() {
	byName := map[string]*unit{}
	endpoints := map[string]bool{}
	for _, c := range l.run.Observations {
		path := templatePath(c)
		name := c.Method + " " + path
		u := byName[name]
		if u == nil {
			u = &unit{method: c.Method, path: path, name: name, cells: map[string][]model.Cell{}}
			byName[name] = u
			l.units = append(l.units, u)
		}
		p := model.PathOf(c.URL)
		endpoints[c.Method+" "+p] = true
		if u.cells[p] == nil {
			u.cells[p] = make([]model.Cell, len(l.names))
			u.urls = append(u.urls, p)
		}
		if i, ok := l.index[c.Role]; ok {
			u.cells[p][i] = c
		}
	}
	for _, u := range l.units {
		sort.Strings(u.urls)
	}
	sort.Slice(l.units, func(i, j int) bool {
		if l.units[i].path != l.units[j].path {
			return l.units[i].path < l.units[j].path
		}
		return l.units[i].method < l.units[j].method
	})
	l.draft.Endpoints = len(endpoints)
}

// allowedAt returns the roles allowed at url and the roles whose answer
// tells either way.
func (l *learner) allowedAt(u *unit, p string) (allowed, knownSet roleSet) {
	allowed, knownSet = make(roleSet, len(l.names)), make(roleSet, len(l.names))
	for i, c := range u.cells[p] {
		if c.Role == "" || !known(c.Class) {
			continue
		}
		knownSet[i] = true
		allowed[i] = c.Class == model.Allowed
	}
	return allowed, knownSet
}

func consistent(a, k, s roleSet) bool {
	for i := range a {
		if k[i] && a[i] != s[i] {
			return false
		}
	}
	return true
}

// summarise finds the allowed set most of u's URLs share, its exceptions,
// and the expectation of its main URLs.
func (l *learner) summarise(u *unit) {
	type cand struct {
		set   roleSet
		votes int
	}
	var cands []*cand
	seen := map[string]bool{}
	for _, p := range u.urls {
		a, _ := l.allowedAt(u, p)
		if !seen[a.key()] {
			seen[a.key()] = true
			cands = append(cands, &cand{set: a})
		}
	}
	for _, c := range cands {
		for _, p := range u.urls {
			a, k := l.allowedAt(u, p)
			if consistent(a, k, c.set) {
				c.votes++
			}
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].votes != cands[j].votes {
			return cands[i].votes > cands[j].votes
		}
		if n, m := cands[i].set.count(), cands[j].set.count(); n != m {
			return n < m // the more restrictive one is the rule; the others exceptions
		}
		return cands[i].set.key() > cands[j].set.key()
	})
	u.main = cands[0].set
	var mainURLs []string
	for _, p := range u.urls {
		a, k := l.allowedAt(u, p)
		if consistent(a, k, u.main) {
			mainURLs = append(mainURLs, p)
		} else {
			u.exceptions = append(u.exceptions, p)
		}
	}
	u.deny = l.denyOf(u, mainURLs, u.main)
	u.exp = u.main.key() + "|" + u.deny
}

// denyOf returns "404" when every denial among urls (for the roles not in
// set) was hidden, and "" otherwise.
func (l *learner) denyOf(u *unit, urls []string, set roleSet) string {
	n := 0
	for _, p := range urls {
		for i, c := range u.cells[p] {
			if c.Role == "" || set[i] || !known(c.Class) || c.Class == model.Allowed {
				continue
			}
			if c.Class != model.Hidden {
				return ""
			}
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return "404"
}

// allowList is the shortest allow list whose roles, with the roles that
// inherit them, are set: ["*"] for every role.
func (l *learner) allowList(set roleSet) []string {
	if set.count() == len(set) && len(set) > 0 {
		return []string{"*"}
	}
	out := []string{}
	for i, in := range set {
		if !in {
			continue
		}
		minimal := true
		for j, jn := range set {
			if jn && l.above[j][i] {
				minimal = false // i inherits j, which is allowed
				break
			}
		}
		if minimal {
			out = append(out, l.names[i])
		}
	}
	return out
}

// suspectCells flags the answers no matrix accepts as a pass, and the
// resources hidden from some roles but forbidden to others.
func (l *learner) suspectCells() {
	for _, u := range l.units {
		var anon403 []string
		signed401 := map[int][]string{}
		hidden, forbidden := map[int][]string{}, map[int][]string{}
		var other []string
		for _, p := range u.urls {
			a, _ := l.allowedAt(u, p)
			for i, c := range u.cells[p] {
				if c.Role == "" {
					continue
				}
				switch {
				case c.Class == model.Forbidden && !usualDenial(c.Observation):
					anon403 = append(anon403, p)
				case c.Class == model.Unauthenticated && !usualDenial(c.Observation):
					signed401[i] = append(signed401[i], p)
				case c.Class == model.Other || c.Class == model.Error:
					other = appendUnique(other, fmt.Sprintf("%s gets %s on %s", c.Role, c.Observation.Observed(), p))
				}
				if !a[i] && c.Class == model.Hidden {
					hidden[i] = append(hidden[i], p)
				}
				if !a[i] && c.Class == model.Forbidden {
					forbidden[i] = append(forbidden[i], p)
				}
			}
			// A role denied what a role it inherits is allowed.
			for i := range l.names {
				for j := range l.names {
					c := u.cells[p][j]
					if a[i] && l.above[i][j] && c.Role != "" && known(c.Class) && !a[j] {
						l.suspect(u, Suspicion{Kind: SuspectInheritance, Template: u.name, Role: l.names[j],
							Message: fmt.Sprintf("%s inherits %s but is denied %s (%s), which %s is allowed; a matrix cannot say that, so this draft reports %s as blocked there",
								l.names[j], l.names[i], u.name, p, l.names[i], l.names[j])})
					}
				}
			}
		}
		if len(anon403) > 0 {
			l.suspect(u, Suspicion{Kind: SuspectAnonymous403, Template: u.name, Role: anonymous,
				Message: fmt.Sprintf("403 to anonymous on %s (%s): anonymous should be asked who it is (401 or the login page); auditing with this draft reports it as wrong-code",
					u.name, listPaths(anon403))})
		}
		for i := range l.names {
			if ps := signed401[i]; len(ps) > 0 {
				l.suspect(u, Suspicion{Kind: SuspectSignedIn401, Template: u.name, Role: l.names[i],
					Message: fmt.Sprintf("401 to signed-in role %s on %s (%s): the application mislabels a 403, or does not accept %s's credentials there; auditing with this draft reports it as wrong-code",
						l.names[i], u.name, listPaths(ps), l.names[i])})
			}
		}
		if len(hidden) > 0 && len(forbidden) > 0 {
			var h, f []string
			for i := range l.names {
				if len(hidden[i]) > 0 {
					h = append(h, l.names[i])
				}
				if len(forbidden[i]) > 0 {
					f = append(f, fmt.Sprintf("%s (%s)", l.names[i], listPaths(forbidden[i])))
				}
			}
			for i := range l.names {
				if len(forbidden[i]) == 0 {
					continue
				}
				l.suspect(u, Suspicion{Kind: SuspectExistence, Template: u.name, Role: l.names[i],
					Message: fmt.Sprintf("%s answers 404 to %s but 403 to %s: a hidden resource must answer like a missing one, so the 403 tells that it exists (an existence leak); with deny_as: 404 the audit reports it",
						u.name, strings.Join(h, ", "), strings.Join(f, ", "))})
				break
			}
		}
		for _, o := range other {
			u.comments = append(u.comments, "note: "+o+": neither allowed nor a denial; name the code in deny_as to judge it")
		}
	}
}

func appendUnique(list []string, s string) []string {
	if hasString(list, s) {
		return list
	}
	return append(list, s)
}

// listPaths shortens a list of paths for a comment.
func listPaths(ps []string) string {
	const max = 4
	var uniq []string
	for _, p := range ps {
		uniq = appendUnique(uniq, p)
	}
	if len(uniq) > max {
		return strings.Join(uniq[:max], ", ") + fmt.Sprintf(" and %d more", len(uniq)-max)
	}
	return strings.Join(uniq, ", ")
}

func (l *learner) suspect(u *unit, s Suspicion) {
	for _, x := range l.draft.Suspicious {
		if x.Kind == s.Kind && x.Template == s.Template && x.Role == s.Role {
			return
		}
	}
	l.draft.Suspicious = append(l.draft.Suspicious, s)
	if u != nil {
		u.comments = append(u.comments, "suspicious: "+s.Message)
	}
}

// node is a path prefix of the units of one method.
type node struct {
	seg      string
	unit     *unit
	children map[string]*node
	order    []string
}

func (n *node) child(seg string) *node {
	if c := n.children[seg]; c != nil {
		return c
	}
	c := &node{seg: seg, children: map[string]*node{}}
	n.children[seg] = c
	n.order = append(n.order, seg)
	return c
}

// all returns the units of n's subtree, in path order.
func (n *node) all() []*unit {
	var out []*unit
	if n.unit != nil {
		out = append(out, n.unit)
	}
	segs := append([]string(nil), n.order...)
	sort.Strings(segs)
	for _, s := range segs {
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
			segs := append([]string(nil), n.order...)
			sort.Strings(segs)
			for _, s := range segs {
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

// exceptionPattern is the literal pattern of p, or, when every role the
// exception allows beyond u's main set holds one of p's id segments as
// the same variable, that segment as {self.name}.
func (l *learner) exceptionPattern(u *unit, p string, set roleSet) (string, string) {
	lit := literalPattern(u.method, p)
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
		return u.method + " " + strings.Join(pat, "/"), fmt.Sprintf(" (%s's own %s: {self.%s})", strings.Join(minimal, ", "), name, name)
	}
	return lit, ""
}

// suspectOutliers flags, in every subtree (below the root) of three or
// more templates where at least two thirds share who is allowed, the
// templates that differ, at the deepest subtree where they do.
func (l *learner) suspectOutliers() {
	methods, roots := l.trees()
	flagged := map[*unit]bool{}
	for _, m := range methods {
		var walk func(n *node, prefix []string)
		walk = func(n *node, prefix []string) {
			segs := append([]string(nil), n.order...)
			sort.Strings(segs)
			for _, s := range segs {
				walk(n.children[s], append(append([]string(nil), prefix...), s))
			}
			// The root is left out: public pages next to private ones
			// are how applications are, not a suspicious answer.
			units := n.all()
			if len(prefix) == 0 || len(units) < 3 {
				return
			}
			votes := map[string]int{}
			for _, u := range units {
				votes[u.main.key()]++
			}
			top, best := "", 0
			for k, v := range votes {
				if v > best || v == best && k < top {
					top, best = k, v
				}
			}
			if best < 2 || best*3 < 2*len(units) || best == len(units) {
				return
			}
			var topSet roleSet
			urls := 0
			for _, u := range units {
				if u.main.key() == top {
					topSet = u.main
					urls += len(u.urls)
				}
			}
			where := subtreePattern(prefix)
			for _, u := range units {
				if u.main.key() == top || flagged[u] {
					continue
				}
				flagged[u] = true
				l.outlier(u, topSet, urls, where)
			}
		}
		walk(roots[m], nil)
	}
}

func (l *learner) outlier(u *unit, topSet roleSet, urls int, where string) {
	more, less := make(roleSet, len(topSet)), make(roleSet, len(topSet))
	for i := range topSet {
		more[i] = u.main[i] && !topSet[i]
		less[i] = !u.main[i] && topSet[i]
	}
	for _, r := range l.allowList(more) {
		i := l.index[r]
		if r == "*" {
			continue
		}
		like := ""
		for j := range l.names {
			if l.above[i][j] && u.main[j] && topSet[j] {
				like = fmt.Sprintf(" like %s, a higher role", l.names[j])
				break
			}
		}
		l.suspect(u, Suspicion{Kind: SuspectAllowedOutlier, Template: u.name, Role: r,
			Message: fmt.Sprintf("%s is allowed %s%s, but denied the other %s under %s: a leak, or an exception to keep?",
				r, u.name, like, plural(urls, "endpoint"), where)})
	}
	for _, r := range l.allowList(less) {
		if r == "*" {
			continue
		}
		l.suspect(u, Suspicion{Kind: SuspectDeniedOutlier, Template: u.name, Role: r,
			Message: fmt.Sprintf("%s is denied %s (%s), but allowed the other %s under %s: wrongly blocked, or an exception to keep?",
				r, u.name, l.denialOf(u, l.index[r]), plural(urls, "endpoint"), where)})
	}
}

// denialOf says how role i was denied u: "403 forbidden".
func (l *learner) denialOf(u *unit, i int) string {
	var seen []string
	for _, p := range u.urls {
		if c := u.cells[p][i]; c.Role != "" && c.Class != model.Allowed {
			seen = appendUnique(seen, c.Observation.Observed())
		}
	}
	return strings.Join(seen, ", ")
}

// suspectRoles flags a role allowed everything a higher role is allowed:
// the higher role has nothing of its own, or the lower one too much.
func (l *learner) suspectRoles() {
	allowed := make([]map[string]bool, len(l.names))
	for i := range allowed {
		allowed[i] = map[string]bool{}
	}
	for _, u := range l.units {
		for _, p := range u.urls {
			for i, c := range u.cells[p] {
				if c.Role != "" && c.Class == model.Allowed {
					allowed[i][u.method+" "+p] = true
				}
			}
		}
	}
	for i := range l.names {
		for j := range l.names {
			if !l.above[i][j] || len(allowed[j]) == 0 {
				continue
			}
			all := true
			for ep := range allowed[j] {
				if !allowed[i][ep] {
					all = false
					break
				}
			}
			if all {
				l.suspect(nil, Suspicion{Kind: SuspectSeesAll, Role: l.names[i],
					Message: fmt.Sprintf("%s is allowed everything %s (which inherits %s) is allowed, %s: %s has no access of its own, or %s has too much",
						l.names[i], l.names[j], l.names[i], plural(len(allowed[j]), "endpoint"), l.names[j], l.names[i])})
			}
		}
	}
}

// compose merges the patterns that carry the same expectation into
// rules: exceptions first, then the general rules, most open first.
func (l *learner) compose(general, exceptions []placed) []DraftRule {
	var rules []DraftRule
	merge := func(ps []placed) []DraftRule {
		var out []DraftRule
		var sets []roleSet
		byExp := map[string]int{}
		for _, p := range ps {
			i, ok := byExp[p.exp]
			if !ok {
				i = len(out)
				byExp[p.exp] = i
				out = append(out, DraftRule{Allow: l.allowList(p.set), DenyAs: p.deny})
				sets = append(sets, p.set)
			}
			out[i].Match = append(out[i].Match, p.pattern)
			for _, c := range p.comments {
				out[i].Comments = appendUnique(out[i].Comments, c)
			}
		}
		return out
	}
	rules = append(rules, merge(exceptions)...)
	gen := merge(general)
	open := func(r DraftRule) int {
		if len(r.Allow) == 1 && r.Allow[0] == "*" {
			return 1 << 20
		}
		n := 0
		for _, a := range r.Allow {
			i := l.index[a]
			n++
			for j := range l.names {
				if l.above[i][j] {
					n++
				}
			}
		}
		return n
	}
	sort.SliceStable(gen, func(i, j int) bool {
		if a, b := open(gen[i]), open(gen[j]); a != b {
			return a > b
		}
		if gen[i].DenyAs != gen[j].DenyAs {
			return gen[i].DenyAs < gen[j].DenyAs
		}
		return gen[i].Match[0] < gen[j].Match[0]
	})
	return append(rules, gen...)
}

// matrixConfig builds a configuration holding rules, to check the draft
// with the matcher the audit uses.
func (l *learner) matrixConfig(rules []DraftRule) (*roles.Config, error) {
	cfg := &roles.Config{Roles: l.roles, Matrix: roles.Matrix{Default: "deny"}}
	for i, r := range rules {
		rule := roles.Rule{Index: i + 1, Allow: r.Allow}
		for _, m := range r.Match {
			p, err := roles.ParsePattern(m)
			if err != nil {
				return nil, fmt.Errorf("draft pattern %q: %w", m, err)
			}
			rule.Match = append(rule.Match, p)
		}
		if r.DenyAs == "404" {
			rule.DenyAs = []roles.DenyForm{{Class: string(model.Hidden), Status: 404}}
		}
		cfg.Matrix.Rules = append(cfg.Matrix.Rules, rule)
	}
	return cfg, nil
}

// verify judges the run against the draft with the audit's own matcher.
// A URL whose answers the draft misjudges gets a literal rule of its own,
// first; what still cannot be expressed is said in the header.
func (l *learner) verify(rules []DraftRule) []DraftRule {
	for pass := 0; pass < 2; pass++ {
		bad := l.misjudged(rules)
		if len(bad) == 0 {
			return rules
		}
		if pass == 1 {
			for _, b := range bad {
				l.draft.Header = append(l.draft.Header, "note: the draft cannot express "+b+" (it differs from a URL with the same path by its query only)")
			}
			return rules
		}
		var fix []DraftRule
		for _, b := range bad {
			method, p, _ := strings.Cut(b, " ")
			u := l.unitOf(method, p)
			if u == nil {
				continue
			}
			a, k := l.allowedAt(u, p)
			set := make(roleSet, len(a))
			for i := range a {
				set[i] = a[i] || !k[i] && u.main[i]
			}
			fix = append(fix, DraftRule{Match: []string{literalPattern(method, p)}, Allow: l.allowList(set), DenyAs: l.denyOf(u, []string{p}, set),
				Comments: []string{"note: " + method + " " + p + " answers unlike the rest of its group"}})
		}
		rules = append(fix, rules...)
	}
	return rules
}

func (l *learner) unitOf(method, p string) *unit {
	for _, u := range l.units {
		if u.method == method && u.cells[p] != nil {
			return u
		}
	}
	return nil
}

// misjudged returns the endpoints ("GET /path") some answer of which the
// draft misjudges: a role allowed where it was denied or the reverse, or a
// denial in a form the draft rejects although a matrix could accept it.
// Answers no matrix accepts (403 to anonymous, 401 to a signed-in role,
// other, error) and a higher role denied what a role it inherits is
// allowed (no matrix can say that) are left aside.
func (l *learner) misjudged(rules []DraftRule) []string {
	cfg, err := l.matrixConfig(rules)
	if err != nil {
		l.draft.Header = append(l.draft.Header, "note: "+err.Error())
		return nil
	}
	var bad []string
	for _, c := range l.run.Observations {
		if !known(c.Class) || l.inheritanceSuspect(c) {
			continue
		}
		u, err := url.Parse(c.URL)
		if err != nil {
			continue
		}
		exp := cfg.Expect(c.Method, u, c.Role)
		allowed := c.Class == model.Allowed
		if exp.Allow != allowed {
			bad = appendUnique(bad, c.Method+" "+model.PathOf(c.URL))
			continue
		}
		if !allowed && usualDenial(c.Observation) {
			if v, _ := decide(exp, c.Observation); v != model.Pass {
				bad = appendUnique(bad, c.Method+" "+model.PathOf(c.URL))
			}
		}
	}
	return bad
}

// inheritanceSuspect reports whether c is the denial of a role that
// inherits a role allowed the same URL, which no matrix can express.
func (l *learner) inheritanceSuspect(c model.Cell) bool {
	for _, s := range l.draft.Suspicious {
		if s.Kind == SuspectInheritance && s.Role == c.Role && s.Template == c.Method+" "+templatePath(c) {
			return true
		}
	}
	return false
}

// templatePath is the path of c's template, query left out: the path of
// the unit c belongs to.
func templatePath(c model.Cell) string {
	tmpl := c.Template
	if tmpl == "" {
		tmpl = model.Template(c.Method, c.URL)
	}
	_, rest, _ := strings.Cut(tmpl, " ")
	path, _, _ := strings.Cut(rest, "?")
	if path == "" {
		return "/"
	}
	return path
}

func (l *learner) header() {
	d := l.draft
	h := []string{
		fmt.Sprintf("Access matrix drafted by `permaudit learn` from run %s of %s:", sanitize(l.run.RunID), sanitize(l.run.Target)),
		fmt.Sprintf("%s and %s as %s.", plural(d.Endpoints, "endpoint"), plural(len(l.run.Observations), "observation"), strings.Join(l.names, ", ")),
		"",
		"Each rule says who WAS allowed, not who should be: read it, correct it, and",
		"use it as the matrix section of your configuration. \"**\" stands for a",
		"whole subtree whose endpoints all answered alike, so a new endpoint there",
		"is expected to answer alike too. Lines starting \"suspicious:\" mark answers",
		"that look like bugs; \"note:\" lines say where roles disagree inside a group.",
		"Comments are not findings.",
	}
	if len(l.run.Filters.Roles) > 0 || len(l.run.Filters.Only) > 0 || !l.run.Complete {
		h = append(h, "", "note: the run was narrowed or incomplete: the draft covers only what it probed.")
	}
	var global []string
	for _, s := range d.Suspicious {
		if s.Template == "" {
			global = append(global, "suspicious: "+s.Message)
		}
	}
	if len(global) > 0 {
		h = append(h, "")
		h = append(h, global...)
	}
	d.Header = append(h, d.Header...)
}
