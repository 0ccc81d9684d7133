// Package hostiletest provides hostile and broken web applications on
// 127.0.0.1 for tests of the crawler's safety, in the manner of
// net/http/httptest: servers that reset connections, never answer, drip
// their bodies, send bodies far beyond any cap and gzip bombs, redirect in
// loops, long chains and to another origin, grow endless link farms and
// ever-changing URLs, serve malformed HTML, invalid UTF-8, huge headers
// and the wrong Content-Type, and fail for a while before they recover.
//
// Every handler ends when its client goes away or the server is closed,
// so a test that closes its server never hangs. Servers count what they
// are sent: the count is the truth a test checks politeness against.
package hostiletest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options size the hostile answers; zero values take the defaults.
type Options struct {
	// HugeBody is the size of /huge's body; default 64 MiB.
	HugeBody int64
	// BombMiB is the decompressed size of each gzip bomb in MiB; default
	// 1024 (1 GiB, about 1 MB on the wire).
	BombMiB int
	// HugeHeader is the size of /huge-header's header; default 2 MiB.
	HugeHeader int
	// Drip is the pause between the bytes of /drip; default 50 ms.
	Drip time.Duration
	// Chain is the length of the /chain/0 redirect chain; default 40.
	Chain int
	// Fanout is the number of links of each /farm page; default 8.
	Fanout int
}

// Route is one path of the hostile server and what an audit must make of it.
type Route struct {
	Path string
	// Want is the answer class a probe of it must record: "error",
	// "allowed", "other" (a redirect off scope).
	Want string
	// Why is a substring of the observation's error or reason.
	Why string
	// Truncated: the body must be recorded as cut at the size cap.
	Truncated bool
}

// Routes are the paths the index links to, in order, with the truth of
// each. Every other path answers 200 with a page: the endless /farm/ and
// /changing/ families with new links, the rest with none.
func Routes() []Route {
	return []Route{
		{Path: "/ok", Want: "allowed"},
		{Path: "/reset", Want: "error", Why: "tried 4 times"},
		{Path: "/hang", Want: "error", Why: "no answer within"},
		{Path: "/drip", Want: "error", Why: "body not read within"},
		{Path: "/short-body", Want: "error", Why: "reading body"},
		{Path: "/huge", Want: "allowed", Truncated: true},
		{Path: "/gzip-bomb", Want: "allowed", Truncated: true},
		{Path: "/gzip-bomb-type", Want: "allowed", Truncated: true},
		{Path: "/bomb.xml.gz", Want: "allowed", Truncated: true},
		{Path: "/huge-header", Want: "error", Why: "header"},
		{Path: "/loop", Want: "error", Why: "redirect"},
		{Path: "/loop-a", Want: "error", Why: "redirect"},
		{Path: "/chain/0", Want: "error", Why: "redirect"},
		{Path: "/offsite", Want: "other", Why: "redirect off scope"},
		{Path: "/malformed", Want: "allowed"},
		{Path: "/invalid-utf8", Want: "allowed"},
		{Path: "/wrong-type", Want: "allowed"},
		{Path: "/json-as-html", Want: "allowed"},
		{Path: "/farm/0", Want: "allowed"},
		{Path: "/changing", Want: "allowed"},
	}
}

// Server is a running hostile application and a second origin (Other:
// the same host, another port) that must never be requested.
type Server struct {
	*httptest.Server
	Other *httptest.Server

	opts Options
	bomb []byte
	quit chan struct{}
	once sync.Once

	mu      sync.Mutex
	counts  map[string]int // by path; /farm/... and /changing... counted under their family
	total   int
	others  int
	serial  int // of /changing
	maxBusy int
	busy    int
}

