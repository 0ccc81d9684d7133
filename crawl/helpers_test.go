package crawl

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/crawl/crawltest"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

// testEnv holds the secrets the test configurations reference.
var testEnv = map[string]string{
	"USER_PASSWORD": crawltest.UserPassword,
	"USER_KEY":      crawltest.UserAPIKey,
	"ADMIN_TOKEN":   crawltest.AdminToken,
	"ADMIN_COOKIE":  crawltest.AdminCookie,
}

// siteRoles signs in as the fixture's user (basic) and admin (bearer).
const siteRoles = `
roles:
  user:
    login:
      basic: {username: alice, password: "${USER_PASSWORD}"}
  admin:
    login:
      bearer: "${ADMIN_TOKEN}"
denials:
  - body: "Sorry, you are not allowed"
`

// parseConfig loads a configuration for target from YAML that follows
// the target line.
func parseConfig(t *testing.T, target, rest string) *roles.Config {
	t.Helper()
	data := fmt.Sprintf("target: %s\n%s", target, rest)
	cfg, err := roles.Parse("test.yaml", []byte(data), roles.LoadOptions{Env: func(name string) (string, bool) {
		v, ok := testEnv[name]
		return v, ok
	}})
	if err != nil {
		t.Fatalf("parse config: %v\n%s", err, data)
	}
	return cfg
}

// siteConfig is the configuration of the default fixture site.
func siteConfig(t *testing.T, site *crawltest.Site, crawl string) *roles.Config {
	t.Helper()
	return parseConfig(t, site.URL, "login_url: /login\n"+crawl+siteRoles)
}

// testOptions builds scope, sessions and clients for cfg.
func testOptions(t *testing.T, cfg *roles.Config) Options {
	t.Helper()
	scope, err := NewScope(cfg)
	if err != nil {
		t.Fatalf("NewScope: %v", err)
	}
	opts := Options{Config: cfg, Scope: scope, Clients: map[string]*http.Client{}}
	for _, r := range cfg.Roles {
		s := session.NewSession(r)
		opts.Sessions = append(opts.Sessions, s)
		opts.Clients[r.Name] = NewClient(scope, s, ClientOptions{UserAgent: "permaudit-test", Timeout: cfg.Crawl.Timeout})
	}
	return opts
}

// noSecret fails when s holds any secret the tests use.
func noSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, v := range []string{crawltest.UserPassword, crawltest.UserAPIKey, crawltest.AdminToken, crawltest.AdminCookie, crawltest.JarCookie} {
		if strings.Contains(s, v) {
			t.Errorf("%s holds the secret %q: %s", what, v, s)
		}
	}
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return u
}
