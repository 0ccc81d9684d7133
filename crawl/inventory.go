package crawl

import (
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/permaudit/permaudit/model"
)

// Reasons a URL was not fetched, for roleCrawl.notFetched.
const (
	cutDepth    = "max_depth"
	cutRequests = "max_requests"
	cutTime     = "max_duration" // the run's context ended: discovery's share of crawl.max_duration, or a signal
)

const (
	// maxSegments is the most path segments a URL may have before it reads
	// as a crawl loop.
	maxSegments = 64
	// loopRepeats is how many times in a row a group of segments, or one
	// query parameter, may appear before the URL reads as a loop.
	loopRepeats = 3
	// maxLoopPeriod is the longest group of segments checked for repeats.
	maxLoopPeriod = 4
)

// isLoop reports whether u looks like a crawl loop: longer than maxURLLen,
// more than maxSegments path segments, a group of up to maxLoopPeriod
// non-empty segments repeated loopRepeats times in a row (/a/a/a,
// /x/y/x/y/x/y: relative links that nest themselves), or one query
// parameter repeated loopRepeats times.
func isLoop(u *url.URL) bool {
	s := u.String()
	if len(s) > maxURLLen {
		return true
	}
	segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	if len(segs) > maxSegments {
		return true
	}
	for p := 1; p <= maxLoopPeriod; p++ {
		need := p * (loopRepeats - 1) // segments equal to the one p earlier
		run := 0
		for i := p; i < len(segs); i++ {
			if segs[i] != "" && segs[i] == segs[i-p] {
				run++
				if run >= need {
					return true
				}
			} else {
				run = 0
			}
		}
	}
	if u.RawQuery != "" {
		count := map[string]int{}
		for _, kv := range strings.Split(u.RawQuery, "&") {
			count[kv]++
			if count[kv] >= loopRepeats {
				return true
			}
		}
	}
	return false
}

// exemptFromCap reports whether an endpoint found by source is kept
// whatever the per-template cap: the user named it.
func exemptFromCap(source string) bool { return source == sourceStart || source == SourceList }

// mergeInventory unites the findings of every role: entries by endpoint
// with their roles and sources, skips by endpoint and reason with the
// first role (in role order) that met them. Then no template keeps more
// than maxPerTemplate concrete URLs: the kept ones are those a user named
// (start, list), then each finding role's first URL in role order, then
// the first in URL order; so two runs keep the same ones. Likewise no
// path keeps more query variants than lim.maxQueryVariants
// (capVariants). What the caps left out is counted in Cut and listed per
// path in Left. It drops each crawl's endpoints once merged.
func mergeInventory(crawls []*roleCrawl, lim limits) *model.Inventory {
	inv := &model.Inventory{Entries: []model.Entry{}, Skipped: []model.Skip{}, Pages: map[string]int{}}
	entries := map[model.Endpoint]*model.Entry{}
	type skipKey struct {
		ep     model.Endpoint
		reason string
	}
	skips := map[skipKey]bool{}
	cutTemplate, cutLoop, cutQuery := map[model.Endpoint]bool{}, map[model.Endpoint]bool{}, map[model.Endpoint]bool{}
	fetched := map[string]bool{}
	notFetched := map[string]map[string]bool{cutDepth: {}, cutRequests: {}, cutTime: {}}
	var roleOrder []string
	for _, rc := range crawls {
		role := rc.sess.Name()
		roleOrder = append(roleOrder, role)
		inv.Pages[role] += rc.pages + rc.srcs.pages[role]
		for ep, srcs := range rc.found {
			e := entries[ep]
			if e == nil {
				e = &model.Entry{Endpoint: ep, Template: model.Template(ep.Method, ep.URL)}
				entries[ep] = e
			}
			e.FoundBy = appendNew(e.FoundBy, role)
			for s := range srcs.all() {
				e.Sources = appendNew(e.Sources, s)
			}
		}
		for s := range rc.skipped {
			k := skipKey{s.Endpoint, s.Reason}
			if !skips[k] {
				skips[k] = true
				inv.Skipped = append(inv.Skipped, s)
			}
		}
		for ep := range rc.cutTemplate {
			cutTemplate[ep] = true
		}
		for ep := range rc.cutLoop {
			cutLoop[ep] = true
		}
		for ep := range rc.variants.cut {
			cutQuery[ep] = true
		}
		for u := range rc.fetched {
			fetched[u] = true
		}
		for u, why := range rc.notFetched {
			notFetched[why][u] = true
		}
		rc.found, rc.order = nil, nil // merged: what a role found goes before the next is merged
	}
	// Entries with the same roles or sources share one list (clipped, so
	// that no append writes into another's): most endpoints of a large
	// application are found by the same few sets, 20 MB of lists at
	// 200,000 endpoints.
	lists := map[string][]string{}
	share := func(l []string) []string {
		sort.Strings(l)
		k := strings.Join(l, "\x00")
		if s, ok := lists[k]; ok {
			return s
		}
		l = slices.Clip(l)
		lists[k] = l
		return l
	}
	for _, e := range entries {
		e.FoundBy = share(e.FoundBy)
		e.Sources = share(e.Sources)
	}
	for _, ep := range capTemplates(entries, roleOrder, lim.maxPerTemplate) {
		delete(entries, ep)
		cutTemplate[ep] = true
	}
	for _, ep := range capVariants(entries, roleOrder, lim.maxQueryVariants) {
		delete(entries, ep)
		cutQuery[ep] = true
	}
	inv.Entries = slices.Grow(inv.Entries, len(entries))
	for _, e := range entries {
		inv.Entries = append(inv.Entries, *e)
	}
	var leftTemplate, leftQuery []model.Endpoint
	for ep := range cutTemplate {
		if entries[ep] == nil && !cutQuery[ep] {
			inv.Cut.MaxPerTemplate++
			leftTemplate = append(leftTemplate, ep)
		}
	}
	for ep := range cutQuery {
		if entries[ep] == nil {
			inv.Cut.MaxQueryVariants++
			leftQuery = append(leftQuery, ep)
		}
	}
	inv.AddLeft("max_per_template", leftTemplate)
	inv.AddLeft("max_query_variants", leftQuery)
	inv.Cut.Loop = len(cutLoop)
	kept := func(u string) bool { return entries[model.Endpoint{Method: "GET", URL: u}] != nil }
	for u := range notFetched[cutDepth] {
		if !fetched[u] && kept(u) {
			inv.Cut.MaxDepth++
		}
	}
	for u := range notFetched[cutRequests] {
		if !fetched[u] && !notFetched[cutDepth][u] && kept(u) {
			inv.Cut.MaxRequests++
		}
	}
	for u := range notFetched[cutTime] {
		if !fetched[u] && !notFetched[cutDepth][u] && !notFetched[cutRequests][u] && kept(u) {
			inv.Cut.MaxDuration++
		}
	}
	sort.Slice(inv.Entries, func(i, j int) bool { return inv.Entries[i].Endpoint.Less(inv.Entries[j].Endpoint) })
	sort.Slice(inv.Skipped, func(i, j int) bool {
		a, b := inv.Skipped[i], inv.Skipped[j]
		if a.Endpoint != b.Endpoint {
			return a.Endpoint.Less(b.Endpoint)
		}
		return a.Reason < b.Reason
	})
	return inv
}

