package crawl

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/permaudit/permaudit/session"
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

func newClient(scope *Scope, sess *session.Session, opts ClientOptions) *http.Client {
	ua := opts.UserAgent
	if ua == "" {
		ua = defaultUserAgent
	}
	next := opts.Transport
	if next == nil {
		// A transport of its own: the time-out, nothing else.
		t, err := NewTransport(TransportOptions{Timeout: opts.Timeout, Base: opts.Base})
		if err != nil { // only the CA file and proxy can fail, and neither is set
			panic(err)
		}
		next = t
	}
	c := &http.Client{
		Transport: &scopedTransport{scope: scope, sess: sess, userAgent: ua, allowPlain: opts.AllowPlainHTTP, next: next},
		// The transport times each attempt, so that a request already
		// sent may finish after a cancellation (FinishInFlight).
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
// request outside the scope's origin before anything is sent, and every
// request of a role with credentials over plain HTTP to a host that is not
// loopback (unless allowed); it attaches the session's credentials to the
// others and hands them to the run's Transport.
type scopedTransport struct {
	scope      *Scope
	sess       *session.Session
	userAgent  string
	allowPlain bool
	next       *Transport
}

func (t *scopedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.check(req); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		t.next.refuse()
		return nil, err
	}
	ctx := req.Context()
	if t.sess != nil {
		ctx = withRole(ctx, t.sess.Name())
	}
	r := req.Clone(ctx)
	if t.sess != nil {
		t.sess.Ready(ctx) // renews a token about to expire (session.Session.Ready)
		t.sess.Attach(r)
	}
	// The jar and Attach may both have added a Cookie line; send one.
	if cs := r.Header["Cookie"]; len(cs) > 1 {
		r.Header["Cookie"] = []string{strings.Join(cs, "; ")}
	}
	r.Header.Set("User-Agent", t.userAgent)
	if o := t.next.opts; o.RunIDHeader != "" && o.RunID != "" { // on the copy made here: the run's Transport need not make another
		r.Header.Set(o.RunIDHeader, o.RunID)
	}
	return t.next.RoundTrip(r)
}

// check refuses requests off the origin, requests whose Host header
// names another host than their URL (another virtual host behind the
// same address is another application), and credentials in clear text.
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
	if plainHTTPRefused(u, t.sess, t.allowPlain) {
		return fmt.Errorf("scoped transport: request of role %s to %s refused: its credentials would cross the network in clear text (plain HTTP to a host that is not loopback); use https or set allow_plain_http: true",
			t.sess.Name(), originString(u.Scheme, u.Host))
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
