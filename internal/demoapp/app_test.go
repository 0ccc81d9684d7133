package demoapp

import (
	"bytes"
	"encoding/base64"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestServeRoles(t *testing.T) {
	f := newFixture(t, Options{})
	tests := []struct {
		role, target string
		status       int
		location     string
		wwwAuth      string
		body         string // a substring of the body
	}{
		{Anonymous, "/", 200, "", "", `href="/login"`},
		{Anonymous, "/api/products", 200, "", "", `"name":"Desk lamp"`},
		{Anonymous, "/account/", 302, "/login?next=%2Faccount%2F", "", ""},
		{Anonymous, "/api/orders", 401, "", `Bearer realm="acme"`, `"error":"authentication required"`},
		{Anonymous, "/login?next=%2Faccount%2F", 200, "", "", `type="password"`},
		{Customer, "/account/", 200, "", "", "Carol Jones"},
		{Customer, "/api/orders", 200, "", "", `"id":17`},
		{Customer, "/api/orders/17", 200, "", "", `"total":"29.90"`},
		{Customer, "/api/orders/18", 404, "", "", `"error":"not found"`},
		{Customer, "/orders/19", 404, "", "", "There is nothing at /orders/19."},
		{Customer, "/support/", 200, "", "", "Sorry, you are not allowed to see this page"},
		{Customer, "/support/tickets/101", 403, "", "", "no access"},
		{Customer, "/api/admin/users", 403, "", "", `"error":"forbidden"`},
		{Support, "/support/", 200, "", "", `href="/support/tickets/102"`},
		{Support, "/api/orders", 200, "", "", `"id":19`},
		{Support, "/admin/", 403, "", "", "Forbidden"},
		{Admin, "/admin/", 200, "", "", `href="/api/admin/export"`},
		{Admin, "/api/admin/export", 200, "", "", `"generated"`},
		{Admin, "/admin", 301, "/admin/", "", ""},
	}
	for _, tt := range tests {
		got := f.get(t, tt.role, tt.target)
		if got.Status != tt.status || got.Location != tt.location {
			t.Errorf("GET %s as %s = %d %q, want %d %q", tt.target, tt.role, got.Status, got.Location, tt.status, tt.location)
		}
		if w := got.Header.Get("WWW-Authenticate"); w != tt.wwwAuth {
			t.Errorf("GET %s as %s: WWW-Authenticate %q, want %q", tt.target, tt.role, w, tt.wwwAuth)
		}
		if !strings.Contains(got.Body, tt.body) {
			t.Errorf("GET %s as %s: body %q does not hold %q", tt.target, tt.role, got.Body, tt.body)
		}
	}
}

func TestWrongCredentialsAreAnonymous(t *testing.T) {
	f := newFixture(t, Options{Log: true})
	basic := func(user, pass string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(user, pass) }
	}
	tests := []struct {
		name string
		edit func(*http.Request)
		want string
	}{
		{"none", func(*http.Request) {}, Anonymous},
		{"wrong cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: CustomerCookieName, Value: "cst-wrong"}) }, Anonymous},
		{"cookie value under another name", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "session", Value: CustomerCookie}) }, Anonymous},
		{"wrong bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer sup-wrong") }, Anonymous},
		{"token without Bearer", func(r *http.Request) { r.Header.Set("Authorization", SupportToken) }, Anonymous},
		{"wrong password", basic(AdminUsername, "nope"), Anonymous},
		{"wrong user", basic("root", AdminPassword), Anonymous},
		{"support token as basic password", basic(AdminUsername, SupportToken), Anonymous},
		{"customer cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: CustomerCookieName, Value: CustomerCookie}) }, Customer},
		{"support bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+SupportToken) }, Support},
		{"admin basic", basic(AdminUsername, AdminPassword), Admin},
		{"admin basic and customer cookie", func(r *http.Request) {
			r.SetBasicAuth(AdminUsername, AdminPassword)
			r.AddCookie(&http.Cookie{Name: CustomerCookieName, Value: CustomerCookie})
		}, Admin},
	}
	for _, tt := range tests {
		got := f.get(t, Anonymous, "/api/profile", tt.edit)
		reqs := f.app.Requests()
		if len(reqs) == 0 {
			t.Fatalf("%s: request log is empty", tt.name)
		}
		last := reqs[len(reqs)-1]
		if last.Role != tt.want {
			t.Errorf("%s: role %q, want %q", tt.name, last.Role, tt.want)
		}
		wantStatus := 200
		if tt.want == Anonymous {
			wantStatus = 401
		}
		if got.Status != wantStatus || last.Status != got.Status {
			t.Errorf("%s: GET /api/profile = %d (logged %d), want %d", tt.name, got.Status, last.Status, wantStatus)
		}
	}
}

