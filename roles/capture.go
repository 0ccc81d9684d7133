package roles

import "net/url"

// Names returns the "{name}" segments of the pattern's path, in order,
// without duplicates; role variables ("{role.var}") are not names.
func (p Pattern) Names() []string {
	var out []string
	for _, s := range p.segs {
		if s.kind != segName {
			continue
		}
		dup := false
		for _, x := range out {
			dup = dup || x == s.name()
		}
		if !dup {
			out = append(out, s.name())
		}
	}
	return out
}

// Capture matches like Match and returns the segments the pattern's
// "{name}" segments matched (decoded). Where "**" leaves several ways to
// match, the one whose earlier "**" take the fewest segments is used; a
// name that appears twice keeps its first segment.
func (p Pattern) Capture(method string, u *url.URL, b Bindings) (map[string]string, bool) {
	if !p.match(method, u, b) {
		return nil, false
	}
	segs := urlSegments(u)
	got := map[string]string{}
	// failed[i][j]: pattern segments from i cannot match segs from j;
	// memoised so that many "**" stay polynomial.
	failed := map[[2]int]bool{}
	var walk func(i, j int) bool
	walk = func(i, j int) bool {
		if i == len(p.segs) {
			return j == len(segs)
		}
		if failed[[2]int{i, j}] {
			return false
		}
		ps := p.segs[i]
		if ps.kind == segDoubleStar {
			for k := j; k <= len(segs); k++ {
				if walk(i+1, k) {
					return true
				}
			}
			failed[[2]int{i, j}] = true
			return false
		}
		if j < len(segs) {
			want := ""
			ok := true
			if ps.kind == segVar {
				want, ok = lookupVar(ps, b)
			}
			if ok && segMatch(ps, segs[j], want) && walk(i+1, j+1) {
				if ps.kind == segName {
					// Unwinding runs last to first: the first segment wins.
					got[ps.name()] = segs[j]
				}
				return true
			}
		}
		failed[[2]int{i, j}] = true
		return false
	}
	if !walk(0, 0) {
		return nil, false
	}
	return got, true
}
