package session

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/permaudit/permaudit/internal/authapp"
	"github.com/permaudit/permaudit/roles"
)

// TestMain lets the test binary stand in for a login command: run as
// "<binary> permaudit-login-helper MODE ARG", it acts the program out.
func TestMain(m *testing.M) {
	if len(os.Args) >= 3 && os.Args[1] == "permaudit-login-helper" {
		os.Exit(loginHelper(os.Args[2], os.Args[3:]))
	}
	os.Exit(m.Run())
}

func loginHelper(mode string, args []string) int {
	switch mode {
	case "print": // print the argument on stdout
		fmt.Println(args[0])
		return 0
	case "fail": // complain on stderr, quoting the argument, and fail
		fmt.Fprintf(os.Stderr, "sso: login refused for secret %s\n", args[0])
		return 3
	case "sleep":
		time.Sleep(10 * time.Second)
		return 0
	}
	return 2
}

// signInClient is a client like crawl's: no redirect following.
func signInClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// authSession loads yaml (target replaced by srv) and returns the
// session of role, configured with plain loopback clients.
func authSession(t *testing.T, target, yaml, role string, env map[string]string, opts SessionOptions) (*Session, *roles.Config) {
	t.Helper()
	if env == nil {
		env = authapp.Env()
	}
	c, err := roles.Parse("test.yaml", []byte("target: "+target+"\nlogin_url: /login\n"+yaml), roles.LoadOptions{Env: func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	s := NewSession(c.Role(role))
	roleClient := signInClient()
	roleClient.Jar = s.Jar()
	roleClient.Transport = attachTransport{s}
	opts.Target = c.Target
	opts.Secrets = c.Secrets
	opts.SignIn = signInClient()
	opts.Client = roleClient
	s.Configure(opts)
	return s, c
}

// attachTransport attaches the session's credentials, as crawl's scoped
// transport does.
type attachTransport struct{ s *Session }

func (a attachTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	a.s.Ready(r.Context())
	a.s.Attach(r)
	return http.DefaultTransport.RoundTrip(r)
}

func startAuthApp(t *testing.T, opts authapp.Options) *authapp.Server {
	t.Helper()
	srv, err := authapp.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// spaLogin is authapp's SPA login: GET /sanctum/csrf-cookie, then the
// login echoes XSRF-TOKEN, decoded, in X-XSRF-TOKEN.
const spaLogin = `roles:
  spa:
    login:
      json:
        url: /spa/login
        body: {email: spa@authapp.test, password: "${SPA_PASSWORD}"}
        xsrf: {url: /sanctum/csrf-cookie}
      capture: {user_id: user.id}
    check: {url: /api/me, contains: '"user":"spa"'}
`

const formEditor = `roles:
  editor:
    login:
      form: {url: /login, fields: {username: editor, password: "${EDITOR_PASSWORD}"}}
      capture: {user_id: "regex:user (\\d+)"}
    check: {url: /api/me, contains: '"user":"editor"'}
`

func TestSignInFlows(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, yaml, role string
		header           string // credential header expected after sign-in ("" for a cookie session)
		vars             map[string]string
		kind             string
	}{
		{"form with CSRF token", formEditor, "editor", "", map[string]string{"user_id": "12"}, "form"},
		{"json with a JWT", `roles:
  api:
    login:
      json: {url: /api/login, body: {username: api, password: "${API_PASSWORD}", remember: true}, token: data.access_token}
      capture: {user_id: data.user.id, name: data.user.name}
    check: {url: /api/me, contains: '"user":"api"'}
`, "api", "Authorization", map[string]string{"user_id": "14", "name": "api"}, "json"},
		{"json behind an XSRF cookie", spaLogin, "spa", "", map[string]string{"user_id": "16"}, "json"},
		{"oauth2 client credentials", `roles:
  service:
    login:
      oauth2: {token_url: /oauth/token, client_id: reporting, client_secret: "${SERVICE_SECRET}", scopes: [reports]}
      capture: {scope: scope}
    check: {url: /api/me, contains: '"user":"service"'}
`, "service", "Authorization", map[string]string{"scope": "reports"}, "oauth2"},
		{"oauth2 secret in the body", `roles:
  service:
    login:
      oauth2: {token_url: /oauth/token, client_id: reporting, client_secret: "${SERVICE_SECRET}", auth: body}
    check: {url: /api/me, contains: '"user":"service"'}
`, "service", "Authorization", nil, "oauth2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startAuthApp(t, authapp.Options{})
			s, c := authSession(t, srv.URL(), tc.yaml, tc.role, nil, SessionOptions{})
			if got := c.Role(tc.role).Login.Kind(); got != tc.kind {
				t.Errorf("Kind() = %q, want %q", got, tc.kind)
			}
			before := srv.App.LoginsOf(tc.role)
			if err := s.SignIn(ctx); err != nil {
				t.Fatalf("SignIn: %v", err)
			}
			if got := srv.App.LoginsOf(tc.role) - before; got != 1 {
				t.Errorf("the application saw %d sign-ins, want 1", got)
			}
			req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/api/me", nil)
			s.Attach(req)
			if tc.header != "" && !strings.HasPrefix(req.Header.Get(tc.header), "Bearer ") {
				t.Errorf("%s = %q, want a Bearer token", tc.header, req.Header.Get(tc.header))
			}
			if res := s.Check(ctx); !res.Live {
				t.Errorf("check after sign-in: %s", res.Seen)
			}
			for k, want := range tc.vars {
				if got, _ := s.Var(k); got != want {
					t.Errorf("var %s = %q, want %q", k, got, want)
				}
				if got := s.Captured()[k]; got != want {
					t.Errorf("captured %s = %q, want %q (the matrix reads it)", k, got, want)
				}
				if _, inConfig := c.Role(tc.role).Vars[k]; inConfig {
					t.Errorf("the configuration of %s holds the captured %s: it must stay as loaded", tc.role, k)
				}
			}
			// Every secret the application issued is known to the redactor.
			known := c.Secrets.Values()
			if len(srv.App.Secrets()) == 0 {
				t.Errorf("the application issued no secret")
			}
			for _, v := range srv.App.Secrets() {
				if !slices.Contains(known, v) {
					t.Errorf("obtained secret %q... is not redacted", v[:4])
				}
			}
			if st := s.Stats(); st.SignIns != 1 || s.Generation() != 1 {
				t.Errorf("stats %+v, generation %d; want 1 sign-in", st, s.Generation())
			}
		})
	}
}

func TestSignInRefused(t *testing.T) {
	srv := startAuthApp(t, authapp.Options{})
	ctx := context.Background()
	bad := "Not-The-Password-93"
	for _, tc := range []struct {
		name, yaml, role string
		env              map[string]string
		want             []string // in the error
	}{
		{"form, wrong password", formEditor, "editor", map[string]string{"EDITOR_PASSWORD": bad},
			[]string{"sign-in (form)", "POST /login answered 200", "still holds the login form"}},
		{"form, field missing", `roles:
  editor:
    login:
      form: {url: /login, fields: {usernme: editor, password: "${EDITOR_PASSWORD}"}}
`, "editor", map[string]string{"EDITOR_PASSWORD": bad}, []string{`no field "usernme"`, "csrf_token", "password"}},
		{"form, no form on the page", `roles:
  editor:
    login:
      form: {url: /api/me, fields: {username: editor, password: "${EDITOR_PASSWORD}"}}
`, "editor", map[string]string{"EDITOR_PASSWORD": bad}, []string{"form at /api/me: the login page answered 401"}},
		{"form, the page holds another form", `roles:
  editor:
    login:
      form: {url: /login, action: /search, fields: {username: editor, password: "${EDITOR_PASSWORD}"}}
`, "editor", nil, []string{`form at /login has no field "username" (fields: q)`}},
		{"json, wrong password", `roles:
  api:
    login:
      json: {url: /api/login, body: {username: api, password: "${API_PASSWORD}"}, token: data.access_token}
`, "api", map[string]string{"API_PASSWORD": bad}, []string{"POST /api/login answered 401", "invalid credentials"}},
		{"json, token path wrong", `roles:
  api:
    login:
      json: {url: /api/login, body: {username: api, password: "${API_PASSWORD}"}, token: data.token}
`, "api", nil, []string{"without a token at data.token"}},
		{"json without the xsrf its login needs", strings.Replace(spaLogin, "        xsrf: {url: /sanctum/csrf-cookie}\n", "", 1), "spa", nil,
			[]string{"sign-in (json): POST /spa/login answered 419", "CSRF token mismatch", "an SPA login may need xsrf"}},
		{"json with xsrf, wrong password", spaLogin, "spa", map[string]string{"SPA_PASSWORD": bad},
			[]string{"POST /spa/login answered 422", "do not match our records"}},
		{"oauth2, wrong secret", `roles:
  service:
    login:
      oauth2: {token_url: /oauth/token, client_id: reporting, client_secret: "${SERVICE_SECRET}"}
`, "service", map[string]string{"SERVICE_SECRET": bad}, []string{"token request to /oauth/token", "invalid_client"}},
		{"check fails", `roles:
  editor:
    login:
      form: {url: /login, fields: {username: editor, password: "${EDITOR_PASSWORD}"}}
    check: {url: /admin/, contains: Admin}
`, "editor", nil, []string{"signed in (form), but the check GET /admin/ saw 403"}},
		{"capture missing", `roles:
  api:
    login:
      json: {url: /api/login, body: {username: api, password: "${API_PASSWORD}"}, token: data.access_token}
      capture: {uid: data.user.uid}
`, "api", nil, []string{"capture uid: no text or number at data.user.uid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := authSession(t, srv.URL(), tc.yaml, tc.role, tc.env, SessionOptions{})
			err := s.SignIn(ctx)
			if err == nil {
				t.Fatal("SignIn succeeded")
			}
			for _, secret := range c.Secrets.Values() { // obtained ones included: cookies, the XSRF token
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds the secret %q...", err, secret[:min(4, len(secret))])
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not hold %q", err, w)
				}
			}
			for _, secret := range []string{bad, authapp.EditorPassword, authapp.APIPassword, authapp.ServiceSecret, authapp.SPAPassword} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds a password", err)
				}
			}
			if s.Failure() == nil {
				t.Errorf("Failure() is nil after a failed sign-in")
			}
		})
	}
}

