package crawl

// The order a crawl spends its requests in, and the bounds that keep one
// page of the target from taking them all (docs/design.md, "Flow"):
//
//   - A page is a method and a URL path with its id-like segments folded
//     (GET /users/{id}), its query left out but for the keys front
//     controllers name pages by (doku.php?id=...): model.QueryGroup. Every
//     query variant of one page (sort, order, filter, paging, view mode,
//     dates, return-to URLs) counts toward one cap per page,
//     crawl.max_query_variants; the first variant of each new set of
//     query keys is kept past it while the path has fewer key sets than
//     the cap, so that no shape of the page is lost. Fingerprints are not
//     changed by this: they keep every query key (model.TemplateKey).
//   - Each link depth is fetched round robin across paths: the first URL
//     of every path, then the second of every path, and so on, so that
//     when max_requests cuts a depth it cuts the repeats of crowded
//     paths, not whole paths.
//   - Probing goes in ProbeOrder: the endpoints the user declared first,
//     then one URL per template, before any second URL of a template.
//     max_probes and a time cap then leave out the least important
//     cells.

import (
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/permaudit/permaudit/model"
)

// queryKeys returns the sorted, distinct query keys of u joined by "&".
func queryKeys(u *url.URL) string {
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, "&")
}

// variants counts the query variants of each path one role's crawl kept.
// Only run's goroutine touches it.
type variants struct {
	max     int
	kept    map[string]int             // path group -> query variants kept
	keySets map[string]map[string]bool // path group -> key sets kept
	cut     map[model.Endpoint]bool    // left out: the path had its share
}

func newVariants(max int) *variants {
	return &variants{max: max, kept: map[string]int{}, keySets: map[string]map[string]bool{}, cut: map[model.Endpoint]bool{}}
}

// admit reports whether an endpoint first found now may join the
// inventory: a URL without a query always may (the per-template cap
// bounds those), a query variant while its path has fewer than max
// variants, or when its set of keys is new and the path has fewer than
// max key sets. A declared URL (exempt) always may, and counts.
func (v *variants) admit(ep model.Endpoint, u *url.URL, exempt bool) bool {
	if u.RawQuery == "" {
		return true
	}
	g := model.QueryGroup(ep.Method, ep.URL)
	ks := queryKeys(u)
	sets := v.keySets[g]
	newSet := !sets[ks]
	if !exempt && v.kept[g] >= v.max && (!newSet || len(sets) >= v.max) {
		v.cut[ep] = true
		return false
	}
	if sets == nil {
		sets = map[string]bool{}
		v.keySets[g] = sets
	}
	sets[ks] = true
	v.kept[g]++
	return true
}

// spread orders one depth's items for fetching: robots.txt and sitemaps
// first, then the pages round robin across paths (the first URL of every
// path, then the second of every path, ...), each round in URL order.
// items must be sorted by URL. The order is the same on every run.
func spread(items []fetchItem) []fetchItem {
	type ranked struct {
		it    fetchItem
		round int
	}
	seen := map[string]int{}
	rs := make([]ranked, len(items))
	for i, it := range items {
		r := -1 // meta documents first
		if it.kind == kindPage {
			g := model.QueryGroup("GET", it.url)
			r = seen[g]
			seen[g]++
		}
		rs[i] = ranked{it, r}
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].round < rs[j].round })
	out := make([]fetchItem, len(items))
	for i, r := range rs {
		out[i] = r.it
	}
	return out
}

// named reports whether an endpoint found by these sources was named by
// the user: a start URL or a declared source (Declared).
func named(sources []string) bool {
	return slices.ContainsFunc(sources, func(s string) bool { return s == sourceStart || Declared(s) })
}

// ProbeOrder returns eps in the order they are best probed in: the
// endpoints the user declared (Declared, by the inventory's sources),
// then the first URL of every template, then the second URL of every
// template, and so on. Within a round, paths take turns (the first
// template of every path, then the second ...), so that the query
// permutations of one page do not come before every other page; ties go
// in URL order. An endpoint not in inv counts as discovered. The order is
// the same on every run; a cut by max_probes or by time leaves out the
// end of it.
func ProbeOrder(inv *model.Inventory, eps []model.Endpoint) []model.Endpoint {
	declared := map[model.Endpoint]bool{}
	templates := map[model.Endpoint]string{}
	if inv != nil {
		for _, e := range inv.Entries {
			templates[e.Endpoint] = e.Template
			if named(e.Sources) {
				declared[e.Endpoint] = true
			}
		}
	}
	sorted := slices.Clone(eps)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Less(sorted[j]) })
	type key struct {
		declared      bool
		templateRound int // how many URLs of its template come before it
		pathRound     int // how many templates of its path come first in that round
	}
	type pathRound struct {
		group string
		round int
	}
	keys := make(map[model.Endpoint]key, len(sorted))
	nth := map[string]int{}        // template -> URLs seen
	pathNth := map[pathRound]int{} // (path group, template round) -> templates seen
	uniq := sorted[:0]
	for _, e := range sorted {
		if _, dup := keys[e]; dup {
			continue
		}
		uniq = append(uniq, e)
		t, ok := templates[e]
		if !ok {
			t = model.Template(e.Method, e.URL)
		}
		k := key{declared: declared[e], templateRound: nth[t]}
		nth[t]++
		pk := pathRound{model.QueryGroup(e.Method, e.URL), k.templateRound}
		k.pathRound = pathNth[pk]
		pathNth[pk]++
		keys[e] = k
	}
	sorted = uniq
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := keys[sorted[i]], keys[sorted[j]]
		if a.declared != b.declared {
			return a.declared
		}
		if a.declared { // declared ones in URL order
			return false
		}
		if a.templateRound != b.templateRound {
			return a.templateRound < b.templateRound
		}
		return a.pathRound < b.pathRound
	})
	return sorted
}

// feedOrder returns the indexes of the endpoints of jobs (jobs.eps) in
// the order their cells are sent: by their position in endpoints, the
// caller's order (ProbeOrder); each endpoint goes as every role in role
// order. The observations are still returned in the sorted order Probe
// promises. At a million cells the order is made at probing's peak of
// memory: 4 bytes an endpoint and a binary search per endpoint, no map.
func feedOrder(endpoints []model.Endpoint, jobs *jobTable) []int32 {
	order := make([]int32, 0, len(jobs.eps))
	sent := make([]bool, len(jobs.eps))
	for _, e := range endpoints {
		k, ok := jobs.endpoint(e)
		if !ok || sent[k] {
			continue // not probed (out of scope, a bad URL), or named twice
		}
		sent[k] = true
		order = append(order, int32(k))
	}
	return order
}
