package authapp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure the application. Zero values take the defaults.
type Options struct {
	Policy Policy
	// EditorRequests and AdminRequests: a session of the editor (admin)
	// ends after this many requests; default 1000.
	EditorRequests int
	AdminRequests  int
	// ViewerTTL: a viewer's session ends this long after sign-in;
	// default 1h.
	ViewerTTL time.Duration
	// JWTTTL: the lifetime of the api user's JWT (its exp claim holds
	// fractions of a second); default 1h.
	JWTTTL time.Duration
	// OAuthTTL: expires_in of the service's token, whole seconds;
	// default 3600.
	OAuthTTL int
}

// Request is one request the application answered.
type Request struct {
	Time   time.Time
	Method string
	Path   string // path and query
	User   string // whose credential it carried ("" none or unknown)
	Cred   string // "session", "jwt", "oauth" or ""
	Live   bool   // the credential was live
	Status int
}

// Login is one successful sign-in.
type Login struct {
	Time time.Time
	User string
	Kind string // "form", "json", "oauth2"
}

// App is the application, an http.Handler, safe for concurrent use.
type App struct {
	opts Options
	key  []byte // JWT signing key

	mu       sync.Mutex
	pre      map[string]string   // pre-session cookie (form's pre, the SPA's spa_session) -> CSRF token
	sessions map[string]*session // sid -> session
	tokens   map[string]*token   // OAuth access token -> token
	log      []Request
	logins   []Login
	secrets  []string // every credential issued to or used by a successful sign-in
	origin   string
}

type session struct {
	csrf     string // the token of the form that signed it in; pages show it
	user     string
	created  time.Time
	requests int
	ended    bool
}

type token struct {
	user   string
	expiry time.Time
}

// New returns the application.
func New(opts Options) *App {
	if opts.EditorRequests <= 0 {
		opts.EditorRequests = 1000
	}
	if opts.AdminRequests <= 0 {
		opts.AdminRequests = 1000
	}
	if opts.ViewerTTL <= 0 {
		opts.ViewerTTL = time.Hour
	}
	if opts.JWTTTL <= 0 {
		opts.JWTTTL = time.Hour
	}
	if opts.OAuthTTL <= 0 {
		opts.OAuthTTL = 3600
	}
	return &App{opts: opts, key: []byte(random()), pre: map[string]string{}, sessions: map[string]*session{}, tokens: map[string]*token{}}
}

func random() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Requests returns a copy of the request log.
func (a *App) Requests() []Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Request(nil), a.log...)
}

// Logins returns a copy of the successful sign-ins, in order.
func (a *App) Logins() []Login {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Login(nil), a.logins...)
}

// LoginsOf counts the successful sign-ins of user.
func (a *App) LoginsOf(user string) int {
	n := 0
	for _, l := range a.Logins() {
		if l.User == user {
			n++
		}
	}
	return n
}

// Secrets returns every credential value the application issued to a
// successful sign-in or that such a sign-in used: session ids, the CSRF
// tokens and pre-session cookies of the login forms submitted, JWTs and
// OAuth tokens. None may appear in an audit's outputs or logs.
func (a *App) Secrets() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.secrets...)
}

// Hits counts the requests of path made with a credential of user.
func (a *App) Hits(path, user string) int {
	n := 0
	for _, r := range a.Requests() {
		if r.Path == path && r.User == user {
			n++
		}
	}
	return n
}

// who is the credential a request carried.
type who struct {
	csrf string // the session's CSRF token
	user string
	cred string // "session", "jwt", "oauth"
	live bool
	sid  string
}

func (a *App) identify(r *http.Request) who {
	now := time.Now()
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if strings.Count(tok, ".") == 2 {
			user, exp, ok := a.verifyJWT(tok)
			if ok {
				return who{user: user, cred: "jwt", live: now.Before(exp)}
			}
			return who{}
		}
		a.mu.Lock()
		t := a.tokens[tok]
		a.mu.Unlock()
		if t != nil {
			return who{user: t.user, cred: "oauth", live: now.Before(t.expiry)}
		}
		return who{}
	}
	c, err := r.Cookie("sid")
	if err != nil {
		return who{}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[c.Value]
	if s == nil {
		return who{}
	}
	s.requests++
	switch s.user {
	case Editor:
		s.ended = s.ended || s.requests > a.opts.EditorRequests
	case Admin:
		s.ended = s.ended || s.requests > a.opts.AdminRequests
	case Viewer:
		s.ended = s.ended || now.Sub(s.created) > a.opts.ViewerTTL
	}
	return who{user: s.user, cred: "session", live: !s.ended, sid: c.Value, csrf: s.csrf}
}

