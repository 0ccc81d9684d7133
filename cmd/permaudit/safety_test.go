package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/permaudit/permaudit/internal/authapp"
	"github.com/permaudit/permaudit/internal/demoapp"
	"github.com/permaudit/permaudit/model"
)

// slowSite is a fixture whose home page links pages /p/aa, /p/ab, ...
// that answer slowly: audited with crawl.max_depth 0 (slowDiscovery),
// discovery reads only the home page and lists the pages, so the audit
// spends its time in the probe phase (a page discovery had read would be
// its observation, not requested again). It counts what it was sent and
// how many requests were cut off by their client before the answer.
type slowSite struct {
	*httptest.Server
	pages int
	delay time.Duration // of a page; 0: never answer
	quit  chan struct{}

	mu       sync.Mutex
	seen     map[string]int
	slow     int // requests of pages (probes)
	answered int // of those, answered with the client still there
	aborted  int // of those, whose client left before the answer
}

func newSlowSite(pages int, delay time.Duration) *slowSite {
	s := &slowSite{pages: pages, delay: delay, quit: make(chan struct{}), seen: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			var b strings.Builder
			for i := range s.pages { // names that fold into no template: no cap, no canary
				fmt.Fprintf(&b, "<a href=\"/p/%c%c\">%d</a>\n", 'a'+i/26, 'a'+i%26, i)
			}
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, b.String())
			return
		}
		s.mu.Lock()
		s.seen[r.URL.Path]++
		again := strings.HasPrefix(r.URL.Path, "/p/")
		if again {
			s.slow++
		}
		s.mu.Unlock()
		if again {
			var after <-chan time.Time
			if s.delay > 0 {
				after = time.After(s.delay)
			}
			select {
			case <-after:
			case <-r.Context().Done():
				s.mu.Lock()
				s.aborted++
				s.mu.Unlock()
				return
			case <-s.quit:
				return
			}
			s.mu.Lock()
			s.answered++
			s.mu.Unlock()
		}
		io.WriteString(w, "page")
	}))
	return s
}

func (s *slowSite) Close() {
	close(s.quit)
	s.Server.Close()
}

func (s *slowSite) counts() (slow, answered, aborted int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.slow, s.answered, s.aborted
}

// config writes the configuration of an audit of the site as anonymous.
func (s *slowSite) config(t *testing.T, extra string) string {
	t.Helper()
	return writeFile(t, "slow.yaml", fmt.Sprintf(`target: %s
crawl: {concurrency: 2, timeout: 20s, max_depth: 0}
matrix:
  rules:
    - {match: "GET /**", allow: ["*"]}
%s`, s.URL, extra))
}

// readRun reads and checks a saved run.
func readRun(t *testing.T, path string) *model.Run {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the run JSON was not written: %v", err)
	}
	run, err := model.ReadRun(bytes.NewReader(data))
	if err != nil || !json.Valid(data) {
		t.Fatalf("the run JSON is not valid: %v\n%s", err, data)
	}
	if run.Schema != model.SchemaVersion {
		t.Errorf("schema %q", run.Schema)
	}
	return run
}

// buildPermaudit builds the command once per test binary run.
var buildOnce struct {
	sync.Once
	path string
	err  error
}

func buildPermaudit(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "permaudit-bin")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "permaudit")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

// startAudit starts the built binary auditing cfg, writing the run JSON
// to the returned path.
func startAudit(t *testing.T, cfg string) (*exec.Cmd, string, *bytes.Buffer) {
	t.Helper()
	runFile := filepath.Join(t.TempDir(), "run.json")
	cmd := exec.Command(buildPermaudit(t), "audit", "-c", cfg, "--out", "json="+runFile)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, runFile, &stderr
}

// waitFor polls cond every 10 ms for up to d.
func waitFor(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// exitOf waits for cmd, at most d, and returns its exit code and the
// signal that killed it, if any.
func exitOf(t *testing.T, cmd *exec.Cmd, d time.Duration) (int, syscall.Signal) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the process did not end within %v", d)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return -1, ws.Signal()
	}
	return ws.ExitStatus(), 0
}

