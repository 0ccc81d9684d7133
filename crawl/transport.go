package crawl

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

const (
	// DefaultRate is the request rate of a run whose configuration names
	// none, when the target is not on a loopback address.
	DefaultRate = 50.0
	// maxHeaderBytes caps the header block of an answer.
	maxHeaderBytes = 1 << 20
)

// TransportOptions configure a Transport. The zero value sends every
// request once, as soon as it is asked for, with a 10 s time-out: no rate,
// no cap on requests in flight or on bodies, no retry, no pause.
// TransportOptionsFor fills them from a configuration.
type TransportOptions struct {
	// Timeout bounds each attempt: connecting, the answer's header and
	// reading its body. Default 10 s.
	Timeout time.Duration
	// MaxBody caps the bytes of a body handed up, after gzip decoding;
	// the rest is not read and the body reports Truncated. 0: no cap.
	MaxBody int64
	// Concurrency caps the requests in flight at once, every role and
	// phase together; a request holds its slot until its body is read or
	// closed (or its attempt times out). 0: no cap.
	Concurrency int
	// Rate and HostRate are requests per second, of the whole run and
	// of each host; 0 or +Inf: no limit.
	Rate, HostRate float64
	// Retries is how many times a GET, HEAD or OPTIONS is tried again
	// after a transient failure (a reset connection, 429, 500, 502, 503,
	// 504), at most 3.
	Retries int
	// MaxRetryAfter is the longest Retry-After (of a 429 or 503) that is
	// waited for; an answer asking for longer is not retried.
	MaxRetryAfter time.Duration
	// RetryBase and RetryMax bound the exponential backoff between tries
	// (defaults 500 ms and 8 s); each wait is jittered.
	RetryBase, RetryMax time.Duration
	// Failures of FailureThreshold distinct URLs of a host, with no
	// success in between, pause every request to it for PauseBase,
	// doubling for every further URL that fails, up to PauseMax
	// (defaults 1 s and 60 s); the retries of one URL count once, and a
	// URL that never answered well does not count on a host that serves
	// other URLs (retry.go, breaker). 0: never pause.
	FailureThreshold    int
	PauseBase, PauseMax time.Duration
	// FinishInFlight lets a request already sent finish (or time out)
	// when its context is cancelled; requests not yet sent are not sent.
	// Without it cancellation aborts requests in flight.
	FinishInFlight bool
	// RunIDHeader names the header that carries RunID on every request;
	// either empty: none.
	RunIDHeader, RunID string
	// CAFile is a PEM file of CA certificates trusted besides the
	// system's; Insecure turns certificate verification off.
	CAFile   string
	Insecure bool
	// Proxy is a proxy URL for every request, loopback targets included.
	// Empty: ProxyFromEnv, or HTTPS_PROXY, HTTP_PROXY and NO_PROXY as
	// http.ProxyFromEnvironment reads them (never for loopback hosts).
	Proxy        string
	ProxyFromEnv func(*http.Request) (*url.URL, error)
	// Base sends the requests; nil: a fresh http.Transport with the TLS
	// and proxy settings above. With Base set those are Base's business.
	Base http.RoundTripper
	// DryRun, when set, is told every request instead of sending it; the
	// request then fails with ErrDryRun.
	DryRun func(PlannedRequest)
	// Logger tells of pauses and retries (nil: discard); Secrets redacts
	// what it logs.
	Logger  *slog.Logger
	Secrets *roles.Redactor
	// Denial, when set, recognises an application's denial in a failing
	// answer (a configured denial signature on a 5xx or 429): such an
	// answer is never retried and never counts toward the host's pause.
	// Its body is read (up to MaxBody) to decide.
	Denial func(status int, h http.Header, body []byte) bool
	// Rand returns a number in [0, 1) for jitter; nil: math/rand/v2.
	Rand func() float64
}

// Transport is the one way out of a run: every role's client sends
// through it (NewClient wraps it with the role's scope and credentials).
// It enforces the rate, the cap on requests in flight, the per-attempt
// time-out and the body cap, retries what is worth retrying and pauses a
// failing host. It is safe for concurrent use.
type Transport struct {
	opts    TransportOptions
	base    http.RoundTripper
	global  *limiter
	hosts   *hostLimiters
	slots   chan struct{}
	breaker *breaker
	log     *slog.Logger

	sent, retries, pauses, refused, truncated atomic.Int64
	pausedNS                                  atomic.Int64
}

// ErrDryRun is the error of every request of a dry run.
var ErrDryRun = errors.New("dry run: request not sent")

// errNotSent marks a request that was never handed to the network.
var errNotSent = errors.New("request not sent")