// capTemplates returns the endpoints to drop so that no template keeps
// more than max concrete URLs (see mergeInventory for which are kept).
func capTemplates(entries map[model.Endpoint]*model.Entry, roleOrder []string, max int) []model.Endpoint {
	if max <= 0 {
		return nil
	}
	groups := map[string][]*model.Entry{}
	for _, e := range entries {
		groups[e.Template] = append(groups[e.Template], e)
	}
	return capGroups(groups, roleOrder, max, false)
}

// capVariants returns the endpoints to drop so that no path (method and
// path, ids folded) keeps more than max query variants across roles: the
// kept ones are those a user named, then the first variant (in URL
// order) of each set of query keys while the path has fewer than max
// key sets, then each finding role's first variant in role order, then
// the first in URL order; so two runs keep the same ones. A URL without
// a query is never dropped here.
func capVariants(entries map[model.Endpoint]*model.Entry, roleOrder []string, max int) []model.Endpoint {
	if max <= 0 {
		return nil
	}
	groups := map[string][]*model.Entry{}
	for _, e := range entries {
		if strings.Contains(e.URL, "?") {
			g := model.QueryGroup(e.Method, e.URL)
			groups[g] = append(groups[g], e)
		}
	}
	return capGroups(groups, roleOrder, max, true)
}

// capGroups returns the endpoints of each group beyond max, keeping, in
// URL order: those a user named (never dropped), with byKeySet the first
// of each set of query keys while fewer than max sets are kept, each
// finding role's first in role order, then the first ones.
func capGroups(groups map[string][]*model.Entry, roleOrder []string, max int, byKeySet bool) []model.Endpoint {
	var drop []model.Endpoint
	for _, g := range groups {
		if len(g) <= max {
			continue
		}
		sort.Slice(g, func(i, j int) bool { return g[i].Endpoint.Less(g[j].Endpoint) })
		keep := map[model.Endpoint]bool{}
		for _, e := range g {
			if slices.ContainsFunc(e.Sources, exemptFromCap) {
				keep[e.Endpoint] = true
			}
		}
		if byKeySet {
			sets := map[string]bool{}
			for _, e := range g {
				u, err := url.Parse(e.URL)
				if err != nil {
					continue
				}
				if ks := queryKeys(u); !sets[ks] && len(sets) < max {
					sets[ks] = true
					keep[e.Endpoint] = true
				}
			}
		}
		for _, role := range roleOrder {
			if len(keep) >= max {
				break
			}
			for _, e := range g {
				if slices.Contains(e.FoundBy, role) {
					keep[e.Endpoint] = true
					break
				}
			}
		}
		for _, e := range g {
			if len(keep) >= max {
				break
			}
			keep[e.Endpoint] = true
		}
		for _, e := range g {
			if !keep[e.Endpoint] {
				drop = append(drop, e.Endpoint)
			}
		}
	}
	return drop
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
