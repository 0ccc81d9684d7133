// Package crawltest provides a fixture web application for tests of the
// crawler and of the commands that drive it, in the manner of
// net/http/httptest.
//
// A Site serves a route table, which is the truth of a test: Answer says
// what the site answers a role for a URL, Reachable which endpoints a role
// can discover by following what it is answered, and Requests what the
// site and a second origin (Other: the same host on another port) were
// actually sent. Roles are told apart by their credentials, see the
// constants; unknown or conflicting credentials read as role "invalid".
package crawltest

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Credentials the site knows and the role each signs in as. The values
// are distinctive so a test can search any text for them.
const (
	UserName     = "alice"
	UserPassword = "alice-pw-5ecret-1"       // HTTP Basic UserName:UserPassword: role "user"
	UserAPIKey   = "user-api-key-5ecret-2"   // X-Api-Key header: role "user"
	AdminToken   = "admin-bearer-5ecret-3"   // Authorization: Bearer: role "admin"
	AdminCookie  = "admin-cookie-5ecret-4"   // Cookie session=AdminCookie: role "admin"
	JarCookie    = "app-jar-cookie-5ecret-5" // set by "/" as cookie appsess, identifies nobody
)

// Role names the site knows.
const (
	Anonymous = "anonymous"
	User      = "user"
	Admin     = "admin"
	Invalid   = "invalid"
)

// DenialText is the body of the 200 answer that DenyInPlace gives a
// signed-in role: a denial signature.
const DenialText = "Sorry, you are not allowed"

// Denial says how a route answers a role it does not allow.
type Denial int

// The denials.
const (
	// DenyDefault: anonymous is redirected (302) to /login?next=PATH;
	// a signed-in role gets 403.
	DenyDefault Denial = iota
	// Deny401: 401 with WWW-Authenticate.
	Deny401
	// Deny404: the same 404 as a path the site does not have.
	Deny404
	// DenyInPlace: 200 with the login page for anonymous and DenialText
	// for a signed-in role.
	DenyInPlace
)

// Route is one path of the site. The query of a request is ignored.
type Route struct {
	Path  string
	Allow []string // roles answered; nil means every role, anonymous included
	Deny  Denial   // how the others are answered

	// The answer to an allowed role.
	Status      int    // default 200, or 302 with Redirect
	Redirect    string // Location
	Links       []string
	Forms       []Form
	Body        string // appended to the page
	ContentType string // default "text/html; charset=utf-8"; a page is HTML only then
	SetCookie   string // a Set-Cookie header value
	Slow        bool   // answers only when the client gives up or the site closes

	// In Links and Redirect, "{other}" is replaced by Other's URL and
	// "{localhost}" by the site's URL with host name localhost.
}

// Form is a form on a page.
type Form struct {
	Method   string // as written: "get", "post", ""
	Action   string // "" posts to the page itself
	Password bool   // holds a password field
}

// Answer is what the site answers one role for one URL.
type Answer struct {
	Status      int
	Location    string
	ContentType string
	Links       []string // hrefs on the page, placeholders replaced
	Forms       []Form
	Body        string
	SetCookie   string
	WWWAuth     string
	Slow        bool
}

// Request is one request a server received.
type Request struct {
	Server string // "site" or "other"
	Method string
	Host   string
	URI    string // path and query as sent
	Role   string // as identified by the site
	Header http.Header
}

// HasCredentials reports whether the request carried an Authorization,
// Cookie or X-Api-Key header.
func (r Request) HasCredentials() bool {
	for _, h := range []string{"Authorization", "Cookie", "X-Api-Key"} {
		if r.Header.Get(h) != "" {
			return true
		}
	}
	return false
}

// Site is a running fixture application and a second origin.
type Site struct {
	*httptest.Server                  // the application
	Other            *httptest.Server // another origin: same host, another port

	routes map[string]Route
	quit   chan struct{}
	once   sync.Once

	mu  sync.Mutex
	log []Request
}

