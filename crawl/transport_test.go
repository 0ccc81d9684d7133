package crawl

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/permaudit/permaudit/crawl/hostiletest"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/session"
)

// logServer is a server that logs when each request arrived and its
// headers, answering with answer (nil: 200 "ok").
type logServer struct {
	*httptest.Server
	mu      sync.Mutex
	times   []time.Time
	headers []http.Header
	paths   []string
}

func newLogServer(answer http.HandlerFunc) *logServer {
	r := &logServer{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.times = append(r.times, time.Now())
		r.headers = append(r.headers, req.Header.Clone())
		r.paths = append(r.paths, req.URL.Path)
		r.mu.Unlock()
		if answer != nil {
			answer(w, req)
			return
		}
		io.WriteString(w, "ok")
	}))
	return r
}

func (r *logServer) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.times)
}

func (r *logServer) arrivals() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.times)
}

// roleClient returns the client of role ("anonymous", or "user" with a
// bearer token) for target, sending through tr.
func roleClient(t *testing.T, target string, tr *Transport, role string, extra string) *http.Client {
	t.Helper()
	cfg := parseConfig(t, target, extra+"roles:\n  user:\n    login:\n      bearer: \"${ADMIN_TOKEN}\"\n")
	scope, err := NewScope(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return NewClient(scope, session.NewSession(cfg.Role(role)), ClientOptions{Transport: tr, UserAgent: "permaudit-test", AllowPlainHTTP: cfg.AllowPlainHTTP})
}

func newTransport(t *testing.T, o TransportOptions) *Transport {
	t.Helper()
	tr, err := NewTransport(o)
	if err != nil {
		t.Fatalf("NewTransport: %v", err)
	}
	return tr
}

func get(ctx context.Context, c *http.Client, u string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// TestRate sends 8 requests at once through a transport limited to 40/s
// (and 20/s per host in the second case): the server must see them at
// least 25 ms (50 ms) apart.
func TestRate(t *testing.T) {
	tests := []struct {
		name           string
		rate, hostRate float64
		gap            time.Duration
	}{
		{"global", 40, 0, 25 * time.Millisecond},
		{"per host", 0, 20, 50 * time.Millisecond},
		{"both, the slower wins", 40, 20, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newLogServer(nil)
			defer srv.Close()
			tr := newTransport(t, TransportOptions{Rate: tt.rate, HostRate: tt.hostRate})
			clients := []*http.Client{roleClient(t, srv.URL, tr, "anonymous", ""), roleClient(t, srv.URL, tr, "user", "")}
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Go(func() {
					if _, _, err := get(context.Background(), clients[i%2], srv.URL+"/"); err != nil {
						t.Errorf("GET: %v", err)
					}
				})
			}
			wg.Wait()
			times := srv.arrivals()
			slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
			if len(times) != 8 {
				t.Fatalf("server got %d requests, want 8", len(times))
			}
			// Arrival is later than the start by a varying delay; allow 40%.
			if span, want := times[7].Sub(times[0]), 7*tt.gap*6/10; span < want {
				t.Errorf("8 requests arrived within %v, want at least %v at this rate", span, want)
			}
		})
	}
}

