package model

import (
	"sort"
	"strings"
)

// PathGroup returns method and the path of rawURL with its id-like
// segments folded into {id}, without the query: "GET /users/{id}". Every
// query variant of one path has the same group.
func PathGroup(method, rawURL string) string {
	t := Template(method, rawURL)
	if i := strings.IndexByte(t, '?'); i >= 0 {
		t = t[:i]
	}
	return t
}

// Left is what a run's bounds left out of one path, for one reason:
// endpoints seen but never probed.
type Left struct {
	// Group is the method and path, ids folded, query left out
	// (PathGroup): every query variant of one page is one group.
	Group string `json:"group"`
	// Reason is the bound: "max_query_variants" or "max_per_template"
	// (seen while crawling, not in the inventory), "max_probes",
	// "max_duration" or "interrupted" (in the inventory, never probed).
	Reason string `json:"reason"`
	// Count is the number of endpoints left out.
	Count int `json:"count"`
	// Example is the first of them in URL order.
	Example string `json:"example"`
}

// AddLeft records endpoints left out for reason in inv.Left, grouped by
// path, keeping inv.Left sorted by group then reason.
func (inv *Inventory) AddLeft(reason string, eps []Endpoint) {
	if len(eps) == 0 {
		return
	}
	type key struct{ group, reason string }
	at := map[key]int{}
	for i, l := range inv.Left {
		at[key{l.Group, l.Reason}] = i
	}
	for _, e := range eps {
		k := key{PathGroup(e.Method, e.URL), reason}
		i, ok := at[k]
		if !ok {
			inv.Left = append(inv.Left, Left{Group: k.group, Reason: reason, Example: e.URL})
			i = len(inv.Left) - 1
			at[k] = i
		}
		inv.Left[i].Count++
		if e.URL < inv.Left[i].Example {
			inv.Left[i].Example = e.URL
		}
	}
	sort.Slice(inv.Left, func(i, j int) bool {
		a, b := inv.Left[i], inv.Left[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		return a.Reason < b.Reason
	})
}
