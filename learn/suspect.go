package learn

import (
	"fmt"
	"strings"

	"github.com/permaudit/permaudit/model"
)

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
			l.suspect(u, Suspicion{Kind: SuspectAnonymous403, Template: u.name, Role: model.Anonymous,
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

// suspectOutliers flags, in every subtree (below the root) of three or
// more templates where at least two thirds share who is allowed, the
// templates that differ, at the deepest subtree where they do.
func (l *learner) suspectOutliers() {
	methods, roots := l.trees()
	flagged := map[*unit]bool{}
	for _, m := range methods {
		var walk func(n *node, prefix []string)
		walk = func(n *node, prefix []string) {
			for _, s := range n.segments() {
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
