package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/permaudit/permaudit/roles"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// json signs in by sending the configured body to a login endpoint and
// takes the token from the answer (by path or cookie); without a token
// the session is the cookies the answer set. With xsrf, it first obtains
// the anti-forgery cookie and echoes it in a header of the login request.
func (f *flow) json(ctx context.Context, jl *roles.JSONLogin) (*credentials, error) {
	u, err := f.resolve(jl.URL)
	if err != nil {
		return nil, err
	}
	xsrf := ""
	if jl.XSRF != nil {
		if xsrf, err = f.xsrfToken(ctx, jl.XSRF, u); err != nil {
			return nil, err
		}
	}
	var body io.Reader
	if jl.Body != nil {
		body = bytes.NewReader(jl.Body)
	}
	req, err := http.NewRequestWithContext(ctx, jl.Method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if jl.Body != nil {
		if jl.Encoding == "form" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range jl.Headers {
		req.Header.Set(k, v)
	}
	if jl.XSRF != nil {
		req.Header.Set(jl.XSRF.Header, xsrf)
		// As the application's own pages would send it: Laravel Sanctum
		// treats a request as its SPA's only when Origin or Referer names
		// a stateful domain.
		origin := f.base.Scheme + "://" + f.base.Host
		for _, kv := range [][2]string{{"Origin", origin}, {"Referer", origin + "/"}} {
			if req.Header.Get(kv[0]) == "" {
				req.Header.Set(kv[0], kv[1])
			}
		}
	}
	what := fmt.Sprintf("%s %s", jl.Method, pathOf(u))
	r, err := f.do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if r.status < 200 || r.status > 299 {
		return nil, fmt.Errorf("%s answered %s: the sign-in was refused%s", what, f.seen(r), forgeryHint(jl.XSRF, r))
	}
	cr := &credentials{jar: f.jar, answer: &loginAnswer{header: r.header, body: r.body}}
	token := ""
	switch {
	case jl.Token != "":
		var doc any
		if err := decodeJSON(r.body, &doc); err != nil {
			return nil, fmt.Errorf("%s answered %d with no JSON: %s", what, r.status, f.seen(r))
		}
		v, ok := lookupPath(doc, jl.Token)
		s, isText := v.(string)
		if !ok || !isText || s == "" {
			return nil, fmt.Errorf("%s answered %d without a token at %s", what, r.status, jl.Token)
		}
		token = s
	case jl.TokenCookie != "":
		token, _ = cookieValue(f.jar.Cookies(u), jl.TokenCookie)
		if token == "" {
			return nil, fmt.Errorf("%s answered %d without setting the cookie %s", what, r.status, jl.TokenCookie)
		}
	}
	if token == "" {
		return cr, nil
	}
	if err := f.useToken(cr, token, jl.Use); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if jl.ExpiresIn != "" {
		var doc any
		_ = decodeJSON(r.body, &doc)
		v, _ := lookupPath(doc, jl.ExpiresIn)
		s, _ := scalarString(v)
		sec, err := strconv.ParseFloat(s, 64)
		if err != nil || sec <= 0 {
			return nil, fmt.Errorf("%s answered %d without a number of seconds at %s", what, r.status, jl.ExpiresIn)
		}
		cr.expiry = f.s.opts.Now().Add(time.Duration(sec * float64(time.Second)))
	}
	return cr, nil
}

// xsrfToken obtains the anti-forgery token of x: it GETs x.URL with the
// sign-in's jar, following redirects on the origin, and returns the value
// of the cookie x.Cookie that the jar would send to login, URL-decoded as
// Axios and Angular do (a value that does not decode is sent as it is).
// The value, in both forms, is a secret before anything can quote it.
func (f *flow) xsrfToken(ctx context.Context, x *roles.XSRF, login *url.URL) (string, error) {
	page, err := f.resolve(x.URL)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, page.String(), nil)
	if err != nil {
		return "", err
	}
	what := "GET " + pathOf(page)
	r, err := f.do(req)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if r, err = f.followRedirects(ctx, r, http.MethodGet, nil, nil); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if r.url != req.URL {
		what += ", then " + pathOf(r.url)
	}
	if r.status < 200 || r.status > 299 {
		return "", fmt.Errorf("%s answered %s: want a 2xx answer setting the cookie %s", what, f.seen(r), x.Cookie)
	}
	raw, found := cookieValue(f.jar.Cookies(login), x.Cookie)
	if !found {
		if _, elsewhere := cookieValue(f.jar.Cookies(r.url), x.Cookie); elsewhere {
			return "", fmt.Errorf("%s answered %d setting the cookie %s for a path, domain or scheme that %s is not on", what, r.status, x.Cookie, pathOf(login))
		}
		return "", fmt.Errorf("%s answered %d without setting the cookie %s", what, r.status, x.Cookie)
	}
	f.s.addSecret("xsrf."+x.Cookie, raw)
	token, err := url.PathUnescape(raw)
	if err != nil {
		token = raw
	}
	f.s.addSecret("xsrf."+x.Cookie, token)
	if token == "" || hasControl(token) {
		return "", fmt.Errorf("%s answered %d with a cookie %s that is empty or holds control characters", what, r.status, x.Cookie)
	}
	return token, nil
}

// cookieValue returns the value of the cookie called name among cs.
func cookieValue(cs []*http.Cookie, name string) (string, bool) {
	for _, c := range cs {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// forgeryHint explains a refused login that looks like an anti-forgery
// refusal: a 419 (Laravel's "CSRF token mismatch"), or a 403 that says
// CSRF (Django). x is the login's xsrf, nil when none is configured.
func forgeryHint(x *roles.XSRF, r *reply) string {
	if r.status != 419 && (r.status != http.StatusForbidden || !bytes.Contains(bytes.ToLower(r.body), []byte("csrf"))) {
		return ""
	}
	if x == nil {
		return fmt.Sprintf(" (%d reads as an anti-forgery refusal: an SPA login may need xsrf, its cookie echoed in a header)", r.status)
	}
	return fmt.Sprintf(" (%d reads as an anti-forgery refusal: check that the application expects the cookie %s in the header %s)", r.status, x.Cookie, x.Header)
}

// useToken registers token as a secret and sends it as u says. A JWT's
// exp claim gives the expiry.
func (f *flow) useToken(cr *credentials, token string, u roles.TokenUse) error {
	f.s.addSecret("token", token)
	if hasControl(token) || strings.ContainsAny(token, " \t") {
		return errors.New("the token holds blanks or control characters")
	}
	value := u.Value(token)
	f.s.addSecret("token", value)
	cr.header = http.Header{}
	cr.header.Set(u.Header, value)
	cr.expiry = jwtExpiry(token)
	return nil
}

// oauth2 obtains a token with the client credentials grant.
func (f *flow) oauth2(ctx context.Context, ol *roles.OAuth2Login) (*credentials, error) {
	u, err := f.resolve(ol.TokenURL)
	if err != nil {
		return nil, err
	}
	cc := clientcredentials.Config{
		ClientID:     ol.ClientID,
		ClientSecret: ol.ClientSecret,
		TokenURL:     u.String(),
		Scopes:       ol.Scopes,
	}
	if len(ol.Params) > 0 {
		cc.EndpointParams = url.Values{}
		for k, v := range ol.Params {
			cc.EndpointParams.Set(k, v)
		}
	}
	switch ol.Auth {
	case "header":
		cc.AuthStyle = oauth2.AuthStyleInHeader
	case "body":
		cc.AuthStyle = oauth2.AuthStyleInParams
	}
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, f.client))
	if err != nil {
		return nil, fmt.Errorf("token request to %s: %s", pathOf(u), shortBody([]byte(f.s.redact(err.Error())), f.s.redact))
	}
	f.s.addSecret("token", tok.AccessToken)
	if tok.RefreshToken != "" {
		f.s.addSecret("refresh_token", tok.RefreshToken)
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("token request to %s: no access_token in the answer", pathOf(u))
	}
	use := ol.Use
	if use.Scheme == "" {
		use.Scheme = tok.Type()
	}
	cr := &credentials{jar: f.jar, answer: &loginAnswer{field: tok.Extra}}
	if err := f.useToken(cr, tok.AccessToken, use); err != nil {
		return nil, fmt.Errorf("token request to %s: %w", pathOf(u), err)
	}
	if !tok.Expiry.IsZero() {
		cr.expiry = tok.Expiry
	}
	return cr, nil
}

// maxCommandOutput is the most bytes kept of a login command's stdout and
// of its stderr.
const maxCommandOutput = 64 << 10

// command runs the role's login program (argv, no shell) with a time
// limit; its standard output is a token or a Cookie header value.
func (f *flow) command(ctx context.Context, cl *roles.CommandLogin) (*credentials, error) {
	ctx, cancel := context.WithTimeout(ctx, cl.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, cl.Argv[0], cl.Argv[1:]...)
	var stdout, stderr capped
	stdout.max, stderr.max = maxCommandOutput, maxCommandOutput
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	name := f.s.redact(cl.Argv[0])
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return nil, fmt.Errorf("command %s: timed out after %v%s", name, cl.Timeout, f.stderrNote(stderr.Bytes()))
	}
	if err != nil {
		return nil, fmt.Errorf("command %s: %s%s", name, f.s.redact(err.Error()), f.stderrNote(stderr.Bytes()))
	}
	out := strings.TrimSpace(stdout.String())
	// The output is the credential: a secret before anything else.
	f.s.addSecret("command", out)
	if out == "" {
		return nil, fmt.Errorf("command %s printed nothing on standard output%s", name, f.stderrNote(stderr.Bytes()))
	}
	cr := &credentials{jar: f.jar, answer: &loginAnswer{body: []byte(out)}}
	if cl.Gives == "cookie" {
		cookies, err := http.ParseCookie(strings.TrimPrefix(out, "Cookie: "))
		if err != nil || len(cookies) == 0 {
			return nil, fmt.Errorf("command %s: standard output is not a Cookie header value such as \"session=abc; csrf=def\"", name)
		}
		for _, c := range cookies {
			f.s.addSecret("cookie."+c.Name, c.Value)
			c.Path = "/"
		}
		f.jar.SetCookies(f.base, cookies)
		return cr, nil
	}
	if strings.ContainsAny(out, " \t\r\n") {
		return nil, fmt.Errorf("command %s: standard output is not one token (it holds blanks or several lines)", name)
	}
	if err := f.useToken(cr, out, cl.Use); err != nil {
		return nil, fmt.Errorf("command %s: %w", name, err)
	}
	return cr, nil
}

// stderrNote is a command's stderr for an error message: its last lines,
// redacted, on one line.
func (f *flow) stderrNote(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	if len(s) > 4*seenLen {
		s = s[len(s)-4*seenLen:]
	}
	return "; stderr: " + strconv.Quote(shortBody([]byte(s), f.s.redact))
}

// capped is a buffer that keeps the first max bytes written.
type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// hasControl reports whether s holds an ASCII control character other
// than a tab, which no header value may carry.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f })
}
