package demoapp

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The four roles of the demo, from the least to the most privileged.
const (
	Anonymous = "anonymous"
	Customer  = "customer"
	Support   = "support"
	Admin     = "admin"
)

// Roles returns the demo's roles, anonymous first, in the order of their
// privileges: admin inherits support, which inherits customer.
func Roles() []string { return []string{Anonymous, Customer, Support, Admin} }

// rank orders the roles; an unknown role ranks as anonymous.
func rank(role string) int {
	switch role {
	case Customer:
		return 1
	case Support:
		return 2
	case Admin:
		return 3
	}
	return 0
}

// The forms of a Decision: how the application answers a request.
const (
	FormAllow           = "allow"              // 200 with the content
	FormLoginRedirect   = "login-redirect"     // 302 to /login?next=...: anonymous on an HTML page
	FormUnauthenticated = "unauthenticated"    // 401 with WWW-Authenticate: anonymous on the API
	FormForbidden       = "forbidden"          // 403: a signed-in role without the right
	FormDenialPage      = "denial-page"        // 200 "Sorry, you are not allowed to see this page"
	FormHidden          = "hidden"             // 404 for a resource that exists but is hidden from the role
	FormNotFound        = "not-found"          // 404: nothing there
	FormRedirect        = "redirect"           // 301 to the trailing-slash form; 302 from /logout, or /login when signed in
	FormLoginPage       = "login-page"         // 200 the sign-in form (anonymous on /login)
	FormMethod          = "method-not-allowed" // 405: only GET and HEAD are served
	FormBadRequest      = "bad-request"        // 400: the request target does not parse
)

// Decision is how the application answers one request as one role. It is
// comparable: two decisions are the same answer when they are ==.
type Decision struct {
	Status   int    // the HTTP status answered
	Location string // the Location header of a 301 or 302, else ""
	Form     string // one of the Form constants
	Route    string // the route pattern matched, such as "/api/orders/{id}"; "" when none
	Bug      string // the name of the planted bug that made this decision, "" when intended
}

// Policy is the demo's access policy, in code. The zero Policy is the
// intended policy; each switch of Bugs plants one bug.
type Policy struct {
	Bugs Bugs
}