// New starts a hostile server.
func New(opts Options) *Server {
	if opts.HugeBody <= 0 {
		opts.HugeBody = 64 << 20
	}
	if opts.BombMiB <= 0 {
		opts.BombMiB = 1024
	}
	if opts.HugeHeader <= 0 {
		opts.HugeHeader = 2 << 20
	}
	if opts.Drip <= 0 {
		opts.Drip = 50 * time.Millisecond
	}
	if opts.Chain <= 0 {
		opts.Chain = 40
	}
	if opts.Fanout <= 0 {
		opts.Fanout = 8
	}
	s := &Server{opts: opts, quit: make(chan struct{}), counts: map[string]int{}, bomb: Bomb(opts.BombMiB)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	s.Other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.others++
		s.mu.Unlock()
		fmt.Fprint(w, "another origin")
	}))
	return s
}

// Close releases every handler still running and shuts both servers down.
func (s *Server) Close() {
	s.once.Do(func() { close(s.quit) })
	s.Server.CloseClientConnections()
	s.Server.Close()
	s.Other.Close()
}

// Count returns the requests received for path (a family: "/farm/",
// "/changing").
func (s *Server) Count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[path]
}

// Total returns every request the server received.
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// OtherCount returns the requests the other origin received.
func (s *Server) OtherCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.others
}

// MaxInFlight returns the most requests the server was handling at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxBusy
}

// Counts returns the counts by path, as "path n" lines, sorted.
func (s *Server) Counts() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []string
	for p, n := range s.counts {
		lines = append(lines, fmt.Sprintf("%s %d", p, n))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func family(path string) string {
	switch {
	case strings.HasPrefix(path, "/farm/"):
		return "/farm/"
	case strings.HasPrefix(path, "/changing"):
		return "/changing"
	case strings.HasPrefix(path, "/chain/"):
		return "/chain/"
	}
	return path
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.counts[family(r.URL.Path)]++
	s.total++
	s.busy++
	s.maxBusy = max(s.maxBusy, s.busy)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.busy--
		s.mu.Unlock()
	}()

	h := w.Header()
	p := r.URL.Path
	switch {
	case p == "/":
		var links []string
		for _, rt := range Routes() {
			links = append(links, rt.Path)
		}
		page(w, "hostile", links, "")
	case p == "/ok", p == "/ok2", p == "/ok3", p == "/from-malformed", p == "/from-wrong-type":
		page(w, p, nil, "fine")
	case p == "/reset":
		reset(w)
	case p == "/hang":
		s.wait(r, 0)
	case p == "/drip":
		h.Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		for {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			if !s.wait(r, s.opts.Drip) {
				return
			}
		}
	case p == "/short-body":
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", "100000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<html><body>only this much"))
		w.(http.Flusher).Flush()
		reset(w)
	case p == "/huge":
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", strconv.FormatInt(s.opts.HugeBody, 10))
		w.WriteHeader(http.StatusOK)
		chunk := bytes.Repeat([]byte("<p>huge</p>\n"), 2731) // 32 KiB
		for n := int64(0); n < s.opts.HugeBody; {
			c := chunk[:min(int64(len(chunk)), s.opts.HugeBody-n)]
			if _, err := w.Write(c); err != nil {
				return
			}
			n += int64(len(c))
		}
	case p == "/gzip-bomb":
		h.Set("Content-Type", "text/html")
		h.Set("Content-Encoding", "gzip")
		_, _ = w.Write(s.bomb)
	case p == "/gzip-bomb-type":
		h.Set("Content-Type", "application/x-gzip")
		_, _ = w.Write(s.bomb)
	case p == "/bomb.xml.gz":
		h.Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(s.bomb)
	case p == "/huge-header":
		h.Set("X-Huge", strings.Repeat("a", s.opts.HugeHeader))
		page(w, p, nil, "")
	case p == "/loop":
		http.Redirect(w, r, "/loop", http.StatusFound)
	case p == "/loop-a":
		http.Redirect(w, r, "/loop-b", http.StatusMovedPermanently)
	case p == "/loop-b":
		http.Redirect(w, r, "/loop-a", http.StatusTemporaryRedirect)
	case strings.HasPrefix(p, "/chain/"):
		n, err := strconv.Atoi(strings.TrimPrefix(p, "/chain/"))
		switch {
		case err != nil || n < 0 || n > s.opts.Chain:
			http.NotFound(w, r)
		case n < s.opts.Chain:
			http.Redirect(w, r, fmt.Sprintf("/chain/%d", n+1), http.StatusFound)
		default:
			page(w, p, nil, "the end of the chain")
		}
	case p == "/offsite":
		http.Redirect(w, r, s.Other.URL+"/landing", http.StatusFound)
	case p == "/malformed":
		h.Set("Content-Type", "text/html")
		_, _ = fmt.Fprint(w, "<html><body><a href=\"/from-malformed\">x<div><table><a href='/ok2'><<<>>>"+
			"<a href=\"\x00/nul\">\x00</a><form action=<a href=/ok3><!-- never closed <a href=\"/in-comment\">")
	case p == "/invalid-utf8":
		h.Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<html><body>\xff\xfe\xc3\x28 \xed\xa0\x80 <a href=\"/bad-\xff\xfe\">bad</a> <a href=\"/ok\">ok</a></body></html>"))
	case p == "/wrong-type":
		h.Set("Content-Type", "image/png")
		_, _ = fmt.Fprint(w, "<html><body><a href=\"/from-wrong-type\">not an image</a></body></html>")
	case p == "/json-as-html":
		h.Set("Content-Type", "text/html")
		_, _ = fmt.Fprint(w, `{"items":[{"url":"/ok3","html":"<a href='/ok2'>"}], "broken": [`)
	case strings.HasPrefix(p, "/farm/"):
		id := strings.TrimPrefix(p, "/farm/")
		links := make([]string, s.opts.Fanout)
		for i := range links {
			links[i] = fmt.Sprintf("/farm/%s-%d", id, i)
		}
		page(w, p, links, "")
	case strings.HasPrefix(p, "/changing"):
		s.mu.Lock()
		s.serial++
		n := s.serial
		s.mu.Unlock()
		page(w, p, []string{fmt.Sprintf("/changing?v=%d", n), fmt.Sprintf("/changing/%d", n)}, "")
	default: // the garbage links of the broken pages land here
		page(w, p, nil, "anything goes")
	}
}

