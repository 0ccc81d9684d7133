// Package trapapp is a crawl trap: a small admin application whose pages
// link to endless query-string permutations of a few pages, as real admin
// UIs, calendars, recent-changes views and wikis do, with a handful of
// real endpoints behind them that only a configuration names.
//
// Every page links to:
//
//   - /admin/users, a list table: every combination of sort (5 columns),
//     order, filter (4), view mode (2) and page (1..25), 2,000 URLs,
//     and the users it lists (/admin/users/{id}, /admin/users/{id}/edit);
//   - /calendar, a calendar: day, week and month views of any date, each
//     linking to the previous and next one, without end;
//   - /changes, recent changes: days, limit, hidebots and a from time;
//   - /wiki/{page} with ?action=history and ?oldid=N revisions;
//   - /preferences?returnto=URL, a settings page linked from every page
//     with that page's URL as returnto.
//
// Declared endpoints are linked from nowhere: DeclaredPaths. The truth:
// anonymous may read / , /login, /wiki/** and /api/health; any signed-in
// role /calendar, /changes, /preferences and /api/me; editor and admin
// /editor/** and /api/reports/export; admin /admin/** and /api/tokens.
// An anonymous caller denied is redirected to /login (302); a signed-in
// role denied gets 403. Roles sign in with a bearer token (Tokens).
//
// The package imports nothing of permaudit's: it stands in for a real
// application.
package trapapp

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Tokens are the bearer tokens of the roles, by role name.
var Tokens = map[string]string{
	"viewer": "trap-viewer-token-1",
	"editor": "trap-editor-token-2",
	"admin":  "trap-admin-token-3",
}

// DeclaredPaths are the endpoints no page links to: a configuration lists
// them (sources.list).
var DeclaredPaths = []string{
	"/admin/settings",
	"/api/health",
	"/api/reports/export",
	"/api/tokens",
	"/editor/drafts",
}

// Server is the running trap.
type Server struct {
	*httptest.Server
	opts     Options
	requests atomic.Int64
}

// Options plant bugs in the trap.
type Options struct {
	// LeakUsersTable lets editor read the users table (/admin/users, any
	// query) as if it were admin: a leak on every query variant of one
	// page.
	LeakUsersTable bool
}

// New starts the trap on 127.0.0.1.
func New() *Server { return NewWith(Options{}) }