// TestConcurrencyCap makes 16 requests from 3 roles at once to a server
// that takes 30 ms each: never more than 2 may be in flight.
func TestConcurrencyCap(t *testing.T) {
	var busy, peak atomic.Int32
	srv := newLogServer(func(w http.ResponseWriter, r *http.Request) {
		n := busy.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond)
		busy.Add(-1)
		io.WriteString(w, "ok")
	})
	defer srv.Close()
	tr := newTransport(t, TransportOptions{Concurrency: 2})
	var clients []*http.Client
	for _, role := range []string{"anonymous", "user", "anonymous"} {
		clients = append(clients, roleClient(t, srv.URL, tr, role, ""))
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if _, _, err := get(context.Background(), clients[i%3], srv.URL+"/"); err != nil {
				t.Errorf("GET: %v", err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p != 2 {
		t.Errorf("at most %d requests were in flight, want exactly the cap, 2", p)
	}
}

// TestSlotComesBackFromUnclosedBody: a caller that never closes a body
// gets its slot back when the attempt times out, so the run goes on.
func TestSlotComesBackFromUnclosedBody(t *testing.T) {
	srv := newLogServer(nil)
	defer srv.Close()
	tr := newTransport(t, TransportOptions{Concurrency: 1, Timeout: 100 * time.Millisecond})
	c := roleClient(t, srv.URL, tr, "anonymous", "")
	resp, err := c.Get(srv.URL + "/leaked")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp // never read nor closed
	start := time.Now()
	if _, _, err := get(context.Background(), c, srv.URL+"/next"); err != nil {
		t.Fatalf("second GET: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the second request waited %v for the slot", d)
	}
	resp.Body.Close()
}

// TestRetries counts the requests a server gets for each kind of failure.
func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		fail     int // first requests that fail
		how      string
		requests int // the server must get
		status   int // final; 0: an error
		errHas   string
	}{
		{"503 twice then ok", "GET", 2, "503", 3, 200, ""},
		{"502 then ok", "HEAD", 1, "502", 2, 200, ""},
		{"504 then ok", "GET", 1, "504", 2, 200, ""},
		{"429 without Retry-After then ok", "GET", 1, "429", 2, 200, ""},
		{"500 for good: 1 + 3 retries", "GET", 100, "500", 4, 500, ""},
		{"reset then ok", "GET", 1, "reset", 2, 200, ""},
		{"reset for good", "GET", 100, "reset", 4, 0, "tried 4 times"},
		{"404 is an answer", "GET", 100, "404", 1, 404, ""},
		{"501 is an answer", "GET", 100, "501", 1, 501, ""},
		{"POST is never retried", "POST", 100, "503", 1, 503, ""},
		{"a time-out is not retried", "GET", 100, "hang", 1, 0, "no answer within"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			quit := make(chan struct{})
			srv := newLogServer(func(w http.ResponseWriter, r *http.Request) {
				if int(n.Add(1)) > tt.fail {
					io.WriteString(w, "ok")
					return
				}
				switch tt.how {
				case "reset":
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.(*net.TCPConn).SetLinger(0)
					conn.Close()
				case "hang":
					select {
					case <-r.Context().Done():
					case <-quit:
					}
				default:
					code, _ := strconv.Atoi(tt.how)
					w.WriteHeader(code)
				}
			})
			defer srv.Close()
			defer close(quit)
			tr := newTransport(t, TransportOptions{Retries: 3, RetryBase: time.Millisecond, RetryMax: 4 * time.Millisecond, Timeout: 200 * time.Millisecond})
			cfg := parseConfig(t, srv.URL, "scope: {allow_methods: ['POST /']}\n")
			scope, _ := NewScope(cfg)
			c := NewClient(scope, session.NewSession(cfg.Role("anonymous")), ClientOptions{Transport: tr})
			req, _ := http.NewRequest(tt.method, srv.URL+"/", nil)
			resp, err := c.Do(req)
			status := 0
			if err == nil {
				status = resp.StatusCode
				resp.Body.Close()
			}
			if status != tt.status || tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)) {
				t.Errorf("got status %d, error %v; want %d and an error holding %q", status, err, tt.status, tt.errHas)
			}
			if got := srv.count(); got != tt.requests {
				t.Errorf("the server got %d requests, want %d", got, tt.requests)
			}
			if s := tr.Stats(); s.Requests != int64(tt.requests) || s.Retries != int64(tt.requests-1) {
				t.Errorf("stats %+v, want %d requests and %d retries", s, tt.requests, tt.requests-1)
			}
		})
	}
}

// TestRetryAfter: a 429 with Retry-After: 1 is waited for, and holds
// every request to the host, not only its own; one asking for longer than
// MaxRetryAfter is not retried.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := newLogServer(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/long" {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.URL.Path == "/limited" && n.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "ok")
	})
	defer srv.Close()
	tr := newTransport(t, TransportOptions{Retries: 3, MaxRetryAfter: 2 * time.Second, RetryBase: time.Millisecond})
	c := roleClient(t, srv.URL, tr, "anonymous", "")

	resp, _, err := get(context.Background(), c, srv.URL+"/long")
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/long: %v %v, want the 503", resp, err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	var other time.Duration
	wg.Go(func() {
		if resp, _, err := get(context.Background(), c, srv.URL+"/limited"); err != nil || resp.StatusCode != 200 {
			t.Errorf("/limited: %v %v, want 200 after waiting", resp, err)
		}
	})
	wg.Go(func() {
		time.Sleep(200 * time.Millisecond) // after the 429
		if _, _, err := get(context.Background(), c, srv.URL+"/other"); err != nil {
			t.Errorf("/other: %v", err)
		}
		other = time.Since(start)
	})
	wg.Wait()
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Errorf("the retry came after %v, want Retry-After's 1s", took)
	}
	if other < 900*time.Millisecond {
		t.Errorf("another request to the host went out after %v, during the Retry-After", other)
	}
	if got := srv.count(); got != 4 {
		t.Errorf("the server got %d requests, want 4 (/long once, /limited twice, /other)", got)
	}
}