// NewTransport returns a Transport. It fails when the CA file cannot be
// read or holds no certificate, or the proxy URL is invalid.
func NewTransport(opts TransportOptions) (*Transport, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = defaultTimeout
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = defaultRetryBase
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = defaultRetryMax
	}
	if opts.PauseBase <= 0 {
		opts.PauseBase = defaultPauseBase
	}
	if opts.PauseMax <= 0 {
		opts.PauseMax = defaultPauseMax
	}
	opts.Retries = min(max(opts.Retries, 0), 3)
	if opts.Rand == nil {
		opts.Rand = defaultRand
	}
	t := &Transport{
		opts:    opts,
		base:    opts.Base,
		global:  newLimiter(opts.Rate),
		breaker: newBreaker(opts.FailureThreshold, opts.PauseBase, opts.PauseMax),
		log:     opts.Logger,
	}
	if newLimiter(opts.HostRate) != nil {
		t.hosts = &hostLimiters{rate: opts.HostRate}
	}
	if opts.Concurrency > 0 {
		t.slots = make(chan struct{}, opts.Concurrency)
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.base == nil {
		b, err := baseTransport(opts)
		if err != nil {
			return nil, err
		}
		t.base = b
	}
	return t, nil
}

// baseTransport is a fresh http.Transport with the TLS and proxy settings.
func baseTransport(opts TransportOptions) (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 2 * maxConcurrency
	t.MaxIdleConnsPerHost = maxConcurrency
	t.MaxResponseHeaderBytes = maxHeaderBytes
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", opts.CAFile)
		}
		tc.RootCAs = pool
	}
	tc.InsecureSkipVerify = opts.Insecure //nolint:gosec // --insecure, asked for explicitly
	t.TLSClientConfig = tc
	switch {
	case opts.Proxy != "":
		if err := roles.CheckProxy(opts.Proxy); err != nil {
			return nil, err
		}
		u, _ := url.Parse(strings.TrimSpace(opts.Proxy))
		t.Proxy = http.ProxyURL(u)
	case opts.ProxyFromEnv != nil:
		t.Proxy = opts.ProxyFromEnv
	default:
		t.Proxy = http.ProxyFromEnvironment
	}
	return t, nil
}

// TransportOptionsFor returns the options of cfg's crawl, TLS and proxy
// settings, with the defaults of docs/config.md: the rate is DefaultRate
// unless the target is on a loopback address (your own machine), where
// it is unlimited; requests to a host pause after failures of 5 of its
// URLs (retry.go, breaker). RunID, FinishInFlight, Logger and DryRun are
// the caller's to set.
func TransportOptionsFor(cfg *roles.Config) TransportOptions {
	c := cfg.Crawl
	lim := limitsOf(cfg)
	o := TransportOptions{
		Timeout:          lim.timeout,
		MaxBody:          lim.maxBody,
		Concurrency:      lim.concurrency,
		Rate:             c.Rate,
		HostRate:         c.HostRate,
		Retries:          c.Retries,
		MaxRetryAfter:    c.MaxRetryAfter,
		FailureThreshold: defaultFailureThreshold,
		RunIDHeader:      c.RunIDHeader,
		CAFile:           cfg.TLS.CAFile,
		Insecure:         cfg.TLS.Insecure,
		Proxy:            cfg.Proxy,
		Secrets:          cfg.Secrets,
	}
	if len(cfg.Denials) > 0 {
		o.Denial = judge.NewClassifier(cfg).Signature
	}
	if o.Rate == 0 {
		o.Rate = DefaultRate
		if u, err := url.Parse(cfg.Target); err == nil && IsLoopback(u.Hostname()) {
			o.Rate = roles.Unlimited
		}
	}
	return o
}

