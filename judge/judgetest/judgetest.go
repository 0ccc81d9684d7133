// Package judgetest holds what tests of judging and of rendering share:
// a small matrix (Config), observations built by hand (Ob) and a shop
// audited with known bugs (Shop). The truth of every observation comes
// from these tables, never from the judge.
package judgetest

import (
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// Config is the matrix the judge tests use (docs/config.md). Line
// numbers matter to the dead-rule test.
const Config = `target: http://127.0.0.1:8080
login_url: /login
roles:
  customer:
    login: {bearer: customer-token}
    vars: {order_id: "17"}
  admin:
    inherits: [customer]
    login: {bearer: admin-token}
matrix:
  default: deny
  rules:
    - match: "GET /"
      allow: ["*"]
    - match: "GET /admin/**"
      allow: [admin]
    - match: "GET /api/orders/{self.order_id}"
      allow: [customer]
    - match: "GET /api/orders/{id}"
      allow: [admin]
      deny_as: 404
    - match: "GET /teapot"
      allow: [admin]
      deny_as: [403, 418]
    - match: "GET /members/**"
      allow: [customer]
      deny_as: 401
    - match: "GET /never/**"
      allow: [admin]
    - match: "GET /notes/{id}"
      allow: [admin]
      deny_as: [401, 404]
`

// ParseConfig parses a configuration of a test, failing the test on an
// error; no environment variable is set.
func ParseConfig(t *testing.T, yaml string) *roles.Config {
	t.Helper()
	cfg, err := roles.Parse("test.yaml", []byte(yaml), roles.LoadOptions{Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("parse test config: %v", err)
	}
	return cfg
}

// Base is the origin of Config and of every observation Ob builds.
const Base = "http://127.0.0.1:8080"

// Ob builds an observation; class and status are the answer, why how the
// class was decided.
func Ob(role, path string, status int, class model.Class, why string) model.Observation {
	return model.Observation{
		Endpoint: model.Endpoint{Method: "GET", URL: Base + path},
		Role:     role,
		Status:   status,
		Class:    class,
		Why:      why,
	}
}

// WithLocation returns o with its Location set.
func WithLocation(o model.Observation, loc string) model.Observation {
	o.Location = loc
	return o
}

// WithChain returns o with a redirect chain of the given statuses.
func WithChain(o model.Observation, statuses ...int) model.Observation {
	for _, s := range statuses {
		o.Chain = append(o.Chain, model.Hop{URL: o.URL, Status: s})
	}
	return o
}

// WithErr returns o with its error set.
func WithErr(o model.Observation, err string) model.Observation {
	o.Err = err
	return o
}

// Shop returns the observations of a small shop audited with Config as anonymous, customer and admin. Each switch plants a
// bug whose verdict is known in advance from this table, not from the
// judge: leak lets customer read /admin/users/{id} (leak), code answers
// 403 to anonymous on /admin/ (wrong-code), hide answers 403 to customer
// for another customer's order (existence-leak).
func Shop(leak, code, hide bool) []model.Observation {
	login := func(o model.Observation) model.Observation { return WithLocation(o, "/login") }
	var obs []model.Observation
	add := func(path string, anon, cust, admin model.Observation) {
		obs = append(obs, anon, cust, admin)
	}
	add("/", Ob("anonymous", "/", 200, model.Allowed, "status 200"), Ob("customer", "/", 200, model.Allowed, "status 200"), Ob("admin", "/", 200, model.Allowed, "status 200"))
	anonAdmin := login(Ob("anonymous", "/admin/", 302, model.Unauthenticated, "redirect to login /login"))
	if code {
		anonAdmin = Ob("anonymous", "/admin/", 403, model.Forbidden, "status 403")
	}
	add("/admin/", anonAdmin, Ob("customer", "/admin/", 403, model.Forbidden, "status 403"), Ob("admin", "/admin/", 200, model.Allowed, "status 200"))
	for _, p := range []string{"/admin/settings", "/admin/users/1", "/admin/users/2"} {
		cust := Ob("customer", p, 403, model.Forbidden, "status 403")
		if leak && strings.HasPrefix(p, "/admin/users/") {
			cust = Ob("customer", p, 200, model.Allowed, "status 200")
		}
		add(p, login(Ob("anonymous", p, 302, model.Unauthenticated, "redirect to login /login")), cust, Ob("admin", p, 200, model.Allowed, "status 200"))
	}
	add("/api/orders/17", Ob("anonymous", "/api/orders/17", 404, model.Hidden, "status 404"),
		Ob("customer", "/api/orders/17", 200, model.Allowed, "status 200"), Ob("admin", "/api/orders/17", 200, model.Allowed, "status 200"))
	for _, p := range []string{"/api/orders/18", "/api/orders/19"} {
		cust := Ob("customer", p, 404, model.Hidden, "status 404")
		if hide {
			cust = Ob("customer", p, 403, model.Forbidden, "status 403")
		}
		add(p, Ob("anonymous", p, 404, model.Hidden, "status 404"), cust, Ob("admin", p, 200, model.Allowed, "status 200"))
	}
	return obs
}

// ShopRun returns the run, not yet judged, that Shop's observations
// belong to: complete, with Shop's roles and the default gate.
func ShopRun() *model.Run {
	return &model.Run{
		Schema: model.SchemaVersion, RunID: "shop", Target: Base, Complete: true,
		Started: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC),
		Roles:   []model.RoleInfo{{Name: "anonymous"}, {Name: "customer"}, {Name: "admin", Inherits: []string{"customer"}}},
		Gate:    model.Gate{FailOn: model.DefaultFailOn},
	}
}