// TestPause: a server that fails every URL (it has answered nothing
// well yet) gets requests paused once 5 distinct URLs have failed, for
// 20 ms, then 40, then 80 (the cap) for each further URL, and a success
// ends the series.
func TestPause(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	srv := newLogServer(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	})
	defer srv.Close()
	tr := newTransport(t, TransportOptions{FailureThreshold: 5, PauseBase: 20 * time.Millisecond, PauseMax: 80 * time.Millisecond})
	c := roleClient(t, srv.URL, tr, "anonymous", "")
	for i := range 9 {
		if _, _, err := get(context.Background(), c, fmt.Sprintf("%s/%d", srv.URL, i)); err != nil {
			t.Fatal(err)
		}
	}
	times := srv.arrivals()
	// Gaps before requests 6, 7, 8, 9 (index 5..8) hold the pauses.
	wantMin := []time.Duration{0, 0, 0, 0, 0, 20, 40, 80, 80}
	for i := 5; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < wantMin[i]*9/10 {
			t.Errorf("gap before request %d = %v, want a pause of %v", i+1, gap, wantMin[i])
		}
	}
	for i := 1; i < 5; i++ {
		if gap := times[i].Sub(times[i-1]); gap > 15*time.Millisecond {
			t.Errorf("gap before request %d = %v, want none before 5 failures", i+1, gap)
		}
	}
	if s := tr.Stats(); s.Pauses != 5 || s.Paused != 300*time.Millisecond {
		t.Errorf("stats %+v, want 5 pauses (after failures 5 to 9), 300ms in all", s)
	}
	// Recovery: a success ends the series; failures count from zero again.
	failing.Store(false)
	time.Sleep(90 * time.Millisecond)
	get(context.Background(), c, srv.URL+"/")
	failing.Store(true)
	before := srv.count()
	start := time.Now()
	for i := range 4 {
		get(context.Background(), c, fmt.Sprintf("%s/%d", srv.URL, i))
	}
	if d := time.Since(start); d > 15*time.Millisecond*4 || srv.count() != before+4 {
		t.Errorf("after a success, 4 failures took %v: want no pause", d)
	}
}

// TestPauseIsForTheHost: once the host has answered, failures of URLs
// that never answered well (endpoints broken for good) and the repeated
// failures of one URL never pause it; the failures of 5 URLs that
// answered before do.
func TestPauseIsForTheHost(t *testing.T) {
	var failing atomic.Bool
	srv := newLogServer(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/broken/") || failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	})
	defer srv.Close()
	tr := newTransport(t, TransportOptions{FailureThreshold: 5, PauseBase: time.Hour})
	c := roleClient(t, srv.URL, tr, "anonymous", "")
	// A pause would hold every later request for an hour: the context
	// bounds the test (of the old code, which paused).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := range 5 {
		if resp, _, err := get(ctx, c, fmt.Sprintf("%s/ok/%d", srv.URL, i)); err != nil || resp.StatusCode != 200 {
			t.Fatalf("/ok/%d: %v %v", i, resp, err)
		}
	}
	for range 3 {
		for i := range 12 {
			get(ctx, c, fmt.Sprintf("%s/broken/%d", srv.URL, i))
		}
	}
	if s := tr.Stats(); s.Pauses != 0 {
		t.Fatalf("stats %+v: 36 failures of 12 URLs that never answered paused a host that serves other URLs", s)
	}
	failing.Store(true)
	for i := range 5 {
		get(ctx, c, fmt.Sprintf("%s/ok/%d", srv.URL, i))
	}
	if s := tr.Stats(); s.Pauses != 1 {
		t.Errorf("stats %+v: 5 URLs that answered before now fail, want the host paused", s)
	}
}

