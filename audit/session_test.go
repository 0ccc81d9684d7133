package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/permaudit/permaudit/crawl"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// nonceApp is an application shaped like WordPress's REST API: a form
// sign-in sets a session cookie, the signed-in page holds a nonce issued
// for that session, and the API answers only a request carrying both
// the cookie and the nonce in a header. It counts its live sessions,
// can kill them all once mid-run, and can accept a static API key too.
type nonceApp struct {
	srv *httptest.Server

	apiKey    string // when set, X-Api-Key: apiKey is accepted by /api/*, never by /pages/*
	killAfter int    // kill every session at this many hits of /api/items and /pages (0: never)

	mu       sync.Mutex
	sessions map[string]string // session id -> nonce
	hits     int
	killed   bool
	signIns  int
	logouts  int
	requests int
}

func newNonceApp(t *testing.T, apiKey string, killAfter int) *nonceApp {
	t.Helper()
	a := &nonceApp{apiKey: apiKey, killAfter: killAfter, sessions: map[string]string{}}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// live is the number of sessions the application holds.
func (a *nonceApp) live() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.sessions)
}

func (a *nonceApp) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	sid := ""
	if c, err := r.Cookie("sid"); err == nil {
		if _, ok := a.sessions[c.Value]; ok {
			sid = c.Value
		}
	}
	nonceOK := sid != "" && r.Header.Get("X-Nonce") == a.sessions[sid]
	keyOK := a.apiKey != "" && r.Header.Get("X-Api-Key") == a.apiKey
	p := r.URL.Path
	if strings.HasPrefix(p, "/api/items/") || strings.HasPrefix(p, "/pages/") {
		a.hits++
		if a.hits == a.killAfter && !a.killed {
			a.killed = true
			clear(a.sessions)
			sid, nonceOK = "", false
		}
	}
	switch {
	case p == "/":
		fmt.Fprint(w, `<html><body><a href="/login">sign in</a>`)
		for i := 1; i <= 6; i++ {
			fmt.Fprintf(w, ` <a href="/api/items/%d">item</a> <a href="/pages/%d">page</a>`, i, i)
		}
		fmt.Fprint(w, `</body></html>`)
	case p == "/login" && r.Method == http.MethodGet:
		fmt.Fprint(w, `<html><body><form method="post" action="/login"><input name="log"><input type="password" name="pwd"><button>Sign in</button></form></body></html>`)
	case p == "/login" && r.Method == http.MethodPost:
		if r.FormValue("log") != "editor" || r.FormValue("pwd") != "editor-password" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `<html><body>wrong password<form method="post" action="/login"><input name="log"><input type="password" name="pwd"></form></body></html>`)
			return
		}
		id := randomHex(16)
		a.sessions[id] = randomHex(5)
		a.signIns++
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: id, Path: "/"})
		http.Redirect(w, r, "/home", http.StatusSeeOther)
	case p == "/home":
		if sid == "" {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		fmt.Fprintf(w, `<html><body>Signed in as editor <script>var api = {"nonce":"%s"};</script></body></html>`, a.sessions[sid])
	case p == "/logout" && r.Method == http.MethodPost:
		if sid == "" || r.URL.Query().Get("nonce") != a.sessions[sid] {
			http.Error(w, "bad nonce", http.StatusForbidden)
			return
		}
		delete(a.sessions, sid)
		a.logouts++
		http.Redirect(w, r, "/", http.StatusFound)
	case p == "/api/me" || strings.HasPrefix(p, "/api/items/"):
		switch {
		case nonceOK || keyOK:
			fmt.Fprint(w, `{"user":"editor"}`)
		case sid != "":
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"code":"rest_cookie_invalid_nonce"}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"code":"rest_not_logged_in"}`)
		}
	case strings.HasPrefix(p, "/pages/"):
		if sid == "" {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		fmt.Fprint(w, `<html><body>page</body></html>`)
	default:
		http.NotFound(w, r)
	}
}

// nonceConfig is the configuration of nonceApp's editor; login holds
// extra login fields (indented by 6), check extra check fields.
func nonceConfig(t *testing.T, a *nonceApp, login, check string) *roles.Config {
	t.Helper()
	cfg, err := roles.Parse("nonce.yaml", []byte(`target: `+a.srv.URL+`
login_url: /login
roles:
  editor:
    login:
      form: {url: /login, fields: {log: editor, pwd: "${EDITOR_PASSWORD}"}}
      renew: {backoff: 0s}