// NewWith starts the trap with bugs planted.
func NewWith(o Options) *Server {
	s := &Server{opts: o}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Requests returns the number of requests served.
func (s *Server) Requests() int64 { return s.requests.Load() }

// role returns the role a request signs in as: "anonymous" without a
// known token.
func role(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok {
		for name, t := range Tokens {
			if t == tok {
				return name
			}
		}
	}
	return "anonymous"
}

// Allowed says whether role may read path: the truth of the trap.
func Allowed(role, path string) bool {
	signedIn := role != "anonymous"
	editor := role == "editor" || role == "admin"
	switch {
	case path == "/" || path == "/login" || path == "/api/health" || strings.HasPrefix(path, "/wiki/"):
		return true
	case path == "/calendar" || path == "/changes" || path == "/preferences" || path == "/api/me":
		return signedIn
	case path == "/editor/drafts" || path == "/api/reports/export":
		return editor
	case path == "/admin/users" || strings.HasPrefix(path, "/admin/") || path == "/api/tokens":
		return role == "admin"
	}
	return false
}

// known says whether the trap has a page at path.
func known(path string) bool {
	switch path {
	case "/", "/login", "/calendar", "/changes", "/preferences", "/api/me", "/api/health",
		"/editor/drafts", "/api/reports/export", "/admin/users", "/admin/settings", "/api/tokens":
		return true
	}
	if strings.HasPrefix(path, "/wiki/") {
		return wikiPage(path) != ""
	}
	if rest, ok := strings.CutPrefix(path, "/admin/users/"); ok {
		id := strings.TrimSuffix(rest, "/edit")
		n, err := strconv.Atoi(id)
		return err == nil && n >= 1 && n <= users
	}
	return false
}

const users = 250 // 10 per page: 25 pages

var wikiPages = []string{"Main", "Help", "Policies", "Sandbox"}

func wikiPage(path string) string {
	name := strings.TrimPrefix(path, "/wiki/")
	for _, p := range wikiPages {
		if p == name {
			return p
		}
	}
	return ""
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	who := role(r)
	path := r.URL.Path
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// Authorisation before existence in the areas a role may be denied,
	// as a careful application does: a missing user is no oracle.
	area := strings.HasPrefix(path, "/admin/") || strings.HasPrefix(path, "/editor/")
	if !area && !known(path) || area && Allowed(who, path) && !known(path) {
		http.NotFound(w, r)
		return
	}
	if !Allowed(who, path) && !(s.opts.LeakUsersTable && who == "editor" && path == "/admin/users") {
		if who == "anonymous" {
			http.Redirect(w, r, "/login?returnto="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
			return
		}
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	switch {
	case strings.HasPrefix(path, "/api/"):
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"role":%q}`, path, who)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html><html><head><title>%s - Trap</title></head><body>\n", html.EscapeString(path))
	fmt.Fprintf(&b, "<p>signed in as %s</p>\n", who)
	link := func(u string) { fmt.Fprintf(&b, "<a href=\"%s\">%s</a>\n", html.EscapeString(u), html.EscapeString(u)) }
	// The navigation of every page.
	for _, u := range []string{"/", "/admin/users", "/calendar", "/changes", "/wiki/Main", "/login"} {
		link(u)
	}
	link("/preferences?returnto=" + url.QueryEscape(r.URL.RequestURI()))
	q := r.URL.Query()
	switch {
	case path == "/admin/users":
		s.usersPage(q, link)
	case strings.HasPrefix(path, "/admin/users/"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/admin/users/"), "/edit")
		link("/admin/users/" + id + "/edit")
		link("/admin/users?filter=active&sort=name&page=1")
	case path == "/calendar":
		calendarPage(q, link)
	case path == "/changes":
		changesPage(q, link)
	case strings.HasPrefix(path, "/wiki/"):
		for _, p := range wikiPages {
			link("/wiki/" + p)
		}
		link(path + "?action=history")
		oldid, _ := strconv.Atoi(q.Get("oldid"))
		for i := 1; i <= 5; i++ {
			link(fmt.Sprintf("%s?oldid=%d", path, oldid*5+i))
			link(fmt.Sprintf("%s?diff=next&oldid=%d", path, oldid*5+i))
		}
	case path == "/login":
		b.WriteString(`<form method="post" action="/login"><input name="user"><input type="password" name="password"></form>`)
	}
	b.WriteString("</body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, b.String())
}

var (
	sortColumns = []string{"name", "email", "created", "role", "last_seen"}
	filters     = []string{"all", "active", "blocked", "admins"}
	modes       = []string{"list", "grid"}
)

// usersPage links every permutation of the table's controls around the
// current one, the next and previous pages, and the users listed.
func (s *Server) usersPage(q url.Values, link func(string)) {
	get := func(k, def string) string {
		if v := q.Get(k); v != "" {
			return v
		}
		return def
	}
	sortBy, order, filter, mode := get("sort", "name"), get("order", "asc"), get("filter", "all"), get("mode", "list")
	page, _ := strconv.Atoi(get("page", "1"))
	page = min(max(page, 1), users/10)
	u := func(sortBy, order, filter, mode string, page int) string {
		return fmt.Sprintf("/admin/users?sort=%s&order=%s&filter=%s&mode=%s&page=%d", sortBy, order, filter, mode, page)
	}
	for _, c := range sortColumns {
		for _, o := range []string{"asc", "desc"} {
			link(u(c, o, filter, mode, page))
		}
	}
	for _, f := range filters {
		for _, m := range modes {
			link(u(sortBy, order, f, m, 1))
		}
	}
	if page > 1 {
		link(u(sortBy, order, filter, mode, page-1))
	}
	if page < users/10 {
		link(u(sortBy, order, filter, mode, page+1))
	}
	for i := 1; i <= 10; i++ {
		link(fmt.Sprintf("/admin/users/%d", (page-1)*10+i))
	}
}

// calendarPage links the previous and next day, week or month, and the
// other views of the same date: a calendar has no end.
func calendarPage(q url.Values, link func(string)) {
	d, err := time.Parse("2006-01-02", q.Get("date"))
	if err != nil {
		d = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	view := q.Get("view")
	step := map[string][3]int{"day": {0, 0, 1}, "week": {0, 0, 7}, "month": {0, 1, 0}}
	s, ok := step[view]
	if !ok {
		view, s = "month", step["month"]
	}
	at := func(t time.Time, v string) string { return "/calendar?date=" + t.Format("2006-01-02") + "&view=" + v }
	link(at(d.AddDate(-s[0], -s[1], -s[2]), view))
	link(at(d.AddDate(s[0], s[1], s[2]), view))
	for _, v := range []string{"day", "week", "month"} {
		link(at(d, v))
	}
}

// changesPage links recent changes over other spans, limits and
// filters, and a page starting from an older time.
func changesPage(q url.Values, link func(string)) {
	from, _ := strconv.ParseInt(q.Get("from"), 10, 64)
	if from == 0 {
		from = 20260101000000
	}
	for _, days := range []string{"1", "3", "7", "30", "90"} {
		for _, limit := range []string{"50", "100", "250", "500"} {
			link("/changes?days=" + days + "&limit=" + limit + "&hidebots=" + strconv.Itoa(int(from%2)))
		}
	}
	link("/changes?from=" + strconv.FormatInt(from-1000, 10) + "&hidebots=1")
}
