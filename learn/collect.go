package learn

import (
	"sort"
	"strings"

	"github.com/permaudit/permaudit/model"
)

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

// collect groups the observations into units.
func (l *learner) collect() {
	byName := map[string]*unit{}
	endpoints := map[string]bool{}
	for _, c := range l.run.Observations.All() {
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