// IsLoopback reports whether host (no port) is "localhost", a name under
// ".localhost", or a loopback IP address (127.0.0.0/8, ::1). Names are not
// resolved.
func IsLoopback(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if i := strings.IndexByte(h, '%'); i >= 0 { // a zone
		h = h[:i]
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Stats returns what the transport did so far.
func (t *Transport) Stats() model.Stats {
	return model.Stats{
		Requests: t.sent.Load(), Retries: t.retries.Load(), Pauses: t.pauses.Load(),
		Paused: time.Duration(t.pausedNS.Load()), Refused: t.refused.Load(), Truncated: t.truncated.Load(),
	}
}

// refuse counts a request refused before it was sent.
func (t *Transport) refuse() {
	if t != nil {
		t.refused.Add(1)
	}
}

func (t *Transport) redact(s string) string { return t.opts.Secrets.Redact(s) }

// RoundTrip sends req under the transport's rules; see Transport.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if t.opts.RunIDHeader != "" && t.opts.RunID != "" && req.Header.Get(t.opts.RunIDHeader) != t.opts.RunID {
		r := *req
		r.Header = req.Header.Clone()
		if r.Header == nil {
			r.Header = http.Header{}
		}
		r.Header.Set(t.opts.RunIDHeader, t.opts.RunID)
		req = &r
	}
	if t.opts.DryRun != nil {
		t.opts.DryRun(plannedRequest(req, t.opts.Secrets))
		closeRequestBody(req)
		return nil, ErrDryRun
	}
	if err := ctx.Err(); err != nil {
		closeRequestBody(req)
		t.refuse()
		return nil, fmt.Errorf("%w: %w", errNotSent, err)
	}
	host := strings.ToLower(req.URL.Scheme + "://" + req.URL.Host)
	// The URL, for the breaker: its failures pause the host only when
	// they speak for the host (retry.go, breaker).
	key := t.breaker.urlKey(req.Method, req.URL.String())
	retries := t.opts.Retries
	if !safeMethod(req.Method) || req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		retries = 0
	}
	for n := 0; ; n++ {
		r := req
		if n > 0 && req.GetBody != nil {
			b, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(ctx)
			r.Body = b
		}
		resp, err := t.attempt(ctx, r, host)
		if errors.Is(err, errNotSent) {
			if n == 0 {
				t.refuse()
			}
			return nil, err
		}
		now := time.Now()
		if err == nil && !failureStatus(resp.StatusCode) {
			t.breaker.success(host, key)
			return resp, nil
		}
		if err == nil && t.opts.Denial != nil && t.isDenial(resp) {
			// The application denying, not failing: the answer is the
			// verdict's evidence, and the host is well.
			t.breaker.success(host, key)
			return resp, nil
		}
		rateLimited := err == nil && resp.StatusCode == http.StatusTooManyRequests
		if d := t.breaker.failure(host, key, rateLimited, now); d > 0 {
			t.pauses.Add(1)
			t.pausedNS.Add(int64(d))
			t.log.Warn("the target keeps failing: pausing every request to it",
				"host", t.redact(host), "pause", d, "after", t.opts.FailureThreshold)
		}
		what := ""
		if err != nil {
			what = t.redact(err.Error())
		} else {
			what = resp.Status
		}
		if n >= retries || err != nil && !retryableError(err) {
			if n > 0 && err != nil {
				err = fmt.Errorf("%w (tried %d times)", err, n+1)
			}
			return resp, err
		}
		var wait time.Duration
		if err != nil {
			wait = backoff(n, t.opts.RetryBase, t.opts.RetryMax, t.opts.Rand)
		} else {
			ra, ok := retryAfter(resp.Header, now)
			switch {
			case ok && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable):
				if ra > t.opts.MaxRetryAfter {
					t.log.Warn("not retried: Retry-After is longer than max_retry_after",
						"url", t.redact(req.URL.String()), "retry_after", ra, "max_retry_after", t.opts.MaxRetryAfter)
					return resp, nil
				}
				if t.breaker.hostWide(host, key, rateLimited) {
					t.breaker.hold(host, now, ra) // every request to the host waits
				} else {
					wait = ra // this URL's own trouble: only its retry waits
				}
			default:
				wait = backoff(n, t.opts.RetryBase, t.opts.RetryMax, t.opts.Rand)
			}
			drain(resp.Body)
		}
		t.retries.Add(1)
		t.log.Debug("retrying", "method", req.Method, "url", t.redact(req.URL.String()), "after", what, "wait", wait, "try", n+2)
		if err := roles.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%w: retry: %w", errNotSent, err)
		}
	}
}

// attempt sends req once, after waiting for the host's pause, the rates
// and a slot. Errors of the waits wrap errNotSent.
func (t *Transport) attempt(ctx context.Context, req *http.Request, host string) (*http.Response, error) {
	if err := t.breaker.wait(ctx, host); err != nil {
		return nil, fmt.Errorf("%w: %w", errNotSent, err)
	}
	if err := t.global.wait(ctx); err != nil {
		return nil, fmt.Errorf("%w: %w", errNotSent, err)
	}
	if err := t.hosts.get(host).wait(ctx); err != nil {
		return nil, fmt.Errorf("%w: %w", errNotSent, err)
	}
	if t.slots != nil {
		select {
		case t.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", errNotSent, ctx.Err())
		}
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			if t.slots != nil {
				<-t.slots
			}
		})
	}
	if err := ctx.Err(); err != nil {
		release()
		return nil, fmt.Errorf("%w: %w", errNotSent, err)
	}
	actx := ctx
	if t.opts.FinishInFlight {
		actx = context.WithoutCancel(ctx)
	}
	actx, cancel := context.WithTimeout(actx, t.opts.Timeout)
	context.AfterFunc(actx, release) // a body never closed gives its slot back at the time-out
	t.sent.Add(1)
	resp, err := t.base.RoundTrip(req.WithContext(actx))
	if err != nil {
		timedOut := errors.Is(actx.Err(), context.DeadlineExceeded)
		cancel()
		release()
		if timedOut && ctx.Err() == nil {
			return nil, &timeoutError{fmt.Sprintf("no answer within %v", t.opts.Timeout), err}
		}
		return nil, err
	}
	b := &body{raw: resp.Body, left: -1, ctx: actx, cancel: cancel, release: release, t: t}
	if t.opts.MaxBody > 0 {
		b.left = t.opts.MaxBody
	}
	if gzipped(resp, req) {
		b.gz = true
		resp.Uncompressed = true
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
	}
	resp.Body = b
	return resp, nil
}