`+login+`
    check:
      url: /api/me
      contains: '"user":"editor"'
`+check+`
matrix:
  rules:
    - {match: "GET /", allow: ["*"]}
    - {match: "GET /login", allow: ["*"]}
    - {match: "GET /api/**", allow: [editor]}
    - {match: "GET /pages/**", allow: [editor], deny_as: login}
    - {match: "GET /home", allow: [editor], deny_as: login}
`), roles.LoadOptions{Env: func(k string) (string, bool) { return "editor-password", k == "EDITOR_PASSWORD" }})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

// verdicts lists the run's findings, "blocked /api/items/3 as editor".
func verdicts(run *model.Run, base string) []string {
	var out []string
	for _, f := range run.Findings {
		out = append(out, fmt.Sprintf("%s %s as %s", f.Verdict, strings.TrimPrefix(f.URL, base), f.Role))
	}
	return out
}

// TestCapturedNonceInHeaders: the nonce the signed-in page holds is
// captured and sent in a header with the session cookie (login.headers
// and check.headers name {self.nonce}); the application kills every
// session mid-run, and the renewal captures the new session's nonce, so
// no answer after it is a false blocked. The old code sent
// "{self.nonce}" as written, and could not sign in.
func TestCapturedNonceInHeaders(t *testing.T) {
	a := newNonceApp(t, "", 4)
	cfg := nonceConfig(t, a, `      capture: {nonce: 'regex:"nonce":"([0-9a-f]+)"'}
      headers: {X-Nonce: "{self.nonce}"}`, `      headers: {X-Nonce: "{self.nonce}"}`)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	secrets := cfg.Secrets.Clone()
	res, err := Run(ctx, cfg, Options{RunID: "nonce", Secrets: secrets})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	run := res.Run
	if !run.Complete {
		t.Fatalf("incomplete run: %s", run.Incomplete)
	}
	if got := verdicts(run, a.srv.URL); len(got) != 0 {
		t.Errorf("findings %q, want none: the renewal must send the new session's nonce", got)
	}
	var editor model.RoleInfo
	for _, r := range run.Roles {
		if r.Name == "editor" {
			editor = r
		}
	}
	if editor.Renewals == 0 || a.signIns < 2 {
		t.Errorf("renewals %d, sign-ins %d: the session was never killed and renewed", editor.Renewals, a.signIns)
	}
	allowed := 0
	for _, o := range run.Observations.All() {
		if o.Role == "editor" && strings.Contains(o.URL, "/api/items/") && o.Class == model.Allowed {
			allowed++
		}
	}
	if allowed != 6 {
		t.Errorf("%d of 6 API items allowed to editor", allowed)
	}
	if v := editor.Vars["nonce"]; !strings.HasPrefix(v, "[REDACTED:") {
		t.Errorf("the nonce sent as a credential is saved in the run as %q, want its redacted name", v)
	}
}

// TestCredentialVarsValidated: a role variable where it would be sent as
// written, or naming no variable of the role, is refused at its
// file:line:col.
func TestCredentialVarsValidated(t *testing.T) {
	for _, tc := range []struct{ login, want string }{
		{`      headers: {X-Nonce: "{self.nonce}"}`, `nonce.yaml:7:26: roles.editor.login.headers.X-Nonce: {self.nonce}: role editor has no variable nonce`},
		{`      capture: {nonce: "regex:n=(\\w+)"}
      bearer: "{self.nonce}"`, `nonce.yaml:8:15: roles.editor.login.bearer: {self.nonce} would be sent as written`},
		{`      capture: {nonce: "regex:n=(\\w+)"}
      headers: {X-Nonce: "{other.nonce}"}`, `nonce.yaml:8:26: roles.editor.login.headers.X-Nonce: {other.nonce}: only the role's own variables`},
	} {
		_, err := roles.Parse("nonce.yaml", []byte(`target: http://127.0.0.1:1
roles:
  editor:
    login:
      form: {url: /login, fields: {log: editor, pwd: "x"}}
      renew: {backoff: 0s}
`+tc.login+`
`), roles.LoadOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got  %v\n want %s", tc.login, err, tc.want)
		}
	}
}

