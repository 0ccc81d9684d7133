package roles

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var sprintf = fmt.Sprintf

// testEnv is the environment of valid.yaml.
var testEnv = map[string]string{
	"CAROL_PASSWORD":  "carol-pw-Secret1",
	"CUSTOMER_KEY":    "cust-key-Secret2",
	"CUSTOMER_COOKIE": "cookie-Secret3",
	"ADMIN_TOKEN":     "admin-token-Secret4",
}

func envOf(m map[string]string) LoadOptions {
	return LoadOptions{Env: func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}}
}

func parseTest(t *testing.T, yaml string, env map[string]string) *Config {
	t.Helper()
	c, err := Parse("test.yaml", []byte(yaml), envOf(env))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// parseErrs parses yaml, which must be invalid, and returns its errors.
func parseErrs(t *testing.T, yaml string, env map[string]string) ConfigErrors {
	t.Helper()
	c, err := Parse("test.yaml", []byte(yaml), envOf(env))
	if err == nil {
		t.Fatalf("Parse succeeded (%+v), want errors", c)
	}
	var ce ConfigErrors
	if !errors.As(err, &ce) {
		t.Fatalf("Parse error %T %v, want ConfigErrors", err, err)
	}
	if c != nil {
		t.Errorf("Parse returned a Config with its errors")
	}
	return ce
}

func TestLoadValid(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "valid.yaml"), envOf(testEnv))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("File", c.File, filepath.Join("testdata", "valid.yaml"))
	check("Target", c.Target, "http://127.0.0.1:8080")
	check("LoginURL", c.LoginURL, "/login")
	check("Scope.Exclude", c.Scope.Exclude, []string{"/static/**", "POST /api/**"})
	check("Scope.ExcludeWords", c.Scope.ExcludeWords, []string{"logout", "delete"})
	check("Crawl", c.Crawl, CrawlConfig{
		Start:    []string{"/", "/admin/", "/api/orders/{customer.order_id}"},
		MaxDepth: 4, MaxRequests: 500, Concurrency: 4, Timeout: 5 * time.Second, MaxBody: 65536,
		UserAgent: "permaudit-test (+authorised permission audit)", MaxPerTemplate: 5, MaxQueryVariants: 20,
		Retries: 3, MaxRetryAfter: 30 * time.Second, MaxProbes: 100_000, RunIDHeader: DefaultRunIDHeader,
	})
	check("RoleNames", c.RoleNames(), []string{"anonymous", "customer", "admin"})
	check("anonymous vars", c.Role("anonymous").Vars, map[string]string{"order_id": "0"})
	cust := c.Role("customer")
	check("customer vars", cust.Vars, map[string]string{"order_id": "17"})
	check("customer basic", *cust.Login.Basic, BasicAuth{Username: "carol", Password: testEnv["CAROL_PASSWORD"]})
	check("customer headers", cust.Login.Headers, map[string]string{"X-Api-Key": testEnv["CUSTOMER_KEY"]})
	check("customer cookies", cust.Login.Cookies, map[string]string{"session": testEnv["CUSTOMER_COOKIE"]})
	check("customer kind", cust.Login.Kind(), "basic+headers+cookies")
	admin := c.Role("admin")
	check("admin inherits", admin.Inherits, []string{"customer"})
	check("admin bearer", admin.Login.Bearer, testEnv["ADMIN_TOKEN"])
	if want := []Denial{{Class: "forbidden", Body: "Sorry, you are not allowed", Status: 200}, {Class: "forbidden", Header: "X-Denied"},
		{Class: "unauthenticated", Title: "Login required"},
		{Class: "hidden", JSON: "$.errors[*].code", JSONSteps: []JSONStep{{Key: "errors"}, {All: true}, {Key: "code"}}, Equals: &BodyValue{Kind: NumberValue, Text: "404"}, Status: 200}}; !reflect.DeepEqual(c.Denials, want) {
		t.Errorf("Denials = %+v, want %+v", c.Denials, want)
	}
	check("Matrix.Default", c.Matrix.Default, "unmapped")
	var names []string
	for _, r := range c.Matrix.Rules {
		names = append(names, r.Name())
	}
	check("rules", names, []string{
		"GET / (line 38)", "admin area", "GET /api/orders/{self.order_id} (line 43)",
		"GET /api/orders/{id} (line 45)", "GET /wp-admin/admin.php?page=audit-* (line 48)",
	})
	check("rule 2 line", c.Matrix.Rules[1].Line, 40)
	check("rule 5 allow", c.Matrix.Rules[4].Allow == nil, false)
	check("rule 4 deny_as", c.Matrix.Rules[3].DenyAs, []DenyForm{{Class: "hidden", Status: 404}})
	check("rule 5 deny_as", c.Matrix.Rules[4].DenyAs, []DenyForm{{Class: "unauthenticated"}, {Class: "forbidden", Status: 403}, {Status: 405}})
	check("Outputs", c.Outputs, []string{"json=run.json", "html=report.html"})
	check("FailOn", c.FailOn, []string{"leak", "blocked"})
	if fp := c.Fingerprint(); len(fp) != 64 || strings.Trim(fp, "0123456789abcdef") != "" {
		t.Errorf("Fingerprint() = %q, want 64 hex digits", fp)
	}

	// Every credential form is a secret; the basic username is not.
	basic := base64.StdEncoding.EncodeToString([]byte("carol:" + testEnv["CAROL_PASSWORD"]))
	wantSecrets := []string{
		testEnv["CAROL_PASSWORD"], testEnv["CUSTOMER_KEY"], testEnv["CUSTOMER_COOKIE"], testEnv["ADMIN_TOKEN"],
		basic, "Basic " + basic, "Bearer " + testEnv["ADMIN_TOKEN"],
	}
	vals := c.Secrets.Values()
	for _, s := range wantSecrets {
		if !slices.Contains(vals, s) {
			t.Errorf("Secrets lack %q", s)
		}
	}
	if slices.Contains(vals, "carol") {
		t.Errorf("the basic username is a secret")
	}
	if got, want := c.Secrets.Redact("t="+testEnv["ADMIN_TOKEN"]), "t=[REDACTED:roles.admin.login.bearer]"; got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "minimal.yaml"), envOf(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := CrawlConfig{Start: []string{"/"}, MaxDepth: 6, MaxRequests: 2000, Concurrency: 8, Timeout: 10 * time.Second, MaxBody: 1 << 20, MaxPerTemplate: 20, MaxQueryVariants: 20,
		Retries: 3, MaxRetryAfter: 30 * time.Second, MaxProbes: 100_000, RunIDHeader: DefaultRunIDHeader}
	if fmt.Sprint(c.Crawl) != fmt.Sprint(want) {
		t.Errorf("Crawl = %+v, want %+v", c.Crawl, want)
	}
	if c.Scope.ExcludeWords != nil || c.Outputs != nil || c.FailOn != nil {
		t.Errorf("ExcludeWords %v, Outputs %v, FailOn %v: want nil", c.Scope.ExcludeWords, c.Outputs, c.FailOn)
	}
	if c.Matrix.Default != "deny" || len(c.Matrix.Rules) != 0 {
		t.Errorf("Matrix = %+v, want default deny and no rules", c.Matrix)
	}
	if got := c.RoleNames(); !slices.Equal(got, []string{"anonymous"}) {
		t.Errorf("RoleNames() = %q, want [anonymous]", got)
	}
	if c.Secrets == nil || len(c.Secrets.Values()) != 0 {
		t.Errorf("Secrets = %v, want an empty Redactor", c.Secrets)
	}

	empty := parseTest(t, "target: http://h\nscope: {exclude_words: []}\nfail_on: []\n", nil)
	if empty.Scope.ExcludeWords == nil || len(empty.Scope.ExcludeWords) != 0 {
		t.Errorf("exclude_words: [] gave %#v, want an empty non-nil slice", empty.Scope.ExcludeWords)
	}
	if empty.FailOn == nil || len(empty.FailOn) != 0 {
		t.Errorf("fail_on: [] gave %#v, want an empty non-nil slice", empty.FailOn)
	}
}

