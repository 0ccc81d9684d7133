package crawl

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/crawl/crawltest"
	"github.com/permaudit/permaudit/model"
)

// sourcesCrawl is the crawl section of the SourcesSite tests: deep enough
// that the calendar reaches the per-template cap.
const sourcesCrawl = "crawl: {max_depth: 8, max_per_template: 5, concurrency: 4}\n"

// discoverSources audits the SourcesSite with every source switched on.
func discoverSources(t *testing.T, site *crawltest.SourcesSite) (*model.Inventory, Options) {
	t.Helper()
	har := filepath.Join(t.TempDir(), "recorded.har")
	if err := os.WriteFile(har, site.HAR(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := parseConfig(t, site.URL, crawltest.SourcesConfig(har, sourcesCrawl))
	opts := testOptions(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inv, err := Discover(ctx, opts)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	return inv, opts
}

// isTrap reports whether a path belongs to the fixture's endless parts.
func isTrap(path string) bool {
	return strings.HasPrefix(path, "/calendar/") || strings.HasPrefix(path, "/loop/")
}

func TestDiscoverEverySource(t *testing.T) {
	site := crawltest.NewSourcesSite()
	defer site.Close()
	inv, _ := discoverSources(t, site)
	roleNames := []string{crawltest.Anonymous, crawltest.User, crawltest.Admin}

	// What each role found, with the sources, against the route table.
	got := map[string]map[string][]string{} // role -> "METHOD /path" -> sources
	for _, r := range roleNames {
		got[r] = map[string][]string{}
	}
	for _, e := range inv.Entries {
		u := mustURL(t, e.URL)
		if u.Host != strings.TrimPrefix(site.URL, "http://") {
			t.Errorf("entry %s %s is out of scope", e.Method, e.URL)
			continue
		}
		if isTrap(u.Path) && u.Path != "/calendar/2024/06" {
			continue
		}
		for _, r := range e.FoundBy {
			got[r][e.Method+" "+u.RequestURI()] = e.Sources
		}
	}
	for _, r := range roleNames {
		want := site.Discoverable(r)
		for k, srcs := range want {
			g, ok := got[r][k]
			if !ok {
				t.Errorf("role %s did not find %s (route table: via %v)", r, k, srcs)
				continue
			}
			// An entry's sources are those of every role: the role's own
			// must be among them.
			for _, s := range srcs {
				if !slices.Contains(g, s) {
					t.Errorf("role %s: %s found by %v, want %v among them", r, k, g, srcs)
				}
			}
		}
		for k := range got[r] {
			if _, ok := want[k]; !ok {
				t.Errorf("role %s found %s, which the route table does not list for it", r, k)
			}
		}
	}
	// Sources match the union over roles exactly.
	union := map[string]map[string]bool{}
	for _, r := range roleNames {
		for k, srcs := range site.Discoverable(r) {
			if union[k] == nil {
				union[k] = map[string]bool{}
			}
			for _, s := range srcs {
				union[k][s] = true
			}
		}
	}
	for k, set := range union {
		want := slices.Sorted(func(yield func(string) bool) {
			for s := range set {
				if !yield(s) {
					return
				}
			}
		})
		for _, r := range roleNames {
			if g, ok := got[r][k]; ok && !slices.Equal(g, want) {
				t.Errorf("%s: sources %v, want %v", k, g, want)
				break
			}
		}
	}

	// The traps are bounded: the calendar keeps max_per_template months,
	// the loop is cut, and both are counted.
	calendar := 0
	for _, e := range inv.Entries {
		if strings.HasPrefix(mustURL(t, e.URL).Path, "/calendar/") {
			calendar++
		}
	}
	if calendar != 5 {
		t.Errorf("%d calendar months in the inventory, want max_per_template (5)", calendar)
	}
	if inv.Cut.MaxPerTemplate == 0 || inv.Cut.Loop == 0 {
		t.Errorf("cut %+v: want the calendar and the loop counted", inv.Cut)
	}

	// Skipped: what is out of scope, excluded, not fetched for its method,
	// or could not be filled.
	skips := map[string]string{}
	for _, s := range inv.Skipped {
		skips[s.Method+" "+strings.Replace(s.URL, site.URL, "", 1)] = s.Reason
	}
	for k, want := range map[string]string{
		"GET " + site.Other.URL + "/offsite":              "out of scope",
		"GET http://example.invalid/x":                    "out of scope",
		"GET " + site.Other.URL + "/in-sitemap-elsewhere": "out of scope",
		"GET " + site.Other.URL + "/api/feed":             "out of scope",
		"GET " + site.Other.URL + "/cdn/app.js":           "out of scope",
		"POST /comments":                                  "method not probed",
		"POST /api/v3/invoices":                           "method not probed",
		"POST /api/spa/save":                              "method not probed",
		"GET /api/v3/tenants/%7BtenantSlug%7D":            `unresolved parameter "tenantSlug"`,
	} {
		if got := skips[k]; got != want {
			t.Errorf("skipped %s: %q, want %q", k, got, want)
		}
	}

	// The server's log: nothing out of scope, only GET, no URL resolved
	// against the page instead of its <base>, every role asked for
	// robots.txt and the sitemap, and nothing of the HAR's credentials.
	host := strings.TrimPrefix(site.URL, "http://")
	for _, r := range site.Requests() {
		switch {
		case r.Server != "site" || r.Host != host:
			t.Errorf("request %s %s to %s (%s): out of scope", r.Method, r.URI, r.Server, r.Host)
		case r.Method != http.MethodGet:
			t.Errorf("%s %s: discovery sends GET only", r.Method, r.URI)
		case r.URI == "/docs/guide":
			t.Errorf("GET /docs/guide: the <base href> was ignored")
		case strings.Contains(r.URI, crawltest.HARToken):
			t.Errorf("GET %s: the HAR's query token was replayed", r.URI)
		}
		for _, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, crawltest.HARSecret) {
					t.Errorf("GET %s carried the HAR's recorded credential", r.URI)
				}
			}
		}
	}
	raw, _ := json.Marshal(inv)
	for _, secret := range []string{crawltest.HARSecret, crawltest.HARToken} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the inventory holds the HAR secret %q", secret)
		}
	}
	if !slices.IsSortedFunc(inv.Entries, func(a, b model.Entry) int { return cmpEndpoint(a.Endpoint, b.Endpoint) }) {
		t.Errorf("entries not sorted by URL then method")
	}
}