// TestBodyCap reads the hostile server's huge body and gzip bombs through
// a transport capped at 64 KiB: each stops at the cap, says so, and
// allocates a few MiB at most, not the 64 MiB or 1 GiB sent or encoded.
func TestBodyCap(t *testing.T) {
	srv := hostiletest.New(hostiletest.Options{})
	defer srv.Close()
	const limit = 64 << 10
	tests := []struct {
		path  string
		zeros bool // the decoded bomb
	}{
		{"/huge", false},
		{"/gzip-bomb", true},
		{"/gzip-bomb-type", true},
		{"/bomb.xml.gz", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			tr := newTransport(t, TransportOptions{MaxBody: limit, Timeout: 5 * time.Second})
			c := roleClient(t, srv.URL, tr, "anonymous", "")
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			resp, body, err := get(context.Background(), c, srv.URL+tt.path)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			if len(body) != limit || !BodyTruncated(resp) || tr.Stats().Truncated != 1 {
				t.Errorf("read %d bytes, truncated %v, stats %+v; want %d, true, 1", len(body), BodyTruncated(resp), tr.Stats(), limit)
			}
			if tt.zeros && (!bytes.Equal(body, make([]byte, limit)) || resp.Header.Get("Content-Encoding") != "" || !resp.Uncompressed) {
				t.Errorf("the bomb was not decoded: %q... Content-Encoding %q", body[:16], resp.Header.Get("Content-Encoding"))
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("reading allocated %d MiB", alloc>>20)
			}
		})
	}
	// A gzip Content-Type on a body that is not gzip is passed through.
	plain := newLogServer(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/gzip")
		io.WriteString(w, "not gzip at all")
	})
	defer plain.Close()
	tr := newTransport(t, TransportOptions{MaxBody: limit})
	if _, body, err := get(context.Background(), roleClient(t, plain.URL, tr, "anonymous", ""), plain.URL+"/"); err != nil || string(body) != "not gzip at all" {
		t.Errorf("plain body with a gzip type: %q, %v", body, err)
	}
}

// TestFinishInFlight: with FinishInFlight a request already sent when its
// context is cancelled completes; without it, it is aborted; a request
// asked for after the cancellation is never sent.
func TestFinishInFlight(t *testing.T) {
	for _, finish := range []bool{true, false} {
		t.Run(strconv.FormatBool(finish), func(t *testing.T) {
			srv := newLogServer(func(w http.ResponseWriter, r *http.Request) {
				time.Sleep(150 * time.Millisecond)
				io.WriteString(w, "finished")
			})
			defer srv.Close()
			tr := newTransport(t, TransportOptions{FinishInFlight: finish, Timeout: 5 * time.Second})
			c := roleClient(t, srv.URL, tr, "anonymous", "")
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			_, body, err := get(ctx, c, srv.URL+"/slow")
			if finish && (err != nil || string(body) != "finished") {
				t.Errorf("in flight: %q, %v; want it finished", body, err)
			}
			if !finish && !errors.Is(err, context.Canceled) {
				t.Errorf("in flight: %q, %v; want it cancelled", body, err)
			}
			if _, _, err := get(ctx, c, srv.URL+"/after"); err == nil {
				t.Errorf("a request after the cancellation succeeded")
			}
			if n := srv.count(); n != 1 {
				t.Errorf("the server got %d requests, want 1", n)
			}
		})
	}
}

// TestRunIDAndUserAgent: every request carries the User-Agent and the run
// id header, which can be renamed or turned off.
func TestRunIDAndUserAgent(t *testing.T) {
	tests := []struct {
		header, id string
		want       bool
	}{
		{"X-Permaudit-Run", "run-1", true},
		{"X-Audit", "run-2", true},
		{"", "run-3", false},
	}
	for _, tt := range tests {
		srv := newLogServer(nil)
		tr := newTransport(t, TransportOptions{RunIDHeader: tt.header, RunID: tt.id})
		for _, role := range []string{"anonymous", "user"} {
			if _, _, err := get(context.Background(), roleClient(t, srv.URL, tr, role, ""), srv.URL+"/"); err != nil {
				t.Fatal(err)
			}
		}
		srv.Close()
		for _, h := range srv.headers {
			if tt.want && h.Get(tt.header) != tt.id {
				t.Errorf("header %s = %q, want %q", tt.header, h.Get(tt.header), tt.id)
			}
			if !tt.want && h.Get("X-Permaudit-Run") != "" {
				t.Errorf("run id sent although turned off: %v", h)
			}
			if h.Get("User-Agent") != "permaudit-test" {
				t.Errorf("User-Agent %q", h.Get("User-Agent"))
			}
		}
	}
}