// xsrfSite is a login behind an anti-forgery cookie whose value needs
// URL-decoding, that serves only requests whose Origin and Referer are
// its own, as Laravel Sanctum does for its SPA. Its refusals quote the token and cookie they were sent,
// as careless applications do, so that a message that forgot to redact
// them shows it.
type xsrfSite struct {
	mu   sync.Mutex
	log  []string // method and path of every request
	sent []string // the X-XSRF-TOKEN or X-CSRFToken of every login
}

// The token xsrfSite issues: its cookie is the URL-encoded form.
const (
	xsrfToken   = "x5Rf+Tok/en9Q=="
	xsrfCookie  = "x5Rf%2BTok%2Fen9Q%3D%3D"
	djangoToken = "dj4ng0CsrfT0ken77"
)

func (x *xsrfSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x.mu.Lock()
	x.log = append(x.log, r.Method+" "+r.URL.Path)
	x.mu.Unlock()
	switch r.URL.Path {
	case "/csrf": // Laravel's and Django's cookies at once
		http.SetCookie(w, &http.Cookie{Name: "XSRF-TOKEN", Value: xsrfCookie, Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "csrftoken", Value: djangoToken, Path: "/"})
		w.WriteHeader(http.StatusNoContent)
	case "/csrf-moved":
		http.Redirect(w, r, "/csrf", http.StatusFound)
	case "/csrf-gone":
		http.Redirect(w, r, "/nowhere", http.StatusFound)
	case "/csrf-narrow": // a cookie the login URL never gets
		http.SetCookie(w, &http.Cookie{Name: "XSRF-TOKEN", Value: xsrfCookie, Path: "/csrf-narrow"})
	case "/csrf-none":
		fmt.Fprint(w, "no cookie here")
	case "/login":
		laravel := r.Header.Get("X-XSRF-TOKEN")
		django := r.Header.Get("X-CSRFToken")
		x.mu.Lock()
		x.sent = append(x.sent, laravel+django)
		x.mu.Unlock()
		if r.Header.Get("Origin") != "http://"+r.Host || r.Header.Get("Referer") != "http://"+r.Host+"/" {
			w.WriteHeader(http.StatusUnauthorized) // Sanctum: not its SPA, so no session
			fmt.Fprint(w, `{"message":"Unauthenticated."}`)
			return
		}
		if laravel != xsrfToken && django != djangoToken {
			cookie, _ := r.Cookie("XSRF-TOKEN")
			w.WriteHeader(419)
			fmt.Fprintf(w, `{"message":"CSRF token mismatch.","sent":%q,"cookie":%q}`, laravel, cookie)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "xsrf-session-7d2a90c1", Path: "/"})
		fmt.Fprint(w, `{"ok":true}`)
	case "/me":
		if c, err := r.Cookie("sid"); err != nil || c.Value != "xsrf-session-7d2a90c1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "signed in")
	default:
		http.NotFound(w, r)
	}
}