func TestLoadBadFile(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "bad.yaml"), envOf(map[string]string{"ADMIN_TOKEN": "tok-Secret"}))
	var ce ConfigErrors
	if !errors.As(err, &ce) {
		t.Fatalf("Load error = %v, want ConfigErrors", err)
	}
	file := filepath.Join("testdata", "bad.yaml")
	want := []string{
		file + ":7:7: roles.admin.login.bearr: unknown field (known: basic, bearer, headers, cookies, form, json, oauth2, command, capture, renew, logout)",
		file + `:14:14: matrix.rules[1].match: pattern "GET /admin/{id": unbalanced "{" at column 12`,
		file + `:17:15: matrix.rules[2].allow[0]: unknown role "custmer" (roles: anonymous, admin, customer)`,
	}
	if len(ce) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(ce), len(want), err)
	}
	for i := range want {
		if got := ce[i].Error(); got != want[i] {
			t.Errorf("error %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
	if want := strings.Join(want, "\n"); err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
}

// TestDocsExample loads the example of docs/config.md, so that it cannot rot.
func TestDocsExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "config.md"))
	if err != nil {
		t.Fatalf("read docs: %v", err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatalf("no yaml block in docs/config.md")
	}
	env := map[string]string{"CAROL_PASSWORD": "pw-1", "CUSTOMER_TOKEN": "tok-2", "CUSTOMER_KEY": "key-3",
		"CUSTOMER_COOKIE": "cookie-4", "ADMIN_TOKEN": "tok-5"}
	c := parseTest(t, example, env)
	if got := c.RoleNames(); !slices.Equal(got, []string{"anonymous", "customer", "admin"}) {
		t.Errorf("RoleNames() = %q", got)
	}
	if got := c.Role("customer").Login.Kind(); got != "basic+bearer+headers+cookies" {
		t.Errorf("customer Kind() = %q", got)
	}
	if len(c.Matrix.Rules) != 6 {
		t.Fatalf("%d rules, want 6", len(c.Matrix.Rules))
	}
	if got := c.Matrix.Rules[4].DenyFormsFor("anonymous"); len(got) != 1 || got[0].Class != "unauthenticated" {
		t.Errorf("rule 5's forms for anonymous: %+v, want login", got)
	}
	if got := len(c.Matrix.Rules[5].Body); got != 2 {
		t.Errorf("rule 6 has %d body checks, want 2", got)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		env       map[string]string
		line, col int
		field     string
		msg       string // substring
	}{
		{"empty file", "", nil, 1, 1, "", "empty configuration"},
		{"only comments", "# nothing\n", nil, 1, 1, "", "empty configuration"},
		{"null document", "~\n", nil, 1, 1, "", "empty configuration"},
		{"not a mapping", "- a\n", nil, 1, 1, "", "must be a mapping"},
		{"syntax", "target: http://h\nroles:\n  a: [\n", nil, 3, 1, "", "invalid YAML"},
		{"tab syntax", "target: x\n\tb: 1\n", nil, 2, 1, "", "invalid YAML"},
		{"two documents", "target: http://h\n---\ntarget: http://i\n", nil, 2, 1, "", "second YAML document"},
		{"missing target", "login_url: /login\n", nil, 1, 1, "target", "required"},
		{"target scheme", "target: ftp://h\n", nil, 1, 9, "target", "want an absolute http or https URL"},
		{"target relative", "target: /x\n", nil, 1, 9, "target", "want an absolute http or https URL"},
		{"target no host", "target: http://:80\n", nil, 1, 9, "target", "has no host"},
		{"target query", "target: http://h/?a=1\n", nil, 1, 9, "target", "has a query"},
		{"target empty query", "target: http://h/?\n", nil, 1, 9, "target", "has a query"},
		{"target fragment", "target: http://h/#x\n", nil, 1, 9, "target", "has a fragment"},
		{"target userinfo", "target: http://u:p@h/\n", nil, 1, 9, "target", "holds credentials"},
		{"target port range", "target: http://h:99999/\n", nil, 1, 9, "target", "out of range 1..65535"},
		{"target bad port", "target: http://h:x/\n", nil, 1, 9, "target", "invalid URL"},
		{"static Cookie header", "target: http://h\nroles:\n  a:\n    login:\n      headers: {Cookie: x}\n", nil, 5, 17, "roles.a.login.headers.Cookie", "use cookies for cookies"},
		{"static empty header", "target: http://h\nroles:\n  a:\n    login:\n      headers: {X-Key: \"\"}\n", nil, 5, 24, "roles.a.login.headers.X-Key", "must be non-empty"},
		{"static Host header", "target: http://h\nroles:\n  a:\n    login:\n      headers: {Host: h}\n", nil, 5, 17, "roles.a.login.headers.Host", "may not be set"},
		{"target list", "target: [a]\n", nil, 1, 9, "target", "must be a string, not a list"},
		{"duplicate field", "target: http://h\ntarget: http://i\n", nil, 2, 1, "target", "duplicate field"},
		{"unknown top field", "target: http://h\nrols: {}\n", nil, 2, 1, "rols", "unknown field (known: target, login_url, scope, crawl, roles, denials, matrix, outputs, fail_on, sources, allow_plain_http, tls, proxy)"},
		{"merge key", "target: http://h\nroles:\n  a: &x {vars: {v: '1'}}\n  b:\n    <<: *x\n", nil, 5, 5, "roles.b", "merge keys"},
		{"login_url other origin", "target: http://h\nlogin_url: http://evil/login\n", nil, 2, 12, "login_url", "not on the target's origin"},
		{"login_url scheme-relative", "target: http://h\nlogin_url: //evil/login\n", nil, 2, 12, "login_url", "want a path"},
		{"login_url relative", "target: http://h\nlogin_url: login\n", nil, 2, 12, "login_url", "want a path"},
		{"scope pattern", "target: http://h\nscope: {exclude: [\"/a/**b\"]}\n", nil, 2, 19, "scope.exclude[0]", "must be a whole segment"},
		{"scope word", "target: http://h\nscope: {exclude_words: [\" \"]}\n", nil, 2, 25, "scope.exclude_words[0]", "empty word"},
		{"crawl concurrency", "target: http://h\ncrawl:\n  concurrency: 65\n", nil, 3, 16, "crawl.concurrency", "65 is out of range 1..64"},
		{"crawl depth type", "target: http://h\ncrawl:\n  max_depth: 1.5\n", nil, 3, 14, "crawl.max_depth", "must be an integer"},
		{"crawl depth text", "target: http://h\ncrawl:\n  max_depth: deep\n", nil, 3, 14, "crawl.max_depth", "must be an integer"},
		{"crawl requests", "target: http://h\ncrawl:\n  max_requests: 0\n", nil, 3, 17, "crawl.max_requests", "out of range"},
		{"crawl timeout", "target: http://h\ncrawl:\n  timeout: 10\n", nil, 3, 12, "crawl.timeout", "not a Go duration"},
		{"crawl timeout negative", "target: http://h\ncrawl:\n  timeout: -1s\n", nil, 3, 12, "crawl.timeout", "out of range"},
		{"crawl start other origin", "target: http://h\ncrawl:\n  start: [\"http://i/\"]\n", nil, 3, 11, "crawl.start[0]", "not on the target's origin"},
		{"crawl start empty", "target: http://h\ncrawl:\n  start: []\n", nil, 3, 10, "crawl.start", "empty"},
		{"crawl start unknown role", "target: http://h\ncrawl:\n  start: [\"/o/{bob.id}\"]\n", nil, 3, 11, "crawl.start[0]", `unknown role "bob"`},
		{"crawl user agent", "target: http://h\ncrawl:\n  user_agent: \"a\\nb\"\n", nil, 3, 15, "crawl.user_agent", "control characters"},
		{"crawl unknown", "target: http://h\ncrawl:\n  speed: 50/s\n", nil, 3, 3, "crawl.speed", "unknown field"},
		{"role name", "target: http://h\nroles:\n  Admin: {}\n", nil, 3, 3, "roles.Admin", "invalid role name"},
		{"role self", "target: http://h\nroles:\n  self: {}\n", nil, 3, 3, "roles.self", "reserved"},
		{"duplicate role", "target: http://h\nroles:\n  a: {}\n  a: {}\n", nil, 4, 3, "roles.a", "duplicate field"},
		{"anonymous login", "target: http://h\nroles:\n  anonymous:\n    login: {bearer: x}\n", nil, 4, 12, "roles.anonymous.login", "anonymous has no credentials"},
		{"anonymous inherits", "target: http://h\nroles:\n  a: {}\n  anonymous: {inherits: [a]}\n", nil, 4, 25, "roles.anonymous.inherits", "inherits from no role"},
		{"role not mapping", "target: http://h\nroles:\n  a: [x]\n", nil, 3, 6, "roles.a", "must be a mapping, not a list"},
		{"inherits unknown", "target: http://h\nroles:\n  a: {inherits: [b]}\n", nil, 3, 18, "roles.a.inherits[0]", `unknown role "b"`},
		{"inherits self", "target: http://h\nroles:\n  a: {inherits: a}\n", nil, 3, 17, "roles.a.inherits", "inherits from itself"},
		{"inherits cycle", "target: http://h\nroles:\n  a: {inherits: [b]}\n  b: {inherits: [c]}\n  c: {inherits: [a]}\n", nil, 3, 3, "roles.a.inherits", "inheritance cycle: a -> b -> c -> a"},
		{"var null", "target: http://h\nroles:\n  a: {vars: {x: }}\n", nil, 3, 17, "roles.a.vars.x", "must be a string"},
		{"var name", "target: http://h\nroles:\n  a: {vars: {x.y: '1'}}\n", nil, 3, 14, "roles.a.vars.x.y", "invalid variable name"},
		{"var map", "target: http://h\nroles:\n  a: {vars: {x: {y: 1}}}\n", nil, 3, 17, "roles.a.vars.x", "must be a string"},
		{"basic no password", "target: http://h\nroles:\n  a:\n    login: {basic: {username: u}}\n", nil, 4, 20, "roles.a.login.basic.password", "required"},
		{"basic colon", "target: http://h\nroles:\n  a:\n    login: {basic: {username: 'u:v', password: p}}\n", nil, 4, 31, "roles.a.login.basic.username", "without ':'"},
		{"bearer blank", "target: http://h\nroles:\n  a:\n    login: {bearer: 'a b'}\n", nil, 4, 21, "roles.a.login.bearer", "blanks"},
		{"bearer empty", "target: http://h\nroles:\n  a:\n    login: {bearer: ''}\n", nil, 4, 21, "roles.a.login.bearer", "empty token"},
		{"header name", "target: http://h\nroles:\n  a:\n    login: {headers: {'X Key': v}}\n", nil, 4, 23, "roles.a.login.headers.X Key", "invalid header name"},
		{"header cookie", "target: http://h\nroles:\n  a:\n    login: {headers: {cookie: v}}\n", nil, 4, 23, "roles.a.login.headers.cookie", "use cookies"},
		{"header value", "target: http://h\nroles:\n  a:\n    login: {headers: {X-K: \"a\\rb\"}}\n", nil, 4, 28, "roles.a.login.headers.X-K", "control characters"},
		{"cookie value", "target: http://h\nroles:\n  a:\n    login: {cookies: {s: 'a;b'}}\n", nil, 4, 26, "roles.a.login.cookies.s", "without blanks"},
		{"login unknown", "target: http://h\nroles:\n  a:\n    login: {saml: {}}\n", nil, 4, 13, "roles.a.login.saml", "unknown field (known: basic, bearer, headers, cookies, form, json, oauth2, command, capture, renew, logout)"},
		{"rule name empty", "target: http://h\nmatrix:\n  rules:\n    - {name: ' ', match: /, allow: []}\n", nil, 4, 14, "matrix.rules[0].name", "want a name on one line"},
		{"rule name two lines", "target: http://h\nmatrix:\n  rules:\n    - {name: \"a\\nb\", match: /, allow: []}\n", nil, 4, 14, "matrix.rules[0].name", "want a name on one line"},
		{"rule name list", "target: http://h\nmatrix:\n  rules:\n    - {name: [a], match: /, allow: []}\n", nil, 4, 14, "matrix.rules[0].name", ""},
		{"rule name twice", "target: http://h\nmatrix:\n  rules:\n    - {name: admin, match: /a, allow: []}\n    - {name: admin, match: /b, allow: []}\n", nil, 5, 14, "matrix.rules[1].name", `"admin" already names the rule at line 4`},
		{"denial empty", "target: http://h\ndenials:\n  - status: 200\n", nil, 3, 5, "denials[0]", "needs a body, header, json, title or location"},
		{"denial class", "target: http://h\ndenials:\n  - {body: x, class: login}\n", nil, 3, 22, "denials[0].class", `"login": want unauthenticated, forbidden or hidden`},
		{"denial json path", "target: http://h\ndenials:\n  - {json: 'error..code', equals: x}\n", nil, 3, 12, "denials[0].json", `JSON path "error..code": empty key`},
		{"denial json index", "target: http://h\ndenials:\n  - json: error[x]\n", nil, 3, 11, "denials[0].json", `index "x"`},
		{"denial equals without json", "target: http://h\ndenials:\n  - {body: x, equals: y}\n", nil, 3, 23, "denials[0].equals", "give json"},
		{"denial equals role variable", "target: http://h\ndenials:\n  - {json: a, equals: '{self.id}'}\n", nil, 3, 23, "denials[0].equals", "cannot use role variables"},
		{"denial equals list", "target: http://h\ndenials:\n  - {json: a, equals: [1]}\n", nil, 3, 23, "denials[0].equals", "must be a string, number"},
		{"denial title empty", "target: http://h\ndenials:\n  - {title: '  '}\n", nil, 3, 13, "denials[0].title", "empty"},
		{"denial status", "target: http://h\ndenials:\n  - {body: x, status: 700}\n", nil, 3, 23, "denials[0].status", "out of range"},
		{"denial header", "target: http://h\ndenials:\n  - {header: 'a b: c'}\n", nil, 3, 14, "denials[0].header", "want \"Name\""},
		{"denial scalar", "target: http://h\ndenials: [x]\n", nil, 2, 11, "denials[0]", "must be a mapping"},
		{"matrix default", "target: http://h\nmatrix: {default: allow}\n", nil, 2, 19, "matrix.default", "want deny or unmapped"},
		{"rules mapping", "target: http://h\nmatrix: {rules: {a: b}}\n", nil, 2, 17, "matrix.rules", "must be a list"},
		{"rule no match", "target: http://h\nmatrix:\n  rules:\n    - allow: []\n", nil, 4, 7, "matrix.rules[0].match", "required"},
		{"rule no allow", "target: http://h\nmatrix:\n  rules:\n    - match: /\n", nil, 4, 7, "matrix.rules[0].allow", "required"},
		{"rule empty match", "target: http://h\nmatrix:\n  rules:\n    - {match: [], allow: []}\n", nil, 4, 15, "matrix.rules[0].match", "empty"},
		{"rule bad pattern in list", "target: http://h\nmatrix:\n  rules:\n    - {match: [/, 'GET x'], allow: []}\n", nil, 4, 19, "matrix.rules[0].match[1]", "must start with"},
		{"rule unknown role var", "target: http://h\nmatrix:\n  rules:\n    - {match: '/o/{bob.id}', allow: []}\n", nil, 4, 15, "matrix.rules[0].match", `{bob.id}: unknown role "bob"`},
		{"rule unknown var", "target: http://h\nroles: {bob: {}}\nmatrix:\n  rules:\n    - {match: '/o/{bob.id}', allow: []}\n", nil, 5, 15, "matrix.rules[0].match", "role bob declares no variable id"},
		{"deny_as word", "target: http://h\nmatrix:\n  rules:\n    - {match: /, allow: [], deny_as: nope}\n", nil, 4, 38, "matrix.rules[0].deny_as", "want a status code"},
		{"deny_as code", "target: http://h\nmatrix:\n  rules:\n    - {match: /, allow: [], deny_as: [403, 99]}\n", nil, 4, 44, "matrix.rules[0].deny_as[1]", "want a status code"},
		{"deny_as 5xx", "target: http://h\nmatrix:\n  rules:\n    - {match: /, allow: [], deny_as: [403, 500]}\n", nil, 4, 44, "matrix.rules[0].deny_as[1]", "a 5xx is never a denial by itself"},
		{"rule field", "target: http://h\nmatrix:\n  rules:\n    - {match: /, allow: [], expect: 200}\n", nil, 4, 29, "matrix.rules[0].expect", "unknown field (known: name, match, allow, deny_as, body)"},
		{"outputs", "target: http://h\noutputs: [json]\n", nil, 2, 11, "outputs[0]", "want FORMAT=PATH"},
		{"outputs empty path", "target: http://h\noutputs: ['json=']\n", nil, 2, 11, "outputs[0]", "want FORMAT=PATH"},
		{"fail_on map", "target: http://h\nfail_on: {a: b}\n", nil, 2, 10, "fail_on", "must be a list"},
		{"env missing", "target: http://h\nroles:\n  a: {login: {bearer: '${NOPE}'}}\n", nil, 3, 23, "roles.a.login.bearer", "environment variable NOPE is not set"},
		{"env empty", "target: http://h\nroles:\n  a: {login: {bearer: '${E}'}}\n", map[string]string{"E": ""}, 3, 23, "roles.a.login.bearer", "environment variable E is empty"},
		{"env unterminated", "target: http://h\nlogin_url: '/${X'\n", nil, 2, 12, "login_url", "unterminated"},
		{"env bad name", "target: http://h\nlogin_url: '/${1X}'\n", nil, 2, 12, "login_url", "invalid environment variable name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := parseErrs(t, tt.yaml, tt.env)
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1:\n%v", len(errs), errs)
			}
			e := errs[0]
			if e.File != "test.yaml" || e.Line != tt.line || e.Col != tt.col || e.Field != tt.field || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("got %s:%d:%d field %q msg %q\nwant test.yaml:%d:%d field %q msg containing %q",
					e.File, e.Line, e.Col, e.Field, e.Msg, tt.line, tt.col, tt.field, tt.msg)
			}
		})
	}
}