// TestDryRun: nothing reaches the server; each request is reported with
// its role, phase and the names (not values) of its headers.
func TestDryRun(t *testing.T) {
	srv := newLogServer(nil)
	defer srv.Close()
	var mu sync.Mutex
	var planned []PlannedRequest
	tr := newTransport(t, TransportOptions{RunIDHeader: "X-Permaudit-Run", RunID: "r1", DryRun: func(p PlannedRequest) {
		mu.Lock()
		defer mu.Unlock()
		planned = append(planned, p)
	}})
	c := roleClient(t, srv.URL, tr, "user", "")
	_, _, err := get(WithPhase(context.Background(), PhaseProbe), c, srv.URL+"/x?y=1")
	if !errors.Is(err, ErrDryRun) {
		t.Errorf("error %v, want ErrDryRun", err)
	}
	if srv.count() != 0 {
		t.Errorf("the server got %d requests in a dry run", srv.count())
	}
	want := PlannedRequest{Phase: "probe", Role: "user", Method: "GET", URL: srv.URL + "/x?y=1",
		Headers: []string{"Authorization", "User-Agent", "X-Permaudit-Run"}}
	if len(planned) != 1 || !equalPlanned(planned[0], want) {
		t.Errorf("planned %+v, want %+v", planned, want)
	}
}

func equalPlanned(a, b PlannedRequest) bool {
	return a.Phase == b.Phase && a.Role == b.Role && a.Method == b.Method && a.URL == b.URL && slices.Equal(a.Headers, b.Headers) && a.Body == b.Body
}