// TestSignalWritesIncompleteRun interrupts a real permaudit process in
// the middle of its probes with SIGINT, and with SIGTERM: it stops
// sending, lets the probes in flight finish (none is cut off), writes the
// run JSON marked incomplete with an observation for every probe the site
// answered, and exits 130.
func TestSignalWritesIncompleteRun(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			site := newSlowSite(40, 150*time.Millisecond)
			defer site.Close()
			cmd, runFile, stderr := startAudit(t, site.config(t, ""))
			if !waitFor(20*time.Second, func() bool { n, _, _ := site.counts(); return n >= 3 }) {
				t.Fatalf("no probe reached the site\nstderr:\n%s", stderr)
			}
			cmd.Process.Signal(sig)
			start := time.Now()
			code, killed := exitOf(t, cmd, 10*time.Second)
			if code != exitInterrupted || killed != 0 {
				t.Fatalf("exit %d (signal %v), want 130\nstderr:\n%s", code, killed, stderr)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("it took %v to stop", d)
			}
			slow, answered, aborted := site.counts()
			if aborted != 0 || answered != slow {
				t.Errorf("%d probe(s) sent, %d answered, %d cut off by the client: want every probe in flight to finish", slow, answered, aborted)
			}
			if slow >= 40 {
				t.Errorf("every probe was sent (%d): the signal did not stop the run", slow)
			}
			run := readRun(t, runFile)
			if run.Complete || run.Incomplete != "interrupted" {
				t.Errorf("complete %v, reason %q; want an incomplete run, interrupted", run.Complete, run.Incomplete)
			}
			pages := 0
			for _, o := range run.Observations.All() {
				if strings.Contains(o.URL, "/p/") {
					pages++
				}
			}
			if pages != answered {
				t.Errorf("%d observations of /p/ pages, want one per probe answered: %d", pages, answered)
			}
			if len(run.Inventory.Entries) != 41 {
				t.Errorf("%d endpoints in the inventory, want 41", len(run.Inventory.Entries))
			}
		})
	}
}

// TestSecondSignalKills: after the first SIGINT, permaudit waits for a
// request in flight (here one that is never answered, with a 20 s
// time-out); a second SIGINT ends it at once.
func TestSecondSignalKills(t *testing.T) {
	site := newSlowSite(4, 0)
	defer site.Close()
	cmd, _, stderr := startAudit(t, site.config(t, ""))
	if !waitFor(20*time.Second, func() bool { n, _, _ := site.counts(); return n >= 1 }) {
		t.Fatalf("no probe reached the site\nstderr:\n%s", stderr)
	}
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(300 * time.Millisecond)
	if cmd.ProcessState != nil || cmd.Process.Signal(syscall.Signal(0)) != nil {
		t.Fatalf("the process ended after the first signal, want it waiting for the request in flight\nstderr:\n%s", stderr)
	}
	cmd.Process.Signal(syscall.SIGINT)
	code, killed := exitOf(t, cmd, 5*time.Second)
	if killed != syscall.SIGINT {
		t.Errorf("exit %d, signal %v; want killed by the second SIGINT", code, killed)
	}
}

