package session

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

const (
	// maxSignInBody is the most bytes read of a sign-in or check answer.
	maxSignInBody = 1 << 20
	// maxSignInHops is how many redirects a sign-in follows on the origin.
	maxSignInHops = 10
	// minObtainedSecret is the shortest cookie or hidden-field value taken
	// for a secret: shorter ones cannot be session ids or tokens, and
	// redacting them would garble evidence ("en", "1", "true").
	minObtainedSecret = 8
	// seenLen is the most bytes of an answer quoted in a message.
	seenLen = 120
)

// runFlow runs the role's sign-in flow with a fresh cookie jar.
func (s *Session) runFlow(ctx context.Context) (*credentials, error) {
	base, err := url.Parse(s.opts.Target)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("target %q is not an absolute URL", s.opts.Target)
	}
	client := *s.opts.SignIn
	jar := &secretJar{CookieJar: newJar(), s: s}
	client.Jar = jar
	f := &flow{s: s, client: &client, jar: jar, base: base}
	l := s.Role.Login
	var cr *credentials
	switch {
	case l.Form != nil:
		cr, err = f.form(ctx, l.Form)
	case l.JSON != nil:
		cr, err = f.json(ctx, l.JSON)
	case l.OAuth2 != nil:
		cr, err = f.oauth2(ctx, l.OAuth2)
	case l.Command != nil:
		cr, err = f.command(ctx, l.Command)
	default:
		return nil, errors.New("no sign-in flow")
	}
	if err != nil {
		return nil, err
	}
	if cr.jar == nil {
		cr.jar = jar
	}
	if sj, ok := cr.jar.(*secretJar); ok {
		cr.jar = sj.CookieJar
		cr.cookies = sj.names
	}
	return cr, nil
}

// secretJar is the jar of a sign-in: every cookie value set while
// signing in (the session's, a pre-session's, a CSRF cookie) joins the
// redactor the moment it is set, even when a later answer deletes it,
// URL-decoded too (pages and scripts show the decoded form).
//
// It also names the cookies the sign-in left set: the session's own
// cookies, whose deletion by a later answer is never applied (sessionJar).
type secretJar struct {
	http.CookieJar
	s     *Session
	names map[string]bool
}

func (j *secretJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	now := time.Now()
	for _, c := range cs {
		if j.names == nil {
			j.names = map[string]bool{}
		}
		// A session cookie holds an identifier: a short value ("en", a
		// flash marker) is not one, and its deletion ends nothing.
		j.names[c.Name] = !deletes(c, now) && len(c.Value) >= minObtainedSecret
		if len(c.Value) >= minObtainedSecret {
			j.s.addSecret("cookie."+c.Name, c.Value)
			if d, err := url.PathUnescape(c.Value); err == nil && len(d) >= minObtainedSecret {
				j.s.addSecret("cookie."+c.Name, d)
			}
		}
	}
	j.CookieJar.SetCookies(u, cs)
}

// flow is one sign-in attempt.
type flow struct {
	s      *Session
	client *http.Client
	jar    http.CookieJar
	base   *url.URL
}

// resolve makes a configured path or URL absolute on the target.
func (f *flow) resolve(ref string) (*url.URL, error) {
	u, err := f.base.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("URL %q: %w", ref, err)
	}
	return u, nil
}

// reply is one answer, its body read up to the cap.
type reply struct {
	url    *url.URL
	status int
	header http.Header
	body   []byte
}

// do sends req and reads the answer. Errors are redacted.
func (f *flow) do(req *http.Request) (*reply, error) {
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, errors.New(f.s.redact(err.Error()))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSignInBody))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the answer: %s", req.Method, pathOf(req.URL), f.s.redact(err.Error()))
	}
	return &reply{url: req.URL, status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// followRedirects follows redirects of r on the target's origin with GET
// (or the same method and body for 307 and 308), as a browser does after
// a sign-in. A redirect off the origin is not followed: its answer is
// the last one.
func (f *flow) followRedirects(ctx context.Context, r *reply, method string, body []byte, header http.Header) (*reply, error) {
	for hop := 0; ; hop++ {
		if !isRedirect(r.status) {
			return r, nil
		}
		loc := r.header.Get("Location")
		if loc == "" {
			return r, nil
		}
		next, err := r.url.Parse(loc)
		if err != nil || !model.SameOrigin(next, f.base) {
			return r, nil
		}
		if hop >= maxSignInHops {
			return nil, fmt.Errorf("more than %d redirects after %s", maxSignInHops, pathOf(r.url))
		}
		next.Fragment = ""
		m, b := http.MethodGet, []byte(nil)
		if r.status == http.StatusTemporaryRedirect || r.status == http.StatusPermanentRedirect {
			m, b = method, body
		}
		req, err := http.NewRequestWithContext(ctx, m, next.String(), bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		if b == nil {
			req.Body, req.ContentLength = nil, 0
		} else {
			for k, vs := range header {
				req.Header[k] = vs
			}
		}
		if r, err = f.do(req); err != nil {
			return nil, err
		}
		method, body = m, b
	}
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// pathOf is the path and query of u, never its host: for messages.
func pathOf(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.RequestURI()
}

// seen describes an answer for a message: its status, where it
// redirects, and the start of its body, redacted.
func (f *flow) seen(r *reply) string {
	return describeAnswer(r, f.base, f.s.redact)
}

func describeAnswer(r *reply, base *url.URL, redact func(string) string) string {
	s := strconv.Itoa(r.status)
	if isRedirect(r.status) && r.header.Get("Location") != "" {
		loc := r.header.Get("Location")
		if u, err := r.url.Parse(loc); err == nil {
			if model.SameOrigin(u, base) {
				loc = pathOf(u)
			} else {
				loc = u.Scheme + "://" + u.Host + pathOf(u)
			}
		}
		return s + " to " + redact(loc)
	}
	if ex := shortBody(r.body, redact); ex != "" {
		s += ": " + strconv.Quote(ex)
	}
	return s
}

// shortBody is the start of body as one line of text, redacted.
func shortBody(body []byte, redact func(string) string) string {
	b := body
	if len(b) > 4*seenLen {
		b = b[:4*seenLen]
	}
	t := redact(strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "\uFFFD")), " "))
	if len(t) > seenLen {
		cut := seenLen
		for cut > 0 && !utf8.RuneStart(t[cut]) {
			cut--
		}
		t = t[:cut] + "..."
	}
	return t
}