// NewSite starts a site serving routes, and its Other origin.
func NewSite(routes []Route) *Site {
	s := &Site{routes: map[string]Route{}, quit: make(chan struct{})}
	for _, r := range routes {
		s.routes[r.Path] = r
	}
	s.Server = httptest.NewServer(s.handler("site"))
	s.Other = httptest.NewServer(s.handler("other"))
	return s
}

// NewDefaultSite starts a site serving DefaultRoutes.
func NewDefaultSite() *Site { return NewSite(DefaultRoutes()) }

// Close releases slow requests and shuts both servers down.
func (s *Site) Close() {
	s.once.Do(func() { close(s.quit) })
	s.Server.Close()
	s.Other.Close()
}

// Requests returns every request received so far, in arrival order.
func (s *Site) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// Reset forgets the requests received so far.
func (s *Site) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

// DefaultRoutes is a small application: public pages linking each other,
// pages for signed-in roles, an admin area linked only from an admin page,
// a redirect chain, a trailing-slash redirect, login redirects, a login
// page, a logout link, a delete link, links off the origin (another port,
// another host name, mailto:, javascript:), redirects to the other origin
// with every redirect code, a JSON answer, a 500, and /slow (linked from
// nowhere).
func DefaultRoutes() []Route {
	signedIn, adminOnly := []string{User, Admin}, []string{Admin}
	return []Route{
		{Path: "/", SetCookie: "appsess=" + JarCookie + "; Path=/", Links: []string{
			"/about", "/products", "/account", "/admin/", "/old", "/inbox", "/reports", "/private",
			"/logout", "/redirects", "/api/status", "{other}/elsewhere", "{localhost}/about",
			"mailto:info@example.com", "javascript:void(0)", "#top",
		}, Forms: []Form{{Method: "get", Action: "/search"}}},
		{Path: "/about", Links: []string{"/", "./about", "/about#team", "/products/?b=2&a=1", "/error"}},
		{Path: "/products", Status: http.StatusMovedPermanently, Redirect: "/products/"},
		{Path: "/products/", Links: []string{"1", "2", "../about"}},
		{Path: "/products/1"},
		{Path: "/products/2"},
		{Path: "/search"},
		{Path: "/account", Allow: signedIn, Links: []string{"/account/settings", "/logout?all=1", "/account/delete"}},
		{Path: "/account/settings", Allow: signedIn, Forms: []Form{{Method: "post"}}},
		{Path: "/account/delete", Allow: signedIn},
		{Path: "/old", Redirect: "/older"},
		{Path: "/older", Status: http.StatusMovedPermanently, Redirect: "/about"},
		{Path: "/login", Forms: []Form{{Method: "post", Action: "/login", Password: true}}},
		{Path: "/logout", Redirect: "/"},
		{Path: "/admin/", Allow: adminOnly, Links: []string{"/admin/users", "/admin/reports/7"}},
		{Path: "/admin/users", Allow: adminOnly},
		{Path: "/admin/reports/7", Allow: adminOnly, Deny: Deny404},
		{Path: "/inbox", Allow: signedIn, Deny: DenyInPlace},
		{Path: "/reports", Allow: adminOnly, Deny: DenyInPlace},
		{Path: "/private", Allow: signedIn, Deny: Deny401},
		{Path: "/redirects", Links: []string{"/r301", "/r302", "/r303", "/r307", "/r308"}},
		{Path: "/r301", Status: 301, Redirect: "{other}/landing"},
		{Path: "/r302", Status: 302, Redirect: "{other}/landing"},
		{Path: "/r303", Status: 303, Redirect: "{other}/landing"},
		{Path: "/r307", Status: 307, Redirect: "{other}/landing"},
		{Path: "/r308", Status: 308, Redirect: "{other}/landing"},
		{Path: "/api/status", ContentType: "application/json", Body: `{"ok":true,"html":"<a href='/api/hidden'>x</a>"}`},
		{Path: "/error", Status: http.StatusInternalServerError},
		{Path: "/slow", Slow: true},
	}
}