// TestMaxDurationAndCaps: --max-duration and max_probes end the run with
// exit 4, every output written and marked incomplete; a gated finding in
// an incomplete run still exits 1.
func TestMaxDurationAndCaps(t *testing.T) {
	tests := []struct {
		name   string
		extra  string
		args   []string
		code   int
		reason string
	}{
		{"max duration", "", []string{"--max-duration", "700ms"}, exitIncomplete, "max duration 700ms reached"},
		{"max duration in config", "crawl: {concurrency: 2, timeout: 20s, max_depth: 0, max_duration: 1s}\n", nil, exitIncomplete, "max duration 1s reached"},
		{"max probes", "crawl: {concurrency: 2, timeout: 20s, max_depth: 0, max_probes: 3}\n", nil, exitIncomplete, "max_probes 3 reached: 38 endpoint(s) not probed"},
		{"gated finding wins", "crawl: {concurrency: 2, timeout: 20s, max_depth: 0, max_probes: 3}\n", []string{"--only", "GET /p/*"}, exitGate, "max_probes 3 reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			site := newSlowSite(40, 100*time.Millisecond)
			defer site.Close()
			cfgYAML := fmt.Sprintf("target: %s\n%s", site.URL, tt.extra)
			if !strings.Contains(tt.extra, "crawl:") {
				cfgYAML += "crawl: {concurrency: 2, timeout: 20s, max_depth: 0}\n"
			}
			if tt.code == exitGate {
				cfgYAML += "matrix: {default: deny}\n" // anonymous reads /p/*: leaks
			} else {
				cfgYAML += "matrix:\n  rules:\n    - {match: \"GET /**\", allow: [\"*\"]}\n"
			}
			cfg := writeFile(t, "c.yaml", cfgYAML)
			runFile := filepath.Join(t.TempDir(), "run.json")
			start := time.Now()
			code, stdout, stderr := runCLI(t, nil, append([]string{"audit", "-c", cfg, "--out", "json=" + runFile, "--out", "text=-"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", code, tt.code, stderr)
			}
			if d := time.Since(start); d > 3500*time.Millisecond {
				t.Errorf("took %v", d)
			}
			run := readRun(t, runFile)
			if run.Complete || !strings.Contains(run.Incomplete, tt.reason) {
				t.Errorf("complete %v, reason %q; want incomplete, %q", run.Complete, run.Incomplete, tt.reason)
			}
			if !strings.Contains(stdout, "INCOMPLETE") && !strings.Contains(stdout, "incomplete") {
				t.Errorf("the text output does not say the run is incomplete:\n%s", stdout)
			}
		})
	}
}

// TestDryRunSendsNothing audits the demo with --dry-run: the demo gets
// no request at all, and the plan lists, per role, the preflight, the
// start URL and the declared endpoints probed as every role.
func TestDryRunSendsNothing(t *testing.T) {
	srv, cfg := startDemo(t, demoapp.Bugs{})
	runFile := filepath.Join(t.TempDir(), "run.json")
	code, stdout, stderr := runCLI(t, demoapp.Env(), "audit", "-c", cfg, "--target", srv.URL(), "--dry-run", "--out", "json="+runFile)
	if code != exitOK {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(runFile); err == nil {
		t.Errorf("a dry run wrote the run JSON")
	}
	if n := len(srv.App.Requests()); n != 0 {
		t.Errorf("the demo got %d requests in a dry run", n)
	}
	u := srv.URL()
	blocks := map[string]string{}
	for _, b := range strings.Split(stdout, "\nrole ")[1:] {
		name, _, _ := strings.Cut(b, " ")
		blocks[name] = b
	}
	for role, creds := range map[string]string{"anonymous": "(no credentials)", "customer": "(sends Cookie)", "support": "(sends Authorization)", "admin": "(sends Authorization)"} {
		b := blocks[role]
		for _, want := range []string{creds, "\n  discover  GET " + u + "/\n", "\n  probe     GET " + u + "/\n"} {
			if !strings.Contains(b, want) {
				t.Errorf("role %s: the plan lacks %q:\n%s", role, want, b)
			}
		}
	}
	// The demo's roles have static credentials and a check each: the
	// checks are the sign-in phase's requests, sent with the credentials.
	for _, want := range []string{"permaudit dry run: nothing was sent", "\n  preflight GET " + u + "\n", " 3 sign-in, ", " 4 probe\n",
		"\n  sign-in   GET " + u + "/api/profile (customer's check)\n", "\n  sign-in   GET " + u + "/api/profile (admin's check)\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the plan lacks %q:\n%s", want, stdout)
		}
	}
	for _, v := range demoapp.Env() {
		if strings.Contains(stdout+stderr, v) {
			t.Errorf("a secret of the demo is in the output")
		}
	}
}

// TestDryRunListsLogouts: a role that signs in with a flow and declares
// a logout has it listed under its requests, as configured (its
// variables unexpanded), and counted at the end; a role without one has
// none.
// Nothing listens at the target: a dry run sends nothing.
func TestDryRunListsLogouts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := "http://" + ln.Addr().String()
	ln.Close()
	code, stdout, stderr := runCLI(t, dwPasswords, "audit", "-c", filepath.Join(dwDir, "permaudit.yaml"), "--target", target, "--dry-run")
	if code != exitOK {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", code, stderr)
	}
	blocks := map[string]string{}
	for _, b := range strings.Split(stdout, "\nrole ")[1:] {
		name, _, _ := strings.Cut(b, " ")
		blocks[name] = b
	}
	logout := "\n  sign-out  GET " + target + "/doku.php?do=logout&sectok={self.sectok} (at the end)\n"
	for _, role := range []string{"alice", "bob", "admin"} {
		if !strings.Contains(blocks[role], logout) {
			t.Errorf("role %s: the plan lacks %q:\n%s", role, logout, blocks[role])
		}
	}
	if strings.Contains(blocks["anonymous"], "sign-out") {
		t.Errorf("anonymous has a logout in the plan:\n%s", blocks["anonymous"])
	}
	if !strings.Contains(stdout, "; and 3 logout(s) at the end\n") {
		t.Errorf("the plan's count lacks the 3 logouts:\n%s", stdout)
	}
}

