//go:build unix

package crawl

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

// benchEndpoints is the number of endpoints BenchmarkProbe probes.
const benchEndpoints = 2000

// BenchmarkProbe probes benchEndpoints small JSON endpoints as two roles
// (anonymous, denied with a 401, and a bearer role, allowed), through
// the run's Transport as the audit builds it, and reports probes per
// second, the CPU time of the process (server included) per probe and
// the bytes and allocations per probe (the server's included: it runs in
// the same process). On a machine shared with the
// target, the probe rate against wrk (bench/scale.sh) is CPU per probe:
// each byte allocated is also collected.
func BenchmarkProbe(b *testing.B) {
	body := []byte(`{"id":1,"name":"an item","owner":"someone","tags":["a","b"]}`)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /e/{n}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer bench-token-0123456789" {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatalf("listen: %v", err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	defer srv.Close()
	yaml := fmt.Sprintf(`target: %s
crawl: {concurrency: 8}
roles:
  admin:
    login:
      bearer: "bench-token-0123456789"
matrix:
  default: deny
  rules:
    - match: ["GET /e/*"]
      allow: [admin]
`, srv.URL)
	cfg, err := roles.Parse("bench.yaml", []byte(yaml), roles.LoadOptions{Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		b.Fatalf("parse config: %v", err)
	}
	eps := make([]model.Endpoint, benchEndpoints)
	for i := range eps {
		eps[i] = model.Endpoint{Method: http.MethodGet, URL: srv.URL + "/e/" + strconv.Itoa(i)}
	}
	probes := 0
	var elapsed, cpu time.Duration
	var mallocs, bytes uint64 // the whole process's, the server's included
	var m0, m1 runtime.MemStats
	b.ResetTimer()
	for range b.N {
		opts := Options{Config: cfg}
		for _, r := range cfg.Roles {
			opts.Sessions = append(opts.Sessions, session.NewSession(r))
		}
		runtime.ReadMemStats(&m0)
		start, cpu0 := time.Now(), cpuTime(b)
		cells, err := ProbeCells(context.Background(), opts, eps)
		elapsed += time.Since(start)
		cpu += cpuTime(b) - cpu0
		runtime.ReadMemStats(&m1)
		mallocs += m1.Mallocs - m0.Mallocs
		bytes += m1.TotalAlloc - m0.TotalAlloc
		if err != nil {
			b.Fatalf("Probe: %v", err)
		}
		if want := benchEndpoints * len(cfg.Roles); cells.Len() != want {
			b.Fatalf("%d cells, want %d", cells.Len(), want)
		}
		for _, c := range cells.All() {
			if want := map[string]int{"anonymous": 401, "admin": 200}[c.Role]; c.Status != want {
				b.Fatalf("%s as %s: %d, want %d", c.URL, c.Role, c.Status, want)
			}
		}
		probes += cells.Len()
	}
	b.StopTimer()
	b.ReportMetric(float64(probes)/elapsed.Seconds(), "probes/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(probes), "cpu-µs/probe")
	b.ReportMetric(float64(mallocs)/float64(probes), "allocs/probe")
	b.ReportMetric(float64(bytes)/float64(probes), "B/probe")
}
