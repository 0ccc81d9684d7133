package model

import (
	"net/url"
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
	// Group is the method and path, ids folded, query left out but for
	// the keys that name a page (QueryGroup): every other query variant
	// of one page is in its group.
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
		k := key{QueryGroup(e.Method, e.URL), reason}
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

// routingKeys are query keys whose value names the page a front
// controller serves (doku.php?id=team:plan, index.php?title=Main_Page,
// admin.php?page=settings, index.php?option=com_users&view=users): their
// values are part of a page's identity, not a permutation of it.
var routingKeys = map[string]bool{
	"id": true, "title": true, "page": true, "p": true, "do": true, "action": true,
	"route": true, "r": true, "controller": true, "module": true, "mod": true,
	"option": true, "task": true, "cmd": true, "section": true, "path": true,
	"file": true, "doc": true, "article": true, "slug": true, "name": true,
}

// QueryGroup returns the page a URL's query variants are counted under:
// PathGroup, plus each routing key the query holds (id, title, page, do,
// action, route, option, ... : the keys front controllers name pages by)
// with its value, an id-like value folded into {id} (page=2 is paging,
// page=settings a page). "GET /admin/users" for every sort, filter and
// paging permutation of a list; "GET /doku.php?id=team:plan" and
// "GET /doku.php?do=admin&page=logviewer" for two pages of one front
// controller.
func QueryGroup(method, rawURL string) string {
	g := PathGroup(method, rawURL)
	_, rawQuery, ok := strings.Cut(rawURL, "?")
	if !ok || rawQuery == "" {
		return g
	}
	q, _ := url.ParseQuery(rawQuery)
	var parts []string
	for k, vs := range q {
		if !routingKeys[strings.ToLower(k)] {
			continue
		}
		for _, v := range vs {
			if IsID(v) {
				v = "{id}"
			}
			parts = append(parts, url.QueryEscape(k)+"="+strings.ReplaceAll(url.QueryEscape(v), "%7Bid%7D", "{id}"))
		}
	}
	if len(parts) == 0 {
		return g
	}
	sort.Strings(parts)
	return g + "?" + strings.Join(parts, "&")
}