// Decide returns how the application answers method and target (a path
// with an optional query, such as "/search?q=lamp") requested as role.
// An unknown role is treated as anonymous. It is what the handler uses.
//
// The intended policy: the public pages and product API are open to all.
// Everything else needs a role: anonymous is sent to /login (HTML pages)
// or told 401 with WWW-Authenticate (the API); a signed-in role without
// the right gets 403. Orders are hidden from those who may not read them:
// a customer is told 404 for another customer's order (page or API), and
// the order API /api/orders/{id} tells anonymous 404 for every order,
// exactly as for an order that does not exist. A customer opening the
// support queue gets a 200 page saying "Sorry, you are not allowed to see
// this page". Admin inherits support, which inherits customer. Rights are
// checked before existence, so an unknown path under /admin/ is 403 to
// support and 404 only to admin.
func (p Policy) Decide(role, method, target string) Decision {
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return Decision{Status: http.StatusBadRequest, Form: FormBadRequest}
	}
	if method != http.MethodGet && method != http.MethodHead {
		return Decision{Status: http.StatusMethodNotAllowed, Form: FormMethod}
	}
	path, r := u.Path, rank(role)
	switch path {
	case "/logout":
		return Decision{Status: http.StatusFound, Location: "/", Form: FormRedirect, Route: "/logout"}
	case "/login":
		if r == 0 {
			return Decision{Status: http.StatusOK, Form: FormLoginPage, Route: "/login"}
		}
		return Decision{Status: http.StatusFound, Location: "/", Form: FormRedirect, Route: "/login"}
	}
	if !strings.HasSuffix(path, "/") && isDir(path+"/") {
		loc := path + "/"
		if u.RawQuery != "" {
			loc += "?" + u.RawQuery
		}
		return Decision{Status: http.StatusMovedPermanently, Location: loc, Form: FormRedirect}
	}
	api := strings.HasPrefix(path, "/api/")
	rt, id, found := lookup(path)
	d := Decision{Route: rt.pattern}
	if r < needs(path) {
		switch {
		case p.Bugs.Leak && role == Support && path == "/api/admin/export":
			// Bug: the export checks "staff" (support or admin) instead of admin.
			d.Bug = BugLeak
		case r == 0 && api && p.Bugs.WrongCode && path == "/api/tickets":
			// Bug: the ticket list answers 403 to everyone who is not staff,
			// without asking anonymous who they are.
			d.Status, d.Form, d.Bug = http.StatusForbidden, FormForbidden, BugWrongCode
			return d
		case r == 0 && found && rt.kind == resOrder && api:
			// The order API tells no one who may not read an order that it
			// exists: 404, as for an order that does not exist.
			d.Status, d.Form = http.StatusNotFound, FormHidden
			if !exists(rt.kind, id) {
				d.Form = FormNotFound
			}
			return d
		case r == 0 && api:
			d.Status, d.Form = http.StatusUnauthorized, FormUnauthenticated
			return d
		case r == 0:
			d.Status, d.Form = http.StatusFound, FormLoginRedirect
			d.Location = "/login?next=" + url.QueryEscape(u.RequestURI())
			return d
		case role == Customer && path == "/support/":
			d.Status, d.Form = http.StatusOK, FormDenialPage
			return d
		default:
			d.Status, d.Form = http.StatusForbidden, FormForbidden
			return d
		}
	}
	if !found {
		return Decision{Status: http.StatusNotFound, Form: FormNotFound}
	}
	if p.Bugs.Blocked && role == Support && rt.pattern == "/support/tickets/{id}" {
		// Bug: the ticket page checks role == admin instead of support or higher.
		d.Status, d.Form, d.Bug = http.StatusForbidden, FormForbidden, BugBlocked
		return d
	}
	if rt.kind != resNone && !exists(rt.kind, id) {
		d.Status, d.Form = http.StatusNotFound, FormNotFound
		return d
	}
	if rt.kind == resOrder && r == rank(Customer) && orderByID(id).Customer != customerUserID {
		if api && p.Bugs.ExistenceLeak {
			// Bug: the order API says 403 for another customer's order, but
			// 404 for an order that does not exist.
			d.Status, d.Form, d.Bug = http.StatusForbidden, FormForbidden, BugExistenceLeak
			return d
		}
		d.Status, d.Form = http.StatusNotFound, FormHidden
		return d
	}
	d.Status, d.Form = http.StatusOK, FormAllow
	return d
}

// needs returns the rank a path needs, by area: the admin area, the support
// area, the customer's area, or public. Unknown paths in an area need the
// area's rank, so that their existence is told only to those who may see it.
func needs(path string) int {
	switch {
	case strings.HasPrefix(path, "/admin/"), strings.HasPrefix(path, "/api/admin/"):
		return rank(Admin)
	case strings.HasPrefix(path, "/support/"), path == "/api/tickets", strings.HasPrefix(path, "/api/tickets/"):
		return rank(Support)
	case strings.HasPrefix(path, "/account/"), strings.HasPrefix(path, "/orders/"),
		path == "/api/orders", strings.HasPrefix(path, "/api/orders/"), path == "/api/profile":
		return rank(Customer)
	}
	return 0
}

// resource is what the {id} of a route names.
type resource int

const (
	resNone resource = iota
	resProduct
	resOrder
	resTicket
	resUser
)

// route is one GET route of the application. examples are the concrete
// paths (with query) that Endpoints lists and the pages link.
type route struct {
	pattern  string
	kind     resource
	examples []string
}