// wait blocks until the client leaves or the server closes (d == 0), or
// d has passed; it reports whether d passed.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	var after <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		after = t.C
	}
	select {
	case <-r.Context().Done():
		return false
	case <-s.quit:
		return false
	case <-after:
		return true
	}
}

// reset closes the connection with a TCP reset.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("hostiletest: no hijacker")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

func page(w http.ResponseWriter, title string, links []string, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html>\n<html><head><title>%s</title></head><body>\n", html.EscapeString(title))
	for _, l := range links {
		fmt.Fprintf(&b, "<a href=\"%s\">%s</a>\n", html.EscapeString(l), html.EscapeString(l))
	}
	b.WriteString(html.EscapeString(body))
	b.WriteString("\n</body></html>\n")
	_, _ = fmt.Fprint(w, b.String())
}

// Bomb returns a gzip stream that decodes to mib MiB of zeros: mib
// gzip members of 1 MiB each (about 1 KB each on the wire).
func Bomb(mib int) []byte {
	var one bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	_, _ = zw.Write(make([]byte, 1<<20))
	_ = zw.Close()
	return bytes.Repeat(one.Bytes(), mib)
}

// Flaky is a server that answers 500 to its first Fail requests, then
// 200 with a small page linking Links. It counts every request.
type Flaky struct {
	*httptest.Server

	mu    sync.Mutex
	fail  int
	times []time.Time
}

// NewFlaky starts a Flaky server failing its first fail requests.
func NewFlaky(fail int) *Flaky {
	f := &Flaky{fail: fail}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.times = append(f.times, time.Now())
		n := len(f.times)
		f.mu.Unlock()
		if n <= f.fail {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		switch r.URL.Path {
		case "/":
			page(w, "flaky", []string{"/a", "/b", "/c"}, "")
		case "/a", "/b", "/c":
			page(w, r.URL.Path, nil, "recovered")
		default:
			http.NotFound(w, r)
		}
	}))
	return f
}

// Requests returns the number of requests received.
func (f *Flaky) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.times)
}

// Times returns when each request arrived.
func (f *Flaky) Times() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.times...)
}
