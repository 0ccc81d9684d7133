package crawltest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// SourcesSite is a fixture application for discovery from every source:
// links, a <base href>, a meta refresh, forms (GET with default values,
// formaction, POST), a script, JSON answers (URL strings, and record ids
// that a configured expansion turns into URLs), robots.txt, a sitemap and
// a gzip sitemap index, an OpenAPI document, a HAR file, an explicit
// list, an admin area, an endless calendar, a self-nesting link loop, and
// links out of scope.
//
// Its route table (SourceRoutes) is the truth: each route says whom the
// site answers and how the route can be discovered (Via). The pages are
// written to hold exactly the references their routes' Via name, which
// TestSourcesSiteServesItsTable checks. Roles are told apart by the
// credentials of the package's constants.
type SourcesSite struct {
	*httptest.Server
	Other *httptest.Server // another origin: same host, another port

	routes []SourceRoute

	mu  sync.Mutex
	log []Request
}

// Via is one way a route can be discovered.
type Via struct {
	// Source is the inventory source that finds the route that way:
	// "start", "link", "form", "redirect", "script", "json", "robots",
	// "sitemap", "openapi", "har" or "list".
	Source string
	// From is the page holding the reference, for link, form, redirect,
	// script and json. A role finds the route that way only if it finds
	// From and From answers it. The other sources are read by every role.
	From string
	// Roles, when set, are the only roles that find the route this way:
	// a URL filled from a role variable.
	Roles []string
}

// SourceRoute is one endpoint of a SourcesSite.
type SourceRoute struct {
	Method string // default GET; other methods are listed, never served
	Path   string // path and query, as normalised (query sorted)
	Allow  []string
	Via    []Via
}

// The credentials-only variables of the SourcesSite's configuration.
const (
	// UserCustomerID is the user's role variable customer_id, which fills
	// the OpenAPI parameter customerId for the user.
	UserCustomerID = "31"
	// StatusCustomerID is the customerId of /api/status, which fills it for
	// the roles without that variable.
	StatusCustomerID = "30"
	// HARSecret is a cookie and a header value recorded in the HAR file
	// HAR writes: it must never reach an output.
	HARSecret = "har-recorded-5ecret-6"
	// HARToken is a token in the query of a URL of the HAR file: it must be
	// dropped.
	HARToken = "har-query-5ecret-7"
)

// SourceRoutes is the route table of a SourcesSite, without the calendar
// and the link loop, whose URLs are endless.
func SourceRoutes() []SourceRoute {
	all, signedIn, admin := []string(nil), []string{User, Admin}, []string{Admin}
	root := Via{Source: "link", From: "/"}
	return []SourceRoute{
		{Path: "/", Via: []Via{{Source: "start"}, {Source: "robots"}}},
		{Path: "/about", Via: []Via{root}},
		{Path: "/about/team", Via: []Via{{Source: "redirect", From: "/about"}}},
		{Path: "/docs/", Via: []Via{root}},
		{Path: "/docs/v2/guide", Via: []Via{{Source: "link", From: "/docs/"}}},
		{Path: "/admin/", Allow: admin, Via: []Via{root}},
		{Path: "/admin/audit-log", Allow: admin, Via: []Via{{Source: "link", From: "/admin/"}}},
		{Path: "/search?q=lamp&sort=old&x=1", Via: []Via{{Source: "form", From: "/"}}},
		{Path: "/search/advanced?q=lamp&sort=old&x=1", Via: []Via{{Source: "form", From: "/"}}},
		{Method: "POST", Path: "/comments", Via: []Via{{Source: "form", From: "/"}}},
		{Path: "/api/status", Via: []Via{{Source: "script", From: "/"}}},
		{Path: "/api/projects/alpha/records", Allow: signedIn, Via: []Via{root}},
		{Path: "/api/projects/alpha/records/11", Allow: signedIn, Via: []Via{{Source: "json", From: "/api/projects/alpha/records"}}},
		{Path: "/api/projects/alpha/records/12", Allow: signedIn, Via: []Via{{Source: "json", From: "/api/projects/alpha/records"}}},
		{Path: "/api/feed", Via: []Via{root}},
		{Path: "/api/feed/entries/7", Via: []Via{{Source: "json", From: "/api/feed"}}},
		{Path: "/private-area/", Allow: signedIn, Via: []Via{{Source: "robots"}}},
		{Path: "/only-in-sitemap", Via: []Via{{Source: "sitemap"}}},
		{Path: "/from-sitemap-index", Via: []Via{{Source: "sitemap"}}},
		{Path: "/api/v3/invoices/5001", Allow: signedIn, Via: []Via{{Source: "openapi"}}},
		{Method: "POST", Path: "/api/v3/invoices", Via: []Via{{Source: "openapi"}}},
		{Path: "/api/v3/customers/" + UserCustomerID + "/orders", Allow: signedIn, Via: []Via{{Source: "openapi", Roles: []string{User}}}},
		{Path: "/api/v3/customers/" + StatusCustomerID + "/orders", Allow: signedIn, Via: []Via{{Source: "openapi", Roles: []string{Anonymous, Admin}}}},
		{Path: "/spa/dashboard", Allow: all, Via: []Via{{Source: "har"}}},
		{Method: "POST", Path: "/api/spa/save", Via: []Via{{Source: "har"}}},
		{Path: "/listed-only", Allow: signedIn, Via: []Via{{Source: "list"}}},
		{Path: "/calendar/2024/06", Via: []Via{root}},
	}
}