// statusWriter records the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP answers r.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	id := a.identify(r)
	a.serve(sw, r, id)
	a.mu.Lock()
	if a.origin == "" {
		a.origin = "http://" + r.Host
	}
	a.log = append(a.log, Request{Time: time.Now(), Method: r.Method, Path: r.URL.RequestURI(), User: id.user, Cred: id.cred, Live: id.live, Status: sw.status})
	a.mu.Unlock()
}

func (a *App) serve(w http.ResponseWriter, r *http.Request, id who) {
	path := r.URL.Path
	switch {
	case path == "/login" && r.Method == http.MethodPost:
		a.formLogin(w, r)
		return
	case path == "/api/login" && r.Method == http.MethodPost:
		a.jsonLogin(w, r)
		return
	case path == "/oauth/token" && r.Method == http.MethodPost:
		a.oauthToken(w, r)
		return
	case path == "/spa/login" && r.Method == http.MethodPost:
		a.spaLogin(w, r)
		return
	case path == "/sanctum/csrf-cookie" && r.Method == http.MethodGet:
		a.xsrfCookie(w)
		return
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	case path == "/logout":
		if id.sid != "" {
			a.endSession(id.sid)
		}
		http.Redirect(w, r, "/", http.StatusFound)
		return
	case path == "/login" && (id.user == "" || !id.live):
		a.loginPage(w, "")
		return
	}
	if id.user != "" && !id.live {
		a.expired(w, id)
		return
	}
	user := id.user
	if path == "/login" {
		http.Redirect(w, r, "/dashboard", http.StatusFound)
		return
	}
	if path == "/account/switch" && id.sid != "" {
		a.endSession(id.sid)
	}
	d := a.opts.Policy.Decide(user, path)
	switch d.Status {
	case 200:
		a.page(w, id, path)
	case 302:
		http.Redirect(w, r, "/login?next="+r.URL.EscapedPath(), http.StatusFound)
	case 401:
		w.Header().Set("WWW-Authenticate", `Bearer realm="authapp"`)
		http.Error(w, "sign in first", http.StatusUnauthorized)
	case 403:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "<!doctype html><title>Forbidden</title><h1>Forbidden</h1><p>%s may not see this page.</p>%s", user, a.links(user))
	default:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "<!doctype html><title>Not found</title><h1>Not found</h1>%s", a.links(user))
	}
}

func (a *App) endSession(sid string) {
	a.mu.Lock()
	if s := a.sessions[sid]; s != nil {
		s.ended = true
	}
	a.mu.Unlock()
}

// expired answers a request whose credential has ended, each user's way.
func (a *App) expired(w http.ResponseWriter, id who) {
	switch {
	case id.user == Viewer:
		a.loginPage(w, "Your session has ended. Please sign in again.")
	case id.user == Admin:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "<!doctype html><title>Forbidden</title><p>Invalid or expired nonce.</p>")
	case id.cred == "session":
		w.Header().Set("WWW-Authenticate", `Cookie realm="authapp"`)
		http.Error(w, "session expired", http.StatusUnauthorized)
	default:
		w.Header().Set("WWW-Authenticate", `Bearer realm="authapp", error="invalid_token"`)
		http.Error(w, "token expired", http.StatusUnauthorized)
	}
}

func (a *App) links(user string) string {
	var b strings.Builder
	b.WriteString("<nav>")
	for _, l := range nav(user) {
		fmt.Fprintf(&b, `<a href="%s">%s</a> `, l, html.EscapeString(l))
	}
	b.WriteString(`<a href="/logout">Sign out</a></nav>`)
	return b.String()
}

