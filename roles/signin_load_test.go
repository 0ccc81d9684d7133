package roles

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

var signInEnv = map[string]string{
	"API_PASSWORD":    "api-pw-Secret9",
	"LEGACY_PASSWORD": "legacy-pw-Secret8",
	"SERVICE_SECRET":  "svc-Secret7",
	"SSO_STATIC":      "sso-static-Secret6",
}

func TestLoadSignIn(t *testing.T) {
	c, err := Load("testdata/signin.yaml", envOf(signInEnv))
	if err != nil {
		t.Fatal(err)
	}
	ed := c.Role("editor")
	f := ed.Login.Form
	if f == nil || f.URL != "/login" || f.Action != "/session" || !slices.Equal(f.FieldOrder, []string{"username", "password"}) || f.Fields["password"] != "literal-Pass-1" {
		t.Errorf("form %+v", f)
	}
	if want := []Capture{{Var: "user_id", From: `regex:user (\d+)`}, {Var: "team", From: "header:X-Team"}}; !slices.Equal(ed.Login.Capture, want) {
		t.Errorf("capture %v, want %v", ed.Login.Capture, want)
	}
	if ed.Login.Renew != (Renew{Max: 5, Backoff: 250 * time.Millisecond}) {
		t.Errorf("renew %+v", ed.Login.Renew)
	}
	if ck := ed.Check; ck == nil || ck.String() != "GET /api/me" || ck.Status != 200 || ck.LoggedOut != "Please sign in" {
		t.Errorf("check %+v", ck)
	}
	j := c.Role("api").Login.JSON
	wantBody := `{"user":{"name":"api","password":"api-pw-Secret9"},"remember":true,"ttl":30,"scopes":["a","b"],"note":null}`
	if j == nil || j.Method != "PUT" || string(j.Body) != wantBody || j.Token != "data.access_token" || j.Use != (TokenUse{Header: "X-Auth-Token"}) || j.ExpiresIn != "data.expires_in" {
		t.Errorf("json %+v body %s", j, j.Body)
	}
	if ck := c.Role("api").Check; ck.String() != "POST /graphql" || ck.Body == "" {
		t.Errorf("check %+v", ck)
	}
	l := c.Role("legacy").Login.JSON
	if string(l.Body) != "login=legacy&passwd=legacy-pw-Secret8" || l.TokenCookie != "PHPSESSID" || l.Use != (TokenUse{Header: "Authorization", Scheme: "Bearer"}) {
		t.Errorf("legacy %+v body %s", l, l.Body)
	}
	if l.XSRF == nil || *l.XSRF != (XSRF{URL: "/login.php", Cookie: "csrftoken", Header: "X-CSRFToken"}) {
		t.Errorf("legacy xsrf %+v", l.XSRF)
	}
	if x := c.Role("spa").Login.JSON.XSRF; x == nil || *x != (XSRF{URL: "/sanctum/csrf-cookie", Cookie: DefaultXSRFCookie, Header: DefaultXSRFHeader}) {
		t.Errorf("spa xsrf %+v, want the defaults XSRF-TOKEN and X-XSRF-TOKEN", x)
	}
	if j.XSRF != nil {
		t.Errorf("api xsrf %+v, want none", j.XSRF)
	}
	o := c.Role("service").Login.OAuth2
	if o == nil || o.ClientID != "reporting" || o.Auth != "header" || o.Params["audience"] != "api" || o.Use.Scheme != "" {
		t.Errorf("oauth2 %+v", o)
	}
	cm := c.Role("sso").Login.Command
	if cm == nil || !slices.Equal(cm.Argv, []string{"./sso-token", "--user", "sso"}) || cm.Timeout != 30*time.Second || cm.Gives != "cookie" {
		t.Errorf("command %+v", cm)
	}
	for role, kind := range map[string]string{"editor": "form", "api": "json", "legacy": "json", "service": "oauth2", "sso": "bearer+command", "spa": "json", "anonymous": "none"} {
		if got := c.Role(role).Login.Kind(); got != kind {
			t.Errorf("%s Kind() = %q, want %q", role, got, kind)
		}
	}
	if r := c.Role("service").Login.Renew; r.Max != DefaultMaxRenewals || r.Backoff != DefaultRenewBackoff {
		t.Errorf("default renew %+v", r)
	}
	// Credentials written in the file are secrets too, and so is every
	// value from the environment.
	for _, v := range []string{"literal-Pass-1", "api-pw-Secret9", "legacy-pw-Secret8", "svc-Secret7", "sso-static-Secret6"} {
		if !slices.Contains(c.Secrets.Values(), v) {
			t.Errorf("%q is not a secret", v)
		}
	}
	if slices.Contains(c.Secrets.Values(), "editor") {
		t.Errorf("a user name is a secret")
	}
	// Changing a secret keeps the fingerprint; changing a flow does not.
	env2 := map[string]string{}
	for k, v := range signInEnv {
		env2[k] = v + "x"
	}
	c2, err := Load("testdata/signin.yaml", envOf(env2))
	if err != nil {
		t.Fatal(err)
	}
	if c2.Fingerprint() != c.Fingerprint() {
		t.Errorf("the fingerprint changed with the secrets")
	}
	c3 := parseTest(t, strings.Replace(string(mustRead(t, "testdata/signin.yaml")), "max: 5", "max: 6", 1), signInEnv)
	if c3.Fingerprint() == c.Fingerprint() {
		t.Errorf("the fingerprint did not change with renew.max")
	}
	c4 := parseTest(t, strings.Replace(string(mustRead(t, "testdata/signin.yaml")), "header: X-CSRFToken", "header: X-CSRF-Token", 1), signInEnv)
	if c4.Fingerprint() == c.Fingerprint() {
		t.Errorf("the fingerprint did not change with xsrf.header")
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadSignInErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		line, col  int
		field, msg string
	}{
		{"two flows", "login: {form: {url: /l, fields: {a: b}}, json: {url: /j, body: {}}}", 3, 54, "roles.r.login.json", "a role signs in one way: form is already set"},
		{"form without fields", "login: {form: {url: /l}}", 3, 21, "roles.r.login.form.fields", "required"},
		{"form off origin", "login: {form: {url: 'http://evil.test/l', fields: {a: b}}}", 3, 27, "roles.r.login.form.url", "not on the target's origin"},
		{"json encoding", "login: {json: {url: /j, encoding: xml, body: {a: b}}}", 3, 41, "roles.r.login.json.encoding", `"xml": want json or form`},
		{"json form body nested", "login: {json: {url: /j, encoding: form, body: {a: {b: c}}}}", 3, 57, "roles.r.login.json.body.a", "a form-encoded body holds strings only"},
		{"json token and cookie", "login: {json: {url: /j, token: a, token_cookie: b}}", 3, 55, "roles.r.login.json.token_cookie", "give token or token_cookie, not both"},
		{"json bad path", "login: {json: {url: /j, token: 'a..b'}}", 3, 38, "roles.r.login.json.token", "want names separated by dots"},
		{"token header Cookie", "login: {json: {url: /j, token: t, header: Cookie}}", 3, 49, "roles.r.login.json.header", "the token cannot be sent in Cookie"},
		{"xsrf without url", "login: {json: {url: /j, xsrf: {cookie: c}}}", 3, 37, "roles.r.login.json.xsrf.url", "required: the page that sets the cookie"},
		{"xsrf a string", "login: {json: {url: /j, xsrf: /c}}", 3, 37, "roles.r.login.json.xsrf", "must be a mapping such as {url: /sanctum/csrf-cookie}, not a scalar"},
		{"xsrf unknown", "login: {json: {url: /j, xsrf: {url: /c, name: c}}}", 3, 47, "roles.r.login.json.xsrf.name", "unknown field (known: url, cookie, header)"},
		{"xsrf off origin", "login: {json: {url: /j, xsrf: {url: 'http://evil.test/c'}}}", 3, 43, "roles.r.login.json.xsrf.url", "not on the target's origin"},
		{"xsrf empty cookie", "login: {json: {url: /j, xsrf: {url: /c, cookie: ''}}}", 3, 55, "roles.r.login.json.xsrf.cookie", "empty: want a cookie name"},
		{"xsrf bad cookie", "login: {json: {url: /j, xsrf: {url: /c, cookie: 'a b'}}}", 3, 55, "roles.r.login.json.xsrf.cookie", `invalid cookie name "a b"`},
		{"xsrf empty header", "login: {json: {url: /j, xsrf: {url: /c, header: ''}}}", 3, 55, "roles.r.login.json.xsrf.header", "empty: want a header name"},
		{"xsrf header Cookie", "login: {json: {url: /j, xsrf: {url: /c, header: cookie}}}", 3, 55, "roles.r.login.json.xsrf.header", "the XSRF token cannot be sent in Cookie"},
		{"xsrf header in headers", "login: {json: {url: /j, headers: {x-xsrf-token: a}, xsrf: {url: /c}}}", 3, 65, "roles.r.login.json.xsrf", "headers sets x-xsrf-token too"},
		{"oauth2 without secret", "login: {oauth2: {token_url: /t, client_id: c}}", 3, 23, "roles.r.login.oauth2.client_secret", "required"},
		{"oauth2 auth", "login: {oauth2: {token_url: /t, client_id: c, client_secret: s, auth: basic}}", 3, 77, "roles.r.login.oauth2.auth", `"basic": want header or body`},
		{"command a string", "login: {command: {run: 'sso-login --user x'}}", 3, 30, "roles.r.login.command.run", "must be a list"},
		{"command timeout", "login: {command: {run: [x], timeout: 0s}}", 3, 44, "roles.r.login.command.timeout", "out of range"},
		{"command cookie header", "login: {command: {run: [x], gives: cookie, header: X-A}}", 3, 24, "roles.r.login.command", "header and scheme apply to a token"},
		{"capture without flow", "login: {bearer: t, capture: {id: x}}", 3, 35, "roles.r.login.capture", "capture needs a sign-in flow"},
		{"capture bad regex", "login: {json: {url: /j}, capture: {id: 'regex:('}}", 3, 46, "roles.r.login.capture.id", "invalid regular expression"},
		{"renew max", "login: {json: {url: /j}, renew: {max: 1000}}", 3, 45, "roles.r.login.renew.max", "out of range 0..100"},
		{"check without url", "check: {status: 200}", 3, 14, "roles.r.check.url", "required"},
		{"check empty marker", "check: {url: /me, contains: ''}", 3, 35, "roles.r.check.contains", "empty"},
		{"check same markers", "check: {url: /me, contains: a, logged_out: a}", 3, 50, "roles.r.check.logged_out", "must differ"},
		{"check DELETE", "check: {method: DELETE, url: /api/users/1}", 3, 23, "roles.r.check.method", "a check may not use DELETE"},
		{"check PUT", "check: {method: put, url: /api/me}", 3, 23, "roles.r.check.method", "a check may not use PUT"},
		{"check PATCH", "check: {method: PATCH, url: /api/me}", 3, 23, "roles.r.check.method", "a check may not use PATCH"},
		{"check POST not allowed", "check: {method: POST, url: /graphql}", 3, 23, "roles.r.check.method", "POST where scope.allow_methods names it"},
		{"check exclusion word", "check: {url: /api/users/1/delete}", 3, 20, "roles.r.check.url", `holds the exclusion word "delete"`},
		{"check exclusion word escaped", "check: {url: '/api/Log%4Fut'}", 3, 20, "roles.r.check.url", `holds the exclusion word "logout"`},
		{"check exclusion word in query", "check: {url: '/api/me?action=revoke'}", 3, 20, "roles.r.check.url", `holds the exclusion word "revoke"`},
		{"check unknown", "check: {url: /me, expect: 200}", 3, 25, "roles.r.check.expect", "unknown field (known: method, url, body, headers, status, contains, logged_out, proves_session)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := parseErrs(t, "target: http://h\nroles:\n  r: {"+tc.yaml+"}\n", nil)
			found := false
			for _, e := range errs {
				if e.Field == tc.field && strings.Contains(e.Msg, tc.msg) {
					found = true
					if e.Line != tc.line || e.Col != tc.col {
						t.Errorf("%s at %d:%d, want %d:%d", e.Field, e.Line, e.Col, tc.line, tc.col)
					}
				}
			}
			if !found {
				t.Errorf("errors %v\nwant %s: %s", errs, tc.field, tc.msg)
			}
		})
	}
}