// Identify returns the role r's credentials sign in as.
func Identify(r *http.Request) string {
	var found []string
	if u, p, ok := r.BasicAuth(); ok {
		found = append(found, pick(u == UserName && p == UserPassword, User))
	} else if a := r.Header.Get("Authorization"); a != "" {
		tok, ok := strings.CutPrefix(a, "Bearer ")
		found = append(found, pick(ok && tok == AdminToken, Admin))
	}
	if k := r.Header.Get("X-Api-Key"); k != "" {
		found = append(found, pick(k == UserAPIKey, User))
	}
	if c, err := r.Cookie("session"); err == nil {
		found = append(found, pick(c.Value == AdminCookie, Admin))
	}
	if len(found) == 0 {
		return Anonymous
	}
	for _, f := range found[1:] {
		if f != found[0] {
			return Invalid
		}
	}
	return found[0]
}

func pick(ok bool, role string) string {
	if ok {
		return role
	}
	return Invalid
}

func (s *Site) handler(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		role := Identify(r)
		s.mu.Lock()
		s.log = append(s.log, Request{
			Server: name, Method: r.Method, Host: r.Host, URI: r.URL.RequestURI(), Role: role, Header: r.Header.Clone(),
		})
		s.mu.Unlock()
		if name == "other" {
			fmt.Fprint(w, "another origin")
			return
		}
		a := s.Answer(role, r.URL.RequestURI())
		if a.Slow {
			select {
			case <-r.Context().Done():
				return
			case <-s.quit:
			case <-time.After(30 * time.Second):
			}
		}
		h := w.Header()
		h.Set("Content-Type", a.ContentType)
		if a.Location != "" {
			h.Set("Location", a.Location)
		}
		if a.SetCookie != "" {
			h.Set("Set-Cookie", a.SetCookie)
		}
		if a.WWWAuth != "" {
			h.Set("WWW-Authenticate", a.WWWAuth)
		}
		w.WriteHeader(a.Status)
		fmt.Fprint(w, render(r.URL.Path, a))
	}
}