// TestServeFollowsDecide checks that the handler answers every endpoint
// as every role exactly as Decide says, with and without the bugs.
func TestServeFollowsDecide(t *testing.T) {
	for _, bugs := range []Bugs{{}, AllBugsOn()} {
		f := newFixture(t, Options{Bugs: bugs, Log: true})
		for _, e := range Endpoints() {
			for _, role := range Roles() {
				d := Policy{Bugs: bugs}.Decide(role, e.Method, e.Path)
				got := f.get(t, role, e.Path)
				if got.Status != d.Status || got.Location != d.Location {
					t.Errorf("bugs %v: GET %s as %s = %d %q, Decide says %d %q", bugs.Names(), e.Path, role, got.Status, got.Location, d.Status, d.Location)
				}
				if d.Status == 200 && !strings.Contains(got.Header.Get("Content-Type"), map[bool]string{true: "application/json", false: "text/html"}[strings.HasPrefix(e.Path, "/api/")]) {
					t.Errorf("GET %s as %s: Content-Type %q", e.Path, role, got.Header.Get("Content-Type"))
				}
			}
		}
		reqs := f.app.Requests()
		if want := len(Endpoints()) * len(Roles()); len(reqs) != want {
			t.Fatalf("request log holds %d requests, want %d", len(reqs), want)
		}
		for i, r := range reqs {
			e, role := Endpoints()[i/len(Roles())], Roles()[i%len(Roles())]
			if r.Method != "GET" || r.Target != e.Path || r.Role != role {
				t.Errorf("request %d logged as %s %s as %s, want GET %s as %s", i, r.Method, r.Target, r.Role, e.Path, role)
			}
		}
	}
}

var reHref = regexp.MustCompile(`href="([^"]*)"`)

// crawl follows the links of every HTML page answered 200 to role, from
// "/", and returns the paths found (with their query), as discovery would.
func crawl(t *testing.T, f *fixture, role string) map[string]bool {
	t.Helper()
	found := map[string]bool{"/": true}
	queue := []string{"/"}
	for len(queue) > 0 {
		target := queue[0]
		queue = queue[1:]
		if target == "/logout" {
			continue
		}
		got := f.get(t, role, target)
		if got.Status != 200 || !strings.HasPrefix(got.Header.Get("Content-Type"), "text/html") {
			continue
		}
		for _, m := range reHref.FindAllStringSubmatch(got.Body, -1) {
			u, err := url.Parse(html.UnescapeString(m[1]))
			if err != nil || u.IsAbs() {
				t.Errorf("GET %s as %s: bad link %q", target, role, m[1])
				continue
			}
			link := u.RequestURI()
			if !found[link] {
				found[link] = true
				queue = append(queue, link)
			}
		}
	}
	return found
}

func TestLinksLeadToEveryEndpoint(t *testing.T) {
	f := newFixture(t, Options{})
	union := map[string]bool{}
	var lower map[string]bool
	for _, role := range Roles() {
		found := crawl(t, f, role)
		for _, e := range Endpoints() {
			if d := (Policy{}).Decide(role, e.Method, e.Path); d.Form == FormAllow && !found[e.Path] {
				t.Errorf("%s may see %s but no page of theirs links it", role, e.Path)
			}
		}
		for l := range lower {
			if !found[l] && l != "/login" { // only anonymous is offered the sign-in page
				t.Errorf("%s finds %s, but %s, which inherits it, does not", Roles()[slices.Index(Roles(), role)-1], l, role)
			}
		}
		if lower != nil && len(found) <= len(lower) {
			t.Errorf("%s finds %d links, no more than the role below (%d)", role, len(found), len(lower))
		}
		for l := range found {
			union[l] = true
		}
		lower = found
	}
	want := map[string]bool{"/logout": true}
	for _, e := range Endpoints() {
		want[e.Path] = true
	}
	for l := range union {
		if !want[l] {
			t.Errorf("link %s is not in Endpoints()", l)
		}
	}
	for l := range want {
		if !union[l] {
			t.Errorf("endpoint %s is linked from no page", l)
		}
	}
	if n := f.app.LogoutHits(); n != 0 {
		t.Errorf("LogoutHits() = %d after a crawl that skips /logout, want 0", n)
	}
}

func TestLogoutCounted(t *testing.T) {
	f := newFixture(t, Options{})
	for _, role := range Roles() {
		got := f.get(t, role, "/orders/")
		if got.Status == 200 && !strings.Contains(got.Body, `href="/logout"`) {
			t.Errorf("/orders/ as %s does not link /logout", role)
		}
	}
	if n := f.app.LogoutHits(); n != 0 {
		t.Fatalf("LogoutHits() = %d before any /logout, want 0", n)
	}
	for i, role := range []string{Customer, Admin} {
		got := f.get(t, role, "/logout")
		if got.Status != 302 || got.Location != "/" {
			t.Errorf("GET /logout as %s = %d %q, want 302 %q", role, got.Status, got.Location, "/")
		}
		if n := f.app.LogoutHits(); n != i+1 {
			t.Errorf("LogoutHits() = %d, want %d", n, i+1)
		}
		// Nothing ended: the credentials still work.
		if got := f.get(t, role, "/api/profile"); got.Status != 200 {
			t.Errorf("GET /api/profile as %s after /logout = %d, want 200", role, got.Status)
		}
	}
}

