package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
)

// leakyAdminApp serves its admin page, a list of users and a form
// setting a new user's password, to everyone: the bug. Its login page is
// /login.
func leakyAdminApp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := ""
		switch r.Header.Get("Authorization") {
		case "Bearer admin-token-5ecret":
			user = "admin"
		case "Bearer viewer-token-5ecret":
			user = "viewer"
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<a href="/admin/">admin</a> <a href="/login">sign in</a>`)
		case "/login":
			fmt.Fprint(w, `<form method="post" action="/login"><input name="username"><input type="password" name="password"><button>Sign in</button></form>`)
		case "/me":
			if user == "" {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, "sign in first")
				return
			}
			fmt.Fprintf(w, "signed in as %s", user)
		case "/admin/":
			fmt.Fprint(w, `<h1>Users</h1><table><tr><td>alice@example.com</td><td>admin</td></tr><tr><td>bob@example.com</td><td>viewer</td></tr></table>
<h2>New user</h2><form method="post" action="/admin/users"><input name="email"><input type="password" name="password"><button>Create</button></form>`)
		default:
			http.NotFound(w, r)
		}
	})
}

// TestPasswordFormOnALeakedPageIsALeak: an admin page served to every
// role is a leak, though it holds a password field (a form setting a new
// user's password, posting elsewhere); the login page is still one.
func TestPasswordFormOnALeakedPageIsALeak(t *testing.T) {
	srv := httptest.NewServer(leakyAdminApp())
	defer srv.Close()
	cfg := `login_url: /login
roles:
  admin: {login: {bearer: "${ADMIN}"}}
  viewer:
    login: {bearer: "${VIEWER}"}
    check: {url: /me, contains: "signed in as viewer"}
matrix:
  rules:
    - {match: "GET /", allow: ["*"]}
    - {match: "GET /login", allow: ["*"]}
    - {match: "GET /admin/**", allow: [admin]}
`
	env := map[string]string{"ADMIN": "admin-token-5ecret", "VIEWER": "viewer-token-5ecret"}
	code, run, output := auditRun(t, srv.URL, cfg, env)
	if code != exitGate {
		t.Errorf("exit %d, want %d (the leaks)\n%s", code, exitGate, output)
	}
	type cell struct {
		class   model.Class
		verdict model.Verdict
	}
	want := map[string]cell{
		"anonymous GET /admin/": {model.Allowed, model.Leak},
		"viewer GET /admin/":    {model.Allowed, model.Leak},
		"admin GET /admin/":     {model.Allowed, model.Pass},
		"anonymous GET /login":  {model.Allowed, model.Pass},
	}
	seen := map[string]bool{}
	for _, c := range run.Observations.All() {
		key := c.Role + " " + c.Method + " " + strings.TrimPrefix(c.URL, srv.URL)
		w, ok := want[key]
		if !ok {
			continue
		}
		seen[key] = true
		if c.Class != w.class || c.Verdict != w.verdict {
			t.Errorf("%s: %s (%s), verdict %s; want %s, verdict %s", key, c.Class, c.Why, c.Verdict, w.class, w.verdict)
		}
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("%s: not probed\n%s", key, output)
		}
	}
}
