package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// Session is a role's live signed-in state: its cookie jar, credential
// headers and variables. One Session per role is shared by discovery and
// probing, and is safe for concurrent use.
//
// Session never decides where credentials may go: its caller (crawl's
// scoped transport) calls Attach only for requests to in-scope origins.
//
// A role with a sign-in flow (form, json, oauth2, command) has no
// credentials until SignIn; Configure gives the session the HTTP clients
// and the redactor it needs first. Credentials obtained at run time
// (cookies, tokens, CSRF values) are registered with the redactor the
// moment they are obtained, before anything can log or report them.
type Session struct {
	Role *roles.Role

	jar *sessionJar // stable for the role's client; its cookies are replaced at sign-in

	mu        sync.RWMutex
	static    http.Header       // configured credential headers (basic, bearer, headers, cookies)
	templ     []credTemplate    // configured headers and cookies holding role variables ({self.nonce})
	subst     http.Header       // templ with the session's current variables (resolveCreds)
	obtained  http.Header       // headers from the last sign-in (tokens, a command's cookies)
	vars      map[string]string // configured, then captured at the last sign-in
	captured  map[string]string // captured at the first sign-in: what the matrix uses
	refreshAt time.Time         // when a token with a known expiry is renewed; zero: never
	stats     SessionStats
	lastTry   time.Time // start of the last sign-in attempt
	failure   error     // why the first sign-in failed; nil when it did not
	signedOut bool      // SignOut ran

	opts SessionOptions
	// signMu is held for writing by a sign-in; Ready takes it for reading
	// so that requests wait for a sign-in in progress instead of going
	// out with a session about to be replaced.
	signMu sync.RWMutex
	gen    atomic.Uint64
}