// page serves an allowed page. Pages of a session carry its CSRF token,
// as real applications do (a meta tag, a field of /api/me), so that an
// audit that forgot it was a secret would show it in its evidence.
func (a *App) page(w http.ResponseWriter, id who, path string) {
	user := id.user
	if strings.HasPrefix(path, "/api/") {
		w.Header().Set("Content-Type", "application/json")
		switch path {
		case "/api/me":
			fmt.Fprintf(w, `{"user":%q,"id":%d,"csrf":%q}`, user, userIDs[user], id.csrf)
		default:
			fmt.Fprint(w, `{"reports":[{"id":1,"title":"Q1"},{"id":2,"title":"Q2"}]}`)
		}
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	who := "Please sign in to see more."
	if user != "" {
		who = fmt.Sprintf("Signed in as %s (user %d).", user, userIDs[user])
	}
	fmt.Fprintf(w, "<!doctype html><title>authapp %s</title><meta name=\"csrf-token\" content=\"%s\"><p>%s</p><h1>%s</h1>%s",
		html.EscapeString(path), id.csrf, who, html.EscapeString(path), a.links(user))
}

// loginPage serves the sign-in form with a fresh pre-session cookie and
// the CSRF token bound to it.
func (a *App) loginPage(w http.ResponseWriter, msg string) {
	pre, csrf := random(), random()
	a.mu.Lock()
	a.pre[pre] = csrf
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "pre", Value: pre, Path: "/", HttpOnly: true})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if msg == "" {
		msg = "Please sign in."
	}
	fmt.Fprintf(w, `<!doctype html><title>Sign in</title><p>%s</p>
<form method="get" action="/search"><input name="q"></form>
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="%s">
<input type="hidden" name="next" value="/dashboard">
<label>User <input name="username"></label>
<label>Password <input type="password" name="password"></label>
<label><input type="checkbox" name="remember" value="1" checked> remember me</label>
<button type="submit" name="action" value="sign-in">Sign in</button>
</form>%s`, html.EscapeString(msg), csrf, a.links(""))
}

func (a *App) formLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	c, err := r.Cookie("pre")
	a.mu.Lock()
	want, ok := "", false
	if err == nil {
		want, ok = a.pre[c.Value]
	}
	origin := a.origin
	a.mu.Unlock()
	got := r.PostForm.Get("csrf_token")
	if !ok || !same(got, want) || (r.Header.Get("Origin") != "" && origin != "" && r.Header.Get("Origin") != origin) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "<!doctype html><p>CSRF token missing or invalid.</p>")
		return
	}
	user := r.PostForm.Get("username")
	pw, known := passwords[user]
	if !known || user == API || user == SPA || !same(r.PostForm.Get("password"), pw) || r.PostForm.Get("remember") != "1" || r.PostForm.Get("action") != "sign-in" {
		a.loginPage(w, "Wrong user name or password.")
		return
	}
	a.startSession(w, user, "form", c.Value, got, "pre", got)
	next := r.PostForm.Get("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/dashboard"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (a *App) jsonLogin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
		return
	}
	if in.Username != API || !same(in.Password, APIPassword) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid credentials"}`)
		return
	}
	tok := a.signJWT(API, time.Now().Add(a.opts.JWTTTL))
	a.mu.Lock()
	a.logins = append(a.logins, Login{Time: time.Now(), User: API, Kind: "json"})
	a.secrets = append(a.secrets, tok)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"data":{"access_token":%q,"user":{"id":%d,"name":"api"}}}`, tok, userIDs[API])
}

// xsrfCookie starts the pre-session of the SPA login, as Laravel
// Sanctum's GET /sanctum/csrf-cookie does: the cookie spa_session and the
// cookie XSRF-TOKEN bound to it, whose value is URL-encoded (the token
// always holds "=", so only a client that decodes it echoes it right).
func (a *App) xsrfCookie(w http.ResponseWriter) {
	pre := random()
	b := make([]byte, 28)
	_, _ = rand.Read(b)
	tok := base64.StdEncoding.EncodeToString(b) // 28 bytes: ends in "=="
	a.mu.Lock()
	a.pre[pre] = tok
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "spa_session", Value: pre, Path: "/", HttpOnly: true})
	http.SetCookie(w, &http.Cookie{Name: "XSRF-TOKEN", Value: url.QueryEscape(tok), Path: "/"})
	w.WriteHeader(http.StatusNoContent)
}

// spaLogin is the SPA's JSON login {email, password}. Without the header
// X-XSRF-TOKEN holding the decoded token bound to the pre-session, it
// answers 419 "CSRF token mismatch.", as Laravel does; wrong credentials
// answer 422. Success sets the session cookie sid.
func (a *App) spaLogin(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie("spa_session")
	a.mu.Lock()
	want, ok := "", false
	if err == nil {
		want, ok = a.pre[c.Value]
	}
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok || !same(r.Header.Get("X-XSRF-TOKEN"), want) {
		w.WriteHeader(419)
		fmt.Fprint(w, `{"message":"CSRF token mismatch."}`)
		return
	}
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil || in.Email != SPAEmail || !same(in.Password, SPAPassword) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprint(w, `{"message":"These credentials do not match our records."}`)
		return
	}
	a.startSession(w, SPA, "json", c.Value, want, "spa_session", want, url.QueryEscape(want))
	fmt.Fprintf(w, `{"user":{"id":%d,"name":"spa"}}`, userIDs[SPA])
}

func (a *App) oauthToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	w.Header().Set("Content-Type", "application/json")
	if r.PostForm.Get("grant_type") != "client_credentials" || id != ServiceID || !same(secret, ServiceSecret) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client"}`)
		return
	}
	tok := random() + random()
	a.mu.Lock()
	a.tokens[tok] = &token{user: Service, expiry: time.Now().Add(time.Duration(a.opts.OAuthTTL) * time.Second)}
	a.logins = append(a.logins, Login{Time: time.Now(), User: Service, Kind: "oauth2"})
	a.secrets = append(a.secrets, tok)
	a.mu.Unlock()
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":%d,"scope":"reports"}`, tok, a.opts.OAuthTTL)
}

