package judge

import (
	"net/http"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
)

// redirectConfig is a matrix for redirects and per-role denials (issue
// 15): registration is off and redirects home; the login page sends a
// signed-in role to its back_url; a project tells anonymous to sign in
// and hides itself from the other roles.
const redirectConfig = `target: http://127.0.0.1:8080
login_url: /login
roles:
  user: {login: {bearer: user-token}}
  admin: {login: {bearer: admin-token}}
matrix:
  rules:
    - {match: "GET /", allow: ["*"]}
    - {match: "GET /home", allow: ["*"]}
    - {match: "GET /login", allow: ["*"]}
    - {match: "GET /admin/**", allow: [admin]}
    - {match: "GET /projects/{id}", allow: [admin], deny_as: {anonymous: login, "*": 404}}
    - {match: "GET /register", allow: [], deny_as: redirect}
    - {match: "GET /signup", allow: []}
    - {match: "GET /invite", allow: [admin], deny_as: "redirect:/home*"}
    - {match: "GET /welcome", allow: [anonymous]}
    - match: "GET /api/orders"
      allow: [user]
      body: [{contains: '"items"'}]
`

// chain returns an observation of path as role that was redirected
// through hops (each "STATUS URL-PATH", the first at path) and ended
// with the answer status and class at the last hop's URL.
func chain(role, path string, status int, class model.Class, hops ...string) model.Observation {
	o := ob(role, path, status, class, "status")
	cur := path
	for i, h := range hops {
		code, next, _ := strings.Cut(h, " ")
		st := 0
		for _, c := range code {
			st = st*10 + int(c-'0')
		}
		o.Chain = append(o.Chain, model.Hop{URL: base + cur, Status: st, Location: next})
		cur = next
		if i == len(hops)-1 {
			o.Chain = append(o.Chain, model.Hop{URL: base + cur, Status: status})
		}
	}
	return o
}

func TestJudgeRedirects(t *testing.T) {
	cfg := parseConfig(t, redirectConfig)
	tests := []struct {
		name    string
		obs     model.Observation
		verdict model.Verdict
		msgHas  string
	}{
		// Per-role deny_as.
		{name: "anonymous told to sign in", obs: ob("anonymous", "/projects/5", 401, model.Unauthenticated, "status 401"), verdict: model.Pass},
		{name: "signed-in role hidden", obs: ob("user", "/projects/5", 404, model.Hidden, "status 404"), verdict: model.Pass},
		{name: "signed-in role told 401 where 404 is its form", obs: ob("user", "/projects/5", 401, model.Unauthenticated, "status 401"),
			verdict: model.WrongCode, msgHas: "401 to a signed-in role"},
		{name: "anonymous hidden where login is its form", obs: ob("anonymous", "/projects/5", 404, model.Hidden, "status 404"),
			verdict: model.WrongCode, msgHas: "deny as unauthenticated"},
		{name: "signed-in role forbidden where 404 is its form", obs: ob("user", "/projects/5", 403, model.Forbidden, "status 403"),
			verdict: model.ExistenceLeak},

		// A page that refuses by redirecting home.
		{name: "registration off, deny_as redirect", obs: chain("user", "/register", 200, model.Allowed, "302 /"), verdict: model.Pass},
		{name: "registration off, no deny_as: no leak", obs: chain("user", "/signup", 200, model.Allowed, "302 /"),
			verdict: model.Inconclusive, msgHas: "a page the role may see"},
		{name: "redirect to a page the role may not see is a leak", obs: chain("user", "/signup", 200, model.Allowed, "302 /admin/users"),
			verdict: model.Leak, msgHas: "may not see either"},
		{name: "redirect form does not hide a leak", obs: chain("user", "/register", 200, model.Allowed, "302 /admin/users"),
			verdict: model.Leak},
		{name: "same page after a slash is still the page", obs: chain("user", "/signup", 200, model.Allowed, "301 /signup/"),
			verdict: model.Leak},
		{name: "a query is part of the page", obs: chain("user", "/signup?step=1", 200, model.Allowed, "302 /signup?step=2"),
			verdict: model.Leak, msgHas: "may not see either"},
		{name: "redirect pattern with a query", obs: chain("user", "/invite", 200, model.Allowed, "302 /home?tab=news"), verdict: model.Pass},
		{name: "redirect pattern matches", obs: chain("user", "/invite", 200, model.Allowed, "302 /home?from=invite"), verdict: model.Pass},
		{name: "redirect pattern missed", obs: chain("user", "/invite", 200, model.Allowed, "302 /"), verdict: model.Inconclusive},
		{name: "redirect pattern, unfollowed redirect", obs: withLocation(ob("user", "/invite", 302, model.Other, "redirect not followed"), base+"/home"), verdict: model.Pass},
		{name: "redirect form accepts a redirect to login", obs: withLocation(ob("anonymous", "/register", 302, model.Unauthenticated, "redirect to login /login"), "/login"), verdict: model.Pass},
		{name: "signed-in role sent home from an anonymous page", obs: chain("user", "/welcome", 200, model.Allowed, "302 /"),
			verdict: model.Inconclusive},

		// /login?back_url=X answers what X answers.
		{name: "back_url to a page the role may not see, refused", obs: chain("user", "/login?back_url=/admin/users", 403, model.Forbidden, "302 /admin/users"),
			verdict: model.Pass},
		{name: "back_url to a page the role may see", obs: chain("admin", "/login?back_url=/admin/users", 200, model.Allowed, "302 /admin/users"),
			verdict: model.Pass},
		{name: "back_url to a page that leaks", obs: chain("user", "/login?back_url=/admin/users", 200, model.Allowed, "302 /admin/users"),
			verdict: model.Leak, msgHas: "which the request's query named"},
		{name: "back_url to a page that blocks its role", obs: chain("admin", "/login?back_url=/admin/users", 403, model.Forbidden, "302 /admin/users"),
			verdict: model.Blocked, msgHas: "which the request's query named"},
		// The probe made /login's body checks (none), not /api/orders':
		// no "check not made" error on the /login cell.
		{name: "back_url to a page with body checks", obs: chain("user", "/login?back_url=/api/orders", 200, model.Allowed, "302 /api/orders"),
			verdict: model.Pass},
		{name: "a redirect the query did not name still blocks", obs: chain("user", "/login", 403, model.Forbidden, "302 /admin/users"),
			verdict: model.Blocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := judgeOne(t, cfg, tt.obs)
			c := run.Observations.At(0)
			if c.Verdict != tt.verdict {
				t.Fatalf("verdict %s, want %s (expected %q)", c.Verdict, tt.verdict, c.Expected)
			}
			if tt.msgHas == "" {
				return
			}
			for _, f := range append(run.Findings, run.Notes...) {
				if f.Cell == 0 && strings.Contains(f.Message, tt.msgHas) {
					return
				}
			}
			t.Errorf("no finding or note of the cell says %q: %+v %+v", tt.msgHas, run.Findings, run.Notes)
		})
	}
}