// SessionOptions are what a session needs to sign in and check itself.
type SessionOptions struct {
	// Target is the base URL that sign-in and check URLs resolve against.
	Target string
	// Secrets is the run's redactor, which every obtained secret joins: a
	// clone of the configuration's (roles.Redactor.Clone), never the
	// configuration's own.
	Secrets *roles.Redactor
	// SignIn is the client of the sign-in flows: scoped to the target and
	// attaching no credentials of this session (crawl.NewClient with a nil
	// session). Each sign-in gives it a fresh cookie jar; it must not
	// follow redirects (the form flow follows them itself, on the origin).
	SignIn *http.Client
	// Client is the role's own client (attaching this session's
	// credentials and using its jar), for the check.
	Client *http.Client
	// Logger gets sign-in, renewal and check events; nil discards. It is
	// never given a secret.
	Logger *slog.Logger
	// Now and Sleep are the clock; nil means the real one.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// SessionStats count what happened to a session in one run.
type SessionStats struct {
	SignIns   int // successful sign-ins, the first included
	Renewals  int // renewals attempted after the session was found dead
	Refreshes int // renewals before a known expiry
	Checks    int // checks run
}

// CheckResult is the outcome of a session check.
type CheckResult struct {
	Live bool
	// Seen says what the check saw, for messages: "200", "401",
	// "302 to /login", "200 without \"Signed in\"". Never a secret.
	Seen string
	// Err is set when the check could not be run (transport failure):
	// nothing is known of the session.
	Err error
}

// ErrRenewalCap is returned by Renew when the role's renewals are spent.
var ErrRenewalCap = errors.New("renewal cap reached")

// NewSession returns the session of r with its static credentials. The
// anonymous role gets a session with an empty jar and no credentials.
func NewSession(r *roles.Role) *Session {
	s := &Session{Role: r, jar: newSessionJar(), static: http.Header{}, obtained: http.Header{}, vars: map[string]string{}, captured: map[string]string{}}
	for k, v := range r.Vars {
		s.vars[k] = v
	}
	l := r.Login
	if l.Basic != nil {
		req := &http.Request{Header: http.Header{}}
		req.SetBasicAuth(l.Basic.Username, l.Basic.Password)
		s.static.Set("Authorization", req.Header.Get("Authorization"))
	}
	if l.Bearer != "" {
		s.static.Set("Authorization", "Bearer "+l.Bearer)
	}
	for k, v := range l.Headers {
		if roles.HasVarRef(v) {
			s.templ = append(s.templ, credTemplate{header: k, text: v})
			continue
		}
		s.static.Set(k, v)
	}
	for k, v := range l.Cookies {
		s.jar.own[k] = true
		if roles.HasVarRef(v) {
			s.templ = append(s.templ, credTemplate{cookie: k, text: v})
			continue
		}
		s.static.Add("Cookie", (&http.Cookie{Name: k, Value: v}).String())
	}
	sort.Slice(s.templ, func(i, j int) bool { return s.templ[i].header+s.templ[i].cookie < s.templ[j].header+s.templ[j].cookie })
	s.opts.Logger = slog.New(slog.DiscardHandler)
	_ = s.resolveCreds() // configured variables now; captured ones at every sign-in
	return s
}

// capturedRef reports whether text refers to a variable the role
// captures at sign-in.
func (s *Session) capturedRef(text string) bool {
	found := false
	roles.SubstituteVars(text, s.Role.Name, func(name string) (string, bool) {
		for _, c := range s.Role.Login.Capture {
			found = found || c.Var == name
		}
		return "", false
	})
	return found
}

// credTemplate is a configured header or cookie whose value holds role
// variables: it is sent with the session's current values, resolved at
// every sign-in, so that a renewal sends the nonce it captured.
type credTemplate struct {
	header, cookie string // one of them
	text           string
}

// resolveCreds fills subst from templ with the session's variables; a
// value that cannot be sent (a variable without a value, a captured
// value with control characters, or not fit for a cookie) is the error,
// and is left out. The values are credentials: they join the redactor.
func (s *Session) resolveCreds() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subst = http.Header{}
	var first error
	fail := func(err error) {
		if first == nil {
			first = err
		}
	}
	for _, t := range s.templ {
		v, missing := roles.SubstituteVars(t.text, s.Role.Name, func(name string) (string, bool) {
			v, ok := s.vars[name]
			return v, ok
		})
		field := "login.headers." + t.header
		if t.cookie != "" {
			field = "login.cookies." + t.cookie
		}
		switch {
		case missing != "":
			fail(fmt.Errorf("%s: no value for %s", field, missing))
			continue
		case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }):
			fail(fmt.Errorf("%s: the value of %s holds control characters and cannot be sent", field, t.text))
			continue
		}
		if s.opts.Secrets != nil && s.capturedRef(t.text) {
			// A configured variable is no secret ("5"): only a value
			// holding a capture is registered whole.
			s.opts.Secrets.Add("roles."+s.Role.Name+"."+field, v)
		}
		if t.header != "" {
			s.subst.Set(t.header, v)
			continue
		}
		c := &http.Cookie{Name: t.cookie, Value: v}
		if c.Valid() != nil || c.String() == "" || strings.ContainsAny(v, " \",;\\") {
			fail(fmt.Errorf("%s: the value of %s is not a valid cookie value (blanks, quotes, ';', ',' or '\\')", field, t.text))
			continue
		}
		s.subst.Add("Cookie", c.String())
	}
	return first
}

// Configure gives the session its clients, redactor, logger and clock.
// Call it once, before SignIn.
func (s *Session) Configure(o SessionOptions) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Logger = o.Logger.With("role", s.Role.Name)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = roles.Sleep
	}
	s.opts = o
}

// Name is the role's name.
func (s *Session) Name() string { return s.Role.Name }

// Jar is the session's cookie jar, for cookies the application sets. It
// stays the same object for the whole run; a sign-in replaces what it
// holds.
func (s *Session) Jar() http.CookieJar { return s.jar }

// Attach adds the session's credentials to req. Call it only for requests
// whose origin is in scope.
func (s *Session) Attach(req *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, h := range []http.Header{s.static, s.subst, s.obtained} {
		for k, vs := range h {
			if k == "Cookie" {
				for _, v := range vs {
					req.Header.Add("Cookie", v)
				}
				continue
			}
			req.Header[k] = append([]string(nil), vs...)
		}
	}
}

// Var returns the session's variable name.
func (s *Session) Var(name string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.vars[name]
	return v, ok
}

// Captured returns the variables captured at the role's first sign-in,
// the values the matrix is judged with (a renewal that captures another
// value changes Var, not these). A secret capture (roles.Capture.Secret)
// is among them; it is registered with the redactor, so that it is saved
// in the run as its redacted name.
func (s *Session) Captured() map[string]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return maps.Clone(s.captured)
}