func TestLoadErrorsSortedAndComplete(t *testing.T) {
	yaml := `matrix:
  rules:
    - {match: "GET /x", allow: [ghost]}
crawl:
  concurrency: 0
roles:
  a: {inherits: [zz]}
`
	errs := parseErrs(t, yaml, nil)
	var got []string
	for _, e := range errs {
		got = append(got, sprintf("%d:%d %s", e.Line, e.Col, e.Field))
	}
	want := []string{"1:1 target", "3:33 matrix.rules[0].allow[0]", "5:16 crawl.concurrency", "7:18 roles.a.inherits[0]"}
	if !slices.Equal(got, want) {
		t.Errorf("errors at %q, want %q", got, want)
	}
}

func TestLoadSecretsNeverInErrors(t *testing.T) {
	env := map[string]string{"TOKEN": "tok-Secret-1", "TIMEOUT": "slow-Secret-2", "KEY": "key-Secret-3"}
	yaml := `target: http://h
crawl:
  timeout: "${TIMEOUT}"
roles:
  a:
    login:
      bearer: "${TOKEN} x"
      headers: {"X K": "${KEY}"}
      cookies: {s: "lit eral-Secret-4"}
      basic: {username: u, password: "pw-Secret-5", extra: 1}
  b:
    login: {bearer: "${MISSING}"}
`
	errs := parseErrs(t, yaml, env)
	if len(errs) < 6 {
		t.Errorf("got %d errors, want at least 6:\n%v", len(errs), errs)
	}
	msg := errs.Error()
	for _, s := range []string{"Secret-1", "Secret-2", "Secret-3", "Secret-4", "Secret-5"} {
		if strings.Contains(msg, s) {
			t.Errorf("an error message holds a secret (%s):\n%s", s, msg)
		}
	}
	if !strings.Contains(msg, "environment variable MISSING is not set") || !strings.Contains(msg, "roles.b.login.bearer") {
		t.Errorf("the missing variable and its field are not named:\n%s", msg)
	}
}