// NewSourcesSite starts a SourcesSite and its Other origin.
func NewSourcesSite() *SourcesSite {
	s := &SourcesSite{routes: SourceRoutes()}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serve("site", w, r) }))
	s.Other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serve("other", w, r) }))
	return s
}

// Close shuts both servers down.
func (s *SourcesSite) Close() {
	s.Server.Close()
	s.Other.Close()
}

// Requests returns every request received so far, in arrival order.
func (s *SourcesSite) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// Reset forgets the requests received so far.
func (s *SourcesSite) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// Route returns the route of method and path (path and sorted query), or
// false.
func (s *SourcesSite) Route(method, path string) (SourceRoute, bool) {
	for _, r := range s.routes {
		m := r.Method
		if m == "" {
			m = http.MethodGet
		}
		if m == method && r.Path == path {
			return r, true
		}
	}
	return SourceRoute{}, false
}

// Allows reports whether the site answers role for route r.
func (r SourceRoute) Allows(role string) bool {
	return r.Allow == nil || slices.Contains(r.Allow, role)
}

// Discoverable returns the endpoints of the route table that role can
// discover, as "METHOD /path?query", sorted, each with the sources that
// find it: a route is found through a Via whose source every role reads,
// or whose From page the role finds and is answered.
func (s *SourcesSite) Discoverable(role string) map[string][]string {
	found := map[string]map[string]bool{}
	key := func(r SourceRoute) string {
		m := r.Method
		if m == "" {
			m = http.MethodGet
		}
		return m + " " + r.Path
	}
	for changed := true; changed; {
		changed = false
		for _, r := range s.routes {
			for _, v := range r.Via {
				ok := v.From == ""
				if v.Roles != nil && !slices.Contains(v.Roles, role) {
					continue
				}
				if !ok {
					from, exists := s.Route(http.MethodGet, v.From)
					ok = exists && found[key(from)] != nil && from.Allows(role)
				}
				if !ok {
					continue
				}
				k := key(r)
				if found[k] == nil {
					found[k] = map[string]bool{}
					changed = true
				}
				if !found[k][v.Source] {
					found[k][v.Source] = true
					changed = true
				}
			}
		}
	}
	out := map[string][]string{}
	for k, srcs := range found {
		for src := range srcs {
			out[k] = append(out[k], src)
		}
		sort.Strings(out[k])
	}
	return out
}