// SetVar sets a variable, as captured at sign-in.
func (s *Session) SetVar(name, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vars[name] = value
}

// SignsIn reports whether the role obtains credentials at run time (it
// has a sign-in flow), so that its session can be renewed.
func (s *Session) SignsIn() bool { return s.Role.Login.Flow() != "" }

// Checked reports whether the role declares a check, so that its
// session's liveness can be proven.
func (s *Session) Checked() bool { return s.Role.Check != nil }

// LoggedOutMarker is the check's logged_out text, or "".
func (s *Session) LoggedOutMarker() string {
	if s.Role.Check == nil {
		return ""
	}
	return s.Role.Check.LoggedOut
}

// Generation counts the session's successful sign-ins: it changes
// whenever the credentials are replaced.
func (s *Session) Generation() uint64 { return s.gen.Load() }

// Stats returns what happened to the session so far.
func (s *Session) Stats() SessionStats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.stats
}

// Failure returns why the first sign-in failed, or nil.
func (s *Session) Failure() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.failure
}

// SignIn signs the role in with its flow, when it has one, and runs its
// check, when it has one. A role with neither succeeds at once. The error
// says what was seen and holds no secret; it is also kept (Failure).
//
// The variables captured at this first sign-in are the ones the matrix
// is judged with (Captured); the configuration is never changed.
func (s *Session) SignIn(ctx context.Context) error {
	s.signMu.Lock()
	defer s.signMu.Unlock()
	err := s.signIn(ctx, true)
	if err != nil {
		s.mu.Lock()
		s.failure = err
		s.mu.Unlock()
	}
	return err
}

// Renew signs the role in again after its session was found dead. It
// waits first when the last attempt was recent (the backoff doubles with
// every renewal), and refuses once the role's renewals are spent
// (ErrRenewalCap), so that a staging account is never locked.
func (s *Session) Renew(ctx context.Context) error {
	if !s.SignsIn() {
		return errors.New("static credentials cannot be renewed")
	}
	s.signMu.Lock()
	defer s.signMu.Unlock()
	s.mu.Lock()
	n := s.stats.Renewals
	max := s.Role.Login.Renew.Max
	if n >= max {
		s.mu.Unlock()
		return fmt.Errorf("%w (%d of %d renewals used)", ErrRenewalCap, n, max)
	}
	wait := backoff(s.Role.Login.Renew.Backoff, n) - s.opts.Now().Sub(s.lastTry)
	s.stats.Renewals++
	s.mu.Unlock()
	if wait > 0 {
		s.opts.Logger.Debug("renewal backoff", "wait", wait.String(), "renewal", n+1)
		if err := s.opts.Sleep(ctx, wait); err != nil {
			return err
		}
	}
	s.opts.Logger.Info("renewing session", "renewal", n+1, "max", max)
	return s.signIn(ctx, false)
}

// maxBackoff bounds the doubling of the renewal backoff.
const maxBackoff = 5 * time.Minute

// backoff is the least time between the start of the last sign-in
// attempt and renewal n+1: base doubled n times, at most maxBackoff (or
// base, when larger).
func backoff(base time.Duration, n int) time.Duration {
	d := base
	for i := 0; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, max(base, maxBackoff))
}

// Ready renews a token whose known expiry (JWT exp, OAuth2 expiry,
// expires_in) is near, and waits for a sign-in in progress. crawl's
// transport calls it before every request of the role. A failed refresh
// is logged and leaves the session as it is: the confirmation of the
// next non-ok answer takes over.
func (s *Session) Ready(ctx context.Context) {
	if inSignIn(ctx) || !s.SignsIn() {
		return
	}
	s.signMu.RLock()
	s.mu.RLock()
	at := s.refreshAt
	s.mu.RUnlock()
	s.signMu.RUnlock()
	if at.IsZero() || s.opts.Now().Before(at) {
		return
	}
	s.signMu.Lock()
	defer s.signMu.Unlock()
	s.mu.Lock()
	at = s.refreshAt
	if at.IsZero() || s.opts.Now().Before(at) { // another request refreshed it
		s.mu.Unlock()
		return
	}
	s.refreshAt = time.Time{} // one attempt per token
	s.stats.Refreshes++
	s.mu.Unlock()
	s.opts.Logger.Info("refreshing token before it expires")
	if err := s.signIn(ctx, false); err != nil {
		s.opts.Logger.Warn("token refresh failed", "error", err.Error())
	}
}