// signJWT makes an HS256 JWT whose exp holds fractions of a second.
func (a *App) signJWT(user string, exp time.Time) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims := fmt.Sprintf(`{"sub":%q,"uid":%d,"exp":%s,"jti":%q}`, user, userIDs[user],
		strconv.FormatFloat(float64(exp.UnixNano())/1e9, 'f', 3, 64), random())
	body := head + "." + enc.EncodeToString([]byte(claims))
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(body))
	return body + "." + enc.EncodeToString(m.Sum(nil))
}

func (a *App) verifyJWT(tok string) (string, time.Time, bool) {
	parts := strings.Split(tok, ".")
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, m.Sum(nil)) {
		return "", time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", time.Time{}, false
	}
	var c struct {
		Sub string  `json:"sub"`
		Exp float64 `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return "", time.Time{}, false
	}
	sec := int64(c.Exp)
	return c.Sub, time.Unix(sec, int64((c.Exp-float64(sec))*1e9)), true
}

func same(got, want string) bool { return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 }

// Server is the application listening on a loopback port.
type Server struct {
	App  *App
	url  string
	srv  *http.Server
	done chan struct{}
}

// Start serves New(opts) on 127.0.0.1 at a port the system chooses.
func Start(opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start authapp: listen on 127.0.0.1: %w", err)
	}
	s := &Server{App: New(opts), url: "http://" + ln.Addr().String(), done: make(chan struct{})}
	s.srv = &http.Server{Handler: s.App, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// URL is the base URL, such as "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.url }

// Close stops the server and waits until it has stopped.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("close authapp at %s: %w", s.url, err)
	}
	return nil
}

// startSession signs user in after a login of kind: it ends the
// pre-session pre (its cookie preCookie is deleted), sets the session
// cookie "sid" holding csrf as the session's token, and records the login
// and the secrets it issued (the session id, the pre-session id, more).
func (a *App) startSession(w http.ResponseWriter, user, kind, pre, csrf, preCookie string, more ...string) {
	sid := random()
	a.mu.Lock()
	delete(a.pre, pre)
	a.sessions[sid] = &session{user: user, created: time.Now(), csrf: csrf}
	a.logins = append(a.logins, Login{Time: time.Now(), User: user, Kind: kind})
	a.secrets = append(a.secrets, append([]string{sid, pre}, more...)...)
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/", HttpOnly: true})
	http.SetCookie(w, &http.Cookie{Name: preCookie, Value: "", Path: "/", MaxAge: -1})
}