// TestDecideWithoutLookup: without knowing the pages a redirect led to,
// an allowed answer after a redirect stays a leak of the page requested.
func TestDecideWithoutLookup(t *testing.T) {
	cfg := parseConfig(t, redirectConfig)
	o := chain("user", "/register", 200, model.Allowed, "302 /")
	exp := cfg.Expect("GET", mustParse(t, o.URL), "user", nil)
	if v, _ := Decide(exp, o); v != model.Leak {
		t.Errorf("Decide: %s, want leak", v)
	}
}

func TestClassifyLocationSignature(t *testing.T) {
	cfg := parseConfig(t, `target: http://127.0.0.1:8080
denials:
  - {location: "/", status: 302, class: hidden}
  - {location: "/denied*"}
`)
	c := NewClassifier(cfg)
	at := mustParse(t, base+"/a/b")
	tests := []struct {
		status int
		loc    string
		want   model.Class
		why    string
	}{
		{302, "/", model.Hidden, "denial signature 1 (hidden)"},
		{302, "http://127.0.0.1:8080/", model.Hidden, "denial signature 1 (hidden)"},
		{302, "../", model.Hidden, "denial signature 1 (hidden)"}, // /a/b + ../ is /
		{301, "/", model.Other, "status 301"},                     // the status is a condition
		{303, "/denied?why=role", model.Forbidden, "denial signature 2 (forbidden)"},
		{302, "/deniedX", model.Forbidden, "denial signature 2 (forbidden)"},
		{302, "http://other.example/denied", model.Other, "status 302"}, // another origin
		{302, "/home", model.Other, "status 302"},
		{200, "/denied", model.Allowed, "status 200"}, // not a redirect
	}
	for _, tt := range tests {
		h := http.Header{"Location": {tt.loc}}
		got, why := c.Classify(tt.status, h, nil, at)
		if got != tt.want || why != tt.why {
			t.Errorf("Classify(%d, Location %s) = %s (%s), want %s (%s)", tt.status, tt.loc, got, why, tt.want, tt.why)
		}
		if sig := c.SignatureAt(tt.status, h, nil, at); sig != strings.HasPrefix(tt.why, "denial signature") {
			t.Errorf("SignatureAt(%d, Location %s) = %v", tt.status, tt.loc, sig)
		}
	}
}