// Check runs the role's check with the role's client. A role without a
// check is reported live.
func (s *Session) Check(ctx context.Context) CheckResult {
	if s.Role.Check == nil {
		return CheckResult{Live: true, Seen: "no check"}
	}
	s.mu.Lock()
	s.stats.Checks++
	s.mu.Unlock()
	return s.runCheck(ctx)
}

// signInKey marks the context of requests made while signing in: Ready
// must not wait for the sign-in that makes them.
type signInKey struct{}

func inSignIn(ctx context.Context) bool { return ctx.Value(signInKey{}) != nil }

// signIn runs the flow and the check; the caller holds signMu.
func (s *Session) signIn(ctx context.Context, first bool) error {
	ctx = context.WithValue(ctx, signInKey{}, true)
	s.mu.Lock()
	s.lastTry = s.opts.Now()
	s.mu.Unlock()
	flow := s.Role.Login.Flow()
	if flow != "" {
		if s.opts.SignIn == nil {
			return errors.New("sign-in: no HTTP client configured")
		}
		cr, err := s.runFlow(ctx)
		if err != nil {
			return fmt.Errorf("sign-in (%s): %w", flow, err)
		}
		vars, err := capture(cr.answer, s.Role.Login.Capture)
		if err != nil {
			return fmt.Errorf("sign-in (%s): %w", flow, err)
		}
		s.install(cr, vars, first)
		if err := s.resolveCreds(); err != nil {
			return fmt.Errorf("sign-in (%s): %w", flow, err)
		}
	}
	if s.Role.Check != nil {
		s.mu.Lock()
		s.stats.Checks++
		s.mu.Unlock()
		res := s.runCheck(ctx)
		switch {
		case res.Err != nil:
			return fmt.Errorf("check %s: %w", s.Role.Check, res.Err)
		case !res.Live:
			if flow != "" {
				return fmt.Errorf("signed in (%s), but the check %s saw %s", flow, s.Role.Check, res.Seen)
			}
			return fmt.Errorf("check %s saw %s: the configured credentials are not accepted", s.Role.Check, res.Seen)
		}
		if first && !s.Role.Check.Unproven {
			if err := s.proveCheck(ctx); err != nil {
				return err
			}
		}
	}
	if flow != "" {
		s.opts.Logger.Debug("signed in", "flow", flow, "generation", s.gen.Load())
	}
	return nil
}

// install replaces the session's obtained credentials.
func (s *Session) install(cr *credentials, vars map[string]string, first bool) {
	now := s.opts.Now()
	s.mu.Lock()
	s.obtained = cr.header
	if s.obtained == nil {
		s.obtained = http.Header{}
	}
	secret := map[string]bool{}
	for _, c := range s.Role.Login.Capture {
		secret[c.Var] = c.Secret()
	}
	for k, v := range vars {
		// A secret capture (a nonce sent as a credential) is never used
		// by the matrix: its new value is what the session now sends.
		if old, ok := s.vars[k]; ok && !first && old != v && !secret[k] {
			s.opts.Logger.Warn("captured variable changed at renewal; the matrix keeps the first value", "var", k)
		}
		s.vars[k] = v
		if first {
			s.captured[k] = v
		}
	}
	for _, c := range s.Role.Login.Capture {
		if v, ok := vars[c.Var]; ok && c.Secret() {
			s.opts.Secrets.Add(c.SecretName(s.Role.Name), v)
		}
	}
	s.refreshAt = time.Time{}
	if !cr.expiry.IsZero() {
		life := cr.expiry.Sub(now)
		if life > 0 {
			s.refreshAt = cr.expiry.Add(-min(life/4, time.Minute))
		} else {
			s.opts.Logger.Warn("the token obtained has already expired; it is not refreshed before expiry (check the clocks)")
		}
	}
	s.stats.SignIns++
	s.mu.Unlock()
	s.jar.swap(cr.jar, cr.cookies)
	s.gen.Add(1)
}