// TestDiscoverEverySourceIsDeterministic audits the fixture twice: the same
// inventory in the same order, bytes included.
func TestDiscoverEverySourceIsDeterministic(t *testing.T) {
	site := crawltest.NewSourcesSite()
	defer site.Close()
	first, _ := discoverSources(t, site)
	second, _ := discoverSources(t, site)
	if !reflect.DeepEqual(first, second) {
		a, _ := json.MarshalIndent(first, "", " ")
		b, _ := json.MarshalIndent(second, "", " ")
		t.Errorf("two audits differ:\n%s\n---\n%s", a, b)
	}
}

// TestProbeAsksEveryRoleForWhatOneFound probes the inventory: the page
// only admin can find is requested as every role, and nothing but GET is
// sent.
func TestProbeAsksEveryRoleForWhatOneFound(t *testing.T) {
	site := crawltest.NewSourcesSite()
	defer site.Close()
	inv, opts := discoverSources(t, site)
	var eps []model.Endpoint
	for _, e := range inv.Entries {
		eps = append(eps, e.Endpoint)
	}
	site.Reset()
	if _, err := Probe(context.Background(), opts, eps); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	asked := map[string]bool{}
	for _, r := range site.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("the probe sent %s %s", r.Method, r.URI)
		}
		asked[r.URI+" "+r.Role] = true
	}
	for _, role := range []string{crawltest.Anonymous, crawltest.User, crawltest.Admin} {
		if !asked["/admin/audit-log "+role] {
			t.Errorf("/admin/audit-log (found only by admin) was not probed as %s", role)
		}
	}
}