// routes is the route table, read-only. /login is listed for Endpoints
// but served apart, as is /logout (see Decide).
var routes = []route{
	{pattern: "/", examples: []string{"/"}},
	{pattern: "/login", examples: []string{"/login"}},
	{pattern: "/about", examples: []string{"/about"}},
	{pattern: "/search", examples: []string{"/search?q=lamp"}},
	{pattern: "/products/", examples: []string{"/products/"}},
	{pattern: "/products/{id}", kind: resProduct, examples: []string{"/products/1", "/products/2", "/products/3"}},
	{pattern: "/api/products", examples: []string{"/api/products"}},
	{pattern: "/api/products/{id}", kind: resProduct, examples: []string{"/api/products/1", "/api/products/2", "/api/products/3"}},

	{pattern: "/account/", examples: []string{"/account/"}},
	{pattern: "/account/profile", examples: []string{"/account/profile"}},
	{pattern: "/orders/", examples: []string{"/orders/"}},
	{pattern: "/orders/{id}", kind: resOrder, examples: []string{"/orders/17", "/orders/18", "/orders/19"}},
	{pattern: "/api/profile", examples: []string{"/api/profile"}},
	{pattern: "/api/orders", examples: []string{"/api/orders"}},
	{pattern: "/api/orders/{id}", kind: resOrder, examples: []string{"/api/orders/17", "/api/orders/18", "/api/orders/19"}},

	{pattern: "/support/", examples: []string{"/support/"}},
	{pattern: "/support/orders/", examples: []string{"/support/orders/"}},
	{pattern: "/support/tickets/{id}", kind: resTicket, examples: []string{"/support/tickets/101", "/support/tickets/102"}},
	{pattern: "/api/tickets", examples: []string{"/api/tickets"}},
	{pattern: "/api/tickets/{id}", kind: resTicket, examples: []string{"/api/tickets/101", "/api/tickets/102"}},

	{pattern: "/admin/", examples: []string{"/admin/"}},
	{pattern: "/admin/users/", examples: []string{"/admin/users/"}},
	{pattern: "/admin/users/{id}", kind: resUser, examples: []string{"/admin/users/21", "/admin/users/22", "/admin/users/23"}},
	{pattern: "/admin/settings", examples: []string{"/admin/settings"}},
	{pattern: "/admin/reports/", examples: []string{"/admin/reports/"}},
	{pattern: "/admin/reports/sales", examples: []string{"/admin/reports/sales?year=2024"}},
	{pattern: "/api/admin/users", examples: []string{"/api/admin/users"}},
	{pattern: "/api/admin/export", examples: []string{"/api/admin/export"}},
	{pattern: "/api/admin/stats", examples: []string{"/api/admin/stats"}},
}

// lookup finds the route of path and the number its {id} holds. An {id}
// matches a segment of 1 to 9 digits without a leading zero, so that each
// resource has one URL.
func lookup(path string) (route, int, bool) {
	segs := strings.Split(path, "/")
	for _, rt := range routes {
		ps := strings.Split(rt.pattern, "/")
		if len(ps) != len(segs) {
			continue
		}
		id, ok := 0, true
		for i, p := range ps {
			if p == "{id}" {
				s := segs[i]
				n, err := strconv.Atoi(s)
				if err != nil || len(s) > 9 || strings.TrimLeft(s, "0123456789") != "" || (len(s) > 1 && s[0] == '0') {
					ok = false
					break
				}
				id = n
				continue
			}
			if p != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return rt, id, true
		}
	}
	return route{}, 0, false
}

// isDir reports whether path (ending in "/") is a directory route.
func isDir(path string) bool {
	for _, rt := range routes {
		if rt.pattern == path {
			return true
		}
	}
	return false
}

func exists(kind resource, id int) bool {
	switch kind {
	case resProduct:
		return productByID(id).ID != 0
	case resOrder:
		return orderByID(id).ID != 0
	case resTicket:
		return ticketByID(id).ID != 0
	case resUser:
		return userByID(id).ID != 0
	}
	return true
}

// Endpoint is one concrete endpoint of the demo: a method and a path with
// its query, with the route it belongs to.
type Endpoint struct {
	Method string // "GET"
	Path   string // path and query, such as "/search?q=lamp"
	Route  string // the route pattern, such as "/search"
}

// Endpoints returns the route table as concrete endpoints: every GET
// endpoint the demo serves and links from some page, including those only
// some roles may reach, in a fixed order. It leaves out /logout, which an
// audit must never request (see Excluded).
func Endpoints() []Endpoint {
	var es []Endpoint
	for _, rt := range routes {
		for _, ex := range rt.examples {
			es = append(es, Endpoint{Method: http.MethodGet, Path: ex, Route: rt.pattern})
		}
	}
	return es
}

// Excluded returns the endpoints the demo links but an audit must never
// request: /logout, skipped by the default exclusion words.
func Excluded() []Endpoint {
	return []Endpoint{{Method: http.MethodGet, Path: "/logout", Route: "/logout"}}
}