// dialTo returns a base transport that connects every host name to addr:
// real HTTP over loopback for URLs naming a host that is not loopback.
func dialTo(addr string) *http.Transport {
	return &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// TestPlainHTTP: credentials never go over plain HTTP to a host that is
// not loopback unless allow_plain_http; anonymous requests do.
func TestPlainHTTP(t *testing.T) {
	srv := newLogServer(nil)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		target, role, extra string
		sent                bool
		configOK            bool // CheckPlainHTTP of the config (which has a role with credentials)
	}{
		{"http://staging.example.test", "user", "", false, false},
		{"http://staging.example.test", "anonymous", "", true, false},
		{"http://staging.example.test", "user", "allow_plain_http: true\n", true, true},
		{"http://10.1.2.3:8080", "user", "", false, false},
		{"http://localhost.", "user", "", true, true},
		{"http://[::1]:8080", "user", "", true, true},
		{"http://127.0.0.9", "user", "", true, true},
	}
	for _, tt := range tests {
		before := srv.count()
		tr := newTransport(t, TransportOptions{Base: dialTo(addr), Timeout: time.Second})
		c := roleClient(t, tt.target, tr, tt.role, tt.extra)
		_, _, err := get(context.Background(), c, tt.target+"/")
		sent := srv.count() > before
		if sent != tt.sent {
			t.Errorf("%s as %s (%q): sent %v (error %v), want %v", tt.target, tt.role, tt.extra, sent, err, tt.sent)
		}
		if !tt.sent && (err == nil || !strings.Contains(err.Error(), "clear text")) {
			t.Errorf("%s as %s: error %v, want it to say why", tt.target, tt.role, err)
		}
		cfg := parseConfig(t, tt.target, tt.extra+"roles:\n  user:\n    login:\n      bearer: \"${ADMIN_TOKEN}\"\n")
		if err := CheckPlainHTTP(cfg); (err == nil) != tt.configOK {
			t.Errorf("CheckPlainHTTP(%s, %q) = %v", tt.target, tt.extra, err)
		}
	}
	for _, target := range []string{"http://staging.example.test", "https://staging.example.test"} {
		if err := CheckPlainHTTP(parseConfig(t, target, "")); err != nil {
			t.Errorf("CheckPlainHTTP(%s) without credentials: %v", target, err)
		}
	}
	if err := CheckPlainHTTP(parseConfig(t, "https://staging.example.test", "roles: {u: {login: {bearer: x}}}\n")); err != nil {
		t.Errorf("CheckPlainHTTP of https: %v", err)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "app.localhost": true, "localhost.": true, "127.0.0.1": true, "127.8.9.10": true,
		"::1": true, "[::1]": true, "0:0:0:0:0:0:0:1": true,
		"10.0.0.1": false, "192.168.1.1": false, "example.com": false, "localhost.example.com": false, "::": false, "": false, "0.0.0.0": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestTLS: verification is on; a CA file or --insecure lets a server
// with a private certificate through.
func TestTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "tls ok") }))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts TransportOptions
		ok   bool
	}{
		{"verified by default", TransportOptions{}, false},
		{"CA file", TransportOptions{CAFile: ca}, true},
		{"insecure", TransportOptions{Insecure: true}, true},
	}
	for _, tt := range tests {
		tr := newTransport(t, tt.opts)
		_, body, err := get(context.Background(), roleClient(t, srv.URL, tr, "user", ""), srv.URL+"/")
		if tt.ok != (err == nil && string(body) == "tls ok") {
			t.Errorf("%s: %q, %v; want ok %v", tt.name, body, err, tt.ok)
		}
		if !tt.ok {
			var ve *tls.CertificateVerificationError
			if !errors.As(err, &ve) {
				t.Errorf("%s: error %v, want a certificate verification error", tt.name, err)
			}
		}
	}
	for _, bad := range []string{filepath.Join(t.TempDir(), "missing.pem"), writeTemp(t, "garbage")} {
		if _, err := NewTransport(TransportOptions{CAFile: bad}); err == nil {
			t.Errorf("NewTransport with CA file %s succeeded", bad)
		}
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProxy sends through an intercepting proxy on 127.0.0.1: with Proxy
// every request goes through it, loopback target included; the
// environment's proxy function is used when no Proxy is given.
func TestProxy(t *testing.T) {
	target := newLogServer(nil)
	defer target.Close()
	var seen atomic.Int32
	fwd := &http.Transport{Proxy: nil}
	defer fwd.CloseIdleConnections()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() {
			http.Error(w, "not a proxy request", http.StatusBadRequest)
			return
		}
		seen.Add(1)
		out, _ := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), nil)
		out.Header = r.Header.Clone()
		resp, err := fwd.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Via", "test-proxy")
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)

	for _, o := range []TransportOptions{
		{Proxy: proxy.URL},
		{ProxyFromEnv: func(*http.Request) (*url.URL, error) { return pu, nil }},
	} {
		before := seen.Load()
		tr := newTransport(t, o)
		resp, body, err := get(context.Background(), roleClient(t, target.URL, tr, "user", ""), target.URL+"/via")
		if err != nil || string(body) != "ok" || resp.Header.Get("Via") != "test-proxy" || seen.Load() != before+1 {
			t.Errorf("options %+v: %q, %v, proxy saw %d", o, body, err, seen.Load()-before)
		}
	}
	if _, err := NewTransport(TransportOptions{Proxy: "ftp://x"}); err == nil {
		t.Errorf("NewTransport with an ftp proxy succeeded")
	}
}

