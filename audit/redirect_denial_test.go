package audit

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/permaudit/permaudit/roles"
)

// TestRedirectsAndPerRoleDenials audits an application whose truth
// differs per role and which refuses by redirecting (issue 15):
//
//   - /projects/{id} tells anonymous to sign in (401) before it looks the
//     project up, and hides it (404) from a signed-in role that may not
//     see it: deny_as {anonymous: login, "*": 404}. /projects/6 has a
//     planted bug: it answers 401 to the signed-in user, the wrong code;
//   - /register and /signup redirect home when registration is off: a
//     redirect to a page the role may see, never a 200 leak. /register's
//     rule says deny_as: redirect (a pass); /signup's says nothing (a
//     note);
//   - /login?back_url=X sends a signed-in role to X, which answers as X
//     does: the user, refused at /admin/panel, is not blocked at /login;
//   - /invite redirects to /denied, which a denial signature on Location
//     recognises: the probe stops there, the answer is the denial.
//
// Every cell's verdict is known in advance; the one finding is the
// planted wrong code.
func TestRedirectsAndPerRoleDenials(t *testing.T) {
	var requests, denied atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		role := map[string]string{"Bearer user-token-0123": "user", "Bearer admin-token-0123": "admin"}[r.Header.Get("Authorization")]
		page := func(s string) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, "<!DOCTYPE html><html><body>"+s+"</body></html>")
		}
		switch r.URL.Path {
		case "/":
			page(`<a href="/register">r</a> <a href="/signup">s</a> <a href="/invite">i</a>
<a href="/login?back_url=/admin/panel">in</a> <a href="/admin/panel">a</a>
<a href="/projects/5">p5</a> <a href="/projects/6">p6</a>`)
		case "/register", "/signup": // registration is off
			http.Redirect(w, r, "/", http.StatusFound)
		case "/invite":
			if role != "admin" {
				http.Redirect(w, r, "/denied?from=invite", http.StatusFound)
				return
			}
			page("invitations")
		case "/denied":
			denied.Add(1)
			page("You may not do that.")
		case "/login":
			if role == "" {
				page(`<form method="post" action="/login"><input name="u"><input type="password" name="p"></form>`)
				return
			}
			back := r.URL.Query().Get("back_url")
			if !strings.HasPrefix(back, "/") {
				back = "/"
			}
			http.Redirect(w, r, back, http.StatusFound)
		case "/admin/panel":
			switch role {
			case "admin":
				page("panel")
			case "":
				w.WriteHeader(http.StatusUnauthorized)
			default:
				w.WriteHeader(http.StatusForbidden)
			}
		case "/projects/5", "/projects/6":
			switch {
			case role == "admin":
				page("project")
			case role == "": // before looking the project up
				w.WriteHeader(http.StatusUnauthorized)
			case r.URL.Path == "/projects/6": // planted: the user's session is not seen here
				w.WriteHeader(http.StatusUnauthorized)
			default:
				http.NotFound(w, r)
			}
		default:
			if strings.HasPrefix(r.URL.Path, "/projects/") && role == "" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cfg, err := roles.Parse("redirects.yaml", []byte(`target: `+srv.URL+`
login_url: /login
roles:
  user: {login: {bearer: user-token-0123}}
  admin: {login: {bearer: admin-token-0123}}
denials:
  - {location: "/denied", class: hidden}
matrix:
  rules:
    - {match: "GET /", allow: ["*"]}
    - {match: "GET /login", allow: ["*"]}
    - {match: "GET /denied", allow: ["*"]}
    - {match: "GET /admin/**", allow: [admin]}
    - {match: "GET /projects/{id}", allow: [admin], deny_as: {anonymous: login, "*": 404}}
    - {match: "GET /register", allow: [], deny_as: redirect}
    - {match: "GET /signup", allow: []}
    - {match: "GET /invite", allow: [admin], deny_as: hidden}
`), roles.LoadOptions{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg, Options{RunID: "redirects", UserAgent: "permaudit-test"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := requests.Load(); n > 200 {
		t.Errorf("%d requests to a nine-page application", n)
	}
	got := map[string]string{}
	for _, c := range res.Run.Observations.All() {
		got[c.Role+" "+strings.TrimPrefix(c.URL, srv.URL)] = fmt.Sprintf("%d %s: %s", c.Status, c.Class, c.Verdict)
	}
	want := map[string]string{
		"anonymous /projects/5": "401 unauthenticated: pass",
		"user /projects/5":      "404 hidden: pass",
		"admin /projects/5":     "200 allowed: pass",
		"anonymous /projects/6": "401 unauthenticated: pass",
		"user /projects/6":      "401 unauthenticated: wrong-code",

		"anonymous /register": "200 allowed: pass",
		"user /register":      "200 allowed: pass",
		"admin /register":     "200 allowed: pass",
		"anonymous /signup":   "200 allowed: inconclusive",
		"user /signup":        "200 allowed: inconclusive",
		"admin /signup":       "200 allowed: inconclusive",

		"anonymous /login?back_url=/admin/panel": "200 allowed: pass",
		"user /login?back_url=/admin/panel":      "403 forbidden: pass",
		"admin /login?back_url=/admin/panel":     "200 allowed: pass",

		"anonymous /invite": "302 hidden: pass",
		"user /invite":      "302 hidden: pass",
		"admin /invite":     "200 allowed: pass",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %q, want %q", k, got[k], w)
		}
	}
	if t.Failed() {
		t.Logf("cells: %q", got)
	}
	var findings []string
	for _, f := range res.Run.Findings {
		findings = append(findings, fmt.Sprintf("%s %s as %s", f.Verdict, f.Path, f.Role))
	}
	if want := []string{"wrong-code /projects/6 as user"}; !slices.Equal(findings, want) {
		t.Errorf("findings %q, want %q", findings, want)
	}
	for _, n := range res.Run.Notes {
		if n.Verdict == "inconclusive" && n.Path == "/signup" && !strings.Contains(n.Message, "a page the role may see") {
			t.Errorf("the /signup note does not say why it is no leak: %s", n.Message)
		}
	}
	// The probe stopped at the recognised redirect: /denied was requested
	// only where it was itself discovered and probed, once per role.
	if n := denied.Load(); n > 3+3 {
		t.Errorf("/denied requested %d times: the probe followed recognised redirects", n)
	}
}
