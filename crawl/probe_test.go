package crawl

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/permaudit/permaudit/crawl/crawltest"
	"github.com/permaudit/permaudit/model"
)

func probeSite(t *testing.T, site *crawltest.Site, crawl string, paths ...string) ([]model.Observation, Options) {
	t.Helper()
	opts := testOptions(t, siteConfig(t, site, crawl))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var eps []model.Endpoint
	if len(paths) == 0 {
		inv, err := Discover(ctx, opts)
		if err != nil {
			t.Fatalf("Discover: %v", err)
		}
		for _, e := range inv.Entries {
			eps = append(eps, e.Endpoint)
		}
	}
	for _, p := range paths {
		eps = append(eps, model.Endpoint{Method: "GET", URL: site.URL + p})
	}
	obs, err := Probe(ctx, opts, eps)
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	return obs, opts
}

func TestProbeClassifiesWhatTheSiteAnswers(t *testing.T) {
	site := crawltest.NewDefaultSite()
	defer site.Close()
	obs, opts := probeSite(t, site, "crawl: {concurrency: 4}\n")
	byKey := map[string]model.Observation{}
	for _, o := range obs {
		byKey[strings.TrimPrefix(o.URL, site.URL)+" "+o.Role] = o
	}

	// Every hop as the site says it answers that role.
	for _, o := range obs {
		hops := o.Chain
		if hops == nil {
			hops = []model.Hop{{URL: o.URL, Status: o.Status, Location: o.Location}}
		}
		for _, h := range hops {
			u, _ := url.Parse(h.URL)
			if a := site.Answer(o.Role, u.RequestURI()); a.Status != h.Status || a.Location != h.Location {
				t.Errorf("%s as %s: hop %s answered %d %q, the site says %d %q", o.URL, o.Role, h.URL, h.Status, h.Location, a.Status, a.Location)
			}
		}
		noSecret(t, o.URL+" excerpt", o.Excerpt)
		if o.Size > 0 && len(o.BodySHA256) != 64 {
			t.Errorf("%s as %s: body hash %q", o.URL, o.Role, o.BodySHA256)
		}
		if o.Latency <= 0 {
			t.Errorf("%s as %s: latency %v", o.URL, o.Role, o.Latency)
		}
	}

	type want struct {
		class model.Class
		why   string
	}
	allowed := want{model.Allowed, "status 200"}
	login := want{model.Unauthenticated, "redirect to login /login"}
	inPlace := want{model.Unauthenticated, "login page served in place (login form)"}
	tests := []struct {
		path              string
		anon, user, admin want
	}{
		{"/", allowed, allowed, allowed},
		{"/account", login, allowed, allowed},
		{"/admin/", login, want{model.Forbidden, "status 403"}, allowed},
		{"/admin/users", want{}, want{}, allowed}, // found by admin only, probed as everyone
		{"/admin/reports/7", want{model.Hidden, "status 404"}, want{model.Hidden, "status 404"}, allowed},
		{"/inbox", inPlace, allowed, allowed},
		{"/reports", inPlace, want{model.Forbidden, "denial signature 1 (forbidden)"}, allowed},
		{"/private", want{model.Unauthenticated, "status 401"}, allowed, allowed},
		{"/products", allowed, allowed, allowed},
		{"/old", allowed, allowed, allowed},
		{"/r307", want{model.Other, "redirect off scope"}, want{model.Other, "redirect off scope"}, want{model.Other, "redirect off scope"}},
		{"/error", want{model.Error, "status 500"}, want{model.Error, "status 500"}, want{model.Error, "status 500"}},
		{"/api/status", allowed, allowed, allowed},
		{"/login?next=%2Faccount", allowed, allowed, allowed},
	}
	for _, tt := range tests {
		for role, w := range map[string]want{"anonymous": tt.anon, "user": tt.user, "admin": tt.admin} {
			if w == (want{}) {
				w = map[string]want{"anonymous": login, "user": {model.Forbidden, "status 403"}}[role]
			}
			o, ok := byKey[tt.path+" "+role]
			if !ok {
				t.Errorf("no observation of %s as %s", tt.path, role)
				continue
			}
			if o.Class != w.class || o.Why != w.why {
				t.Errorf("%s as %s: %s %q, want %s %q", tt.path, role, o.Class, o.Why, w.class, w.why)
			}
		}
	}

	chains := []struct {
		path     string
		statuses []int
	}{
		{"/products", []int{301, 200}},
		{"/old", []int{302, 301, 200}},
		{"/", nil},
		{"/account", nil}, // anonymous: a redirect to login is not followed
	}
	for _, c := range chains {
		o := byKey[c.path+" anonymous"]
		var got []int
		for _, h := range o.Chain {
			got = append(got, h.Status)
		}
		if !slices.Equal(got, c.statuses) {
			t.Errorf("%s as anonymous: chain %v, want %v", c.path, got, c.statuses)
		}
	}
	if o := byKey["/private anonymous"]; !o.WWWAuth {
		t.Errorf("/private as anonymous: WWWAuth false, want true")
	}
	if o := byKey["/api/status user"]; o.ContentType != "application/json" {
		t.Errorf("/api/status: content type %q", o.ContentType)
	}

	// Sorted by URL, method, then role order.
	order := map[string]int{}
	for i, s := range opts.Sessions {
		order[s.Name()] = i
	}
	if !slices.IsSortedFunc(obs, func(a, b model.Observation) int {
		if c := cmpEndpoint(a.Endpoint, b.Endpoint); c != 0 {
			return c
		}
		return order[a.Role] - order[b.Role]
	}) {
		t.Errorf("observations are not sorted by URL, method and role order")
	}
	if len(obs)%len(opts.Sessions) != 0 {
		t.Errorf("%d observations for %d roles", len(obs), len(opts.Sessions))
	}
	for _, r := range site.Requests() {
		if strings.Contains(r.URI, "logout") || r.Server != "site" || r.Method != "GET" {
			t.Errorf("the probe sent %s %s to %s", r.Method, r.URI, r.Server)
		}
	}
}