func TestExpandEscape(t *testing.T) {
	c := parseTest(t, "target: http://h\ncrawl:\n  user_agent: 'a $${B} $C ${D}'\n", map[string]string{"D": "dee"})
	if got, want := c.Crawl.UserAgent, "a ${B} $C dee"; got != want {
		t.Errorf("UserAgent = %q, want %q", got, want)
	}
	// A user agent is no credential: its ${ENV} value is no secret...
	if got := c.Secrets.Values(); len(got) != 0 {
		t.Errorf("Secrets = %q, want none", got)
	}
	// ...unless marked so.
	c = parseTest(t, "target: http://h\ncrawl:\n  user_agent: 'a $${B} $C ${secret:D}'\n", map[string]string{"D": "dee"})
	if got, want := c.Crawl.UserAgent, "a ${B} $C dee"; got != want {
		t.Errorf("UserAgent = %q, want %q", got, want)
	}
	if got := c.Secrets.Values(); !slices.Contains(got, "dee") || !slices.Contains(got, "a ${B} $C dee") {
		t.Errorf("Secrets = %q, want the expanded value and the whole field", got)
	}
}

func TestNumbersAsText(t *testing.T) {
	c := parseTest(t, "target: http://h\nroles:\n  a:\n    vars: {n: 017, f: 1.50, b: true}\n    login: {bearer: 12345}\n", nil)
	a := c.Role("a")
	if fmt.Sprint(a.Vars) != "map[b:true f:1.50 n:017]" || a.Login.Bearer != "12345" {
		t.Errorf("Vars = %v, Bearer = %q: want the text as written", a.Vars, a.Login.Bearer)
	}
}