func TestParseRobots(t *testing.T) {
	r := parseRobots([]byte("User-agent: *\nDisallow: /admin/ # staff\nallow: /public\nDisallow: /*.bak$\nDisallow:\nDisallow: relative\n" +
		"Disallow: /admin/\nSitemap: http://h/s.xml\nsitemap:/rel.xml\nnot a line\n"))
	if want := []string{"/admin/", "/public", "/"}; !slices.Equal(r.paths, want) {
		t.Errorf("paths %q, want %q", r.paths, want)
	}
	if want := []string{"http://h/s.xml", "/rel.xml"}; !slices.Equal(r.sitemaps, want) {
		t.Errorf("sitemaps %q, want %q", r.sitemaps, want)
	}
}

func TestParseSitemap(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	tests := []struct {
		name  string
		body  []byte
		index bool
		locs  []string
	}{
		{"urlset", []byte(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc> http://h/a </loc><lastmod>2024</lastmod></url><url><loc>http://h/b?x=1&amp;y=2</loc></url><image><loc>http://h/not</loc></image></urlset>`),
			false, []string{"http://h/a", "http://h/b?x=1&y=2"}},
		{"index gzip", gz(`<sitemapindex><sitemap><loc>http://h/s1.xml</loc></sitemap></sitemapindex>`), true, []string{"http://h/s1.xml"}},
		{"cut short", []byte(`<urlset><url><loc>http://h/a</loc></url><url><loc>http://h/b`), false, []string{"http://h/a"}},
		{"not xml", []byte("User-agent: *"), false, nil},
		{"broken gzip", []byte{0x1f, 0x8b, 1, 2}, false, nil},
	}
	for _, tt := range tests {
		sm := parseSitemap(tt.body, 1<<20)
		if sm.index != tt.index || !slices.Equal(sm.locs, tt.locs) {
			t.Errorf("%s: index %v, locs %q; want %v, %q", tt.name, sm.index, sm.locs, tt.index, tt.locs)
		}
	}
	// A gzip bomb is read up to the cap.
	bomb := gz("<urlset>" + strings.Repeat("<url><loc>http://h/x</loc></url>", 10000) + "</urlset>")
	if n := len(parseSitemap(bomb, 1000).locs); n == 0 || n > 40 {
		t.Errorf("%d locs read from 1000 bytes of a large sitemap", n)
	}
}

func TestParseHAR(t *testing.T) {
	data := []byte(`{"log":{"entries":[
{"request":{"method":"get","url":"http://h/a?token=SECRET&page=2&API_KEY=k&access-token=t","headers":[{"name":"Cookie","value":"s=SECRET"}]}},
{"request":{"method":"POST","url":"http://user:pw@h/save"}},
{"request":{"method":"","url":"http://h/skip"}}]}}`)
	reqs, err := parseHAR(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []harRequest{{"GET", "http://h/a?page=2"}, {"POST", "http://h/save"}}
	if !reflect.DeepEqual(reqs, want) {
		t.Errorf("parseHAR = %+v, want %+v", reqs, want)
	}
	for _, bad := range []string{`[]`, `{}`, `not json`} {
		if _, err := parseHAR([]byte(bad)); err == nil {
			t.Errorf("parseHAR(%s): no error", bad)
		}
	}
}

func TestParseAPIDoc(t *testing.T) {
	swagger := `swagger: "2.0"
info: {title: t, version: "1"}
basePath: /v1
paths:
  /pets/{petId}:
    get:
      parameters:
        - {name: petId, in: path, required: true, type: string, x-example: rex}
        - {name: verbose, in: query, required: true, type: boolean, default: true}
        - {name: page, in: query, type: integer}
      responses: {200: {description: ok}}
    delete:
      parameters: [{name: petId, in: path, required: true, type: string}]
      responses: {204: {description: gone}}
`
	openapi := `openapi: 3.1.0
info: {title: t, version: "1"}
servers: [{url: "https://{host}/api/{version}", variables: {host: {default: x.example}, version: {default: v2}}}]
components:
  parameters:
    Id: {name: id, in: path, required: true, schema: {type: integer, examples: [7, 8]}}
paths:
  /orders/{id}:
    parameters: [{$ref: "#/components/parameters/Id"}]
    get: {responses: {"200": {description: ok}}}
    put:
      parameters: [{name: id, in: path, required: true, schema: {type: string, enum: [a, b]}}]
      responses: {"200": {description: ok}}
  /search:
    get:
      parameters: [{name: q, in: query, required: true, examples: {b: {value: zeta}, a: {value: alpha}}}]
      responses: {"200": {description: ok}}
`
	tests := []struct {
		name, doc string
		want      []string // "METHOD path params(examples)"
	}{
		{"swagger 2 yaml", swagger, []string{
			"DELETE /v1/pets/{petId} [petId[]]",
			"GET /v1/pets/{petId} [petId[rex] verbose?[true]]",
		}},
		{"openapi 3.1", openapi, []string{
			"GET /api/v2/orders/{id} [id[7 8]]",
			"PUT /api/v2/orders/{id} [id[a b]]",
			"GET /api/v2/search [q?[alpha zeta]]",
		}},
	}
	for _, tt := range tests {
		ops, err := parseAPIDoc([]byte(tt.doc))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var got []string
		for _, op := range ops {
			var ps []string
			for _, p := range op.params {
				q := ""
				if p.query {
					q = "?"
				}
				ps = append(ps, fmt.Sprintf("%s%s%v", p.name, q, p.examples))
			}
			got = append(got, fmt.Sprintf("%s %s %v", op.method, op.path, ps))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
	for _, bad := range []string{"{}", "openapi: 3.0.0\npaths: [", "swagger: '2.0'\npaths: 7", "just text"} {
		if _, err := parseAPIDoc([]byte(bad)); err == nil {
			t.Errorf("parseAPIDoc(%q): no error", bad)
		}
	}
	// External references are refused, so reading a document sends nothing.
	ext := "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    $ref: 'http://127.0.0.1:1/other.yaml#/paths/~1a'\n"
	if _, err := parseAPIDoc([]byte(ext)); err == nil {
		t.Errorf("a document with an external reference was read")
	}
}

func TestAPIOpFillAndCapture(t *testing.T) {
	op := apiOp{method: "GET", path: "/api/{org}/items/{item id}", params: []apiParam{{name: "org"}, {name: "item id"}, {name: "q", query: true}}}
	vals := map[string]string{"org": "a/b", "item id": "7", "q": "x y"}
	raw, missing := op.fill(func(p apiParam) string { return vals[p.name] })
	if raw != "/api/a%2Fb/items/7?q=x+y" || missing != "" {
		t.Errorf("fill = %q, %q", raw, missing)
	}
	delete(vals, "q")
	if _, missing := op.fill(func(p apiParam) string { return vals[p.name] }); missing != "q" {
		t.Errorf("missing = %q, want q", missing)
	}
	got := apiOp{path: "/api/{org}/items/{id}"}.capture(mustURL(t, "http://h/api/acme/items/9"))
	if !reflect.DeepEqual(got, map[string]string{"org": "acme", "id": "9"}) {
		t.Errorf("capture = %v", got)
	}
	if got := (apiOp{path: "/api/{org}"}).capture(mustURL(t, "http://h/other/x")); got != nil {
		t.Errorf("capture of another path = %v", got)
	}
}

func TestReadJSON(t *testing.T) {
	v, ok := decodeJSON([]byte(`{"b":{"href":"/x/1","id":11,"n":null},"a":["https://h/y","/","//cdn/z","/has space","/t/{id}",{"orderId":5}],"Order_Id":"6"}`))
	if !ok {
		t.Fatal("decodeJSON failed")
	}
	d := readJSON(v)
	if want := []string{"https://h/y", "/x/1"}; !slices.Equal(d.urls, want) {
		t.Errorf("urls %q, want %q", d.urls, want)
	}
	if got := d.keys["orderid"]; !slices.Equal(got, []string{"6", "5"}) {
		t.Errorf("values of orderId %q, want [6 5] (keys in sorted order)", got)
	}
	for _, bad := range []string{`{"a":1} {}`, `{`, ``} {
		if _, ok := decodeJSON([]byte(bad)); ok {
			t.Errorf("decodeJSON(%q) succeeded", bad)
		}
	}
}

func TestIsLoop(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"http://h/a/b/c", false},
		{"http://h/a/a", false},
		{"http://h/a/a/a", true},
		{"http://h/x/y/x/y/x/y", true},
		{"http://h/x/y/x/y/z", false},
		{"http://h/a//b", false},
		{"http://h/2024/06/06/x", false},
		{"http://h/" + strings.Repeat("s/", 65), true},
		{"http://h/p?a=1&a=1&a=1", true},
		{"http://h/p?a=1&a=2&a=3", false},
		{"http://h/" + strings.Repeat("x", 2100), true},
	}
	for _, tt := range tests {
		if got := isLoop(mustURL(t, tt.url)); got != tt.want {
			t.Errorf("isLoop(%.60s) = %v, want %v", tt.url, got, tt.want)
		}
	}
}

func TestCapTemplates(t *testing.T) {
	entry := func(path string, foundBy []string, sources ...string) *model.Entry {
		u := "http://h" + path
		return &model.Entry{Endpoint: model.Endpoint{Method: "GET", URL: u}, Template: model.Template("GET", u), FoundBy: foundBy, Sources: sources}
	}
	all := []string{"admin", "anonymous", "user"}
	entries := map[model.Endpoint]*model.Entry{}
	for _, e := range []*model.Entry{
		entry("/o/1", all, "link"), entry("/o/2", all, "link"), entry("/o/3", all, "link"),
		entry("/o/17", []string{"user"}, "link"), entry("/o/99", nil, "list"), entry("/other", all, "link"),
	} {
		entries[e.Endpoint] = e
	}
	drop := capTemplates(entries, []string{"anonymous", "user", "admin"}, 3)
	var got []string
	for _, ep := range drop {
		got = append(got, strings.TrimPrefix(ep.URL, "http://h"))
	}
	sort.Strings(got)
	// Kept: /o/99 (listed), /o/1 (anonymous' first), /o/17 (user's first).
	if want := []string{"/o/2", "/o/3"}; !slices.Equal(got, want) {
		t.Errorf("dropped %q, want %q", got, want)
	}
}

func TestDiscoverList(t *testing.T) {
	site := crawltest.NewSite([]crawltest.Route{{Path: "/a/1"}, {Path: "/b"}})
	defer site.Close()
	cfg := parseConfig(t, site.URL, `
sources: {robots: false, sitemap: false, list: ["/a/{self.id}", "POST /b", "GET /c/{self.missing}"]}
crawl: {start: [/b]}
roles:
  user:
    login: {basic: {username: alice, password: "${USER_PASSWORD}"}}
    vars: {id: "1"}
`)
	inv, err := Discover(context.Background(), testOptions(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range inv.Entries {
		got = append(got, fmt.Sprintf("%s %s %v %v", e.Method, strings.TrimPrefix(e.URL, site.URL), e.FoundBy, e.Sources))
	}
	want := []string{"GET /a/1 [user] [list]", "GET /b [anonymous user] [start]", "POST /b [anonymous user] [list]"}
	if !slices.Equal(got, want) {
		t.Errorf("entries:\n got %q\nwant %q", got, want)
	}
	for _, r := range site.Requests() {
		if r.Method != "GET" || r.URI == "/c/" {
			t.Errorf("requested %s %s", r.Method, r.URI)
		}
	}
}

// TestDiscoverMetaObeysTheScope: robots.txt and sitemaps are not
// endpoints, but the scope's exclusions hold for them too.
func TestDiscoverMetaObeysTheScope(t *testing.T) {
	site := crawltest.NewSourcesSite()
	defer site.Close()
	cfg := parseConfig(t, site.URL, "scope: {exclude: [\"/sitemap*\"]}\ncrawl: {start: [/about]}\n")
	if _, err := Discover(context.Background(), testOptions(t, cfg)); err != nil {
		t.Fatal(err)
	}
	robots := 0
	for _, r := range site.Requests() {
		if strings.HasPrefix(r.URI, "/sitemap") {
			t.Errorf("GET %s: excluded by the scope", r.URI)
		}
		if r.URI == "/robots.txt" {
			robots++
		}
	}
	if robots != 1 {
		t.Errorf("robots.txt requested %d times, want once (anonymous only)", robots)
	}
}