// credentials are what a sign-in flow obtained.
type credentials struct {
	jar     http.CookieJar  // the session's cookies
	cookies map[string]bool // names of the cookies the sign-in left set (true) or deleted (false)
	header  http.Header     // headers to send (a token)
	expiry  time.Time       // when the token expires; zero: unknown
	answer  *loginAnswer    // what captures read
}

// loginAnswer is the answer captures read.
type loginAnswer struct {
	header http.Header
	body   []byte
	// field returns a top-level field of a token answer that was parsed
	// already (oauth2); nil to parse body as JSON.
	field func(name string) any
}

// addSecret registers an obtained secret value under a name that says
// what it is, with its URL-encoded form.
func (s *Session) addSecret(what, value string) {
	if value == "" || s.opts.Secrets == nil {
		return
	}
	name := "roles." + s.Role.Name + ".obtained." + what
	s.opts.Secrets.Add(name, value)
	if q := url.QueryEscape(value); q != value {
		s.opts.Secrets.Add(name, q)
	}
	if p := url.PathEscape(value); p != value {
		s.opts.Secrets.Add(name, p)
	}
}

// redact redacts s with the session's redactor.
func (s *Session) redact(v string) string { return s.opts.Secrets.Redact(v) }

// sessionJar is the role's jar: a stable object whose cookies a sign-in
// replaces at once.
//
// An answer outside a sign-in never deletes the session's own cookies
// (those the last sign-in left set with a value of 8 bytes or more, and
// configured cookies): a Set-Cookie that deletes one (Max-Age<=0, an Expires in the past, or an empty
// value) is not applied, and the URL it answered is remembered
// (takeDeleted) so that the keeper lists it as session-ending at once
// (docs/design.md, "Sessions"). A new value (a rotation) is applied.
type sessionJar struct {
	mu      sync.RWMutex
	jar     http.CookieJar
	signed  map[string]bool // cookies the last sign-in left set
	own     map[string]bool // configured cookies (set before any request)
	deleted []cookieDeletion
}

// cookieDeletion is an answer that deleted one of the session's own
// cookies, not applied.
type cookieDeletion struct {
	url    string // the URL requested, normalised
	cookie string // the cookie's name
}

// maxDeletions bounds the deletions remembered between two takeDeleted.
const maxDeletions = 1000

func newSessionJar() *sessionJar {
	return &sessionJar{jar: newJar(), signed: map[string]bool{}, own: map[string]bool{}}
}

func newJar() http.CookieJar {
	jar, _ := cookiejar.New(nil) // cookiejar.New never fails without options
	return jar
}

func (j *sessionJar) current() http.CookieJar {
	j.mu.RLock()
	defer j.mu.RUnlock()
	return j.jar
}

// deletes reports whether c deletes the cookie it names.
func deletes(c *http.Cookie, now time.Time) bool {
	return c.MaxAge < 0 || c.Value == "" || !c.Expires.IsZero() && !c.Expires.After(now)
}

func (j *sessionJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	now := time.Now()
	j.mu.Lock()
	jar := j.jar
	var keep []*http.Cookie
	for _, c := range cs {
		if (j.signed[c.Name] || j.own[c.Name]) && deletes(c, now) {
			if len(j.deleted) < maxDeletions {
				d := cookieDeletion{url: u.String(), cookie: c.Name}
				if n, err := model.Normalize(nil, d.url); err == nil {
					d.url = n.String()
				}
				j.deleted = append(j.deleted, d)
			}
			continue
		}
		keep = append(keep, c)
	}
	j.mu.Unlock()
	if len(keep) > 0 {
		jar.SetCookies(u, keep)
	}
}

func (j *sessionJar) Cookies(u *url.URL) []*http.Cookie { return j.current().Cookies(u) }

// takeDeleted returns the deletions not applied since the last call.
func (j *sessionJar) takeDeleted() []cookieDeletion {
	j.mu.Lock()
	defer j.mu.Unlock()
	d := j.deleted
	j.deleted = nil
	return d
}

// swap installs the jar of a sign-in and the names of the cookies it
// left set.
func (j *sessionJar) swap(jar http.CookieJar, names map[string]bool) {
	if jar == nil {
		jar = newJar()
	}
	signed := map[string]bool{}
	for n, set := range names {
		if set {
			signed[n] = true
		}
	}
	j.mu.Lock()
	j.jar = jar
	j.signed = signed
	j.mu.Unlock()
}