func TestAliases(t *testing.T) {
	c := parseTest(t, `target: http://h
roles:
  a: {vars: &v {id: "1"}}
  b: {vars: *v}
matrix:
  rules:
    - &r {match: "/x", allow: [a]}
    - *r
`, nil)
	if c.Role("b").Vars["id"] != "1" || len(c.Matrix.Rules) != 2 || c.Matrix.Rules[1].Index != 2 {
		t.Errorf("aliases not followed: b vars %v, %d rules", c.Role("b").Vars, len(c.Matrix.Rules))
	}
	// A self-referencing anchor must end in an error, not loop.
	parseErrs(t, "target: http://h\nroles: &r\n  a: *r\n", nil)
}

// aliasBomb is a 600-byte configuration like the issue's: aliases nested
// nine deep under login.json.body, which a walk would expand to 387
// million strings.
const aliasBomb = `target: http://127.0.0.1:8080
roles:
  admin:
    login:
      json:
        url: /api/login
        body:
          a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
          b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
          c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
          d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
          e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
          f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
          g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
          h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
          i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
`

func TestAliasBomb(t *testing.T) {
	errs := parseErrs(t, aliasBomb, nil)
	if len(errs) != 1 {
		t.Fatalf("got %d errors, want 1:\n%v", len(errs), errs)
	}
	// The expansion passes its bound at the first alias of e: b, c and d
	// already expand to 9,180 nodes, e[0] adds 8,200.
	e := errs[0]
	want := "test.yaml:12:18: roles.admin.login.json.body.e[0]: aliases expand to more than"
	if !strings.HasPrefix(e.Error(), want) {
		t.Errorf("got %v\nwant it to start %q", e, want)
	}

	// Aliases that share blocks, as people write them, stay well within
	// the bound: fifty roles signing in with one anchored login.
	var b strings.Builder
	b.WriteString("target: http://h\nroles:\n  r0:\n    login: &l\n      json:\n        url: /api/login\n        body: {user: u, password: p, flags: [a, b, c, d]}\n")
	for i := 1; i < 50; i++ {
		fmt.Fprintf(&b, "  r%d: {login: *l}\n", i)
	}
	c := parseTest(t, b.String(), nil)
	if got := string(c.Role("r49").Login.JSON.Body); got != `{"user":"u","password":"p","flags":["a","b","c","d"]}` {
		t.Errorf("r49's body = %s, want the anchored one", got)
	}
}