// expandVars replaces the role variables of a configured request field
// ({self.user_id}) by the session's current values.
func (s *Session) expandVars(field, text string) (string, error) {
	v, missing := roles.SubstituteVars(text, s.Role.Name, s.Var)
	if missing != "" {
		return "", fmt.Errorf("%s: role %s has no value for %s", field, s.Role.Name, missing)
	}
	return v, nil
}

// checkRequest builds the role's check request, its role variables
// replaced by the session's current values.
func (s *Session) checkRequest(ctx context.Context) (*http.Request, *url.URL, error) {
	c := s.Role.Check
	base, err := url.Parse(s.opts.Target)
	if err != nil {
		return nil, nil, fmt.Errorf("target %q: %v", s.opts.Target, err)
	}
	ref, err := s.expandVars("check.url", c.URL)
	if err != nil {
		return nil, nil, err
	}
	u, err := base.Parse(ref)
	if err != nil {
		return nil, nil, fmt.Errorf("URL %q: %v", s.redact(ref), err)
	}
	var body io.Reader
	if c.Body != "" {
		b, err := s.expandVars("check.body", c.Body)
		if err != nil {
			return nil, nil, err
		}
		body = strings.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, u.String(), body)
	if err != nil {
		return nil, nil, errors.New(s.redact(err.Error()))
	}
	for k, v := range c.Headers {
		hv, err := s.expandVars("check.headers."+k, v)
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set(k, hv)
	}
	return req, base, nil
}

// runCheck sends the role's check with the role's client.
func (s *Session) runCheck(ctx context.Context) CheckResult {
	if s.opts.Client == nil {
		return CheckResult{Err: errors.New("no HTTP client configured")}
	}
	req, base, err := s.checkRequest(ctx)
	if err != nil {
		return CheckResult{Err: err}
	}
	return s.judgeCheck(s.opts.Client, req, base)
}