// TestCheckMustProveTheSession: a role signs in with a form and also
// carries a static API key, which the check page accepts. Killing the
// cookie session mid-run then left the check passing, and every page
// the session no longer opened was a false blocked. The first sign-in
// now runs the check with the static credentials alone: it passes, so
// the audit refuses the role, naming it, the check and what to do;
// check.proves_session: false accepts the risk (and shows it).
func TestCheckMustProveTheSession(t *testing.T) {
	a := newNonceApp(t, "key-0123456789", 4)
	cfg := nonceConfig(t, a, `      headers: {X-Api-Key: key-0123456789}`, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Run(ctx, cfg, Options{RunID: "proof"})
	var ae *Error
	if !errors.As(err, &ae) || ae.Kind != Unreachable {
		t.Fatalf("Run: %v, want the role refused at sign-in", err)
	}
	for _, want := range []string{"role editor", "the check GET /api/me also passes with the static credentials alone (login: headers)", "check.proves_session: false"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "key-0123456789") {
		t.Errorf("the error holds the API key: %v", err)
	}
	a.mu.Lock()
	hits := a.hits
	a.mu.Unlock()
	if hits != 0 {
		t.Errorf("%d pages requested after the role was refused", hits)
	}

	// Accepted: the audit runs, and the killed cookie session reads as
	// blocked pages, the risk the user took.
	a = newNonceApp(t, "key-0123456789", 4)
	cfg = nonceConfig(t, a, `      headers: {X-Api-Key: key-0123456789}`, `      proves_session: false`)
	res, err := Run(ctx, cfg, Options{RunID: "proof"})
	if err != nil {
		t.Fatalf("Run with proves_session: false: %v", err)
	}
	blocked := 0
	for _, f := range res.Run.Findings {
		if f.Verdict == model.Blocked {
			blocked++
		}
	}
	if blocked == 0 {
		t.Errorf("findings %q: the killed session should read as blocked when the check proves nothing", verdicts(res.Run, a.srv.URL))
	}
}

// TestCheckPassingAnonymously: a check page anyone may read proves no
// session; the audit refuses the role before any discovery.
func TestCheckPassingAnonymously(t *testing.T) {
	a := newNonceApp(t, "", 0)
	cfg, err := roles.Parse("anon.yaml", []byte(`target: `+a.srv.URL+`
roles:
  editor:
    login:
      form: {url: /login, fields: {log: editor, pwd: editor-password}}
    check: {url: /}
`), roles.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), cfg, Options{RunID: "anon"})
	if err == nil || !strings.Contains(err.Error(), "the check GET / also passes without any credentials (anonymously)") {
		t.Errorf("Run: %v, want the check refused", err)
	}
}

