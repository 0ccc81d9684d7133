package crawl

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/crawl/hostiletest"
)

// TestBrokenEndpointsDoNotHoldTheHost audits, as three roles, a small
// site of 20 pages where 6 endpoints answer 503 for ever. Each broken
// endpoint is given up after its own retries; the host is never paused,
// so no healthy URL waits for them. The bound is read from the server's
// own log: a host pause (2 s here) would leave the server without a
// request for that long, while the retries' backoffs are 5 ms at most.
func TestBrokenEndpointsDoNotHoldTheHost(t *testing.T) {
	const pages, broken = 20, 6
	srv := hostiletest.NewUnavailable(pages, broken)
	defer srv.Close()
	cfg := parseConfig(t, srv.URL, `crawl: {max_depth: 1}
sources: {robots: false, sitemap: false}
roles:
  alice: {login: {bearer: "${ADMIN_TOKEN}"}}
  bob: {login: {bearer: "${USER_KEY}"}}
`)
	o := TransportOptionsFor(cfg)
	o.RetryBase, o.RetryMax = time.Millisecond, 5*time.Millisecond
	o.PauseBase, o.PauseMax = 2*time.Second, 4*time.Second
	tr := newTransport(t, o)
	opts := auditOptions(t, cfg, tr)
	// A bound for the old code, which paused the host again and again.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inv, err := Discover(ctx, opts)
	if err != nil {
		t.Fatalf("discovery: %v (the server log holds %d requests)", err, len(srv.Log()))
	}
	if _, err := Probe(ctx, opts, SendableEndpoints(opts.Scope, inv)); err != nil {
		t.Fatalf("probes: %v (the server log holds %d requests)", err, len(srv.Log()))
	}

	log := srv.Log()
	perPath := map[string]int{}
	for _, r := range log {
		perPath[r.Path]++
	}
	// Three roles discover (anonymous, alice, bob) and probe every
	// endpoint: a healthy URL is asked 6 times, a broken one 6 times
	// 4 tries (1 + 3 retries), and no more.
	for p, n := range perPath {
		want := 6
		if strings.HasPrefix(p, "/api/broken/") {
			want = 6 * 4
		}
		if n != want {
			t.Errorf("%s was requested %d times, want %d", p, n, want)
		}
	}
	if len(perPath) != 1+pages+broken {
		t.Errorf("%d URLs requested, want %d", len(perPath), 1+pages+broken)
	}
	for i := 1; i < len(log); i++ {
		if gap := log[i].At.Sub(log[i-1].At); gap >= o.PauseBase/2 {
			t.Errorf("the server was sent nothing for %v before request %d (%s): the host was held", gap, i+1, log[i].Path)
		}
	}
	if s := tr.Stats(); s.Pauses != 0 {
		t.Errorf("stats %+v: broken endpoints paused a host that serves every other URL", s)
	}
}
