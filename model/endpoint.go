package model

// Endpoint is a method and a concrete, normalised, absolute URL.
type Endpoint struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

func (e Endpoint) String() string { return e.Method + " " + e.URL }

// Entry is one endpoint of the inventory with its provenance.
type Entry struct {
	Endpoint
	Template string   `json:"template"` // "GET /orders/{id}": method and folded path+query
	FoundBy  []string `json:"found_by"` // roles that discovered it, sorted
	Sources  []string `json:"sources"`  // "start", "link", "form", "redirect", "script", "json", "robots", "sitemap", "openapi", "har", "list"; sorted
}

// Skip records an endpoint that was never requested, and why.
type Skip struct {
	Endpoint
	Reason string `json:"reason"` // `excluded word "logout"`, `excluded by pattern "/static/**"`, "out of scope", "method not probed"
	Role   string `json:"role,omitempty"`
}

// Inventory is the union of the endpoints discovered by every role, sorted
// by URL then method, with what was skipped.
type Inventory struct {
	Entries []Entry `json:"endpoints"`
	Skipped []Skip  `json:"skipped"`
	// Pages is the number of discovery requests made, per role.
	Pages map[string]int `json:"pages"`
	// Cut counts what the crawl's bounds left out; omitted when nothing was.
	Cut Cut `json:"cut,omitzero"`
	// Left says, per path, what the bounds left unprobed and why (AddLeft);
	// omitted when nothing was.
	Left []Left `json:"left,omitempty"`
}

// Cut counts the endpoints the crawl's bounds left out, each endpoint
// once however many roles met it. An endpoint another role kept or
// fetched is not counted.
type Cut struct {
	// MaxPerTemplate: seen, but not in the inventory, because its template
	// already had crawl.max_per_template concrete URLs.
	MaxPerTemplate int `json:"max_per_template,omitempty"`
	// Loop: seen, but not in the inventory, because its URL repeats itself
	// (a crawl trap such as /a/b/a/b/a/b, or a URL over 2048 bytes).
	Loop int `json:"loop,omitempty"`
	// MaxDepth: in the inventory, but never fetched to look for links:
	// found at crawl.max_depth.
	MaxDepth int `json:"max_depth,omitempty"`
	// MaxRequests: in the inventory, but never fetched to look for links:
	// the role had spent crawl.max_requests.
	MaxRequests int `json:"max_requests,omitempty"`
	// MaxQueryVariants: seen, but not in the inventory, because its path
	// already had crawl.max_query_variants query variants (and as many
	// sets of query keys, or this one's keys were known).
	MaxQueryVariants int `json:"max_query_variants,omitempty"`
	// MaxDuration: in the inventory, but never fetched to look for links:
	// discovery's share of crawl.max_duration ran out (or a signal came).
	MaxDuration int `json:"max_duration,omitempty"`
}

// Anonymous is the role that always exists and never signs in.
const Anonymous = "anonymous"

// Less orders endpoints as the inventory lists them: by URL, then
// method.
func (a Endpoint) Less(b Endpoint) bool {
	if a.URL != b.URL {
		return a.URL < b.URL
	}
	return a.Method < b.Method
}
