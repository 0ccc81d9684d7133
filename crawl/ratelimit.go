package crawl

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/permaudit/permaudit/roles"
)

// limiter spaces requests at a steady rate: the n-th request may start no
// earlier than 1/rate after the (n-1)-th (a burst of one). It is the
// generic cell rate algorithm: next is the theoretical start time of the
// next request. A nil limiter never waits.
type limiter struct {
	interval time.Duration

	mu   sync.Mutex
	next time.Time
}

// newLimiter returns a limiter of rate requests per second, or nil for a
// rate that is 0, negative or infinite (no limit).
func newLimiter(rate float64) *limiter {
	if rate <= 0 || math.IsInf(rate, 1) || math.IsNaN(rate) {
		return nil
	}
	ivf := float64(time.Second) / rate
	if ivf >= float64(24*time.Hour) { // a rate of less than one a day
		ivf = float64(24 * time.Hour)
	}
	iv := time.Duration(ivf)
	if iv <= 0 { // beyond a billion a second: no limit
		return nil
	}
	return &limiter{interval: iv}
}

// reserve books the next start time and returns how long to wait for it.
func (l *limiter) reserve(now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(l.interval)
	return at.Sub(now)
}

// wait blocks until the caller may start a request, or ctx is done. A
// reservation given up by a cancelled caller is not handed back: the
// limiter only ever errs on the slow side.
func (l *limiter) wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	return roles.Sleep(ctx, l.reserve(time.Now()))
}

// hostLimiters holds one limiter per host, made on first use.
type hostLimiters struct {
	rate float64

	mu    sync.Mutex
	hosts map[string]*limiter
}

func (h *hostLimiters) get(host string) *limiter {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.hosts[host]
	if !ok {
		l = newLimiter(h.rate)
		if h.hosts == nil {
			h.hosts = map[string]*limiter{}
		}
		h.hosts[host] = l
	}
	return l
}