func TestFingerprint(t *testing.T) {
	base := `target: http://h
roles:
  a:
    login: {bearer: "%s", headers: {X-A: "1", X-B: "%s"}}
    vars: {x: "1", y: "2", z: "%s"}
crawl:
  max_depth: %d
`
	fp := func(t *testing.T, yaml string, env map[string]string) string {
		t.Helper()
		return parseTest(t, yaml, env).Fingerprint()
	}
	ref := fp(t, sprintf(base, "tok1", "${K}", "${K}", 3), map[string]string{"K": "k1"})
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		same bool
	}{
		{"same config", sprintf(base, "tok1", "${K}", "${K}", 3), map[string]string{"K": "k1"}, true},
		{"other secret", sprintf(base, "tok2", "${K}", "${K}", 3), map[string]string{"K": "k1"}, true},
		{"other env value", sprintf(base, "tok1", "${K}", "${K}", 3), map[string]string{"K": "k2"}, true},
		{"comments and quoting", "# c\n" + strings.ReplaceAll(sprintf(base, "tok1", "${K}", "${K}", 3), `"1"`, `'1'`), map[string]string{"K": "k1"}, true},
		{"map key order", strings.Replace(sprintf(base, "tok1", "${K}", "${K}", 3), `x: "1", y: "2"`, `y: "2", x: "1"`, 1), map[string]string{"K": "k1"}, true},
		{"explicit default", sprintf(base, "tok1", "${K}", "${K}", 3) + "  timeout: 10s\n", map[string]string{"K": "k1"}, true},
		{"other depth", sprintf(base, "tok1", "${K}", "${K}", 4), map[string]string{"K": "k1"}, false},
		{"literal credential instead of env", sprintf(base, "tok1", "k1", "${K}", 3), map[string]string{"K": "k1"}, true},
		{"literal var instead of env", sprintf(base, "tok1", "${K}", "k1", 3), map[string]string{"K": "k1"}, false},
		{"a denial with the default class", sprintf(base, "tok1", "${K}", "${K}", 3) + "denials: [{body: x, class: forbidden}]\n", map[string]string{"K": "k1"}, false},
		{"other var", strings.Replace(sprintf(base, "tok1", "${K}", "${K}", 3), `y: "2"`, `y: "3"`, 1), map[string]string{"K": "k1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fp(t, tt.yaml, tt.env)
			if (got == ref) != tt.same {
				t.Errorf("fingerprint %s vs reference %s: same = %v, want %v", got, ref, got == ref, tt.same)
			}
		})
	}
}

