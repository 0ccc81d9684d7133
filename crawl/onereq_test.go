package crawl

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/permaudit/permaudit/internal/authapp"
	"github.com/permaudit/permaudit/model"
)

// countingCookie is the session cookie POST /login sets: role user.
const countingCookie = "counting-session-0123456789"

// countingSite answers by bearer token (admin, user, else anonymous) and
// counts the requests of each role and path.
type countingSite struct {
	mu   sync.Mutex
	hits map[string]int // "role /path"
}

func (s *countingSite) count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[key]
}

func (s *countingSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	role := "anonymous"
	switch r.Header.Get("Authorization") {
	case "Bearer " + testEnv["ADMIN_TOKEN"]:
		role = "admin"
	case "Bearer " + testEnv["USER_KEY"]:
		role = "user"
	}
	if c, err := r.Cookie("sid"); err == nil && c.Value == countingCookie {
		role = "user"
	}
	s.mu.Lock()
	s.hits[role+" "+r.URL.Path]++
	s.mu.Unlock()
	deny := func(to string) bool {
		if role == to {
			return false
		}
		if role == "anonymous" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="t"`)
			http.Error(w, "sign in", http.StatusUnauthorized)
		} else {
			http.Error(w, "not yours", http.StatusForbidden)
		}
		return true
	}
	html := func(body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>t</title>"+body)
	}
	switch r.URL.Path {
	case "/login":
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: countingCookie, Path: "/"})
		fmt.Fprint(w, `{"ok":true}`)
	case "/me":
		if role == "anonymous" {
			http.Error(w, "who?", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "signed in as "+role)
	case "/":
		html(`<a href="/a">a</a><a href="/b">b</a><a href="/c">c</a><a href="/r">r</a><a href="/big">big</a><a href="/checked">checked</a>`)
	case "/a":
		html(`<p>for everyone</p>`)
	case "/b":
		if !deny("admin") {
			html(`<p>admin only</p>`)
		}
	case "/c":
		if !deny("user") {
			html(`<p>user only</p>`)
		}
	case "/r":
		http.Redirect(w, r, "/t", http.StatusFound)
	case "/t":
		html(`<p>the redirect's target</p>`)
	case "/big":
		html(strings.Repeat("<p>big</p>", 200)) // over crawl.max_body
	case "/checked":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"owner":"admin"}`)
	default:
		http.NotFound(w, r)
	}
}

const countingRoles = `login_url: /login
crawl: {concurrency: 2, max_body: 1024}
roles:
  admin:
    login: {bearer: "${ADMIN_TOKEN}"}
    check: {url: /me, contains: signed in as admin}
  user:
    login: {bearer: "${USER_KEY}"}
    check: {url: /me, contains: signed in as user}
matrix:
  default: deny
  rules:
    - {match: "GET /checked", allow: [admin], body: [{contains: owner}]}
`

func getEndpoints(inv *model.Inventory) []model.Endpoint {
	var eps []model.Endpoint
	for _, e := range inv.Entries {
		if e.Method == http.MethodGet {
			eps = append(eps, e.Endpoint)
		}
	}
	return eps
}

// TestDiscoveryAnswersAreObservations: a cell a role saw while
// discovering, on the same session, is not requested again by the probe
// phase, and its observation is the one a probe records (all but the
// latency). A redirect the probe follows, a body cut at crawl.max_body
// and a cell with body checks are requested again.
func TestDiscoveryAnswersAreObservations(t *testing.T) {
	site := &countingSite{hits: map[string]int{}}
	srv := httptest.NewServer(site)
	defer srv.Close()
	ctx := context.Background()
	opts, _ := keptOptions(t, srv.URL, countingRoles, testEnv)
	opts.Answers = NewAnswers()
	inv, err := Discover(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	eps := getEndpoints(inv)
	if len(eps) != 8 {
		t.Fatalf("discovered %v, want 8 GET endpoints", eps)
	}
	obs, err := Probe(ctx, opts, eps)
	if err != nil {
		t.Fatal(err)
	}
	if n := opts.Answers.Unused(); n != 0 {
		t.Errorf("%d answers left unused", n)
	}
	for _, role := range []string{"anonymous", "admin", "user"} {
		for path, want := range map[string]int{"/": 1, "/a": 1, "/b": 1, "/c": 1, "/r": 2, "/t": 2, "/big": 2, "/checked": 1} {
			if path == "/checked" && role == "admin" {
				want = 2 // its body checks need the whole body
			}
			if got := site.count(role + " " + path); got != want {
				t.Errorf("GET %s requested %d times as %s, want %d", path, got, role, want)
			}
		}
	}
	// The same cells probed afresh, on sessions signed in anew.
	fresh, _ := keptOptions(t, srv.URL, countingRoles, testEnv)
	again, err := Probe(ctx, fresh, eps)
	if err != nil {
		t.Fatal(err)
	}
	got, want := byRoleURL(obs), byRoleURL(again)
	if len(got) != len(want) || len(got) != 3*8 {
		t.Fatalf("%d observations, fresh probes %d, want 24", len(got), len(want))
	}
	for key, w := range want {
		g := got[key]
		g.Latency, w.Latency = 0, 0
		if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", w) {
			t.Errorf("%s:\n from discovery %+v\n a probe        %+v", key, g, w)
		}
	}
}

// TestRenewedSessionIsRequestedAgain: an answer discovery got on a
// session renewed since is no evidence of the session probing uses: the
// cell is requested again.
func TestRenewedSessionIsRequestedAgain(t *testing.T) {
	site := &countingSite{hits: map[string]int{}}
	srv := httptest.NewServer(site)
	defer srv.Close()
	ctx := context.Background()
	opts, _ := keptOptions(t, srv.URL, `login_url: /login
crawl: {concurrency: 2, max_body: 1024}
roles:
  user:
    login: {json: {url: /login, body: {}}, renew: {backoff: 0s}}
    check: {url: /me, contains: signed in as user}
`, testEnv)
	opts.Answers = NewAnswers()
	inv, err := Discover(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := opts.Sessions[1].Renew(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := Probe(ctx, opts, getEndpoints(inv)); err != nil {
		t.Fatal(err)
	}
	if got := site.count("user /a"); got != 2 {
		t.Errorf("GET /a requested %d times as user, want 2 (discovery, then the probe on the renewed session)", got)
	}
	if got := site.count("anonymous /a"); got != 1 {
		t.Errorf("GET /a requested %d times as anonymous, want 1 (its session was not renewed)", got)
	}
}

// TestOneCheckConfirmsManyDenials: one passing check confirms every
// denial the role received before it started (the old code checked the
// session after nearly every denial: 40 checks for 40 denials with one
// worker).
func TestOneCheckConfirmsManyDenials(t *testing.T) {
	site := &countingSite{hits: map[string]int{}}
	srv := httptest.NewServer(site)
	defer srv.Close()
	opts, _ := keptOptions(t, srv.URL, strings.Replace(countingRoles, "concurrency: 2", "concurrency: 1", 1), testEnv)
	opts.Sessions = opts.Sessions[1:2] // admin
	var paths []string
	for i := range 40 {
		paths = append(paths, fmt.Sprintf("/c?n=%d", i))
	}
	before := site.count("admin /me")
	obs, err := Probe(context.Background(), opts, endpoints(srv.URL, paths...))
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 40 {
		t.Fatalf("%d observations, want 40", len(obs))
	}
	for _, o := range obs {
		if o.Class != model.Forbidden || o.Session != model.SessionLive {
			t.Errorf("GET %s: %s, session %q; want forbidden, live", o.URL, o.Class, o.Session)
		}
	}
	if n := site.count("admin /me") - before; n != 1 {
		t.Errorf("%d checks confirmed 40 denials, want 1", n)
	}
}

// TestSessionEndsWhileDiscovering: sessions end every few requests while
// discovery runs and its answers become observations: every cell is
// still the policy's (no denial from a dead session is taken for a
// denial, no allowed page is missed), and renewed sessions' answers are
// repeated, not reused.
func TestSessionEndsWhileDiscovering(t *testing.T) {
	srv, err := authapp.Start(authapp.Options{EditorRequests: 4, AdminRequests: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	opts, _ := keptOptions(t, srv.URL(), `login_url: /login
crawl: {concurrency: 3}
roles:
  editor:
    login: {form: {url: /login, fields: {username: editor, password: "${EDITOR_PASSWORD}"}}, renew: {max: 100, backoff: 0s}}
    check: {url: /api/me, contains: '"user":"editor"'}
  admin:
    login: {form: {url: /login, fields: {username: admin, password: "${ADMIN_PASSWORD}"}}, renew: {max: 100, backoff: 0s}}
    check: {url: /api/me, contains: '"user":"admin"'}
`, authapp.Env())
	opts.Answers = NewAnswers()
	ctx := context.Background()
	inv, err := Discover(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	var eps []model.Endpoint
	for _, ep := range getEndpoints(inv) {
		if !strings.HasSuffix(ep.URL, "/logout") {
			eps = append(eps, ep)
		}
	}
	for _, p := range []string{"/dashboard", "/reports/", "/admin/", "/admin/users", "/profile/12"} {
		eps = append(eps, endpoints(srv.URL(), p)...)
	}
	obs, err := Probe(ctx, opts, eps)
	if err != nil {
		t.Fatal(err)
	}
	policy := authapp.Policy{}
	seen := map[string]bool{}
	for _, o := range obs {
		path := strings.TrimPrefix(o.URL, srv.URL())
		user := o.Role
		if user == "anonymous" {
			user = ""
		}
		want := policy.Decide(user, path)
		if string(o.Class) != want.Class {
			t.Errorf("GET %s as %s: %s (%s, session %q), the policy says %s", path, o.Role, o.Class, o.Why, o.Session, want.Class)
		}
		confirmedDenial(t, o)
		seen[o.Role+" "+path] = true
	}
	for _, r := range []string{"editor", "admin"} {
		if !seen[r+" /admin/users"] || !seen[r+" /dashboard"] {
			t.Errorf("role %s: cells missing: %v", r, seen)
		}
	}
	for _, s := range opts.Sessions[1:] {
		if s.Stats().Renewals == 0 {
			t.Errorf("role %s: its session never ended", s.Name())
		}
	}
}

// confirmedDenial fails when o is a denial of a signed-in role that no
// passing check confirmed: it may have been given to a dead session.
func confirmedDenial(t *testing.T, o model.Observation) {
	t.Helper()
	if o.Role == "anonymous" || o.Class == model.Allowed || o.Class == model.Error {
		return
	}
	if o.Session != model.SessionLive && o.Session != model.SessionRenewed {
		t.Errorf("GET %s as %s: %s (%s) with session %q: a denial no check confirmed", o.URL, o.Role, o.Class, o.Why, o.Session)
	}
}

// TestSessionLostWhileDiscovering: a session that ends and cannot be
// renewed during discovery leaves no denial behind for the probe phase:
// what its role saw after its last passing check is an error ("session
// lost"), never a denial, and never an allowed page missed as one.
func TestSessionLostWhileDiscovering(t *testing.T) {
	srv, err := authapp.Start(authapp.Options{EditorRequests: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	opts, k := keptOptions(t, srv.URL(), `login_url: /login
crawl: {concurrency: 2}
roles:
  editor:
    login: {form: {url: /login, fields: {username: editor, password: "${EDITOR_PASSWORD}"}}, renew: {max: 1, backoff: 0s}}
    check: {url: /api/me, contains: '"user":"editor"'}
`, authapp.Env())
	opts.Answers = NewAnswers()
	ctx := context.Background()
	inv, err := Discover(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	eps := endpoints(srv.URL(), "/dashboard", "/reports/", "/reports/export", "/admin/", "/admin/users", "/api/me", "/api/reports", "/profile/12", "/profile/13")
	for _, ep := range getEndpoints(inv) {
		if !strings.HasSuffix(ep.URL, "/logout") {
			eps = append(eps, ep)
		}
	}
	obs, err := Probe(ctx, opts, eps)
	if err != nil {
		t.Fatal(err)
	}
	policy := authapp.Policy{}
	lost := 0
	for _, o := range obs {
		if o.Role != "editor" {
			continue
		}
		path := strings.TrimPrefix(o.URL, srv.URL())
		if o.Class == model.Error {
			if o.Session != model.SessionLost {
				t.Errorf("GET %s: error %q with session %q, want session lost", path, o.Err, o.Session)
			}
			lost++
			continue
		}
		if want := policy.Decide("editor", path); string(o.Class) != want.Class {
			t.Errorf("GET %s as editor: %s (%s, session %q), the policy says %s", path, o.Class, o.Why, o.Session, want.Class)
		}
		confirmedDenial(t, o)
	}
	if lost == 0 {
		t.Error("no observation recorded as session lost: the session was never lost")
	}
	if reps := k.Reports([]string{"editor"}); reps[0].LostReason == "" {
		t.Errorf("report %+v: the session was not lost", reps)
	}
}