// CapturedBy returns what each of sessions captured at its first sign-in
// (Captured), by role: the variables the matrix is judged with.
func CapturedBy(sessions []*Session) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, s := range sessions {
		if s == nil {
			continue
		}
		if c := s.Captured(); len(c) > 0 {
			out[s.Name()] = c
		}
	}
	return out
}

// SignInAll signs sessions in at the same time, each with its flow when
// it has one and then its check when it has one, and returns each one's
// error (nil when it signed in, or has nothing to do: anonymous, a role
// with static credentials and no check).
func SignInAll(ctx context.Context, sessions []*Session) []error {
	errs := make([]error, len(sessions))
	var wg sync.WaitGroup
	for i, s := range sessions {
		if s.Name() == "anonymous" || (!s.SignsIn() && !s.Checked()) {
			continue
		}
		wg.Go(func() { errs[i] = s.SignIn(ctx) })
	}
	wg.Wait()
	return errs
}

// SignOut ends the session the role's flow signed in, with its logout
// request (roles.Logout), once: the request carries the session's own
// credentials (its cookies, the token it obtained, headers resolved from
// its captures) and never the role's static ones, so that a session
// given in the configuration is never ended. A role without a logout,
// or that never signed in, sends nothing. The error says what was seen
// and holds no secret.
func (s *Session) SignOut(ctx context.Context) error {
	lo := s.Role.Login.Logout
	if lo == nil || !s.SignsIn() || s.opts.SignIn == nil || s.Generation() == 0 {
		return nil
	}
	s.signMu.Lock()
	defer s.signMu.Unlock()
	s.mu.Lock()
	done := s.signedOut
	s.signedOut = true
	header := http.Header{}
	for _, h := range []http.Header{s.subst, s.obtained} {
		for k, vs := range h {
			for _, v := range vs {
				header.Add(k, v)
			}
		}
	}
	s.mu.Unlock()
	if done {
		return nil
	}
	base, err := url.Parse(s.opts.Target)
	if err != nil {
		return fmt.Errorf("target %q: %v", s.opts.Target, err)
	}
	ref, err := s.expandVars("login.logout.url", lo.URL)
	if err != nil {
		return err
	}
	u, err := base.Parse(ref)
	if err != nil {
		return fmt.Errorf("logout %s: %s", lo, s.redact(err.Error()))
	}
	var body io.Reader
	if lo.Body != "" {
		b, err := s.expandVars("login.logout.body", lo.Body)
		if err != nil {
			return err
		}
		body = strings.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, lo.Method, u.String(), body)
	if err != nil {
		return fmt.Errorf("logout %s: %s", lo, s.redact(err.Error()))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if cs := req.Header["Cookie"]; len(cs) > 1 {
		req.Header["Cookie"] = []string{strings.Join(cs, "; ")}
	}
	for k, v := range lo.Headers {
		hv, err := s.expandVars("login.logout.headers."+k, v)
		if err != nil {
			return err
		}
		req.Header.Set(k, hv)
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if o := base.Scheme + "://" + base.Host; req.Header.Get("Origin") == "" && lo.Method != http.MethodGet && lo.Method != http.MethodHead {
		req.Header.Set("Origin", o) // as a browser posts a same-origin form
	}
	client := *s.opts.SignIn
	client.Jar = s.jar.current()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("logout %s: %s", lo, s.redact(err.Error()))
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxSignInBody))
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		r := &reply{url: u, status: resp.StatusCode, header: resp.Header, body: b}
		return fmt.Errorf("logout %s saw %s", lo, describeAnswer(r, base, s.redact))
	}
	s.opts.Logger.Info("signed out", "logout", lo.String(), "status", resp.StatusCode)
	return nil
}

// SignOutAll ends, at the same time, the sessions of sessions that their
// flow signed in and whose role has a logout (Session.SignOut), and
// returns each one's error.
func SignOutAll(ctx context.Context, sessions []*Session) []error {
	errs := make([]error, len(sessions))
	var wg sync.WaitGroup
	for i, s := range sessions {
		if s == nil || s.Role.Login.Logout == nil {
			continue
		}
		wg.Go(func() { errs[i] = s.SignOut(ctx) })
	}
	wg.Wait()
	return errs
}