// timeoutError is an attempt that timed out; it is a net.Error with
// Timeout true, so that it is never retried.
type timeoutError struct {
	msg string
	err error
}

func (e *timeoutError) Error() string   { return e.msg }
func (e *timeoutError) Unwrap() error   { return e.err }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return false }

// gzipped reports whether the body is gzip that nobody decoded yet: a
// gzip Content-Encoding, or none with a gzip Content-Type, or a sitemap
// named .xml.gz (colly would decode each of these without a size cap).
func gzipped(resp *http.Response, req *http.Request) bool {
	if resp.Uncompressed || resp.Body == nil || resp.Body == http.NoBody {
		return false
	}
	ce := strings.ToLower(resp.Header.Get("Content-Encoding"))
	switch {
	case strings.Contains(ce, "gzip"):
		return true
	case ce == "" && strings.Contains(strings.ToLower(resp.Header.Get("Content-Type")), "gzip"):
		return true
	}
	return strings.HasSuffix(strings.ToLower(req.URL.Path), ".xml.gz")
}

// body is an answer's body under the transport's rules: decoded from
// gzip when needed, cut at the cap, timed by its attempt, and giving its
// slot back once read or closed.
type body struct {
	raw       io.ReadCloser
	r         io.Reader // raw, or its gzip decoding; set on first Read
	gz        bool
	left      int64 // bytes still handed up; -1: no cap
	n         int64 // bytes handed up
	truncated bool
	eof       bool
	ctx       context.Context
	cancel    func()
	release   func()
	t         *Transport
}

// Truncated reports whether the body went on beyond the cap.
func (b *body) Truncated() bool { return b.truncated }

func (b *body) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	if b.r == nil {
		b.r = b.raw
		if b.gz {
			b.r = gunzip(b.raw)
		}
	}
	if b.left == 0 {
		// At the cap: one more byte says whether the body went on.
		var one [1]byte
		if n, _ := io.ReadFull(b.r, one[:]); n > 0 {
			b.truncated = true
			b.t.truncated.Add(1)
		}
		b.eof = true
		b.release()
		return 0, io.EOF
	}
	if b.left > 0 && int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.left > 0 {
		b.left -= int64(n)
	}
	switch {
	case err == io.EOF:
		b.eof = true
		b.release()
	case err != nil && errors.Is(b.ctx.Err(), context.DeadlineExceeded):
		err = &timeoutError{fmt.Sprintf("body not read within %v (%d bytes read)", b.t.opts.Timeout, b.n), err}
	}
	return n, err
}

func (b *body) Close() error {
	err := b.raw.Close()
	b.cancel()
	b.release()
	return err
}

// gunzip decodes r when it starts with the gzip magic bytes, and passes
// it through otherwise (a gzip Content-Type on a plain body).
func gunzip(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if m, err := br.Peek(2); err != nil || m[0] != 0x1f || m[1] != 0x8b {
		return br
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return errReader{fmt.Errorf("gzip body: %w", err)}
	}
	return zr
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// drain reads a little of a body that is given up, so its connection
// can be reused, and closes it.
func drain(rc io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, rc, 4<<10)
	rc.Close()
}

func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// BodyTruncated reports whether the body of resp, read to its end, was
// cut at the transport's size cap.
func BodyTruncated(resp *http.Response) bool {
	b, ok := resp.Body.(interface{ Truncated() bool })
	return ok && b.Truncated()
}

// isDenial reads resp's body (up to the cap) and reports whether a denial
// signature recognises the answer (TransportOptions.Denial); the body is
// put back for the caller, its truncation kept.
func (t *Transport) isDenial(resp *http.Response) bool {
	b, err := io.ReadAll(resp.Body)
	truncated := BodyTruncated(resp)
	resp.Body.Close()
	resp.Body = &readBody{Reader: bytes.NewReader(b), truncated: truncated, err: err}
	return err == nil && t.opts.Denial(resp.StatusCode, resp.Header, b)
}

// readBody is a body already read: its bytes, whether they were cut at
// the cap, and the error that ended the reading, if any.
type readBody struct {
	*bytes.Reader
	truncated bool
	err       error
}

func (b *readBody) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	if err == io.EOF && b.err != nil {
		err = b.err
	}
	return n, err
}
func (b *readBody) Close() error    { return nil }
func (b *readBody) Truncated() bool { return b.truncated }
