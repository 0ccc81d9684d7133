package authapp

import (
	"strconv"
	"strings"
)

// The users. Each signs in one way, and its session ends in its own way.
const (
	Editor  = "editor"  // form login; the session ends after Options.EditorRequests requests: 401
	Viewer  = "viewer"  // form login; the session ends after Options.ViewerTTL: 200 with the login form
	Admin   = "admin"   // form login; the session ends after Options.AdminRequests requests: 403 "invalid nonce"
	API     = "api"     // JSON login, a JWT valid Options.JWTTTL: 401 when expired
	Service = "service" // OAuth 2.0 client credentials, a token valid Options.OAuthTTL: 401 when expired
	SPA     = "spa"     // JSON login behind an XSRF cookie echoed in a header (Laravel Sanctum's way); a cookie session
)

// Passwords and the service's client credentials, as the configuration
// reads them from the environment (Env).
const (
	EditorPassword = "Editor-Pass-7f3a19"
	ViewerPassword = "Viewer-Pass-91c2e4"
	AdminPassword  = "Admin-Pass-5e8d02"
	APIPassword    = "Api-Pass-c4b7aa"
	ServiceID      = "reporting"
	ServiceSecret  = "Svc-Secret-0a9f3e7d"
	SPAPassword    = "Spa-Pass-3d61b0"
	SPAEmail       = "spa@authapp.test" // the spa user's sign-in name
)

// userIDs are the users' ids; frank (15) exists but signs in nowhere.
var userIDs = map[string]int{Admin: 1, Editor: 12, Viewer: 13, API: 14, Service: 0, "frank": 15, SPA: 16}

// profileIDs are the ids whose profile exists, in order.
var profileIDs = []int{1, 12, 13, 14, 15, 16}

var passwords = map[string]string{Editor: EditorPassword, Viewer: ViewerPassword, Admin: AdminPassword, API: APIPassword, SPA: SPAPassword}

// Users lists the users that sign in, in the configuration's order.
func Users() []string { return []string{Editor, Viewer, Admin, API, Service, SPA} }

// UserID returns a user's id (0 for the service, which has no profile).
func UserID(user string) int { return userIDs[user] }

// Env is the environment the embedded configuration reads.
func Env() map[string]string {
	return map[string]string{
		"EDITOR_PASSWORD": EditorPassword,
		"VIEWER_PASSWORD": ViewerPassword,
		"ADMIN_PASSWORD":  AdminPassword,
		"API_PASSWORD":    APIPassword,
		"SERVICE_SECRET":  ServiceSecret,
		"SPA_PASSWORD":    SPAPassword,
	}
}

// Route is one GET endpoint an audit should find.
type Route struct {
	Path string
	// EndsSession: requesting it signed in ends the session (it is not a
	// default exclusion word: the audit must find out by itself).
	EndsSession bool
}

// Routes is the route table: every GET endpoint linked from some page
// or a start URL of the embedded configuration. /logout (excluded by the
// default words) and the sign-in endpoints (POST) are left out.
func Routes() []Route {
	rs := []Route{
		{Path: "/"}, {Path: "/login"}, {Path: "/dashboard"},
		{Path: "/reports/"}, {Path: "/reports/export"},
		{Path: "/admin/"}, {Path: "/admin/users"},
		{Path: "/api/me"}, {Path: "/api/reports"},
		{Path: "/account/switch", EndsSession: true},
	}
	for _, id := range profileIDs {
		rs = append(rs, Route{Path: "/profile/" + strconv.Itoa(id)})
	}
	return rs
}

// Answer is what the application answers a live session (or anonymous,
// user "") on a route.
type Answer struct {
	Status int
	// Class is the answer class an audit must read: allowed,
	// unauthenticated (401 or a redirect to /login), forbidden, hidden.
	Class string
	// Bug names the planted bug that changed this answer; "" when none.
	Bug string
}

// Policy decides who may see what. The handler serves what it decides.
type Policy struct {
	// LeakExport plants a bug: the viewer may read /reports/export.
	LeakExport bool
}

func allowed() Answer { return Answer{Status: 200, Class: "allowed"} }

// Decide returns the answer to a GET of path by user ("" anonymous) with
// a live session.
func (p Policy) Decide(user, path string) Answer {
	api := strings.HasPrefix(path, "/api/")
	deny := func() Answer {
		switch {
		case user == "" && api:
			return Answer{Status: 401, Class: "unauthenticated"}
		case user == "":
			return Answer{Status: 302, Class: "unauthenticated"}
		}
		return Answer{Status: 403, Class: "forbidden"}
	}
	switch {
	case path == "/" || path == "/login":
		return allowed() // /login sends a signed-in user on to /dashboard
	case path == "/dashboard" || path == "/api/me":
		if user != "" {
			return allowed()
		}
	case path == "/reports/" || path == "/api/reports":
		if user == Editor || user == Admin || user == API || user == Service {
			return allowed()
		}
	case path == "/reports/export":
		if user == Admin {
			return allowed()
		}
		if user == Viewer && p.LeakExport {
			a := allowed()
			a.Bug = "leak-export"
			return a
		}
	case path == "/admin/" || path == "/admin/users":
		if user == Admin {
			return allowed()
		}
	case path == "/account/switch":
		// Ends the session and sends the user to sign in again.
		return Answer{Status: 302, Class: "unauthenticated"}
	case strings.HasPrefix(path, "/profile/"):
		id, err := strconv.Atoi(strings.TrimPrefix(path, "/profile/"))
		known := false
		for _, v := range userIDs {
			known = known || v == id && id != 0
		}
		// Signing in comes first, so that anonymous cannot tell a
		// profile that exists from one that does not.
		switch {
		case user == "":
			return deny()
		case err != nil || !known:
			return Answer{Status: 404, Class: "hidden"}
		case user == Admin || userIDs[user] == id:
			return allowed()
		}
		// Another user's profile is hidden: 404, as a missing one.
		return Answer{Status: 404, Class: "hidden"}
	default:
		return Answer{Status: 404, Class: "hidden"}
	}
	return deny()
}

// nav lists the links a user sees on every page.
func nav(user string) []string {
	links := []string{"/"}
	if user == "" {
		return append(links, "/login")
	}
	links = append(links, "/dashboard", "/account/switch")
	if id := userIDs[user]; id != 0 {
		links = append(links, "/profile/"+strconv.Itoa(id))
	}
	p := Policy{}
	for _, l := range []string{"/reports/", "/reports/export", "/admin/", "/admin/users"} {
		if p.Decide(user, l).Class == "allowed" {
			links = append(links, l)
		}
	}
	if user == Admin {
		for _, id := range profileIDs {
			links = append(links, "/profile/"+strconv.Itoa(id))
		}
	}
	return links
}