func (s *SourcesSite) serve(server string, w http.ResponseWriter, r *http.Request) {
	role := Identify(r)
	s.mu.Lock()
	s.log = append(s.log, Request{Server: server, Method: r.Method, Host: r.Host, URI: r.URL.RequestURI(), Role: role, Header: r.Header.Clone()})
	s.mu.Unlock()
	if server == "other" {
		fmt.Fprint(w, "another origin")
		return
	}
	path := r.URL.Path
	if q := r.URL.Query(); len(q) > 0 {
		path += "?" + q.Encode()
	}
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	case r.URL.Path == "/robots.txt":
		text(w, "text/plain", robotsTxt(s.URL))
		return
	case r.URL.Path == "/sitemap.xml":
		text(w, "application/xml", urlset(s.URL+"/only-in-sitemap", s.Other.URL+"/in-sitemap-elsewhere"))
		return
	case r.URL.Path == "/sitemap_index.xml.gz":
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		fmt.Fprintf(zw, `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>%s/sitemaps/pages.xml</loc></sitemap>
<sitemap><loc>%s/sitemaps/elsewhere.xml</loc></sitemap>
</sitemapindex>`, s.URL, s.Other.URL)
		zw.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(b.Bytes())
		return
	case r.URL.Path == "/sitemaps/pages.xml":
		text(w, "application/xml", urlset(s.URL+"/from-sitemap-index"))
		return
	case r.URL.Path == "/openapi.json":
		text(w, "application/json", openAPIDoc)
		return
	case strings.HasPrefix(r.URL.Path, "/calendar/"):
		s.calendar(w, r.URL.Path)
		return
	case strings.HasPrefix(r.URL.Path, "/loop/"):
		page(w, http.StatusOK, `<a href="again/">again</a>`)
		return
	}
	rt, ok := s.Route(http.MethodGet, path)
	if !ok {
		// The query of a route is matched whole; a form's page is served
		// whatever its query.
		rt, ok = s.Route(http.MethodGet, r.URL.Path)
	}
	if !ok {
		notFound(w, r.URL.Path)
		return
	}
	if !rt.Allows(role) {
		if role == Anonymous {
			w.Header().Set("WWW-Authenticate", `Basic realm="fixture"`)
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	s.content(w, rt)
}

func text(w http.ResponseWriter, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	fmt.Fprint(w, body)
}

func page(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html>\n<html><head><title>fixture</title>%s</body></html>\n", body)
}

func notFound(w http.ResponseWriter, path string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintf(w, "nothing at %s\n", path)
}

// content writes what an allowed role is answered for rt: each page holds
// the references its table's Via name.
func (s *SourcesSite) content(w http.ResponseWriter, rt SourceRoute) {
	switch rt.Path {
	case "/":
		page(w, http.StatusOK, `</head><body>
<a href="/about">About</a> <a href="/docs/">Docs</a> <a href="/admin/">Admin</a>
<a href="/api/projects/alpha/records">Records</a> <a href="/api/feed">Feed</a>
<a href="/calendar/2024/06">Calendar</a> <a href="/loop/">Loop</a>
<a href="`+s.Other.URL+`/offsite">Elsewhere</a> <a href="http://example.invalid/x">Invalid</a>
<a href="mailto:info@example.com">Mail</a> <a href="javascript:void(0)">JS</a>
<form action="/search" method="get">
<input name="q" value="lamp"><input type="hidden" name="x" value="1" disabled>
<select name="sort"><option value="new">New</option><option value="old" selected>Old</option></select>
<input type="checkbox" name="x" value="1" checked><input type="checkbox" name="y" value="2">
<input type="submit" name="go" value="Go"><button formaction="/search/advanced">More</button>
</form>
<form method="post" action="/comments"><textarea name="body">hi</textarea><button>Send</button></form>
<script>fetch("/api/status").then(r => r.json()); const tpl = `+"`/api/items/${id}`"+`; const ok = "text/html";</script>
`)
	case "/about":
		page(w, http.StatusOK, `<meta http-equiv="refresh" content="30; url=/about/team"></head><body>About us`)
	case "/docs/":
		page(w, http.StatusOK, `<base href="/docs/v2/"></head><body><a href="guide">Guide</a>`)
	case "/admin/":
		page(w, http.StatusOK, `</head><body><a href="/admin/audit-log">Audit log</a>`)
	case "/api/status":
		text(w, "application/json", `{"ok":true,"customerId":`+StatusCustomerID+`}`)
	case "/api/projects/alpha/records":
		text(w, "application/json", `{"items":[{"id":11,"title":"first"},{"id":12,"title":"second"}],"total":2}`)
	case "/api/feed":
		text(w, "application/json", `{"entries":[{"href":"/api/feed/entries/7"}],"mirror":"`+s.Other.URL+`/api/feed"}`)
	default:
		if strings.HasPrefix(rt.Path, "/api/") {
			text(w, "application/json", `{"ok":true}`)
			return
		}
		page(w, http.StatusOK, "</head><body>"+rt.Path)
	}
}

// calendar serves /calendar/YEAR/MONTH, linking the months before and
// after: an endless crawl trap.
func (s *SourcesSite) calendar(w http.ResponseWriter, path string) {
	parts := strings.Split(strings.TrimPrefix(path, "/calendar/"), "/")
	if len(parts) != 2 {
		notFound(w, path)
		return
	}
	y, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || m < 1 || m > 12 {
		notFound(w, path)
		return
	}
	month := func(y, m int) string {
		for m < 1 {
			y, m = y-1, m+12
		}
		for m > 12 {
			y, m = y+1, m-12
		}
		return fmt.Sprintf("/calendar/%04d/%02d", y, m)
	}
	page(w, http.StatusOK, fmt.Sprintf(`</head><body><a href="%s">previous</a> <a href="%s">next</a>`, month(y, m-1), month(y, m+1)))
}

func robotsTxt(base string) string {
	return "User-agent: *\nDisallow: /private-area/\nDisallow: /*.bak$\nAllow: /\n\n" +
		"Sitemap: " + base + "/sitemap_index.xml.gz\nSitemap: http://example.invalid/sitemap.xml\n"
}

func urlset(locs ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
	for _, l := range locs {
		fmt.Fprintf(&b, "<url><loc>%s</loc><lastmod>2024-06-01</lastmod></url>\n", l)
	}
	b.WriteString("</urlset>\n")
	return b.String()
}

// openAPIDoc describes /api/v3: an invoice with an example id, a
// customer's orders whose customerId has no example (a role variable or
// a value seen while crawling fills it), a POST, and a tenant whose slug
// nothing fills.
const openAPIDoc = `{
  "openapi": "3.0.3",
  "info": {"title": "fixture", "version": "1"},
  "servers": [{"url": "https://api.example.invalid/api/v3"}],
  "paths": {
    "/invoices/{invoiceId}": {
      "get": {
        "parameters": [{"name": "invoiceId", "in": "path", "required": true, "schema": {"type": "integer"}, "example": 5001}],
        "responses": {"200": {"description": "an invoice"}}
      }
    },
    "/invoices": {
      "post": {"responses": {"201": {"description": "created"}}}
    },
    "/customers/{customerId}/orders": {
      "parameters": [{"name": "customerId", "in": "path", "required": true, "schema": {"type": "string"}}],
      "get": {"responses": {"200": {"description": "orders"}}}
    },
    "/tenants/{tenantSlug}": {
      "get": {
        "parameters": [{"name": "tenantSlug", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "a tenant"}}
      }
    }
  }
}`

// HAR returns a HAR file recorded on the site: a single-page application
// whose dashboard and save call appear nowhere else, a third-party script,
// and a recorded session's cookie, header and query token.
func (s *SourcesSite) HAR() []byte {
	type nv struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	type req struct {
		Method  string `json:"method"`
		URL     string `json:"url"`
		Headers []nv   `json:"headers"`
		Cookies []nv   `json:"cookies"`
	}
	type entry struct {
		Request req `json:"request"`
	}
	auth := []nv{{"Authorization", "Bearer " + HARSecret}}
	cookies := []nv{{"session", HARSecret}}
	doc := map[string]any{"log": map[string]any{
		"version": "1.2",
		"creator": map[string]string{"name": "browser", "version": "1"},
		"entries": []entry{
			{req{"GET", s.URL + "/spa/dashboard?token=" + HARToken, auth, cookies}},
			{req{"POST", s.URL + "/api/spa/save", auth, cookies}},
			{req{"GET", s.Other.URL + "/cdn/app.js", nil, nil}},
		},
	}}
	data, _ := json.Marshal(doc)
	return data
}

// SourcesConfig returns the SourcesSite's configuration body (after target:),
// with the HAR file at harPath, every source switched on, and the given
// crawl section.
func SourcesConfig(harPath, crawl string) string {
	return crawl + `
sources:
  openapi: [{url: /openapi.json}]
  har: ["` + harPath + `"]
  list: ["GET /listed-only"]
  json:
    - match: "GET /api/projects/{project}/records"
      values: "items[*].id"
      url: "/api/projects/{project}/records/{id}"
roles:
  user:
    login:
      basic: {username: alice, password: "${USER_PASSWORD}"}
    vars: {customer_id: "` + UserCustomerID + `"}
  admin:
    login:
      bearer: "${ADMIN_TOKEN}"
`
}
