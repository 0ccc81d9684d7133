//go:build unix

package crawl

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

// benchPages is the size of the benchmark's site.
const benchPages = 2000

// benchSite serves benchPages HTML pages on 127.0.0.1: page i links to
// its children 8i+1..8i+8 (a tree, so the crawl takes several depths),
// to its parent, to the home page and to a few far pages met before, and
// holds a search form, an inline script naming a URL and about 5 KB of
// text, like an ordinary application page. Every page is reachable.
func benchSite(tb testing.TB) *httptest.Server {
	tb.Helper()
	pages := make([][]byte, benchPages)
	filler := strings.Repeat("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.</p>\n", 50)
	for i := range pages {
		var b strings.Builder
		fmt.Fprintf(&b, "<!doctype html><html><head><title>Page %d</title><link rel=stylesheet href=\"/static/site.css\"></head><body>\n", i)
		b.WriteString("<nav><a href=\"/\">Home</a> <a href=\"/p/0\">Start</a></nav>\n<ul>\n")
		for c := 8*i + 1; c <= 8*i+8 && c < benchPages; c++ {
			fmt.Fprintf(&b, "<li><a href=\"/p/%d\">Child %d</a></li>\n", c, c)
		}
		fmt.Fprintf(&b, "<li><a href=\"/p/%d\">Parent</a></li>\n", max(i-1, 0)/8)
		fmt.Fprintf(&b, "<li><a href=\"/p/%d\">Far</a></li>\n</ul>\n", (i*7)%max(i, 1))
		b.WriteString("<form action=\"/search\" method=get><input name=q value=\"\"><select name=sort><option>name</option><option selected>date</option></select><button>Go</button></form>\n")
		fmt.Fprintf(&b, "<script>fetch(\"/p/%d\").then(r => r.json());</script>\n", i)
		b.WriteString(filler)
		b.WriteString("</body></html>\n")
		pages[i] = []byte(b.String())
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/p/0", http.StatusFound)
	})
	mux.HandleFunc("GET /p/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil || n < 0 || n >= benchPages {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(pages[n])
	})
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<p>No results.</p>"))
	})
	mux.HandleFunc("GET /static/site.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		w.Write([]byte("body{margin:0}"))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	return srv
}

// BenchmarkDiscover crawls benchSite as two roles (anonymous and one
// with a bearer token), through the run's Transport as the audit command
// builds it, and reports the discovery pages fetched per second, the CPU
// time of the process (server included) per page, which a machine shared
// with other work disturbs less than the wall clock, and the largest heap
// a garbage collection found live.
func BenchmarkDiscover(b *testing.B) {
	srv := benchSite(b)
	defer srv.Close()
	yaml := fmt.Sprintf(`target: %s
crawl: {max_requests: 100000, max_depth: 20, max_per_template: 100000, concurrency: 8}
sources: {robots: false, sitemap: false}
roles:
  admin:
    login:
      bearer: "bench-token-0123456789"
`, srv.URL)
	cfg, err := roles.Parse("bench.yaml", []byte(yaml), roles.LoadOptions{Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		b.Fatalf("parse config: %v", err)
	}
	pages := 0
	var elapsed, cpu time.Duration
	peak := watchLiveHeap()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		opts := Options{Config: cfg}
		for _, r := range cfg.Roles {
			opts.Sessions = append(opts.Sessions, session.NewSession(r))
		}
		start, cpu0 := time.Now(), cpuTime(b)
		inv, err := Discover(context.Background(), opts)
		elapsed += time.Since(start)
		cpu += cpuTime(b) - cpu0
		if err != nil {
			b.Fatalf("Discover: %v", err)
		}
		n := 0
		for _, p := range inv.Pages {
			n += p
		}
		// Every page, /, the stylesheet and the search form, per role.
		if want := (benchPages + 3) * len(cfg.Roles); n != want {
			b.Fatalf("%d pages fetched, want %d", n, want)
		}
		pages += n
	}
	b.StopTimer()
	b.ReportMetric(float64(pages)/elapsed.Seconds(), "pages/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(pages), "cpu-µs/page")
	b.ReportMetric(float64(peak())/(1<<20), "peak-live-MB")
}

// watchLiveHeap samples the heap found live by the last garbage
// collection every millisecond until the returned function is called,
// which returns the largest sample.
func watchLiveHeap() func() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var peak uint64
	done, wg := make(chan struct{}), sync.WaitGroup{}
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
