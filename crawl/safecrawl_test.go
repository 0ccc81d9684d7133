package crawl

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// cookieApp is a small application whose session is the cookie sid: a
// page deletes it (as WordPress's re-authentication page does), another
// rotates it.
type cookieApp struct {
	mu    sync.Mutex
	valid map[string]bool
	next  int
	hits  map[string]int // path -> requests carrying a valid session
	sids  []string       // sid values presented to /me, in order
}

func newCookieApp() *cookieApp {
	return &cookieApp{valid: map[string]bool{}, hits: map[string]int{}}
}

func (a *cookieApp) newSid() string {
	a.next++
	s := fmt.Sprintf("sid-%08d-session", a.next)
	a.valid[s] = true
	return s
}

func (a *cookieApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	live := false
	sid := ""
	if c, err := r.Cookie("sid"); err == nil && a.valid[c.Value] {
		live, sid = true, c.Value
		a.hits[r.URL.Path]++
	}
	page := func(body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<html><body>"+body+"</body></html>")
	}
	switch r.URL.Path {
	case "/login":
		if r.Method == http.MethodPost {
			if r.FormValue("password") != "pw-editor-1" {
				http.Error(w, "bad", http.StatusForbidden)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: a.newSid(), Path: "/"})
			http.Redirect(w, r, "/", http.StatusFound)
			return
		}
		// A WordPress-like login form: its hidden redirect_to is a URL of
		// the target (16 bytes and more), its csrf_token a secret.
		page(`<form method="post" action="/login"><input name="username"><input type="password" name="password">` +
			`<input type="hidden" name="redirect_to" value="http://` + r.Host + `/admin/">` +
			`<input type="hidden" name="next" value="/admin/index.php?page=1">` +
			`<input type="hidden" name="csrf_token" value="` + loginCSRF + `"></form>`)
	case "/me":
		if !live {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		a.sids = append(a.sids, sid)
		fmt.Fprint(w, "user:editor")
	case "/":
		// The re-authentication page is linked once per page it returns to.
		page(`<a href="/reauth?redirect_to=%2Fa">again</a> <a href="/reauth?redirect_to=%2Fb">again</a> <a href="/rotate">rotate</a> <a href="/page">page</a> <a href="/admin/">admin</a>`)
	case "/reauth":
		// Expires the session cookie, as a re-authentication page does.
		w.Header().Add("Set-Cookie", "sid=; Max-Age=0; Path=/")
		page(`<a href="/after-reauth">x</a>`)
	case "/rotate":
		delete(a.valid, sid)
		if live {
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: a.newSid(), Path: "/"})
		}
		page(`rotated`)
	default:
		if !live {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		page(`ok`)
	}
}

// loginCSRF is the anti-forgery token of cookieApp's login form.
const loginCSRF = "csrf-0123456789abcdef"

const cookieAppRoles = `login_url: /login
crawl: {concurrency: 1}
roles:
  editor:
    login:
      form: {url: /login, fields: {username: editor, password: pw-editor-1}}
      renew: {backoff: 10ms}
    check: {url: /me, contains: "user:editor"}
`