func TestSetTarget(t *testing.T) {
	c := parseTest(t, "target: http://h:1\nlogin_url: /login\n", nil)
	fp := c.Fingerprint()
	if err := c.SetTarget("https://staging.test"); err != nil {
		t.Fatalf("SetTarget: %v", err)
	}
	if c.Target != "https://staging.test" || c.Fingerprint() != fp {
		t.Errorf("Target = %q, fingerprint changed %v", c.Target, c.Fingerprint() != fp)
	}
	for _, bad := range []string{"", "ftp://h", "http://h/?q", "staging.test"} {
		if err := c.SetTarget(bad); err == nil {
			t.Errorf("SetTarget(%q) succeeded", bad)
		}
	}
	if c.Target != "https://staging.test" {
		t.Errorf("a failed SetTarget changed Target to %q", c.Target)
	}
	abs := parseTest(t, "target: http://h:1\nlogin_url: http://h:1/login\n", nil)
	if err := abs.SetTarget("http://other:2"); err == nil || !strings.Contains(err.Error(), "login_url") {
		t.Errorf("SetTarget to another origin with an absolute login_url: err = %v, want one naming login_url", err)
	}
	if err := abs.SetTarget("http://H:1/base"); err != nil {
		t.Errorf("SetTarget to the same origin: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"), LoadOptions{})
	var ce ConfigErrors
	if err == nil || errors.As(err, &ce) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want a plain not-exist error", err)
	}
}

