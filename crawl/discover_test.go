package crawl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/permaudit/permaudit/crawl/crawltest"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

// keepDefault is the scope's default exclusion, written independently:
// no default exclusion word in the path or query.
func keepDefault(u *url.URL) bool {
	s := strings.ToLower(u.EscapedPath() + "?" + u.RawQuery)
	for _, w := range roles.DefaultExcludeWords {
		if strings.Contains(s, w) {
			return false
		}
	}
	return true
}

func discoverSite(t *testing.T, site *crawltest.Site, crawl string) (*model.Inventory, Options) {
	t.Helper()
	opts := testOptions(t, siteConfig(t, site, crawl))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inv, err := Discover(ctx, opts)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	return inv, opts
}

func foundBy(inv *model.Inventory, role string) []string {
	var got []string
	for _, e := range inv.Entries {
		if e.Method == "GET" && slices.Contains(e.FoundBy, role) {
			got = append(got, e.URL)
		}
	}
	return got
}

func TestDiscoverFindsWhatEachRoleCanReach(t *testing.T) {
	site := crawltest.NewDefaultSite()
	defer site.Close()
	inv, _ := discoverSite(t, site, "crawl: {concurrency: 4}\n")

	for _, role := range []string{crawltest.Anonymous, crawltest.User, crawltest.Admin} {
		want := site.Reachable(role, keepDefault)
		if got := foundBy(inv, role); !slices.Equal(got, want) {
			t.Errorf("role %s found:\n%s\nwant (the site's route table):\n%s", role, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	// The server's log: every request in the origin, GET, none excluded,
	// and as many per role as Pages says, each carrying its role's
	// credentials; robots.txt and the sitemap once per role.
	siteHost := strings.TrimPrefix(site.URL, "http://")
	perRole, meta := map[string]int{}, map[string]int{}
	for _, r := range site.Requests() {
		if r.URI == "/robots.txt" || r.URI == "/sitemap.xml" {
			meta[r.Role+" "+r.URI]++
		} else {
			perRole[r.Role]++
		}
		switch {
		case r.Server != "site" || r.Host != siteHost:
			t.Errorf("request to %s (host %q): out of scope", r.Server, r.Host)
		case r.Method != "GET":
			t.Errorf("%s %s: only GET may be sent", r.Method, r.URI)
		case !keepDefault(&url.URL{Path: r.URI}):
			t.Errorf("GET %s: an excluded URL was requested", r.URI)
		case r.Role == crawltest.Invalid:
			t.Errorf("GET %s: credentials the site does not know", r.URI)
		}
		if ua := r.Header.Get("User-Agent"); ua != "permaudit-test" {
			t.Errorf("GET %s: User-Agent %q", r.URI, ua)
		}
	}
	for _, role := range []string{crawltest.Anonymous, crawltest.User, crawltest.Admin} {
		for _, m := range []string{"/robots.txt", "/sitemap.xml"} {
			if n := meta[role+" "+m]; n != 1 {
				t.Errorf("role %s requested %s %d times, want once", role, m, n)
			}
		}
		if perRole[role]+2 != inv.Pages[role] {
			t.Errorf("role %s: the site got %d requests, Pages says %d", role, perRole[role], inv.Pages[role])
		}
		if perRole[role] != len(site.Reachable(role, keepDefault)) {
			t.Errorf("role %s: %d requests for %d reachable endpoints: each should be fetched once", role, perRole[role], len(site.Reachable(role, keepDefault)))
		}
	}

	entry := func(url string) *model.Entry {
		for i := range inv.Entries {
			if inv.Entries[i].URL == url && inv.Entries[i].Method == "GET" {
				return &inv.Entries[i]
			}
		}
		return nil
	}
	entries := []struct {
		path     string
		foundBy  []string
		sources  []string
		template string
	}{
		{"/", []string{"admin", "anonymous", "user"}, []string{"link", "start"}, "GET /"},
		{"/products/", []string{"admin", "anonymous", "user"}, []string{"redirect"}, "GET /products/"},
		{"/products/?a=1&b=2", []string{"admin", "anonymous", "user"}, []string{"link"}, "GET /products/?a={id}&b={id}"},
		{"/search?q=", []string{"admin", "anonymous", "user"}, []string{"form"}, "GET /search?q="},
		{"/admin/reports/7", []string{"admin"}, []string{"link"}, "GET /admin/reports/{id}"},
		{"/login?next=%2Faccount", []string{"anonymous"}, []string{"redirect"}, "GET /login?next=%2Faccount"},
		{"/admin/", []string{"admin", "anonymous", "user"}, []string{"link"}, "GET /admin/"},
	}
	for _, w := range entries {
		e := entry(site.URL + w.path)
		if e == nil {
			t.Errorf("no entry GET %s", w.path)
			continue
		}
		if !slices.Equal(e.FoundBy, w.foundBy) || !slices.Equal(e.Sources, w.sources) || e.Template != w.template {
			t.Errorf("GET %s: found by %v from %v, template %q; want %v from %v, %q", w.path, e.FoundBy, e.Sources, e.Template, w.foundBy, w.sources, w.template)
		}
	}

	skips := map[string]string{}
	for _, s := range inv.Skipped {
		skips[s.Method+" "+strings.Replace(s.URL, site.URL, "", 1)] = s.Reason
	}
	wantSkips := map[string]string{
		"GET /logout":                          `excluded word "logout"`,
		"GET /logout?all=1":                    `excluded word "logout"`,
		"GET /account/delete":                  `excluded word "delete"`,
		"POST /login":                          "method not probed",
		"POST /account/settings":               "method not probed",
		"GET " + site.Other.URL + "/elsewhere": "out of scope",
		"GET " + strings.Replace(site.URL, "127.0.0.1", "localhost", 1) + "/about": "out of scope",
		"GET " + site.Other.URL + "/landing":                                       "out of scope",
	}
	for k, want := range wantSkips {
		if got, ok := skips[k]; !ok || got != want {
			t.Errorf("skipped %s: reason %q (listed: %v), want %q", k, got, ok, want)
		}
	}
	if !slices.IsSortedFunc(inv.Entries, func(a, b model.Entry) int { return cmpEndpoint(a.Endpoint, b.Endpoint) }) {
		t.Errorf("entries not sorted by URL then method")
	}
}

// noMeta switches robots.txt and the sitemap off, for tests that count
// requests of links alone.
const noMeta = "sources: {robots: false, sitemap: false}\n"

func cmpEndpoint(a, b model.Endpoint) int {
	if c := strings.Compare(a.URL, b.URL); c != 0 {
		return c
	}
	return strings.Compare(a.Method, b.Method)
}

func TestDiscoverIsDeterministic(t *testing.T) {
	site := crawltest.NewDefaultSite()
	defer site.Close()
	var runs []*model.Inventory
	for range 3 {
		inv, _ := discoverSite(t, site, "crawl: {concurrency: 8, max_requests: 12}\n")
		runs = append(runs, inv)
	}
	for i := 1; i < len(runs); i++ {
		if !reflect.DeepEqual(runs[0], runs[i]) {
			t.Errorf("run %d differs from run 0:\n%+v\n%+v", i, runs[i], runs[0])
		}
	}
}

func TestDiscoverCaps(t *testing.T) {
	var routes []crawltest.Route
	for i := range 10 {
		routes = append(routes, crawltest.Route{Path: fmt.Sprintf("/c%d", i), Links: []string{fmt.Sprintf("/c%d", i+1)}})
	}
	wide := crawltest.Route{Path: "/wide"}
	for i := range 20 {
		wide.Links = append(wide.Links, fmt.Sprintf("/w/%d", i))
		routes = append(routes, crawltest.Route{Path: fmt.Sprintf("/w/%d", i)})
	}
	routes = append(routes, wide)
	// One page whose query variants crowd out two others (sort links).
	mixed := crawltest.Route{Path: "/mixed", Links: []string{"/b", "/c"}}
	for i := range 20 {
		mixed.Links = append(mixed.Links, fmt.Sprintf("/a?sort=%d", i))
	}
	routes = append(routes, mixed, crawltest.Route{Path: "/a"}, crawltest.Route{Path: "/b"}, crawltest.Route{Path: "/c"})
	site := crawltest.NewSite(routes)
	defer site.Close()

	tests := []struct {
		name, crawl string
		requested   []string // by every role, in any order
		found       int      // GET entries
		cut         model.Cut
	}{
		{"max depth", "crawl: {start: [/c0], max_depth: 3}\n" + noMeta, []string{"/c0", "/c1", "/c2", "/c3"}, 5, model.Cut{MaxDepth: 1}},
		{"max depth zero", "crawl: {start: [/c0], max_depth: 0}\n" + noMeta, []string{"/c0"}, 2, model.Cut{MaxDepth: 1}},
		{"max requests", "crawl: {start: [/wide], max_requests: 5}\n" + noMeta, []string{"/wide", "/w/0", "/w/1", "/w/10", "/w/11"}, 21, model.Cut{MaxRequests: 16}},
		{"max per template", "crawl: {start: [/wide], max_per_template: 4}\n" + noMeta, []string{"/wide", "/w/0", "/w/1", "/w/10", "/w/11"}, 5, model.Cut{MaxPerTemplate: 16}},
		// Pages take turns: the request cap cuts the repeats of /a, not
		// /b and /c (in URL order /a?sort=0, 1 and 10 came first).
		{"pages take turns", "crawl: {start: [/mixed], max_requests: 4}\n" + noMeta, []string{"/mixed", "/a?sort=0", "/b", "/c"}, 23, model.Cut{MaxRequests: 19}},
		{"max query variants", "crawl: {start: [/mixed], max_query_variants: 3}\n" + noMeta, []string{"/mixed", "/a?sort=0", "/a?sort=1", "/a?sort=10", "/b", "/c"}, 6, model.Cut{MaxQueryVariants: 17}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site.Reset()
			inv, opts := discoverSite(t, site, tt.crawl)
			got := map[string][]string{}
			for _, r := range site.Requests() {
				got[r.Role] = append(got[r.Role], r.URI)
			}
			for _, s := range opts.Sessions {
				g := got[crawltest.Identify(requestAs(t, s))]
				slices.Sort(g)
				want := slices.Sorted(slices.Values(tt.requested))
				if !slices.Equal(g, want) {
					t.Errorf("role %s requested %v, want %v", s.Name(), g, want)
				}
				if inv.Pages[s.Name()] != len(tt.requested) {
					t.Errorf("role %s: Pages = %d, want %d", s.Name(), inv.Pages[s.Name()], len(tt.requested))
				}
			}
			if len(inv.Entries) != tt.found {
				t.Errorf("%d entries, want %d (links found past the depth and request caps are listed, not fetched)", len(inv.Entries), tt.found)
			}
			if inv.Cut != tt.cut {
				t.Errorf("cut %+v, want %+v", inv.Cut, tt.cut)
			}
		})
	}
}

// requestAs returns a request carrying the credentials of s, to learn
// which fixture role they identify.
func requestAs(t *testing.T, s *session.Session) *http.Request {
	t.Helper()
	req := httptest.NewRequest("GET", "/", nil)
	s.Attach(req)
	return req
}

func TestDiscoverStartVariables(t *testing.T) {
	site := crawltest.NewSite([]crawltest.Route{{Path: "/users/1"}, {Path: "/users/2"}, {Path: "/orders/o-9"}, {Path: "/x/o-9"}})
	defer site.Close()
	cfg := parseConfig(t, site.URL, noMeta+`
crawl: {start: ["/users/{self.id}", "/orders/{user.order}", "/x/{self.order}", "/y/{id}"]}
roles:
  user:
    login: {basic: {username: alice, password: "${USER_PASSWORD}"}}
    vars: {id: "1", order: o-9}
  admin:
    login: {bearer: "${ADMIN_TOKEN}"}
    vars: {id: "2"}
`)
	opts := testOptions(t, cfg)
	if _, err := Discover(context.Background(), opts); err != nil {
		t.Fatalf("Discover: %v", err)
	}
	got := map[string][]string{}
	for _, r := range site.Requests() {
		got[r.Role] = append(got[r.Role], r.URI)
	}
	want := map[string][]string{
		crawltest.Anonymous: {"/orders/o-9"},
		crawltest.User:      {"/orders/o-9", "/users/1", "/x/o-9"},
		crawltest.Admin:     {"/orders/o-9", "/users/2"},
	}
	for role, w := range want {
		g := slices.Sorted(slices.Values(got[role]))
		if !slices.Equal(g, w) {
			t.Errorf("role %s requested %v, want %v", role, g, w)
		}
	}
}

// TestDiscoverIgnoresCollyEnvironment sets every COLLY_* variable colly
// reads to a harmful value: the inventory must not change.
func TestDiscoverIgnoresCollyEnvironment(t *testing.T) {
	site := crawltest.NewDefaultSite()
	defer site.Close()
	clean, _ := discoverSite(t, site, "")
	cache := t.TempDir()
	for k, v := range map[string]string{
		"COLLY_ALLOWED_DOMAINS": "example.com", "COLLY_CACHE_DIR": cache, "COLLY_DETECT_CHARSET": "y",
		"COLLY_DISABLE_COOKIES": "y", "COLLY_DISALLOWED_DOMAINS": "127.0.0.1", "COLLY_IGNORE_ROBOTSTXT": "n",
		"COLLY_FOLLOW_REDIRECTS": "y", "COLLY_MAX_BODY_SIZE": "10", "COLLY_MAX_DEPTH": "1", "COLLY_MAX_REQUESTS": "2",
		"COLLY_PARSE_HTTP_ERROR_RESPONSE": "n", "COLLY_TRACE_HTTP": "y", "COLLY_USER_AGENT": "from-env",
	} {
		t.Setenv(k, v)
	}
	site.Reset()
	dirty, _ := discoverSite(t, site, "")
	if !reflect.DeepEqual(clean, dirty) {
		t.Errorf("COLLY_* changed the inventory:\n%+v\nwant\n%+v", dirty, clean)
	}
	sawJar := false
	for _, r := range site.Requests() {
		sawJar = sawJar || strings.Contains(r.Header.Get("Cookie"), crawltest.JarCookie)
	}
	if !sawJar {
		t.Errorf("COLLY_DISABLE_COOKIES disabled the role's jar")
	}
	if files, _ := os.ReadDir(cache); len(files) > 0 {
		t.Errorf("COLLY_CACHE_DIR was used: %d files", len(files))
	}
}

func TestDiscoverCancel(t *testing.T) {
	site := crawltest.NewDefaultSite()
	defer site.Close()
	opts := testOptions(t, siteConfig(t, site, "crawl: {start: [/slow, /], timeout: 30s}\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	inv, err := Discover(ctx, opts)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Discover took %v after cancellation, want it prompt", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Discover error = %v, want the context's", err)
	}
	if inv == nil || len(inv.Entries) == 0 {
		t.Errorf("Discover returned %+v, want what it found before the cancellation", inv)
	}
}

// TestDiscoverSkipsURLsHoldingASecret: a link that carries a role's
// credential (here the admin's bearer token in a query) is never
// requested, by any role, and is listed as skipped with the token
// redacted; a start URL the user wrote with a secret is kept.
func TestDiscoverSkipsURLsHoldingASecret(t *testing.T) {
	site := crawltest.NewSite([]crawltest.Route{
		{Path: "/", Links: []string{"/files?sig=" + crawltest.AdminToken, "/about"}},
		{Path: "/about"},
		{Path: "/files"},
		{Path: "/named"},
	})
	defer site.Close()
	cfg := parseConfig(t, site.URL, noMeta+`crawl: {start: ["/", "/named?key=${ADMIN_TOKEN}"]}`+siteRoles)
	opts := testOptions(t, cfg)
	var logs bytes.Buffer
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	inv, err := Discover(context.Background(), opts)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	// Said loudly, once, by the secret's name and how many URLs.
	noSecret(t, "log", logs.String())
	if n := strings.Count(logs.String(), "discovered URLs hold a secret"); n != 1 ||
		!strings.Contains(logs.String(), "secret=roles.admin.login.bearer urls=1") {
		t.Errorf("want one warning naming roles.admin.login.bearer and 1 URL, got %d:\n%s", n, logs.String())
	}
	for _, r := range site.Requests() {
		if strings.HasPrefix(r.URI, "/files") {
			t.Errorf("%s requested %s: a URL holding a secret", r.Role, r.URI)
		}
	}
	about, named := false, false
	for _, e := range inv.Entries {
		if strings.Contains(e.URL, "/files") {
			t.Errorf("the inventory holds %s", e.URL)
		}
		about = about || strings.HasSuffix(e.URL, "/about")
		named = named || strings.Contains(e.URL, "/named")
	}
	if !about || !named {
		t.Errorf("the inventory lost /about (%v) or the named start URL (%v)", about, named)
	}
	skipped := false
	for _, s := range inv.Skipped {
		noSecret(t, "skip", s.URL)
		if strings.Contains(s.URL, "/files?sig=[REDACTED:") && s.Reason == reasonSecret {
			skipped = true
			// Still a URL of the target, with the secret only in its value.
			if u, err := url.Parse(s.URL); err != nil || u.Host != strings.TrimPrefix(site.URL, "http://") || u.Path != "/files" {
				t.Errorf("skipped %q is not a URL of the target: %v", s.URL, err)
			}
		}
	}
	if !skipped {
		t.Errorf("the secret-holding link is not listed as skipped: %+v", inv.Skipped)
	}
}

// TestInventoryListsShared: entries found by the same roles, or by the
// same sources, share one list, clipped so that an append to one entry's
// list cannot write into another's.
func TestInventoryListsShared(t *testing.T) {
	site := crawltest.NewDefaultSite()
	defer site.Close()
	inv, _ := discoverSite(t, site, "crawl: {concurrency: 4}\n")
	roles, sources := map[string]*string{}, map[string]*string{}
	shared := 0
	for _, e := range inv.Entries {
		for _, l := range []struct {
			list []string
			seen map[string]*string
		}{{e.FoundBy, roles}, {e.Sources, sources}} {
			if len(l.list) == 0 {
				continue
			}
			if cap(l.list) != len(l.list) {
				t.Errorf("%s: list %v has room to grow (cap %d): an append would write into another entry's", e.Endpoint, l.list, cap(l.list))
			}
			k := strings.Join(l.list, ",")
			if p, ok := l.seen[k]; ok {
				shared++
				if p != unsafe.SliceData(l.list) {
					t.Errorf("%s: list %v is a copy, not the list other entries share", e.Endpoint, l.list)
				}
			}
			l.seen[k] = unsafe.SliceData(l.list)
		}
	}
	if shared == 0 {
		t.Fatalf("no two of %d entries have the same roles or sources; the site must give some", len(inv.Entries))
	}
}
