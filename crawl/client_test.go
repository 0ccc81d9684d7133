package crawl

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/permaudit/permaudit/crawl/crawltest"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

// TestCredentialsStayInOrigin crawls and probes the fixture site, whose
// pages redirect (301, 302, 303, 307, 308) and link to another origin on
// the same host, as a role with each kind of static credential, and as
// anonymous with a cookie the site set in its jar. The other origin must
// receive nothing at all.
func TestCredentialsStayInOrigin(t *testing.T) {
	kinds := []struct {
		kind, login, role string
	}{
		{"basic", `basic: {username: alice, password: "${USER_PASSWORD}"}`, crawltest.User},
		{"bearer", `bearer: "${ADMIN_TOKEN}"`, crawltest.Admin},
		{"headers", `headers: {X-Api-Key: "${USER_KEY}"}`, crawltest.User},
		{"cookies", `cookies: {session: "${ADMIN_COOKIE}"}`, crawltest.Admin},
	}
	for _, k := range kinds {
		t.Run(k.kind, func(t *testing.T) {
			site := crawltest.NewDefaultSite()
			defer site.Close()
			cfg := parseConfig(t, site.URL, "login_url: /login\ncrawl: {start: [/, /redirects], concurrency: 4, timeout: 5s}\n"+
				"roles:\n  r:\n    login:\n      "+k.login+"\n")
			opts := testOptions(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			inv, err := Discover(ctx, opts)
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			eps := []model.Endpoint{{Method: "GET", URL: site.Other.URL + "/direct"}}
			for _, e := range inv.Entries {
				eps = append(eps, e.Endpoint)
			}
			obs, err := Probe(ctx, opts, eps)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			// The client itself, asked directly.
			for _, s := range opts.Sessions {
				c := opts.Clients[s.Name()]
				for _, target := range []string{site.Other.URL + "/direct", strings.Replace(site.URL, "127.0.0.1", "localhost", 1) + "/"} {
					if resp, err := c.Get(target); err == nil {
						resp.Body.Close()
						t.Errorf("role %s: GET %s succeeded, want it refused", s.Name(), target)
					}
				}
				req, _ := http.NewRequest("GET", site.URL+"/", nil)
				req.Host = "other.example"
				if resp, err := c.Do(req); err == nil {
					resp.Body.Close()
					t.Errorf("role %s: request with Host %q succeeded, want it refused", s.Name(), req.Host)
				}
			}

			siteHost := strings.TrimPrefix(site.URL, "http://")
			var sawRole, sawJar bool
			for _, r := range site.Requests() {
				if r.Server == "other" {
					t.Errorf("the other origin got %s %s (role %s, credentials %v)", r.Method, r.URI, r.Role, r.HasCredentials())
					continue
				}
				if r.Host != siteHost {
					t.Errorf("the site got %s %s for host %q", r.Method, r.URI, r.Host)
				}
				sawRole = sawRole || r.Role == k.role
				sawJar = sawJar || strings.Contains(r.Header.Get("Cookie"), crawltest.JarCookie)
			}
			// Without these the test could pass by sending nothing.
			if !sawRole {
				t.Errorf("the site never saw role %s: credentials not attached in the origin", k.role)
			}
			if !sawJar {
				t.Errorf("the site never got back the cookie it set: the jar is not used")
			}
			redirects := 0
			for _, o := range obs {
				if strings.HasPrefix(o.URL, site.URL+"/r30") {
					redirects++
					if o.Class != model.Other || o.Why != "redirect off scope" || o.Chain != nil {
						t.Errorf("%s as %s: %s %q chain %v, want other \"redirect off scope\" and no chain", o.URL, o.Role, o.Class, o.Why, o.Chain)
					}
				}
				if strings.HasPrefix(o.URL, site.Other.URL) {
					t.Errorf("probed %s, which is out of scope", o.URL)
				}
			}
			if want := 5 * len(opts.Sessions); redirects != want {
				t.Errorf("got %d observations of /r30x, want %d", redirects, want)
			}
		})
	}
}

// recorder is an origin that logs what it receives.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newRecorder(h http.HandlerFunc) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Clone(context.Background()))
		r.mu.Unlock()
		if h != nil {
			h(w, req)
		}
	}))
	return r
}

func (r *recorder) requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.reqs...)
}

func TestClientAttachesInOrigin(t *testing.T) {
	in := newRecorder(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "app", Value: "jar-value", Path: "/"})
	})
	defer in.Close()
	cfg := parseConfig(t, in.URL, `
roles:
  r:
    login:
      bearer: "${ADMIN_TOKEN}"
      headers: {X-Api-Key: "${USER_KEY}"}
      cookies: {session: "${ADMIN_COOKIE}"}
`)
	scope, err := NewScope(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sess := session.NewSession(cfg.Role("r"))
	c := NewClient(scope, sess, ClientOptions{UserAgent: "ua-test"})
	for range 2 { // the second request carries the jar's cookie too
		req, _ := http.NewRequest("GET", in.URL+"/x", nil)
		req.Header.Set("User-Agent", "caller")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		resp.Body.Close()
		if req.Header.Get("Authorization") != "" {
			t.Errorf("the caller's request was modified: %v", req.Header)
		}
	}
	reqs := in.requests()
	if len(reqs) != 2 {
		t.Fatalf("got %d requests, want 2", len(reqs))
	}
	last := reqs[1]
	checks := []struct{ header, want string }{
		{"Authorization", "Bearer " + crawltest.AdminToken},
		{"X-Api-Key", crawltest.UserAPIKey},
		{"User-Agent", "ua-test"},
	}
	for _, c := range checks {
		if got := last.Header.Get(c.header); got != c.want {
			t.Errorf("%s = %q, want %q", c.header, got, c.want)
		}
	}
	if got := last.Header.Values("Cookie"); len(got) != 1 || !strings.Contains(got[0], "session="+crawltest.AdminCookie) || !strings.Contains(got[0], "app=jar-value") {
		t.Errorf("Cookie lines = %q, want one holding the session and the jar cookie", got)
	}

	// Redirects are returned, not followed.
	redir := newRecorder(func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/next", http.StatusFound) })
	defer redir.Close()
	s2, err := NewScope(parseConfig(t, redir.URL, ""))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := NewClient(s2, session.NewSession(&roles.Role{Name: "anonymous"}), ClientOptions{}).Get(redir.URL + "/start")
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || len(redir.requests()) != 1 {
		t.Errorf("got status %d after %d requests, want the 302 itself after 1", resp.StatusCode, len(redir.requests()))
	}
	if ua := redir.requests()[0].Header.Get("User-Agent"); ua != defaultUserAgent {
		t.Errorf("User-Agent = %q, want the default %q", ua, defaultUserAgent)
	}
}

func TestClientRefusesOffOrigin(t *testing.T) {
	other := newRecorder(nil)
	defer other.Close()
	u, _ := url.Parse(other.URL)
	cfg := parseConfig(t, "http://127.0.0.1:1", `
roles:
  r:
    login: {bearer: "${ADMIN_TOKEN}"}
`)
	scope, err := NewScope(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(scope, session.NewSession(cfg.Role("r")), ClientOptions{})
	_, err = c.Get(other.URL + "/x?token=abc")
	if err == nil {
		t.Fatalf("GET %s: no error, want refused", other.URL)
	}
	if !strings.Contains(err.Error(), "outside the target origin") {
		t.Errorf("error = %q, want it to say the request is outside the origin", err)
	}
	if n := len(other.requests()); n != 0 {
		t.Errorf("the other origin %s got %d requests, want none", u.Host, n)
	}
}