func TestProbeRedirects(t *testing.T) {
	site := crawltest.NewSite([]crawltest.Route{
		{Path: "/loop", Redirect: "/loop2"},
		{Path: "/loop2", Redirect: "/loop"},
		{Path: "/bye", Redirect: "/logout?next=/"},
		{Path: "/logout"},
		{Path: "/weird", Redirect: "mailto:x@y.z"},
		{Path: "/dir", Status: 308, Redirect: "/dir/"},
		{Path: "/dir/", Status: 302, Redirect: "/login?next=/dir/"},
		{Path: "/login"},
	})
	defer site.Close()
	obs, _ := probeSite(t, site, "", "/loop", "/bye", "/weird", "/dir")
	tests := []struct {
		path   string
		class  model.Class
		why    string
		status int
		chain  int
	}{
		{"/loop", model.Error, "redirect not followed: more than 5 hops", 302, 6},
		{"/bye", model.Other, `redirect not followed: excluded word "logout"`, 302, 0},
		{"/weird", model.Other, "redirect to an unusable location", 302, 0},
		{"/dir", model.Unauthenticated, "redirect to login /login", 302, 2},
	}
	for _, tt := range tests {
		for _, o := range obs {
			if o.URL != site.URL+tt.path || o.Role != "anonymous" {
				continue
			}
			if o.Class != tt.class || o.Why != tt.why || o.Status != tt.status || len(o.Chain) != tt.chain {
				t.Errorf("%s: %s %q status %d chain %d, want %s %q status %d chain %d", tt.path, o.Class, o.Why, o.Status, len(o.Chain), tt.class, tt.why, tt.status, tt.chain)
			}
		}
	}
	for _, r := range site.Requests() {
		if strings.HasPrefix(r.URI, "/logout") || strings.HasPrefix(r.URI, "/login") {
			t.Errorf("requested %s, which must not be followed", r.URI)
		}
	}
}

func TestProbeBodies(t *testing.T) {
	// The bearer token sits across the 512-byte excerpt cut, and in a
	// Location; both must come out redacted, whole.
	echo := newRecorder(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, strings.Repeat("a", 495)+r.Header.Get("Authorization")+strings.Repeat("z", 600))
		case "/loc":
			http.Redirect(w, r, "https://elsewhere.example/?t="+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), http.StatusFound)
		case "/big":
			fmt.Fprint(w, strings.Repeat("é", 1000)) // 2000 bytes
		case "/bin":
			w.Write([]byte{0xff, 0xfe, 'a', 0xc3})
		}
	})
	defer echo.Close()
	cfg := parseConfig(t, echo.URL, `
crawl: {max_body: 1001}
roles:
  admin:
    login: {bearer: "${ADMIN_TOKEN}"}
`)
	opts := testOptions(t, cfg)
	opts.Sessions = opts.Sessions[1:] // admin only
	var eps []model.Endpoint
	for _, p := range []string{"/echo", "/loc", "/big", "/bin"} {
		eps = append(eps, model.Endpoint{Method: "GET", URL: echo.URL + p})
	}
	obs, err := Probe(context.Background(), opts, eps)
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	got := map[string]model.Observation{}
	for _, o := range obs {
		got[strings.TrimPrefix(o.URL, echo.URL)] = o
		noSecret(t, o.URL+" excerpt", o.Excerpt)
		noSecret(t, o.URL+" location", o.Location)
		for i := 8; i < len(crawltest.AdminToken); i++ { // no part of it either
			if strings.Contains(o.Excerpt, crawltest.AdminToken[:i]) {
				t.Errorf("%s: excerpt holds %q, a prefix of the token", o.URL, crawltest.AdminToken[:i])
				break
			}
		}
		if len(o.Excerpt) > 512 || !utf8.ValidString(o.Excerpt) {
			t.Errorf("%s: excerpt of %d bytes, valid UTF-8 %v", o.URL, len(o.Excerpt), utf8.ValidString(o.Excerpt))
		}
	}
	if e := got["/echo"]; !strings.Contains(e.Excerpt, "[REDACTED:") || e.Size != 1001 || !e.Truncated {
		t.Errorf("/echo: excerpt %q, size %d, truncated %v; want a redaction, 1001 bytes, truncated", e.Excerpt, e.Size, e.Truncated)
	}
	if l := got["/loc"]; !strings.Contains(l.Location, "[REDACTED:") || l.Class != model.Other {
		t.Errorf("/loc: location %q class %s, want redacted, other", l.Location, l.Class)
	}
	if b := got["/big"]; b.Size != 1001 || !b.Truncated || len(b.Excerpt) != 512 {
		t.Errorf("/big: size %d truncated %v excerpt %d bytes; want 1001, true, 512", b.Size, b.Truncated, len(b.Excerpt))
	}
	if b := got["/bin"]; b.Excerpt != "\uFFFDa\uFFFD" || b.Truncated {
		t.Errorf("/bin: excerpt %q truncated %v", b.Excerpt, b.Truncated)
	}
}