// TestRunIDOnEveryRequest: the run id is printed first on stderr, sent
// in the configured header on every request and stored in the run.
func TestRunIDOnEveryRequest(t *testing.T) {
	srv, cfg := startDemo(t, demoapp.Bugs{})
	runFile := filepath.Join(t.TempDir(), "run.json")
	var out, errb bytes.Buffer
	opts := &auditOptions{IO: ioStreams{Out: &out, Err: &errb}, ConfigPath: cfg, Now: time.Now, RunID: func() string { return "run-4242" }}
	opts.Flags.Target = srv.URL()
	opts.Flags.Outs = []string{"json=" + runFile}
	opts.IO.Env = func(k string) (string, bool) { v, ok := demoapp.Env()[k]; return v, ok }
	if err := runAudit(context.Background(), opts); err != nil {
		t.Fatalf("audit: %v\n%s", err, errb.String())
	}
	if first, _, _ := strings.Cut(errb.String(), "\n"); !strings.HasPrefix(first, "permaudit: run run-4242: ") {
		t.Errorf("first stderr line %q, want the run id", first)
	}
	reqs := srv.App.Requests()
	for _, r := range reqs {
		if got := r.Header.Get("X-Permaudit-Run"); got != "run-4242" {
			t.Errorf("%s %s carried run id %q", r.Method, r.Target, got)
		}
		if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "permaudit/") {
			t.Errorf("%s %s: User-Agent %q", r.Method, r.Target, ua)
		}
	}
	run := readRun(t, runFile)
	if run.RunID != "run-4242" || run.RunIDHeader != "X-Permaudit-Run" {
		t.Errorf("run id %q header %q", run.RunID, run.RunIDHeader)
	}
	if run.Traffic == nil || run.Traffic.Requests != int64(len(reqs)) || run.Traffic.Retries != 0 {
		t.Errorf("traffic %+v, want %d requests (what the demo got) and no retry", run.Traffic, len(reqs))
	}
}

// TestSafetyUsageErrors: plain HTTP with credentials, bad flags.
func TestSafetyUsageErrors(t *testing.T) {
	creds := writeFile(t, "plain.yaml", "target: http://staging.example.test\nroles:\n  admin: {login: {bearer: tok-123456}}\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"plain http", []string{"audit", "-c", creds}, "clear text"},
		{"plain http, validate", []string{"validate", "-c", creds}, "clear text"},
		{"bad rate", []string{"audit", "-c", creds, "--rate", "fast", "--target", "https://staging.example.test"}, "--rate"},
		{"bad proxy", []string{"audit", "-c", creds, "--proxy", "ftp://x", "--target", "https://staging.example.test"}, "--proxy"},
		{"missing CA", []string{"audit", "-c", creds, "--ca-file", "/nonexistent.pem", "--target", "https://staging.example.test"}, "--ca-file"},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, nil, tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "tok-123456") {
			t.Errorf("%s: exit %d, stderr %q; want 2 naming %q, without the token", tt.name, code, stderr, tt.want)
		}
	}
}

// TestProxyFlag audits the demo through an intercepting proxy on
// 127.0.0.1: every request of the run goes through it.
func TestProxyFlag(t *testing.T) {
	srv, cfg := startDemo(t, demoapp.Bugs{})
	var through atomic.Int64
	fwd := &http.Transport{}
	defer fwd.CloseIdleConnections()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		through.Add(1)
		out, _ := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), nil)
		out.Header = r.Header.Clone()
		resp, err := fwd.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	code, _, stderr := runCLI(t, demoapp.Env(), "audit", "-c", cfg, "--target", srv.URL(), "--proxy", proxy.URL)
	if code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr)
	}
	if got, want := through.Load(), int64(len(srv.App.Requests())); got != want || got == 0 {
		t.Errorf("%d requests went through the proxy, the demo got %d", got, want)
	}
	if _, err := url.Parse(proxy.URL); err != nil {
		t.Fatal(err)
	}
}

// TestDryRunSignIn dry-runs an audit of the sign-in fixture: the
// application gets nothing, and the plan lists the first request of each
// sign-in flow (the login page of a form, the POST of a JSON login or the
// GET of its XSRF cookie, the token request of OAuth2), sent without
// credentials.
func TestDryRunSignIn(t *testing.T) {
	a := runAuthAudit(t, quickSessions(authapp.Policy{}), nil, nil, auditFlags{Safety: safetyFlags{DryRun: true}})
	if a.code != exitOK {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", a.code, a.stderr)
	}
	if n := len(a.app.Requests()); n != 0 {
		t.Errorf("the application got %d requests in a dry run", n)
	}
	_, signIn, ok := strings.Cut(a.stdout, "\nsign-in (")
	signIn, _, _ = strings.Cut(signIn, "\nrole ")
	if !ok || !strings.Contains(signIn, "  sign-in   GET ") || !strings.Contains(signIn, "  sign-in   POST ") {
		t.Errorf("the plan lists no sign-in requests (want a GET and a POST):\n%s", a.stdout)
	}
	// A JSON login behind an XSRF cookie starts with the GET of the cookie.
	if !regexp.MustCompile(`(?m)^  sign-in   GET http://127\.0\.0\.1:\d+/sanctum/csrf-cookie$`).MatchString(signIn) {
		t.Errorf("the plan does not list the XSRF cookie's GET of role spa:\n%s", signIn)
	}
	if a.json != nil {
		t.Errorf("a dry run wrote the run JSON")
	}
	if !strings.Contains(a.stdout, "\nrole editor (the credentials its sign-in obtains)\n") {
		t.Errorf("the plan does not say what a role signing in sends:\n%s", a.stdout)
	}
}