func TestCapturedVarsInPatterns(t *testing.T) {
	// A captured variable may be referenced; an unknown one may not.
	parseTest(t, "target: http://h\nroles:\n  a:\n    login: {json: {url: /l}, capture: {uid: id}}\nmatrix:\n  rules:\n    - {match: 'GET /u/{a.uid}', allow: [a]}\n", nil)
	errs := parseErrs(t, "target: http://h\nroles:\n  a:\n    login: {json: {url: /l}, capture: {uid: id}}\nmatrix:\n  rules:\n    - {match: 'GET /u/{a.gid}', allow: [a]}\n", nil)
	if len(errs) != 1 || !strings.Contains(errs[0].Msg, "role a declares no variable gid") {
		t.Errorf("errors %v", errs)
	}
}

// TestDocsSignInExample loads the example of docs/config.md, "Signing in".
func TestDocsSignInExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(doc), "\n## Signing in\n")
	_, rest, ok2 := strings.Cut(sec, "```yaml\n")
	example, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("no yaml block under \"## Signing in\" in docs/config.md")
	}
	c := parseTest(t, "target: http://127.0.0.1:8080\n"+example, map[string]string{
		"EDITOR_PASSWORD": "e-pw-1", "API_PASSWORD": "a-pw-2", "SERVICE_SECRET": "s-3", "SPA_PASSWORD": "p-4"})
	for role, kind := range map[string]string{"editor": "form", "api": "json", "service": "oauth2", "sso": "command", "spa": "json"} {
		if got := c.Role(role).Login.Kind(); got != kind {
			t.Errorf("%s: Kind() = %q, want %q", role, got, kind)
		}
	}
	if x := c.Role("spa").Login.JSON.XSRF; x == nil || x.URL != "/sanctum/csrf-cookie" {
		t.Errorf("spa xsrf %+v", x)
	}
}

// TestLogoutOfAFlowThatFailedToLoad: a form sign-in whose password names
// an unset environment variable is one error, the variable's. The logout
// beside it used to add a second, misleading one: that the role signs in
// with static credentials only.
func TestLogoutOfAFlowThatFailedToLoad(t *testing.T) {
	yaml := `target: http://127.0.0.1:8080
roles:
  r:
    login:
      form: {url: /login, fields: {user: r, password: "${UNSET_PASSWORD}"}}
      logout: {url: /logout}
`
	errs := parseErrs(t, yaml, nil)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "UNSET_PASSWORD") {
		t.Fatalf("errors %v, want one naming UNSET_PASSWORD", errs)
	}
}
