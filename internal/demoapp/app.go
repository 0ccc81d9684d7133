package demoapp

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Options configure the demo application.
type Options struct {
	// Bugs plants bugs; the zero value serves the intended policy.
	Bugs Bugs
	// Log keeps a log of every request, returned by Requests.
	Log bool
	// Logger, when set, gets one line per request (method, path, role,
	// status; never a credential).
	Logger *slog.Logger
}

// Request is one request the application answered, as kept when
// Options.Log is set.
type Request struct {
	Method string
	Target string // path and query, as requested
	Role   string // the role its credentials resolved to
	Status int
	// Header is a copy of the request's headers, credentials included:
	// it is for tests, never for output.
	Header http.Header
}

// App is the demo application, an http.Handler. It is safe for concurrent
// use.
type App struct {
	policy Policy
	keep   bool
	logger *slog.Logger
	tmpl   *template.Template

	logouts atomic.Int64
	mu      sync.Mutex
	log     []Request
}

// New returns the demo application.
func New(opts Options) *App {
	return &App{
		policy: Policy{Bugs: opts.Bugs},
		keep:   opts.Log,
		logger: opts.Logger,
		tmpl:   template.Must(template.New("page").Parse(pageHTML)),
	}
}

// Policy returns the policy the application serves.
func (a *App) Policy() Policy { return a.policy }

// Requests returns a copy of the request log, in the order the answers
// were written; nil unless Options.Log is set.
func (a *App) Requests() []Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.log == nil {
		return nil
	}
	return append([]Request(nil), a.log...)
}

// LogoutHits returns how many times /logout was requested. An audit must
// never request it.
func (a *App) LogoutHits() int { return int(a.logouts.Load()) }

// RoleOf returns the role the credentials of r sign in as: admin for HTTP
// Basic admin:AdminPassword, support for "Bearer SupportToken", customer
// for the acme_session cookie; anonymous otherwise, wrong credentials
// included. When several are valid, the highest role wins.
func RoleOf(r *http.Request) string {
	if u, p, ok := r.BasicAuth(); ok && same(u, AdminUsername) && same(p, AdminPassword) {
		return Admin
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && same(tok, SupportToken) {
		return Support
	}
	for _, c := range r.Cookies() {
		if c.Name == CustomerCookieName && same(c.Value, CustomerCookie) {
			return Customer
		}
	}
	return Anonymous
}

func same(got, want string) bool { return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 }

// ServeHTTP answers r as the policy decides.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	role := RoleOf(r)
	target := r.URL.RequestURI()
	d := a.policy.Decide(role, r.Method, target)
	if d.Route == "/logout" {
		a.logouts.Add(1)
	}
	a.write(w, r, role, d)
	if a.logger != nil {
		a.logger.Info("demo request", "method", r.Method, "path", target, "role", role, "status", d.Status)
	}
	if a.keep {
		a.mu.Lock()
		a.log = append(a.log, Request{Method: r.Method, Target: target, Role: role, Status: d.Status, Header: r.Header.Clone()})
		a.mu.Unlock()
	}
}

func (a *App) write(w http.ResponseWriter, r *http.Request, role string, d Decision) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	u, err := url.ParseRequestURI(r.URL.RequestURI())
	if err != nil {
		u = &url.URL{Path: "/"}
	}
	api := strings.HasPrefix(u.Path, "/api/")
	switch d.Form {
	case FormAllow:
		if api {
			a.json(w, http.StatusOK, apiContent(role, d.Route, idOf(u.Path)))
			return
		}
		a.html(w, http.StatusOK, htmlContent(role, d.Route, idOf(u.Path), u.Query()))
	case FormLoginPage:
		next := u.Query().Get("next")
		if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
			next = "/"
		}
		a.html(w, http.StatusOK, page{Role: role, Title: "Sign in",
			Intro: []string{"Sign in to see your orders."}, Login: &loginForm{Next: next}})
	case FormLoginRedirect, FormRedirect:
		h.Set("Location", d.Location)
		w.WriteHeader(d.Status)
	case FormUnauthenticated:
		h.Set("WWW-Authenticate", `Bearer realm="acme"`)
		a.json(w, d.Status, map[string]string{"error": "authentication required"})
	case FormForbidden:
		if api {
			a.json(w, d.Status, map[string]string{"error": "forbidden"})
			return
		}
		a.html(w, d.Status, page{Role: role, Title: "Forbidden",
			Intro: []string{"Your account has no access to this page."}})
	case FormDenialPage:
		a.html(w, d.Status, page{Role: role, Title: "Support queue",
			Intro: []string{"Sorry, you are not allowed to see this page."}})
	case FormHidden, FormNotFound:
		// One body for both: a hidden resource answers exactly like a
		// missing one.
		if api {
			a.json(w, http.StatusNotFound, map[string]string{"error": "not found", "path": u.Path})
			return
		}
		a.html(w, http.StatusNotFound, page{Role: role, Title: "Not found",
			Intro: []string{"There is nothing at " + u.Path + "."}})
	case FormMethod:
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", d.Status)
	default:
		http.Error(w, http.StatusText(d.Status), d.Status)
	}
}