func render(title string, a Answer) string {
	if !strings.HasPrefix(a.ContentType, "text/html") {
		return a.Body
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html>\n<html><head><title>%s</title></head><body>\n", html.EscapeString(title))
	for _, l := range a.Links {
		fmt.Fprintf(&b, "<a href=\"%s\">%s</a>\n", html.EscapeString(l), html.EscapeString(l))
	}
	for _, f := range a.Forms {
		fmt.Fprintf(&b, "<form method=\"%s\"", html.EscapeString(f.Method))
		if f.Action != "" {
			fmt.Fprintf(&b, " action=\"%s\"", html.EscapeString(f.Action))
		}
		b.WriteString("><input name=\"q\">")
		if f.Password {
			b.WriteString("<input type=\"password\" name=\"password\">")
		}
		b.WriteString("<button>Go</button></form>\n")
	}
	b.WriteString(a.Body)
	b.WriteString("\n</body></html>\n")
	return b.String()
}

// Answer returns what the site answers role for target (a path and
// optional query).
func (s *Site) Answer(role, target string) Answer {
	const htmlType = "text/html; charset=utf-8"
	u, err := url.Parse(target)
	if err != nil {
		return Answer{Status: http.StatusBadRequest, ContentType: htmlType, Body: "bad request"}
	}
	notFound := Answer{Status: http.StatusNotFound, ContentType: htmlType, Body: "not found"}
	rt, ok := s.routes[u.Path]
	if !ok {
		return notFound
	}
	if rt.Allow == nil || slices.Contains(rt.Allow, role) {
		a := Answer{
			Status: rt.Status, ContentType: rt.ContentType, Links: s.expand(rt.Links), Forms: rt.Forms,
			Body: rt.Body, SetCookie: rt.SetCookie, Slow: rt.Slow,
		}
		if rt.Redirect != "" {
			a.Location = s.expand([]string{rt.Redirect})[0]
			if a.Status == 0 {
				a.Status = http.StatusFound
			}
		}
		if a.Status == 0 {
			a.Status = http.StatusOK
		}
		if a.ContentType == "" {
			a.ContentType = htmlType
		}
		return a
	}
	loginPage := Answer{Status: http.StatusOK, ContentType: htmlType,
		Forms: []Form{{Method: "post", Action: "/login", Password: true}}, Body: "please sign in"}
	switch rt.Deny {
	case Deny401:
		return Answer{Status: http.StatusUnauthorized, ContentType: htmlType, WWWAuth: `Basic realm="fixture"`, Body: "sign in first"}
	case Deny404:
		return notFound
	case DenyInPlace:
		if role == Anonymous {
			return loginPage
		}
		return Answer{Status: http.StatusOK, ContentType: htmlType, Body: DenialText, Links: []string{"/"}}
	}
	if role == Anonymous {
		return Answer{Status: http.StatusFound, ContentType: htmlType,
			Location: "/login?next=" + url.QueryEscape(u.Path), Body: "see the login page"}
	}
	return Answer{Status: http.StatusForbidden, ContentType: htmlType, Body: "forbidden", Links: []string{"/"}}
}

func (s *Site) expand(refs []string) []string {
	if refs == nil {
		return nil
	}
	local := strings.Replace(s.URL, "127.0.0.1", "localhost", 1)
	r := strings.NewReplacer("{other}", s.Other.URL, "{localhost}", local)
	out := make([]string, len(refs))
	for i, ref := range refs {
		out[i] = r.Replace(ref)
	}
	return out
}

// Reachable returns the endpoints (absolute URLs, GET) that role can
// discover from start (default "/") by following the redirects, links
// and GET forms (submitted with their empty fields, as a browser does)
// of the HTML answers it gets, in the site's origin and
// where keep (nil: all) says so. The URLs have no fragment, no default
// port and their query sorted. It requests nothing: it walks Answer.
func (s *Site) Reachable(role string, keep func(*url.URL) bool, start ...string) []string {
	if len(start) == 0 {
		start = []string{"/"}
	}
	origin, _ := url.Parse(s.URL)
	seen := map[string]bool{}
	var queue []*url.URL
	visit := func(base *url.URL, ref string) {
		r, err := url.Parse(strings.TrimSpace(ref))
		if err != nil {
			return
		}
		u := base.ResolveReference(r)
		u.Fragment, u.RawFragment = "", ""
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host != origin.Host {
			return
		}
		if u.Path == "" {
			u.Path = "/"
		}
		u.RawQuery = u.Query().Encode()
		if keep != nil && !keep(u) {
			return
		}
		if k := u.String(); !seen[k] {
			seen[k] = true
			queue = append(queue, u)
		}
	}
	for _, st := range start {
		visit(origin, st)
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		a := s.Answer(role, u.RequestURI())
		if a.Location != "" && a.Status >= 300 && a.Status < 400 {
			visit(u, a.Location)
		}
		if !strings.HasPrefix(a.ContentType, "text/html") {
			continue
		}
		for _, l := range a.Links {
			visit(u, l)
		}
		for _, f := range a.Forms {
			if strings.EqualFold(f.Method, "post") {
				continue
			}
			action := f.Action
			if action == "" {
				action = u.String()
			}
			// A browser submits a GET form untouched: its query is the
			// fields render writes, empty.
			r, err := url.Parse(strings.TrimSpace(action))
			if err != nil {
				continue
			}
			r.RawQuery = "q="
			if f.Password {
				r.RawQuery += "&password="
			}
			visit(u, r.String())
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