func TestRedactor(t *testing.T) {
	r := NewRedactor()
	r.Add("short", "ab")
	r.Add("long", "abcdef")
	r.Add("empty", "")
	r.Add("dup", "ab") // the first name stays
	tests := []struct{ in, want string }{
		{"xx abcdef yy", "xx [REDACTED:long] yy"},
		{"ab ab", "[REDACTED:short] [REDACTED:short]"},
		{"nothing", "nothing"},
	}
	for _, tt := range tests {
		if got := r.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := r.Values(); !slices.Equal(got, []string{"abcdef", "ab"}) {
		t.Errorf("Values() = %q, want [abcdef ab]", got)
	}
	var nilR *Redactor
	if got := nilR.Redact("abc"); got != "abc" {
		t.Errorf("nil Redactor changed %q", got)
	}
}

// TestAllowListsShared: rules with the same allow list hold one list (a
// matrix of a rule per endpoint repeats a few lists), which no rule can
// grow into another's; allow: [] stays an empty list, not a missing one.
func TestAllowListsShared(t *testing.T) {
	c := parseTest(t, `target: http://h
roles:
  alice: {login: {bearer: t}}
matrix:
  rules:
    - {match: "GET /a", allow: [alice, anonymous]}
    - {match: "GET /b", allow: [anonymous]}
    - {match: "GET /c", allow: [alice, anonymous]}
    - {match: "GET /d", allow: []}
    - {match: "GET /e", allow: []}
`, nil)
	r := c.Matrix.Rules
	if len(r) != 5 {
		t.Fatalf("%d rules, want 5", len(r))
	}
	if &r[0].Allow[0] != &r[2].Allow[0] || !slices.Equal(r[2].Allow, []string{"alice", "anonymous"}) {
		t.Errorf("rules 1 and 3 allow %q and %q, not one shared list", r[0].Allow, r[2].Allow)
	}
	if &r[0].Allow[0] == &r[1].Allow[0] || !slices.Equal(r[1].Allow, []string{"anonymous"}) {
		t.Errorf("rule 2 allows %q: want its own list [anonymous]", r[1].Allow)
	}
	if cap(r[0].Allow) != len(r[0].Allow) {
		t.Errorf("a shared list has room to grow (%d of %d): an append would write into other rules' list", len(r[0].Allow), cap(r[0].Allow))
	}
	if r[3].Allow == nil || len(r[3].Allow) != 0 || r[4].Allow == nil {
		t.Errorf("allow: [] gave %#v and %#v, want empty non-nil lists", r[3].Allow, r[4].Allow)
	}
}