// TestSendable decides which inventory entries the probe phase sends.
func TestSendable(t *testing.T) {
	cfg := parseConfig(t, "http://h", "scope:\n  allow_methods: ['POST /api/**', 'PUT /api/profile']\n")
	s, err := NewScope(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		sources      []string
		reason       string // "" when sent
	}{
		{"GET", "/a", []string{"link"}, ""},
		{"HEAD", "/a", []string{"list"}, ""},
		{"POST", "/api/search", []string{"openapi"}, ""},
		{"POST", "/api/search", []string{"form", "har"}, ""},
		{"PUT", "/api/profile", []string{"list"}, ""},
		{"POST", "/api/search", []string{"form"}, "method POST is sent only to declared endpoints"},
		{"POST", "/api/search", []string{"link", "script"}, "not to ones found by link, script"},
		{"POST", "/other", []string{"openapi"}, "method not probed"},
		{"PUT", "/api/other", []string{"openapi"}, "method not probed"},
		{"DELETE", "/api/x", []string{"openapi"}, "method not probed"},
		{"POST", "/api/delete", []string{"openapi"}, `excluded word "delete"`},
		{"GET", "http://elsewhere/a", []string{"list"}, "out of scope"},
	}
	for _, tt := range tests {
		u := tt.path
		if strings.HasPrefix(u, "/") {
			u = "http://h" + u
		}
		reason, ok := s.Sendable(model.Entry{Endpoint: model.Endpoint{Method: tt.method, URL: u}, Sources: tt.sources})
		if ok != (tt.reason == "") || !strings.Contains(reason, tt.reason) {
			t.Errorf("Sendable(%s %s from %v) = %q, %v; want %q", tt.method, tt.path, tt.sources, reason, ok, tt.reason)
		}
	}
	inv := &model.Inventory{Entries: []model.Entry{
		{Endpoint: model.Endpoint{Method: "GET", URL: "http://h/a"}, Sources: []string{"link"}},
		{Endpoint: model.Endpoint{Method: "POST", URL: "http://h/api/x"}, Sources: []string{"form"}},
		{Endpoint: model.Endpoint{Method: "POST", URL: "http://h/api/y"}, Sources: []string{"openapi"}},
	}, Skipped: []model.Skip{{Endpoint: model.Endpoint{Method: "GET", URL: "http://h/logout"}, Reason: `excluded word "logout"`}}}
	got := SendableEndpoints(s, inv)
	if want := []model.Endpoint{{Method: "GET", URL: "http://h/a"}, {Method: "POST", URL: "http://h/api/y"}}; !slices.Equal(got, want) {
		t.Errorf("SendableEndpoints = %v, want %v", got, want)
	}
	if len(inv.Skipped) != 2 || inv.Skipped[0].URL != "http://h/api/x" || inv.Skipped[1].URL != "http://h/logout" {
		t.Errorf("Skipped = %+v, want the crawled POST added in order", inv.Skipped)
	}
}

func TestLimiterExtremes(t *testing.T) {
	for _, tt := range []struct {
		rate float64
		want time.Duration // 0: no limiter
	}{
		{0, 0}, {math.Inf(1), 0}, {math.NaN(), 0}, {-1, 0}, {2e9, 0},
		{4, 250 * time.Millisecond}, {1e-300, 24 * time.Hour},
	} {
		l := newLimiter(tt.rate)
		if (l == nil) != (tt.want == 0) || l != nil && l.interval != tt.want {
			t.Errorf("newLimiter(%v) = %+v, want interval %v", tt.rate, l, tt.want)
		}
	}
}

// TestDenialSignatureIsNotAFailure: an application that denies with a 500
// and a message a denial signature recognises is speaking, not failing:
// the answer is taken at once (no retry) and never pauses the host, while
// a 500 no signature recognises is still retried. Before, the recognised
// denial was retried three times and counted toward the host's pause.
func TestDenialSignatureIsNotAFailure(t *testing.T) {
	srv := newLogServer(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		if strings.HasPrefix(r.URL.Path, "/denied/") {
			io.WriteString(w, "Error: Permission denied for this record")
			return
		}
		io.WriteString(w, "stack trace")
	})
	defer srv.Close()
	cfg := parseConfig(t, srv.URL, "denials:\n  - {status: 500, body: \"Permission denied\"}\n")
	o := TransportOptionsFor(cfg)
	o.RetryBase, o.RetryMax, o.PauseBase, o.PauseMax = time.Millisecond, time.Millisecond, time.Second, time.Second
	tr := newTransport(t, o)
	c := roleClient(t, srv.URL, tr, "anonymous", "denials:\n  - {status: 500, body: \"Permission denied\"}\n")
	ctx := context.Background()
	for i := range 12 { // more URLs than it takes to pause a failing host
		resp, body, err := get(ctx, c, fmt.Sprintf("%s/denied/%d", srv.URL, i))
		if err != nil || resp.StatusCode != 500 || !strings.Contains(string(body), "Permission denied") {
			t.Fatalf("denied %d: %v, %v, %q", i, resp, err, body)
		}
	}
	if n := srv.count(); n != 12 {
		t.Errorf("the server got %d requests for 12 recognised denials, want 12: a denial is not retried", n)
	}
	if st := tr.Stats(); st.Pauses != 0 || st.Retries != 0 {
		t.Errorf("stats %+v: recognised denials retried or paused the host", st)
	}
	if _, _, err := get(ctx, c, srv.URL+"/crash"); err != nil {
		t.Fatal(err)
	}
	if n := srv.count(); n != 12+1+o.Retries {
		t.Errorf("a 500 no signature recognises: %d requests in all, want %d (retried)", n, 12+1+o.Retries)
	}
}
