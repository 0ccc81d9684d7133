package crawl

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/permaudit/permaudit/roles"
)

const (
	// defaultUserAgent is sent when neither the options nor the
	// configuration name one.
	defaultUserAgent = "permaudit (+authorised permission audit)"
	defaultTimeout   = 10 * time.Second
	// maxConcurrency is the most workers a configuration may ask for; a
	// fresh transport keeps that many idle connections per host.
	maxConcurrency = 64
)

func newClient(scope *Scope, sess *roles.Session, opts ClientOptions) *http.Client {
	base := opts.Base
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 2 * maxConcurrency
		t.MaxIdleConnsPerHost = maxConcurrency
		base = t
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = defaultUserAgent
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	c := &http.Client{
		Transport: &scopedTransport{scope: scope, sess: sess, userAgent: ua, base: base},
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	if sess != nil {
		c.Jar = sess.Jar()
	}
	return c
}

// scopedTransport is the only way out of a role's client. It refuses every
// request outside the scope's origin before anything is sent, and attaches
// the session's credentials to the others.
type scopedTransport struct {
	scope     *Scope
	sess      *roles.Session
	userAgent string
	base      http.RoundTripper
}

func (t *scopedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.check(req); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	r := req.Clone(req.Context())
	if t.sess != nil {
		t.sess.Attach(r)
	}
	// The jar and Attach may both have added a Cookie line; send one.
	if cs := r.Header["Cookie"]; len(cs) > 1 {
		r.Header["Cookie"] = []string{strings.Join(cs, "; ")}
	}
	r.Header.Set("User-Agent", t.userAgent)
	return t.base.RoundTrip(r)
}

// check refuses requests off the origin, and requests whose Host header
// names another host than their URL (another virtual host behind the
// same address is another application).
func (t *scopedTransport) check(req *http.Request) error {
	u := req.URL
	if u == nil {
		return errors.New("scoped transport: request without URL refused")
	}
	if !t.scope.InOrigin(u) {
		return fmt.Errorf("scoped transport: request to %s refused: outside the target origin %s",
			originString(u.Scheme, u.Host), t.scope.Origin())
	}
	if req.Host != "" && !strings.EqualFold(req.Host, u.Host) {
		hu := *u
		hu.Host = req.Host
		if !t.scope.InOrigin(&hu) {
			return fmt.Errorf("scoped transport: request with Host %q refused: outside the target origin %s",
				req.Host, t.scope.Origin())
		}
	}
	return nil
}

// originString is scheme://host, never a path or query that might hold
// a secret.
func originString(scheme, host string) string {
	if scheme == "" {
		return "//" + host
	}
	return scheme + "://" + host
}
