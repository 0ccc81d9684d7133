package crawl

import (
	"context"
	"errors"
	"hash/maphash"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/permaudit/permaudit/roles"
)

// Defaults of the retry and pause policy (TransportOptions).
const (
	defaultRetryBase        = 500 * time.Millisecond
	defaultRetryMax         = 8 * time.Second
	defaultFailureThreshold = 5
	defaultPauseBase        = time.Second
	defaultPauseMax         = 60 * time.Second
)

// failureStatus reports whether an answer with status says the target is
// in trouble rather than answering: 429, 500, 502, 503, 504. Such an
// answer is retried (safe methods) and counts towards a pause.
func failureStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryableError reports whether a transport error is worth another try:
// the connection was reset, aborted or closed before an answer. A refused
// connection (nothing listens), a time-out (the target is slow: trying
// again adds load), a name or TLS error and every refusal of ours are not.
func retryableError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "server sent GOAWAY") || strings.Contains(s, "connection reset by peer")
}

// safeMethod reports whether method may be retried: GET, HEAD, OPTIONS.
func safeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, "":
		return true
	}
	return false
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	const most = 24 * time.Hour // the caller bounds it further by max_retry_after
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(most/time.Second) {
			n = int64(most / time.Second)
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := min(max(t.Sub(now), 0), most) // a date far ahead waits as long as a huge number
		return d, true
	}
	return 0, false
}

// backoff is the wait before retry n (0-based): base·2ⁿ capped at max,
// with "equal jitter": half of it fixed, half random, so that workers
// that failed together do not retry together.
func backoff(n int, base, max time.Duration, rnd func() float64) time.Duration {
	d := base
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	half := d / 2
	return half + time.Duration(rnd()*float64(d-half))
}

func defaultRand() float64 { return rand.Float64() }

// breaker pauses requests to a host that fails across many URLs: after
// failures of threshold distinct URLs with no success in between, for
// base, then twice as long for each further URL that fails, up to max.
// Any answer that is not a failure ends the series.
//
// Failures of one URL never hold the others (docs/design.md, "Safety"):
// a URL counts once per series, however often it is retried, and a URL
// that has never answered well counts only while the host has answered
// nothing well (it is down from the start) or when it asks us to slow
// down (429). An endpoint that always answers 503 on a host that serves
// every other page is given up after its own retries; a host whose pages
// that answered before now fail is paused. A Retry-After from a URL that
// counts holds the host until it has passed.
type breaker struct {
	threshold int
	base, max time.Duration

	seed maphash.Seed // of urlKey; set once by newBreaker

	mu    sync.Mutex
	hosts map[string]*hostState
}

type hostState struct {
	fails  int             // distinct URLs in the series
	series map[uint64]bool // the URLs failed since the last success
	good   map[uint64]bool // the URLs that answered, this run
	level  int             // pauses since the last success
	until  time.Time       // no request starts before
}

func newBreaker(threshold int, base, max time.Duration) *breaker {
	return &breaker{threshold: threshold, base: base, max: max, seed: maphash.MakeSeed()}
}

// urlKey identifies a request's method and URL for the breaker.
func (b *breaker) urlKey(method, u string) uint64 {
	return maphash.String(b.seed, method+" "+u)
}

func (b *breaker) state(host string) *hostState {
	if b.hosts == nil {
		b.hosts = map[string]*hostState{}
	}
	s := b.hosts[host]
	if s == nil {
		s = &hostState{series: map[uint64]bool{}, good: map[uint64]bool{}}
		b.hosts[host] = s
	}
	return s
}

// hostWide reports whether a failure of the URL key says something of
// its host: the URL answered before, or the host has answered nothing
// well yet, or it asked us to slow down.
func (s *hostState) hostWide(key uint64, rateLimited bool) bool {
	return rateLimited || len(s.good) == 0 || s.good[key]
}

// wait blocks while host is held, or until ctx is done.
func (b *breaker) wait(ctx context.Context, host string) error {
	for {
		b.mu.Lock()
		d := time.Until(b.state(host).until)
		b.mu.Unlock()
		if d <= 0 {
			return ctx.Err()
		}
		if err := roles.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// success ends a series of failures; the URL key has answered.
func (b *breaker) success(host string, key uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.state(host)
	s.fails, s.level = 0, 0
	clear(s.series)
	s.good[key] = true
}

// failure counts a failure of the URL key (rateLimited: a 429) and
// returns the pause it starts, or 0. Failures that end while the host is
// held count for nothing: they began before the pause. A URL counts once
// per series, and only when hostWide. After a pause, one more URL
// failing starts the next, longer pause.
func (b *breaker) failure(host string, key uint64, rateLimited bool, now time.Time) time.Duration {
	if b.threshold <= 0 {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.state(host)
	if now.Before(s.until) || s.series[key] || !s.hostWide(key, rateLimited) {
		return 0
	}
	s.series[key] = true
	s.fails++
	if s.fails < b.threshold {
		return 0
	}
	d := b.base
	for i := 0; i < s.level && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	s.level++
	s.fails = b.threshold - 1
	s.until = now.Add(d)
	return d
}

// hostWide reports whether a failure of the URL key (rateLimited: a 429)
// speaks for its host; see breaker.
func (b *breaker) hostWide(host string, key uint64, rateLimited bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state(host).hostWide(key, rateLimited)
}

// hold keeps host from being requested for d (a Retry-After).
func (b *breaker) hold(host string, now time.Time, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.state(host)
	if t := now.Add(d); t.After(s.until) {
		s.until = t
	}
}