func TestSignInXSRF(t *testing.T) {
	for _, tc := range []struct {
		name   string
		xsrf   string // the json login's xsrf field
		issued bool   // the site set XSRF-TOKEN
		sent   string // the header value the login got; "" when no login was sent
		err    string // the error's text after "sign-in (json): "; "" for a sign-in
	}{
		{"laravel: decoded and echoed", "{url: /csrf}", true, xsrfToken, ""},
		{"django's names", "{url: /csrf, cookie: csrftoken, header: X-CSRFToken}", true, djangoToken, ""},
		{"redirects on the origin followed", "{url: /csrf-moved}", true, xsrfToken, ""},
		{"no cookie", "{url: /csrf-none}", false, "", "GET /csrf-none answered 200 without setting the cookie XSRF-TOKEN"},
		{"another cookie", "{url: /csrf, cookie: XSRF}", true, "", "GET /csrf answered 204 without setting the cookie XSRF"},
		{"cookie for another path", "{url: /csrf-narrow}", true, "", "GET /csrf-narrow answered 200 setting the cookie XSRF-TOKEN for a path, domain or scheme that /login is not on"},
		{"not 2xx", "{url: /csrf-gone}", false, "", `GET /csrf-gone, then /nowhere answered 404: "404 page not found": want a 2xx answer setting the cookie XSRF-TOKEN`},
		{"header the application ignores", "{url: /csrf, header: X-CSRF-TOKEN}", true, "", `POST /login answered 419: "{\"message\":\"CSRF token mismatch.\",\"sent\":\"\",\"cookie\":\"XSRF-TOKEN=[REDACTED:roles.x.obtained.cookie.XSRF-TOKEN]\"}": the sign-in was refused (419 reads as an anti-forgery refusal: check that the application expects the cookie XSRF-TOKEN in the header X-CSRF-TOKEN)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := &xsrfSite{}
			srv := httptest.NewServer(site)
			defer srv.Close()
			s, c := authSession(t, srv.URL, `roles:
  x:
    login:
      json: {url: /login, body: {user: x, password: "${EDITOR_PASSWORD}"}, xsrf: `+tc.xsrf+`}
    check: {url: /me}
`, "x", nil, SessionOptions{})
			err := s.SignIn(context.Background())
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("SignIn: %v", err)
			case tc.err != "" && (err == nil || err.Error() != "sign-in (json): "+tc.err):
				t.Fatalf("SignIn: %v\nwant sign-in (json): %s", err, tc.err)
			}
			site.mu.Lock()
			defer site.mu.Unlock()
			if len(site.log) == 0 || !strings.HasPrefix(site.log[0], "GET /csrf") {
				t.Errorf("requests %q, want the xsrf GET first", site.log)
			}
			wantPost := tc.err == "" || strings.HasPrefix(tc.err, "POST ")
			if posted := slices.Contains(site.log, "POST /login"); posted != wantPost {
				t.Errorf("requests %q: the login was sent = %v, want %v", site.log, posted, wantPost)
			}
			if tc.sent != "" && (len(site.sent) != 1 || site.sent[0] != tc.sent) {
				t.Errorf("the login carried %q, want %q", site.sent, tc.sent)
			}
			// The token, as the cookie holds it and as it is echoed, is a
			// secret from the moment it is obtained, and in no message.
			for _, v := range []string{xsrfToken, xsrfCookie} {
				if got := c.Secrets.Redact("a " + v + " b"); tc.issued && strings.Contains(got, v) {
					t.Errorf("%q is not redacted: %q", v, got)
				}
				if err != nil && strings.Contains(err.Error(), v) {
					t.Errorf("the error holds the token: %v", err)
				}
			}
		})
	}
}

func TestSignInXSRFRenewal(t *testing.T) {
	// A cookie session behind an XSRF cookie: a renewal runs the whole
	// flow again, the GET of the cookie included, with a fresh jar.
	srv := startAuthApp(t, authapp.Options{})
	s, _ := authSession(t, srv.URL(), strings.Replace(spaLogin, "      capture:", "      renew: {max: 2, backoff: 0s}\n      capture:", 1), "spa", nil, SessionOptions{})
	ctx := context.Background()
	if err := s.SignIn(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Renew(ctx); err != nil {
		t.Fatalf("renewal: %v", err)
	}
	if got := srv.App.LoginsOf(authapp.SPA); got != 2 {
		t.Errorf("the application saw %d sign-ins, want 2", got)
	}
	var seq []string
	for _, r := range srv.App.Requests() {
		seq = append(seq, fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status))
	}
	want := []string{
		// The first sign-in proves its check: anonymously, it fails.
		"GET /sanctum/csrf-cookie 204", "POST /spa/login 200", "GET /api/me 200", "GET /api/me 401",
		"GET /sanctum/csrf-cookie 204", "POST /spa/login 200", "GET /api/me 200",
	}
	if !slices.Equal(seq, want) {
		t.Errorf("requests\n got  %q\n want %q", seq, want)
	}
	if res := s.Check(ctx); !res.Live {
		t.Errorf("check after renewal: %s", res.Seen)
	}
}

func TestCommandFlow(t *testing.T) {
	srv := startAuthApp(t, authapp.Options{})
	ctx := context.Background()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	token := "cmd-token-5c1e90aa77"
	for _, tc := range []struct {
		name  string
		login string
		ok    bool
		want  string // header value, or error text
	}{
		{"token", fmt.Sprintf(`command: {run: [%q, permaudit-login-helper, print, %q]}`, bin, token), true, "Bearer " + token},
		{"token, custom header", fmt.Sprintf(`command: {run: [%q, permaudit-login-helper, print, %q], header: X-Api-Key, scheme: ""}`, bin, token), true, token},
		{"cookie", fmt.Sprintf(`command: {run: [%q, permaudit-login-helper, print, "sid=%s; theme=dark"], gives: cookie}`, bin, token), true, "sid=" + token},
		{"fails, stderr redacted", fmt.Sprintf(`command: {run: [%q, permaudit-login-helper, fail, "${EDITOR_PASSWORD}"]}`, bin), false, "exit status 3; stderr: \"sso: login refused for secret [REDACTED:roles.x.login.command.run[3]]\""},
		{"times out", fmt.Sprintf(`command: {run: [%q, permaudit-login-helper, sleep], timeout: 200ms}`, bin), false, "timed out after 200ms"},
		{"not found", `command: {run: [/nonexistent/sso-login]}`, false, "command /nonexistent/sso-login:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := authSession(t, srv.URL(), "roles:\n  x:\n    login:\n      "+tc.login+"\n", "x", nil, SessionOptions{})
			start := time.Now()
			err := s.SignIn(ctx)
			if time.Since(start) > 5*time.Second {
				t.Errorf("SignIn took %v", time.Since(start))
			}
			if !tc.ok {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one holding %q", err, tc.want)
				}
				if strings.Contains(err.Error(), authapp.EditorPassword) {
					t.Errorf("error holds the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/", nil)
			s.Attach(req)
			if req.Header.Get("Authorization")+req.Header.Get("X-Api-Key") == tc.want {
				return
			}
			var cookies []string
			for _, ck := range s.Jar().Cookies(req.URL) {
				cookies = append(cookies, ck.String())
			}
			if !slices.Contains(cookies, tc.want) {
				t.Errorf("no %q in the headers %v or cookies %v", tc.want, req.Header, cookies)
			}
			if got := c.Secrets.Redact("x " + token + " y"); strings.Contains(got, token) {
				t.Errorf("the command's output is not a secret: %q", got)
			}
		})
	}
}

// fakeClock is a settable clock with a recorded sleep.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	// The JWT lives 4s by the application's real clock; the session's
	// clock is moved by hand, so the test takes no time.
	srv := startAuthApp(t, authapp.Options{JWTTTL: 4 * time.Second})
	clk := &fakeClock{now: time.Now()}
	s, _ := authSession(t, srv.URL(), `roles:
  api:
    login:
      json: {url: /api/login, body: {username: api, password: "${API_PASSWORD}"}, token: data.access_token}
    check: {url: /api/me, contains: '"user":"api"'}
`, "api", nil, SessionOptions{Now: clk.Now, Sleep: clk.Sleep})
	ctx := context.Background()
	if err := s.SignIn(ctx); err != nil {
		t.Fatal(err)
	}
	token := func() string {
		r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
		s.Attach(r)
		return r.Header.Get("Authorization")
	}
	first := token()
	for _, step := range []struct {
		advance time.Duration
		logins  int
	}{
		{0, 1},
		{2 * time.Second, 1},                    // 2s of 4s used: not yet
		{time.Second + 100*time.Millisecond, 2}, // within the last quarter: renewed
		{0, 2},                                  // once
	} {
		clk.advance(step.advance)
		s.Ready(ctx)
		if got := srv.App.LoginsOf(authapp.API); got != step.logins {
			t.Errorf("after %v more: %d sign-ins, want %d", step.advance, got, step.logins)
		}
	}
	if token() == first {
		t.Errorf("the token was not replaced")
	}
	if st := s.Stats(); st.Refreshes != 1 || st.Renewals != 0 {
		t.Errorf("stats %+v, want 1 refresh and no renewal", st)
	}
	if res := s.Check(ctx); !res.Live {
		t.Errorf("check with the new token: %s", res.Seen)
	}
}

func TestRenewCapAndBackoff(t *testing.T) {
	srv := startAuthApp(t, authapp.Options{})
	clk := &fakeClock{now: time.Now()}
	yaml := strings.Replace(formEditor, "      capture:", "      renew: {max: 3, backoff: 100ms}\n      capture:", 1)
	s, _ := authSession(t, srv.URL(), yaml, "editor", nil,
		SessionOptions{Now: clk.Now, Sleep: clk.Sleep})
	ctx := context.Background()
	if err := s.SignIn(ctx); err != nil {
		t.Fatal(err)
	}
	clk.advance(30 * time.Millisecond) // the session dies 30ms after sign-in
	for i := range 3 {
		if err := s.Renew(ctx); err != nil {
			t.Fatalf("renewal %d: %v", i+1, err)
		}
	}
	err := s.Renew(ctx)
	if err == nil || !strings.Contains(err.Error(), "renewal cap reached (3 of 3 renewals used)") {
		t.Errorf("fourth renewal: %v, want the cap", err)
	}
	if got := srv.App.LoginsOf(authapp.Editor); got != 4 {
		t.Errorf("the application saw %d sign-ins, want 4", got)
	}
	// Each renewal waits for backoff << n since the last attempt.
	want := []time.Duration{70 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
	if !slices.Equal(clk.sleeps, want) {
		t.Errorf("backoff sleeps %v, want %v", clk.sleeps, want)
	}
	if st := s.Stats(); st.Renewals != 3 || st.SignIns != 4 || s.Generation() != 4 {
		t.Errorf("stats %+v generation %d", st, s.Generation())
	}
}

func TestStaticCredentialsCannotRenew(t *testing.T) {
	s := NewSession(&roles.Role{Name: "r", Login: roles.Login{Bearer: "tok"}})
	if err := s.Renew(context.Background()); err == nil {
		t.Errorf("Renew of static credentials succeeded")
	}
}

func TestCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/live":
			fmt.Fprint(w, "Signed in as alice")
		case "/out":
			fmt.Fprint(w, "Signed in as alice. Please sign in")
		case "/post":
			if r.Method != http.MethodPost || r.Header.Get("X-Q") != "1" {
				w.WriteHeader(400)
			}
			fmt.Fprint(w, "Signed in as alice")
		case "/teapot":
			w.WriteHeader(418)
		default:
			http.Redirect(w, r, "/login?next=x", http.StatusFound)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		check string
		live  bool
		seen  string
	}{
		{"{url: /live, contains: Signed in as alice}", true, "200"},
		{"{url: /live, contains: Signed in as bob}", false, `200 without "Signed in as bob"`},
		{"{url: /out, logged_out: Please sign in}", false, `200 with the logged-out text "Please sign in"`},
		{"{url: /gone}", false, "302 to /login?next=x"},
		{"{url: /teapot, status: 418}", true, "418"},
		{"{url: /post, method: post, body: 'q', headers: {X-Q: '1'}}", true, "200"},
		{"{url: /post}", false, `400: "Signed in as alice"`},
	} {
		t.Run(tc.check, func(t *testing.T) {
			// A POST check must be named by scope.allow_methods (roles, check_safety.go).
			s, _ := authSession(t, srv.URL, "scope: {allow_methods: [\"POST /post\"]}\nroles:\n  x:\n    check: "+tc.check+"\n", "x", nil, SessionOptions{})
			res := s.Check(context.Background())
			if res.Live != tc.live || res.Seen != tc.seen || res.Err != nil {
				t.Errorf("Check = %+v, want live %v seen %q", res, tc.live, tc.seen)
			}
		})
	}
}

func TestJWTExpiry(t *testing.T) {
	for _, tc := range []struct {
		token string
		want  time.Time
	}{
		{"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDAuNX0.sig", time.Unix(1700000000, 5e8)},
		{"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.sig", time.Unix(1700000000, 0)},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig", time.Time{}},
		{"not-a-jwt", time.Time{}},
		{"a.%%%.c", time.Time{}},
	} {
		if got := jwtExpiry(tc.token); !got.Equal(tc.want) {
			t.Errorf("jwtExpiry(%q) = %v, want %v", tc.token, got, tc.want)
		}
	}
}