func (a *App) json(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // the demo's data always marshals
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

func (a *App) html(w http.ResponseWriter, status int, p page) {
	p.Nav = nav(p.Role)
	var b strings.Builder
	if err := a.tmpl.Execute(&b, p); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// idOf returns the number of the last path segment, or 0.
func idOf(path string) int {
	n, err := strconv.Atoi(path[strings.LastIndex(path, "/")+1:])
	if err != nil {
		return 0
	}
	return n
}

type link struct{ Text, Href string }

type fact struct{ Label, Value string }

type loginForm struct{ Next string }

// page is the model of every HTML page.
type page struct {
	Role  string
	Title string
	Nav   []link
	Intro []string
	Facts []fact
	Links []link
	Login *loginForm
}

// pageHTML is the one layout of every HTML page. Every page links /logout.
const pageHTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}} - Acme Orders</title></head>
<body>
<header>
<nav>{{range .Nav}}<a href="{{.Href}}">{{.Text}}</a> | {{end}}<a href="/logout">Sign out</a></nav>
<p>{{if eq .Role "anonymous"}}Not signed in.{{else}}Signed in as {{.Role}}.{{end}}</p>
</header>
<main>
<h1>{{.Title}}</h1>
{{range .Intro}}<p>{{.}}</p>
{{end}}{{if .Facts}}<dl>
{{range .Facts}}<dt>{{.Label}}</dt><dd>{{.Value}}</dd>
{{end}}</dl>
{{end}}{{if .Links}}<ul>
{{range .Links}}<li><a href="{{.Href}}">{{.Text}}</a></li>
{{end}}</ul>
{{end}}{{with .Login}}<form method="post" action="/login">
<input type="hidden" name="next" value="{{.Next}}">
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>
{{end}}</main>
</body>
</html>
`

// nav returns the navigation of role: each role's links, and those of the
// roles it inherits.
func nav(role string) []link {
	l := []link{{"Home", "/"}, {"Products", "/products/"}, {"About", "/about"}}
	r := rank(role)
	if r == 0 {
		l = append(l, link{"Sign in", "/login"})
	}
	if r >= rank(Customer) {
		l = append(l, link{"My account", "/account/"}, link{"My orders", "/orders/"})
	}
	if r >= rank(Support) {
		l = append(l, link{"Support queue", "/support/"})
	}
	if r >= rank(Admin) {
		l = append(l, link{"Admin", "/admin/"})
	}
	return l
}

// htmlContent returns the page of an allowed HTML route.
func htmlContent(role, route string, id int, q url.Values) page {
	p := page{Role: role}
	me := userOfRole(role)
	switch route {
	case "/":
		p.Title = "Acme Orders"
		p.Intro = []string{"Lamps, notebooks and mugs, delivered."}
		p.Links = append([]link{}, nav(role)[1:]...)
		p.Links = append(p.Links, link{"Search for lamps", "/search?q=lamp"}, link{"Product API", "/api/products"})
	case "/about":
		p.Title = "About Acme"
		p.Intro = []string{"Acme Orders is the demo shop bundled with permaudit. Its policy and its bugs are planted on purpose."}
	case "/search":
		term := q.Get("q")
		p.Title = "Search"
		p.Intro = []string{fmt.Sprintf("Products matching %q:", term)}
		for _, pr := range products() {
			if term != "" && strings.Contains(strings.ToLower(pr.Name), strings.ToLower(term)) {
				p.Links = append(p.Links, link{pr.Name, "/products/" + strconv.Itoa(pr.ID)})
			}
		}
	case "/products/":
		p.Title = "Products"
		for _, pr := range products() {
			p.Links = append(p.Links, link{pr.Name, "/products/" + strconv.Itoa(pr.ID)})
		}
	case "/products/{id}":
		pr := productByID(id)
		p.Title = pr.Name
		p.Facts = []fact{{"Price", pr.Price}}
		p.Links = []link{{"As JSON", pr.URL}, {"All products", "/products/"}}
	case "/account/":
		p.Title = "My account"
		p.Facts = []fact{{"Name", me.Name}, {"Email", me.Email}}
		p.Links = []link{{"Profile", "/account/profile"}, {"My orders", "/orders/"},
			{"Profile API", "/api/profile"}, {"Orders API", "/api/orders"}}
	case "/account/profile":
		p.Title = "Profile"
		p.Facts = []fact{{"Name", me.Name}, {"Email", me.Email}, {"Role", me.Role}}
	case "/orders/":
		p.Title = "My orders"
		for _, o := range ordersOf(role) {
			if o.Customer != me.ID {
				continue
			}
			p.Links = append(p.Links, link{"Order #" + strconv.Itoa(o.ID), "/orders/" + strconv.Itoa(o.ID)},
				link{"Order #" + strconv.Itoa(o.ID) + " as JSON", o.URL})
		}
		if len(p.Links) == 0 {
			p.Intro = []string{"You have no orders."}
		}
		if rank(role) >= rank(Support) {
			p.Links = append(p.Links, link{"All customers' orders", "/support/orders/"})
		}
	case "/orders/{id}":
		o := orderByID(id)
		p.Title = "Order #" + strconv.Itoa(o.ID)
		p.Facts = []fact{{"Items", strings.Join(o.Items, ", ")}, {"Total", o.Total}, {"Status", o.Status}}
		p.Links = []link{{"As JSON", o.URL}}
	case "/support/":
		p.Title = "Support queue"
		p.Links = []link{{"All customers' orders", "/support/orders/"}, {"Tickets API", "/api/tickets"}}
		for _, t := range tickets() {
			p.Links = append(p.Links, link{"Ticket #" + strconv.Itoa(t.ID) + ": " + t.Subject, "/support/tickets/" + strconv.Itoa(t.ID)},
				link{"Ticket #" + strconv.Itoa(t.ID) + " as JSON", t.URL})
		}
	case "/support/orders/":
		p.Title = "All customers' orders"
		for _, o := range orders() {
			p.Links = append(p.Links, link{"Order #" + strconv.Itoa(o.ID), "/orders/" + strconv.Itoa(o.ID)},
				link{"Order #" + strconv.Itoa(o.ID) + " as JSON", o.URL})
		}
	case "/support/tickets/{id}":
		t := ticketByID(id)
		p.Title = "Ticket #" + strconv.Itoa(t.ID)
		p.Facts = []fact{{"Subject", t.Subject}, {"Status", t.Status}, {"Customer", strconv.Itoa(t.Customer)}}
		p.Links = []link{{"Order #" + strconv.Itoa(t.Order), "/orders/" + strconv.Itoa(t.Order)}, {"As JSON", t.URL}}
	case "/admin/":
		p.Title = "Admin"
		p.Links = []link{{"Customers", "/admin/users/"}, {"Settings", "/admin/settings"}, {"Reports", "/admin/reports/"},
			{"Users API", "/api/admin/users"}, {"Export everything (JSON)", "/api/admin/export"}, {"Statistics API", "/api/admin/stats"}}
	case "/admin/users/":
		p.Title = "Customers"
		for _, u := range customers() {
			p.Links = append(p.Links, link{u.Name, "/admin/users/" + strconv.Itoa(u.ID)})
		}
	case "/admin/users/{id}":
		u := userByID(id)
		p.Title = u.Name
		p.Facts = []fact{{"Email", u.Email}, {"Role", u.Role}}
	case "/admin/settings":
		p.Title = "Settings"
		p.Facts = []fact{{"Payments", "test mode"}, {"Shipping", "flat rate 4.90"}}
	case "/admin/reports/":
		p.Title = "Reports"
		p.Links = []link{{"Sales 2024", "/admin/reports/sales?year=2024"}}
	case "/admin/reports/sales":
		p.Title = "Sales " + q.Get("year")
		p.Facts = []fact{{"Orders", strconv.Itoa(len(orders()))}, {"Revenue", "46.90"}}
	default:
		p.Title = "Acme Orders"
	}
	return p
}

// ordersOf returns the orders role may list: a customer's own, or all.
func ordersOf(role string) []order {
	if rank(role) >= rank(Support) {
		return orders()
	}
	var mine []order
	for _, o := range orders() {
		if o.Customer == customerUserID {
			mine = append(mine, o)
		}
	}
	return mine
}

// apiContent returns the JSON value of an allowed API route.
func apiContent(role, route string, id int) any {
	switch route {
	case "/api/products":
		return map[string]any{"products": products()}
	case "/api/products/{id}":
		return productByID(id)
	case "/api/profile":
		return userOfRole(role)
	case "/api/orders":
		return map[string]any{"orders": ordersOf(role)}
	case "/api/orders/{id}":
		return orderByID(id)
	case "/api/tickets":
		return map[string]any{"tickets": tickets()}
	case "/api/tickets/{id}":
		return ticketByID(id)
	case "/api/admin/users":
		return map[string]any{"users": users()}
	case "/api/admin/export":
		return map[string]any{"generated": "2024-06-01T00:00:00Z", "users": users(), "orders": orders(), "tickets": tickets()}
	case "/api/admin/stats":
		return map[string]any{"orders": len(orders()), "open_tickets": len(tickets()), "revenue": "46.90"}
	}
	return map[string]string{}
}
