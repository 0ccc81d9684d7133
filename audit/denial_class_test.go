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

// TestDenialSignatureClasses audits an application that answers every
// denial with 200, as wikis often do: a "Login required" page to an
// anonymous caller, and a JSON error whose code says which kind of
// denial it is. Signatures naming their class keep the 401-vs-403
// distinction: anonymous's login page and readapidenied are
// unauthenticated (a pass), the signed-in user's permissiondenied is
// forbidden (a pass), and the login page served to the signed-in user is
// unauthenticated, which is the wrong code for a signed-in role; the
// finding names the rule by its name.
func TestDenialSignatureClasses(t *testing.T) {
	const loginPage = "<!DOCTYPE html><html><head><title>Login required - Wiki</title></head><body><p>Please sign in.</p></body></html>"
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		user := r.Header.Get("Authorization") == "Bearer user-token"
		page := func(s string) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, s)
		}
		apiErr := func(code string) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"error":{"code":%q,"info":"denied"}}`, code)
		}
		switch r.URL.Path {
		case "/":
			page(`<html><head><title>Wiki</title></head><body><a href="/wiki/private">p</a> <a href="/wiki/staff">s</a> <a href="/api/query">q</a> <a href="/api/admin">a</a></body></html>`)
		case "/wiki/private":
			if !user {
				page(loginPage)
				return
			}
			page("<html><head><title>Private</title></head><body>secret</body></html>")
		case "/wiki/staff": // nobody reads it; the user is told to sign in
			page(loginPage)
		case "/api/query":
			if !user {
				apiErr("readapidenied")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"query":{"pages":[]}}`)
		case "/api/admin":
			if !user {
				apiErr("readapidenied")
				return
			}
			apiErr("permissiondenied")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cfg, err := roles.Parse("wiki.yaml", []byte(`target: `+srv.URL+`
roles:
  user:
    login: {bearer: user-token}
denials:
  - title: Login required
    class: unauthenticated
  - json: error.code
    equals: readapidenied
    class: unauthenticated
  - {json: error.code, equals: permissiondenied}
matrix:
  rules:
    - {match: "GET /", allow: ["*"]}
    - {match: "GET /wiki/private", allow: [user]}
    - {name: staff pages, match: "GET /wiki/staff", allow: []}
    - {match: "GET /api/query", allow: [user]}
    - {match: "GET /api/admin", allow: []}
`), roles.LoadOptions{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg, Options{RunID: "denials", UserAgent: "permaudit-test"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := requests.Load(); n > 100 {
		t.Errorf("%d requests to a five-page application", n)
	}
	got := map[string]string{}
	for _, c := range res.Run.Observations.All() {
		got[c.Role+" "+strings.TrimPrefix(c.URL, srv.URL)] = fmt.Sprintf("%s, %s: %s", c.Class, c.Why, c.Verdict)
		if strings.HasSuffix(c.URL, "/wiki/staff") && c.Rule != "staff pages" {
			t.Errorf("cell %s as %s: rule %q, want the rule's name", c.URL, c.Role, c.Rule)
		}
	}
	want := map[string]string{
		"anonymous /wiki/private": "unauthenticated, denial signature 1 (unauthenticated): pass",
		"anonymous /wiki/staff":   "unauthenticated, denial signature 1 (unauthenticated): pass",
		"user /wiki/staff":        "unauthenticated, denial signature 1 (unauthenticated): wrong-code",
		"anonymous /api/query":    "unauthenticated, denial signature 2 (unauthenticated): pass",
		"anonymous /api/admin":    "unauthenticated, denial signature 2 (unauthenticated): pass",
		"user /api/admin":         "forbidden, denial signature 3 (forbidden): pass",
		"user /wiki/private":      "allowed, status 200: pass",
		"user /api/query":         "allowed, status 200: pass",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %q, want %q", k, got[k], w)
		}
	}
	var findings []string
	for _, f := range res.Run.Findings {
		findings = append(findings, fmt.Sprintf("%s %s as %s (rule %s)", f.Verdict, f.Path, f.Role, f.Rule))
	}
	if want := []string{"wrong-code /wiki/staff as user (rule staff pages)"}; !slices.Equal(findings, want) {
		t.Errorf("findings %q, want %q", findings, want)
	}
}