// proveCheck runs the check again without the signed-in state: with
// the static credentials alone (when the role also signs in with a
// flow), then with no credentials at all. A check that passes that way
// cannot tell a live session from an ended one, and every denial after
// the session ended would be taken as real: the error says so, and what
// to do. The check's role variables keep the session's values (a nonce
// sent in check.headers is part of the request, not of the state).
func (s *Session) proveCheck(ctx context.Context) error {
	if s.opts.SignIn == nil {
		return nil
	}
	s.mu.RLock()
	static := s.static.Clone()
	s.mu.RUnlock()
	type attempt struct {
		header http.Header
		how    string
	}
	var tries []attempt
	if flow := s.Role.Login.Flow(); flow != "" && len(static) > 0 {
		tries = append(tries, attempt{static, fmt.Sprintf("with the static credentials alone (login: %s), without the session its %s sign-in obtained", staticKinds(s.Role.Login), flow)})
	}
	if len(static) > 0 || s.SignsIn() {
		tries = append(tries, attempt{nil, "without any credentials (anonymously)"})
	}
	for _, a := range tries {
		req, base, err := s.checkRequest(ctx)
		if err != nil {
			return fmt.Errorf("check %s: %w", s.Role.Check, err)
		}
		for k, vs := range a.header {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		if cs := req.Header["Cookie"]; len(cs) > 1 {
			req.Header["Cookie"] = []string{strings.Join(cs, "; ")}
		}
		client := *s.opts.SignIn
		client.Jar = newJar()
		s.mu.Lock()
		s.stats.Checks++
		s.mu.Unlock()
		res := s.judgeCheck(&client, req, base)
		switch {
		case res.Err != nil:
			return fmt.Errorf("check %s %s: %w", s.Role.Check, a.how, res.Err)
		case res.Live:
			return fmt.Errorf("the check %s also passes %s (it saw %s): it cannot tell a live session from an ended one, and every denial after the session ends would be taken as real (false blocked); point the check at a page only the signed-in session sees (contains: a text only it shows)%s, or set check.proves_session: false to accept this (docs/config.md, \"Signing in\")",
				s.Role.Check, a.how, res.Seen, dropStatic(a.header != nil))
		}
	}
	return nil
}

func dropStatic(static bool) string {
	if static {
		return ", or drop the static credentials the check page accepts"
	}
	return ""
}

// staticKinds names the static credentials of l: "headers", "bearer+cookies".
func staticKinds(l roles.Login) string {
	var k []string
	if l.Basic != nil {
		k = append(k, "basic")
	}
	if l.Bearer != "" {
		k = append(k, "bearer")
	}
	for _, m := range []struct {
		kind string
		vals map[string]string
	}{{"headers", l.Headers}, {"cookies", l.Cookies}} {
		for _, v := range m.vals {
			if !roles.HasVarRef(v) { // resolved from the session's captures: not static
				k = append(k, m.kind)
				break
			}
		}
	}
	return strings.Join(k, "+")
}

// judgeCheck sends the check request req with client and says whether
// its answer is a live session's.
func (s *Session) judgeCheck(client *http.Client, req *http.Request, base *url.URL) CheckResult {
	c := s.Role.Check
	u := req.URL
	resp, err := client.Do(req)
	if err != nil {
		return CheckResult{Err: errors.New(s.redact(err.Error()))}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxSignInBody))
	if err != nil {
		return CheckResult{Err: fmt.Errorf("reading the answer: %s", s.redact(err.Error()))}
	}
	r := &reply{url: u, status: resp.StatusCode, header: resp.Header, body: b}
	res := CheckResult{Live: true, Seen: strconv.Itoa(r.status)}
	switch {
	case c.Status != 0 && r.status != c.Status, c.Status == 0 && (r.status < 200 || r.status > 299):
		res = CheckResult{Seen: describeAnswer(r, base, s.redact)}
	case c.LoggedOut != "" && bytes.Contains(b, []byte(c.LoggedOut)):
		res = CheckResult{Seen: fmt.Sprintf("%d with the logged-out text %q", r.status, s.redact(c.LoggedOut))}
	case c.Contains != "" && !bytes.Contains(b, []byte(c.Contains)):
		res = CheckResult{Seen: fmt.Sprintf("%d without %q", r.status, s.redact(c.Contains))}
	}
	s.opts.Logger.Debug("session check", "check", c.String(), "live", res.Live, "seen", res.Seen)
	return res
}

// capture reads the role variables of cps from the login answer.
func capture(a *loginAnswer, cps []roles.Capture) (map[string]string, error) {
	if len(cps) == 0 {
		return nil, nil
	}
	if a == nil {
		a = &loginAnswer{}
	}
	out := map[string]string{}
	var doc any
	parsed := false
	for _, c := range cps {
		switch {
		case strings.HasPrefix(c.From, "header:"):
			name := strings.TrimSpace(strings.TrimPrefix(c.From, "header:"))
			v := a.header.Get(name)
			if v == "" {
				return nil, fmt.Errorf("capture %s: the login answer has no header %s", c.Var, name)
			}
			out[c.Var] = v
		case strings.HasPrefix(c.From, "regex:"):
			re := regexp.MustCompile(strings.TrimPrefix(c.From, "regex:")) // validated by Load
			m := re.FindSubmatch(a.body)
			if m == nil {
				return nil, fmt.Errorf("capture %s: %s matches nothing in the login answer", c.Var, c.From)
			}
			out[c.Var] = string(m[len(m)-1])
		default:
			var v any
			var ok bool
			if a.field != nil {
				first, rest, _ := strings.Cut(c.From, ".")
				if top := a.field(first); top != nil {
					if rest == "" {
						v, ok = top, true
					} else {
						v, ok = lookupPath(top, rest)
					}
				}
			} else {
				if !parsed {
					parsed = true
					if err := decodeJSON(a.body, &doc); err != nil {
						return nil, fmt.Errorf("capture %s: the login answer is not JSON", c.Var)
					}
				}
				v, ok = lookupPath(doc, c.From)
			}
			s, isScalar := scalarString(v)
			if !ok || !isScalar {
				return nil, fmt.Errorf("capture %s: no text or number at %s in the login answer", c.Var, c.From)
			}
			out[c.Var] = s
		}
	}
	return out, nil
}

func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// lookupPath walks a decoded JSON document along "a.b.0.c".
func lookupPath(doc any, path string) (any, bool) {
	cur := doc
	for _, seg := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[seg]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// scalarString renders a JSON string, number or boolean as text.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, x != ""
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// jwtExpiry returns the exp claim of a JWT (seconds since the epoch, a
// fraction allowed: RFC 7519 NumericDate), or zero when token is not a
// JWT or has no exp. The signature is not verified: the application
// does that; the tool only needs to know when to renew.
func jwtExpiry(token string) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if err := decodeJSON(payload, &claims); err != nil || claims.Exp == "" {
		return time.Time{}
	}
	f, err := claims.Exp.Float64()
	if err != nil || f <= 0 || f > 1e11 {
		return time.Time{}
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9))
}