// An answer that deletes the session's cookie makes its URL
// session-ending at once: requested once, listed, the deletion not
// applied, no renewal; a rotation (a new value) is applied.
func TestCookieDeletionEndsTheURLNotTheSession(t *testing.T) {
	app := newCookieApp()
	srv := httptest.NewServer(app)
	defer srv.Close()
	opts, k := keptOptions(t, srv.URL, cookieAppRoles, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inv, err := Discover(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	editor := opts.Sessions[1]
	if st := editor.Stats(); st.Renewals != 0 {
		t.Errorf("renewals %d, want 0: the deletion must not be applied to the role's jar", st.Renewals)
	}
	app.mu.Lock()
	reauth, after := app.hits["/reauth"], app.hits["/after-reauth"]
	app.mu.Unlock()
	if reauth != 1 {
		t.Errorf("/reauth requested %d times with a live session, want 1", reauth)
	}
	if after != 0 {
		t.Errorf("/after-reauth was followed (%d): a session-ending page's links are not followed", after)
	}
	// The first is requested and listed; the second, of the same path
	// and parameter names, is listed without being requested.
	found, same := false, false
	for _, s := range k.Skips() {
		if strings.HasSuffix(s.URL, "/reauth?redirect_to=%2Fa") && strings.Contains(s.Reason, `deletes the session cookie "sid" of role editor`) {
			found = true
		}
		if strings.HasSuffix(s.URL, "/reauth?redirect_to=%2Fb") && strings.Contains(s.Reason, "parameter names are those of") {
			same = true
		}
	}
	if !found || !same {
		t.Errorf("/reauth not listed as session-ending by its cookie deletion (%v), or its sibling (%v): %+v", found, same, k.Skips())
	}
	// Probing does not request it again, and the session is still live.
	obs, err := Probe(ctx, opts, endpoints(srv.URL, "/reauth?redirect_to=%2Fc", "/page"))
	if err != nil {
		t.Fatal(err)
	}
	got := byRoleURL(obs)
	if _, ok := got["editor /reauth?redirect_to=%2Fc"]; ok {
		t.Errorf("/reauth recorded for editor after it was found session-ending")
	}
	if o := got["editor /page"]; o.Class != model.Allowed {
		t.Errorf("editor /page: %s (%s), want allowed", o.Class, o.Why)
	}
	app.mu.Lock()
	reauth = app.hits["/reauth"]
	app.mu.Unlock()
	if reauth != 1 {
		t.Errorf("/reauth requested %d times with a live session in all, want 1", reauth)
	}
	// The rotation was applied: the session still holds a valid cookie,
	// and not the first one.
	res := editor.Check(ctx)
	if !res.Live {
		t.Errorf("check after the crawl: %s, want live (the rotated cookie applied)", res.Seen)
	}
	if st := editor.Stats(); st.Renewals != 0 {
		t.Errorf("renewals %d after probing, want 0", st.Renewals)
	}
	_ = inv
}

// actionSite serves a page whose links perform actions: links carrying a
// one-time token (named like one, or equal to a token the page issued),
// a GET form with an anti-forgery field, and links a framework sends with
// another method. It records every path requested.
func actionSite(t *testing.T) (*httptest.Server, func() map[string]int) {
	t.Helper()
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<html><head><meta name="csrf-token" content="issued-TOKEN-4711"><meta name="csrf-param" content="authenticity_token"></head><body>
<a href="/comments/approve?c=1&_wpnonce=0a1b2c3d4e">approve</a>
<a href="/settings/save?theme=dark&t=issued-TOKEN-4711">save</a>
<form method="get" action="/prefs"><input type="hidden" name="authenticity_token" value="hidden-form-token-99"><input name="lang" value="en"></form>
<form method="get" action="/search"><input type="hidden" name="redirect_to" value="/admin/"><input name="q" value=""></form>
<a href="/posts/1" data-method="delete">delete</a>
<a href="/posts/2" data-turbo-method="post">publish</a>
<span hx-put="/posts/3/pin">pin</span>
<button formaction="/posts/4/archive" formmethod="post">archive</button>
<form method="post" action="/posts/5"><input type="hidden" name="_method" value="patch"></form>
<a href="/plain?page=2">next</a>
<a href="/show?id=12345678">show</a>
</body></html>`)
		default:
			fmt.Fprint(w, `<html><body>ok</body></html>`)
		}
	}))
	return srv, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		for k, v := range hits {
			out[k] = v
		}
		return out
	}
}

// Discovery never requests a URL that carries a one-time token, nor a
// link the page marks with another method; it lists both as skipped,
// without the token's value.
func TestDiscoverSkipsActionLinks(t *testing.T) {
	srv, hits := actionSite(t)
	defer srv.Close()
	opts := testOptions(t, parseConfig(t, srv.URL, "crawl: {concurrency: 1}\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inv, err := Discover(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	got := hits()
	for _, p := range []string{"/comments/approve", "/settings/save", "/prefs", "/posts/1", "/posts/2", "/posts/3/pin", "/posts/4/archive", "/posts/5"} {
		if got[p] != 0 {
			t.Errorf("%s requested %d times: it performs an action", p, got[p])
		}
	}
	for _, p := range []string{"/plain", "/show", "/search"} {
		if got[p] != 1 {
			t.Errorf("%s requested %d times, want 1 (a harmless link)", p, got[p])
		}
	}
	skipped := map[string]string{}
	for _, s := range inv.Skipped {
		skipped[s.Method+" "+strings.TrimPrefix(s.URL, srv.URL)] = s.Reason
		for _, tok := range []string{"0a1b2c3d4e", "issued-TOKEN-4711", "hidden-form-token-99"} {
			if strings.Contains(s.URL, tok) {
				t.Errorf("skipped URL %s holds the token %s", s.URL, tok)
			}
		}
	}
	want := map[string]string{
		"GET /comments/approve?_wpnonce=[token]&c=1":    `carries a one-time token (parameter "_wpnonce")`,
		"GET /settings/save?t=[token]&theme=dark":       `carries a one-time token (parameter "t")`,
		"GET /prefs?authenticity_token=[token]&lang=en": `carries a one-time token (parameter "authenticity_token")`,
		"DELETE /posts/1":       reasonMethod,
		"POST /posts/2":         reasonMethod,
		"PUT /posts/3/pin":      reasonMethod,
		"POST /posts/4/archive": reasonMethod,
		"PATCH /posts/5":        reasonMethod,
	}
	for k, reason := range want {
		if r, ok := skipped[k]; !ok || !strings.Contains(r, reason) {
			t.Errorf("skipped %q: reason %q (listed: %v), want %q", k, r, ok, reason)
		}
	}
	if t.Failed() {
		t.Logf("skipped: %v", skipped)
	}
}

// A hidden field of the login form whose value is a URL of the target
// (WordPress's redirect_to) is not a secret: the pages under it are
// crawled, not skipped as "holding a role's secret", and not redacted.
// The form's anti-forgery token still is.
func TestHiddenRedirectFieldIsNoSecret(t *testing.T) {
	app := newCookieApp()
	srv := httptest.NewServer(app)
	defer srv.Close()
	opts, _ := keptOptions(t, srv.URL, cookieAppRoles, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inv, err := Discover(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range inv.Skipped {
		if s.Reason == reasonSecret {
			t.Errorf("skipped as holding a secret: %s %s", s.Method, s.URL)
		}
	}
	if !slices.Contains(foundBy(inv, "editor"), srv.URL+"/admin/") {
		t.Errorf("editor did not find %s/admin/: %v", srv.URL, foundBy(inv, "editor"))
	}
	red := opts.Secrets
	if red == nil {
		red = opts.Config.Secrets
	}
	for _, v := range []string{srv.URL + "/admin/", "/admin/index.php?page=1"} {
		if got := red.Redact(v); got != v {
			t.Errorf("Redact(%q) = %q: a URL of the target is no secret", v, got)
		}
	}
	if got := red.Redact(loginCSRF); got == loginCSRF {
		t.Errorf("the login form's csrf_token is not redacted")
	}
}

// A URL holding a secret is listed as a URL of the target: the secret is
// left out of its value or path, never the whole URL made a placeholder.
func TestRedactURLStaysAURL(t *testing.T) {
	r := roles.NewRedactor()
	r.Add("whole", "http://127.0.0.1:9/admin/")
	r.Add("sig", "s3cr3t-signature")
	rc := &roleCrawl{opts: &Options{Secrets: r, Scope: &Scope{origin: mustURL(t, "http://127.0.0.1:9")}}}
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:9/files?a=1&sig=s3cr3t-signature", "http://127.0.0.1:9/files?a=1&sig=[REDACTED:sig]"},
		{"http://127.0.0.1:9/files/s3cr3t-signature/x", "http://127.0.0.1:9/files/%5BREDACTED:sig%5D/x"},
		{"http://127.0.0.1:9/admin/users?x=1", "http://127.0.0.1:9/[REDACTED]"},
	}
	for _, tt := range tests {
		got := rc.redactURL(mustURL(t, tt.in))
		if got != tt.want {
			t.Errorf("redactURL(%s) = %s, want %s", tt.in, got, tt.want)
		}
		if u, err := url.Parse(got); err != nil || u.Host != "127.0.0.1:9" {
			t.Errorf("redactURL(%s) = %s: not a URL of the target (%v)", tt.in, got, err)
		}
	}
}

// A probe whose answer deletes the session cookie: the deletion is not
// applied, the URL is session-ending at once, and the role's next probes
// are answered on its live session, without a renewal.
func TestProbeCookieDeletionIsNotApplied(t *testing.T) {
	app := newCookieApp()
	srv := httptest.NewServer(app)
	defer srv.Close()
	opts, k := keptOptions(t, srv.URL, cookieAppRoles, nil)
	obs, err := Probe(context.Background(), opts, endpoints(srv.URL, "/reauth", "/page", "/reauth"))
	if err != nil {
		t.Fatal(err)
	}
	got := byRoleURL(obs)
	if _, ok := got["editor /reauth"]; ok {
		t.Errorf("/reauth recorded for editor: it deletes the session cookie")
	}
	if o := got["anonymous /reauth"]; o.Class != model.Allowed {
		t.Errorf("anonymous /reauth: %s (%s), want allowed (anonymous has no session to lose)", o.Class, o.Why)
	}
	if o := got["editor /page"]; o.Class != model.Allowed || o.Session == model.SessionRenewed {
		t.Errorf("editor /page: %s (session %q), want allowed on the live session", o.Class, o.Session)
	}
	if st := opts.Sessions[1].Stats(); st.Renewals != 0 {
		t.Errorf("renewals %d, want 0", st.Renewals)
	}
	if r := k.Reports([]string{"editor"}); len(r) != 1 || len(r[0].SessionEnding) != 1 {
		t.Errorf("reports %+v, want /reauth session-ending for editor", r)
	}
}

func TestOneTimeToken(t *testing.T) {
	issued := func(v string) bool { return v == "issued-abcdef" }
	tests := []struct {
		url, param string
	}{
		{"/c?action=approve&_wpnonce=0a1b2c3d4e", "_wpnonce"},
		{"/c?authenticity_token=x", "authenticity_token"},
		{"/course/view.php?id=2&sesskey=AbCdEf1234", "sesskey"},
		{"/s?csrfmiddlewaretoken=x", "csrfmiddlewaretoken"},
		{"/doku.php?id=start&do=logout&sectok=3803021e0b8159fa", "sectok"}, // DokuWiki
		{"/index.php?title=X&action=edit&wpEditToken=ab12", "wpEditToken"}, // MediaWiki
		{"/s?X-CSRF-Token=x", "X-CSRF-Token"},
		{"/s?_token=x", "_token"},
		{"/s?t=issued-abcdef", "t"},
		{"/s?t=issued-abcdef%20", ""}, // not the token
		{"/s?page=2&id=12345678", ""},
		{"/s?tokenizer=bpe&noncense=1", "noncense"}, // named like a nonce: skipped, on the safe side
		{"/s?_wpnonce=", ""},                        // no value: nothing to replay
		{"/s?redirect_to=%2Fadmin%2F", ""},
	}
	for _, tt := range tests {
		u := mustURL(t, "http://127.0.0.1:9"+tt.url)
		p, ok := oneTimeToken(u, issued)
		if p != tt.param || ok != (tt.param != "") {
			t.Errorf("oneTimeToken(%s) = %q, %v; want %q", tt.url, p, ok, tt.param)
		}
		if ok {
			if red := withoutTokens(u, issued); strings.Contains(red, "0a1b2c3d4e") || strings.Contains(red, "issued-abcdef") || !strings.Contains(red, "=[token]") {
				t.Errorf("withoutTokens(%s) = %s", tt.url, red)
			}
		}
	}
}