func TestEveryPageLinksLogout(t *testing.T) {
	f := newFixture(t, Options{})
	for _, e := range append(Endpoints(), Endpoint{Method: "GET", Path: "/nowhere"}) {
		for _, role := range Roles() {
			got := f.get(t, role, e.Path)
			if strings.HasPrefix(got.Header.Get("Content-Type"), "text/html") && !strings.Contains(got.Body, `<a href="/logout">`) {
				t.Errorf("GET %s as %s (%d): page without a /logout link", e.Path, role, got.Status)
			}
		}
	}
}

// TestHiddenAnswersLikeMissing checks that a hidden order answers exactly
// like an order that does not exist, once the id is removed, unless the
// existence-leak bug is planted.
func TestHiddenAnswersLikeMissing(t *testing.T) {
	tests := []struct {
		bugs      Bugs
		role      string
		hidden    string
		missing   string
		wantAlike bool
	}{
		{Bugs{}, Customer, "/api/orders/18", "/api/orders/999999", true},
		{Bugs{}, Customer, "/orders/19", "/orders/999999", true},
		{Bugs{}, Anonymous, "/api/orders/17", "/api/orders/999999", true},
		{AllBugsOn(), Anonymous, "/api/orders/19", "/api/orders/999999", true},
		{Bugs{ExistenceLeak: true}, Customer, "/orders/19", "/orders/999999", true},
		{Bugs{ExistenceLeak: true}, Customer, "/api/orders/18", "/api/orders/999999", false},
	}
	for _, tt := range tests {
		f := newFixture(t, Options{Bugs: tt.bugs})
		h, m := f.get(t, tt.role, tt.hidden), f.get(t, tt.role, tt.missing)
		hb := strings.ReplaceAll(h.Body, tt.hidden[strings.LastIndex(tt.hidden, "/")+1:], "")
		mb := strings.ReplaceAll(m.Body, "999999", "")
		alike := h.Status == m.Status && hb == mb
		if alike != tt.wantAlike {
			t.Errorf("bugs %v, %s: %s (%d %q) alike %s (%d %q) = %v, want %v", tt.bugs.Names(), tt.role, tt.hidden, h.Status, h.Body, tt.missing, m.Status, m.Body, alike, tt.wantAlike)
		}
	}
}

func TestMethodsAndLog(t *testing.T) {
	f := newFixture(t, Options{})
	if got := f.do(t, http.MethodPost, Admin, "/login"); got.Status != 405 || got.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /login = %d Allow %q, want 405 Allow %q", got.Status, got.Header.Get("Allow"), "GET, HEAD")
	}
	if got := f.do(t, http.MethodHead, Customer, "/orders/17"); got.Status != 200 || got.Body != "" {
		t.Errorf("HEAD /orders/17 = %d with %d body bytes, want 200 and none", got.Status, len(got.Body))
	}
	if reqs := f.app.Requests(); reqs != nil {
		t.Errorf("Requests() without Options.Log = %d requests, want nil", len(reqs))
	}
}

func TestLoggerHoldsNoCredential(t *testing.T) {
	var buf bytes.Buffer
	f := newFixture(t, Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	for _, role := range Roles() {
		f.get(t, role, "/api/profile")
	}
	out := buf.String()
	if strings.Count(out, "demo request") != len(Roles()) || !strings.Contains(out, "role=admin") {
		t.Errorf("log = %q, want one line per request with its role", out)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(AdminUsername + ":" + AdminPassword))
	for _, secret := range []string{CustomerCookie, SupportToken, AdminPassword, basic} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds a credential: %q", out)
		}
	}
}

func TestBodiesHoldNoCredential(t *testing.T) {
	f := newFixture(t, Options{Bugs: AllBugsOn()})
	for _, e := range append(Endpoints(), Excluded()...) {
		for _, role := range Roles() {
			got := f.get(t, role, e.Path)
			for _, secret := range []string{CustomerCookie, SupportToken, AdminPassword} {
				if strings.Contains(got.Body, secret) || strings.Contains(got.Location, secret) {
					t.Errorf("GET %s as %s: answer holds a credential", e.Path, role)
				}
			}
		}
	}
}

func TestStart(t *testing.T) {
	s, err := Start(Options{Log: true})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	u, err := url.Parse(s.URL())
	if err != nil || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Port() == "0" {
		t.Errorf("URL() = %q, want http://127.0.0.1:<port>", s.URL())
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/api/profile", nil)
	setCredentials(req, Support)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET /api/profile: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /api/profile as support = %d, want 200", resp.StatusCode)
	}
	if reqs := s.App.Requests(); len(reqs) != 1 || reqs[0].Role != Support {
		t.Errorf("Requests() = %+v, want one request as support", reqs)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	client.CloseIdleConnections()
	if resp, err := client.Get(s.URL() + "/"); err == nil {
		resp.Body.Close()
		t.Errorf("GET / after Close answered %d, want an error", resp.StatusCode)
	}
}