func TestProbeTransportError(t *testing.T) {
	dead := newRecorder(nil)
	target := dead.URL
	dead.Close() // nothing listens any more
	cfg := parseConfig(t, target, "crawl: {timeout: 2s}\n")
	obs, err := Probe(context.Background(), testOptions(t, cfg), []model.Endpoint{{Method: "GET", URL: target + "/x"}})
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if len(obs) != 1 || obs[0].Class != model.Error || obs[0].Status != 0 || obs[0].Err == "" {
		t.Errorf("got %+v, want one error observation with status 0 and a message", obs)
	}
}

func TestProbeCancel(t *testing.T) {
	site := crawltest.NewDefaultSite()
	defer site.Close()
	opts := testOptions(t, siteConfig(t, site, "crawl: {concurrency: 2, timeout: 30s}\n"))
	var eps []model.Endpoint
	for i := range 20 {
		eps = append(eps, model.Endpoint{Method: "GET", URL: fmt.Sprintf("%s/slow?n=%02d", site.URL, i)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	obs, err := Probe(ctx, opts, eps)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Probe took %v, want it to stop promptly", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Probe error = %v, want the context's", err)
	}
	if len(obs) != 0 {
		t.Errorf("got %d observations, want none: cancelled probes are not returned", len(obs))
	}
	if n := len(site.Requests()); n > 4 {
		t.Errorf("the site got %d requests after cancellation with 2 workers, want at most 4", n)
	}
}

func TestProbeProgress(t *testing.T) {
	site := crawltest.NewDefaultSite()
	defer site.Close()
	opts := testOptions(t, siteConfig(t, site, "crawl: {concurrency: 4}\n"))
	var mu sync.Mutex
	var events []Progress
	opts.Progress = func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, p)
	}
	eps := []model.Endpoint{{Method: "GET", URL: site.URL + "/"}, {Method: "GET", URL: site.URL + "/about"}, {Method: "GET", URL: site.URL + "/logout"}, {Method: "POST", URL: site.URL + "/about"}}
	obs, err := Probe(context.Background(), opts, eps)
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if len(obs) != 6 {
		t.Errorf("got %d observations, want 6 (2 endpoints x 3 roles; /logout and POST skipped)", len(obs))
	}
	if len(events) != len(obs) {
		t.Fatalf("got %d progress events, want %d", len(events), len(obs))
	}
	for i, e := range events {
		if e.Phase != "probe" || e.Done != i+1 || e.Total != 6 || e.Role == "" {
			t.Errorf("event %d = %+v, want probe %d/6 with a role", i, e, i+1)
		}
	}
}

// TestProbeCountsFindingsSoFar: progress events carry the probes whose
// answer, decided alone against the matrix, is a finding, so a CI log
// shows findings while a long audit runs.
func TestProbeCountsFindingsSoFar(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/secret" {
			fmt.Fprint(w, "the secret") // a leak to anyone: the matrix denies it
			return
		}
		fmt.Fprint(w, "public")
	}))
	defer srv.Close()
	cfg := parseConfig(t, srv.URL, `matrix:
  default: deny
  rules:
    - {match: "GET /", allow: ["*"]}
`)
	opts := testOptions(t, cfg)
	var last Progress
	var mu sync.Mutex
	opts.Progress = func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if p.Phase == "probe" {
			last = p
		}
	}
	if _, err := Probe(context.Background(), opts, []model.Endpoint{{Method: "GET", URL: srv.URL + "/"}, {Method: "GET", URL: srv.URL + "/secret"}}); err != nil {
		t.Fatal(err)
	}
	if last.Done != 2 || last.Findings != 1 {
		t.Errorf("last probe progress %+v, want 2 done and 1 finding so far (the leak of /secret)", last)
	}
}