// TestOneCharacterEnvValue: an ${ENV} value "5" used in a start URL and
// a role variable is no secret: URLs, excerpts and dates keep their
// fives, and the URL is crawled and probed. The same value used as a
// password is a secret: it never appears in the excerpts. The old code
// took every ${ENV} value for a secret, skipped the URL as "holds a
// role's secret" and redacted every "5".
func TestOneCharacterEnvValue(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/":
			fmt.Fprint(w, `<html><body style="width:1.5rem"><a href="/items/15">15</a></body></html>`)
		case strings.HasPrefix(r.URL.Path, "/items/"):
			fmt.Fprintf(w, "<html><body>item %s of 2025-05-05</body></html>", strings.TrimPrefix(r.URL.Path, "/items/"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	audit := func(pw string) *model.Run {
		t.Helper()
		cfg, err := roles.Parse("five.yaml", []byte(`target: `+srv.URL+`
crawl: {start: ["/", "/items/${ITEM}"]}
roles:
  viewer:
    login: {basic: {username: viewer, password: "${PW}"}}
    vars: {item: "${ITEM}"}
matrix:
  rules:
    # Leaks, so that the cells keep their excerpts (a pass cell keeps none).
    - {match: "GET /items/{self.item}", allow: []}
    - {match: "GET /items/**", allow: []}
    - {match: "GET /**", allow: ["*"]}
`), roles.LoadOptions{Env: func(k string) (string, bool) {
			return map[string]string{"ITEM": "5", "PW": pw}[k], k == "ITEM" || k == "PW"
		}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res, err := Run(ctx, cfg, Options{RunID: "five"})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		return res.Run
	}
	run := audit("a-long-password-1")
	seen := map[string]string{}
	for _, o := range run.Observations.All() {
		if o.Role == "viewer" {
			seen[strings.TrimPrefix(o.URL, srv.URL)] = o.Excerpt
		}
	}
	if ex := seen["/items/5"]; !strings.Contains(ex, "item 5 of 2025-05-05") {
		t.Errorf("/items/5 as viewer: excerpt %q, want its fives (observed: %d URLs)", ex, len(seen))
	}
	if ex := seen["/items/15"]; !strings.Contains(ex, "item 15 of 2025-05-05") {
		t.Errorf("/items/15 as viewer: excerpt %q", ex)
	}
	for _, s := range run.Inventory.Skipped {
		if strings.Contains(s.Reason, "secret") {
			t.Errorf("skipped %s: %s", s.Endpoint.URL, s.Reason)
		}
	}

	run = audit("5")
	for _, o := range run.Observations.All() {
		if strings.Contains(o.Excerpt, "5") {
			t.Errorf("%s as %s: the password %q appears: %q", o.URL, o.Role, "5", o.Excerpt)
		}
	}
}

// TestLogoutEndsTheSessions: a role that declares logout has its session
// ended at the end of the audit, whether the audit completes (after a
// renewal: the session killed mid-run is gone, its successor is ended),
// is interrupted, or fails because another role cannot sign in. The
// application counts its live sessions: none is left. The old code left
// one per role and run.
func TestLogoutEndsTheSessions(t *testing.T) {
	const login = `      capture: {nonce: 'regex:"nonce":"([0-9a-f]+)"'}
      headers: {X-Nonce: "{self.nonce}"}
      logout: {method: POST, url: "/logout?nonce={self.nonce}"}`
	const check = `      headers: {X-Nonce: "{self.nonce}"}`
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("complete", func(t *testing.T) {
		a := newNonceApp(t, "", 4)
		cfg := nonceConfig(t, a, login, check)
		res, err := Run(ctx, cfg, Options{RunID: "logout"})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := verdicts(res.Run, a.srv.URL); len(got) != 0 {
			t.Errorf("findings %q", got)
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if len(a.sessions) != 0 || a.logouts != 1 || a.signIns < 2 {
			t.Errorf("%d live sessions, %d logouts, %d sign-ins: want 0 live, 1 logout after a renewal", len(a.sessions), a.logouts, a.signIns)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		a := newNonceApp(t, "", 0)
		cfg := nonceConfig(t, a, login, check)
		runCtx, stop := context.WithCancel(ctx)
		defer stop()
		n := 0
		res, err := Run(runCtx, cfg, Options{RunID: "logout", Progress: func(p crawl.Progress) {
			if n++; n == 3 {
				stop() // as SIGINT does
			}
		}})
		if err != nil && res == nil {
			var ae *Error
			if !errors.As(err, &ae) || ae.Kind != Interrupted {
				t.Fatalf("Run: %v", err)
			}
		} else if !res.Interrupted {
			t.Fatalf("the run was not interrupted")
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if len(a.sessions) != 0 || a.signIns == 0 || a.logouts != 1 {
			t.Errorf("%d sessions left after an interrupted audit (%d sign-ins, %d logouts)", len(a.sessions), a.signIns, a.logouts)
		}
	})
	t.Run("failed", func(t *testing.T) {
		a := newNonceApp(t, "", 0)
		cfg, err := roles.Parse("nonce.yaml", []byte(`target: `+a.srv.URL+`
roles:
  editor:
    login:
      form: {url: /login, fields: {log: editor, pwd: editor-password}}
`+login+`
    check: {url: /api/me, headers: {X-Nonce: "{self.nonce}"}}
  broken:
    login:
      form: {url: /login, fields: {log: editor, pwd: wrong}}
`), roles.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Run(ctx, cfg, Options{RunID: "logout"})
		var ae *Error
		if !errors.As(err, &ae) || ae.Kind != Unreachable || !strings.Contains(err.Error(), "role broken") {
			t.Fatalf("Run: %v, want role broken refused", err)
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if len(a.sessions) != 0 || a.signIns != 1 || a.logouts != 1 {
			t.Errorf("%d sessions left after a failed audit (%d sign-ins, %d logouts)", len(a.sessions), a.signIns, a.logouts)
		}
	})
}

// TestLogoutNeedsAFlow: a session given as static credentials is never
// ended: logout without a sign-in flow is refused.
func TestLogoutNeedsAFlow(t *testing.T) {
	_, err := roles.Parse("static.yaml", []byte(`target: http://127.0.0.1:1
roles:
  keyed:
    login:
      cookies: {sid: 0123456789abcdef}
      logout: {url: /logout}
`), roles.LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "static.yaml:6:15: roles.keyed.login.logout: logout ends a session the audit signed in with a flow") {
		t.Errorf("Parse: %v", err)
	}
}
