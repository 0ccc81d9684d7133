// Command scaleserver is the synthetic target of bench/scale.sh: N
// endpoints, four signed-in roles and anonymous, a truth for every cell,
// and counters, so that a benchmark scores permaudit's correctness and
// measures its load in the same run (issue 12).
//
// It listens on 127.0.0.1 only, prints its base URL on stdout, writes
// the permaudit configuration of itself (-config: one rule per endpoint,
// the way learn writes large matrices) and its truth (-truth: JSON, role
// to path to status), and serves:
//
//   - GET /: links /e/0;
//   - GET /e/{i}, i < N: 200 and links to /e/{2i+1} and /e/{2i+2} for the
//     roles allowed it, 401 to anonymous and 403 to a signed-in role
//     otherwise (so discovery reaches every endpoint within log2 N links
//     as the roles allowed their parents); a missing id is answered the
//     same way, authorisation before existence (404 only to the roles
//     that may read every endpoint);
//   - GET /login and POST /login: a form login for role "editor" (the
//     other roles sign in with bearer tokens);
//   - GET /me: the session check of every role;
//   - GET /__stats: requests served so far ("requests"), and with
//     ?from=MS&to=MS (Unix milliseconds) those served in that window
//     ("between"), from a per-millisecond count, so that bench/scale.sh
//     measures the probe phase by the target's own counter (excluded from
//     the audit's scope by the configuration).
//
// Who may read /e/{i}: reader every endpoint, editor those with i%2 == 0,
// auditor those with i%3 == 0, admin every one, anonymous those with
// i%5 == 0.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

var roleTokens = map[string]string{
	"reader":  "bench-reader-token-0001",
	"auditor": "bench-auditor-token-0002",
	"admin":   "bench-admin-token-0003",
}

const (
	editorPassword = "bench-editor-pass"
	editorSession  = "bench-editor-session-0004"
)

// roles lists every role in configuration order.
var roles = []string{"anonymous", "reader", "editor", "auditor", "admin"}

// allowed is the truth: whether role may read /e/i.
func allowed(role string, i int) bool {
	switch role {
	case "reader", "admin":
		return true
	case "editor":
		return i%2 == 0
	case "auditor":
		return i%3 == 0
	case "anonymous":
		return i%5 == 0
	}
	return false
}

type server struct {
	n        int
	requests atomic.Int64
	start    int64          // Unix milliseconds when the server started
	perMS    []atomic.Int32 // requests served in each millisecond since start
}

// timelineMS is how long the per-millisecond count covers: later
// requests are counted in its last millisecond.
const timelineMS = 2 * 60 * 60 * 1000

func (s *server) tick() {
	i := min(max(time.Now().UnixMilli()-s.start, 0), int64(len(s.perMS)-1))
	s.perMS[i].Add(1)
}

// between counts the requests served from Unix millisecond from to to,
// both included.
func (s *server) between(from, to int64) int64 {
	var n int64
	for ms := max(from, s.start); ms <= to && ms-s.start < int64(len(s.perMS)); ms++ {
		n += int64(s.perMS[ms-s.start].Load())
	}
	return n
}

func (s *server) role(r *http.Request) string {
	if c, err := r.Cookie("sid"); err == nil && c.Value == editorSession {
		return "editor"
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		for role, t := range roleTokens {
			if t == tok {
				return role
			}
		}
	}
	return "anonymous"
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/__stats" {
		w.Header().Set("Content-Type", "application/json")
		from, err1 := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
		to, err2 := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
		if err1 != nil || err2 != nil {
			fmt.Fprintf(w, `{"requests":%d}`, s.requests.Load())
			return
		}
		fmt.Fprintf(w, `{"requests":%d,"between":%d}`, s.requests.Load(), s.between(from, to))
		return
	}
	s.requests.Add(1)
	s.tick()
	role := s.role(r)
	switch {
	case r.URL.Path == "/":
		page(w, "home", []int{0}, s.n)
	case r.URL.Path == "/me":
		if role == "anonymous" {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "signed in as %s", role)
	case r.URL.Path == "/login" && r.Method == http.MethodPost:
		if r.FormValue("username") == "editor" && r.FormValue("password") == editorPassword {
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: editorSession, Path: "/", HttpOnly: true})
			http.Redirect(w, r, "/me", http.StatusSeeOther)
			return
		}
		http.Error(w, "wrong password", http.StatusForbidden)
	case r.URL.Path == "/login":
		fmt.Fprint(w, `<!doctype html><form method="post" action="/login"><input name="username"><input type="password" name="password"><button>Sign in</button></form>`)
	case strings.HasPrefix(r.URL.Path, "/e/"):
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/e/"))
		missing := err != nil || i < 0 || i >= s.n
		if missing && (role == "reader" || role == "admin") {
			http.NotFound(w, r)
			return
		}
		// Authorisation before existence: a role that may not read every
		// endpoint is told "no" alike for a missing one, so existence
		// canaries find no oracle.
		if missing || !allowed(role, i) {
			if role == "anonymous" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="bench"`)
				http.Error(w, "sign in", http.StatusUnauthorized)
				return
			}
			http.Error(w, "not yours", http.StatusForbidden)
			return
		}
		page(w, "endpoint "+strconv.Itoa(i), []int{2*i + 1, 2*i + 2}, s.n)
	default:
		http.NotFound(w, r)
	}
}

func page(w http.ResponseWriter, title string, links []int, n int) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html><title>%s</title><h1>%s</h1><ul>", title, title)
	for _, l := range links {
		if l < n {
			fmt.Fprintf(&b, `<li><a href="/e/%d">endpoint %d</a></li>`, l, l)
		}
	}
	b.WriteString("</ul>")
	fmt.Fprint(w, b.String())
}

func writeConfig(path, target string, n int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "target: %s\nlogin_url: /login\n", target)
	b.WriteString("scope:\n  exclude: [\"/__stats\"]\n")
	b.WriteString("crawl:\n  max_depth: 64\n  max_requests: 10000000\n  max_per_template: 1000000\n  max_probes: 100000000\n  concurrency: 8\n")
	b.WriteString("roles:\n")
	for _, r := range []string{"reader", "auditor", "admin"} {
		fmt.Fprintf(&b, "  %s:\n    login: {bearer: %q}\n    check: {url: /me, contains: \"signed in as %s\"}\n", r, roleTokens[r], r)
	}
	fmt.Fprintf(&b, "  editor:\n    login:\n      form: {url: /login, fields: {username: editor, password: %q}}\n    check: {url: /me, contains: \"signed in as editor\"}\n", editorPassword)
	b.WriteString("matrix:\n  default: deny\n  rules:\n")
	b.WriteString("    - {match: [\"GET /\", \"GET /login\"], allow: [\"*\"]}\n")
	b.WriteString("    - {match: \"GET /me\", allow: [reader, editor, auditor, admin]}\n")
	for i := range n {
		var allow []string
		for _, r := range roles {
			if allowed(r, i) {
				allow = append(allow, r)
			}
		}
		fmt.Fprintf(&b, "    - {match: \"GET /e/%d\", allow: [%s]}\n", i, strings.Join(allow, ", "))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func writeTruth(path string, n int) error {
	truth := map[string]map[string]int{}
	for _, r := range roles {
		m := map[string]int{}
		for i := range n {
			switch {
			case allowed(r, i):
				m["/e/"+strconv.Itoa(i)] = 200
			case r == "anonymous":
				m["/e/"+strconv.Itoa(i)] = 401
			default:
				m["/e/"+strconv.Itoa(i)] = 403
			}
		}
		truth[r] = m
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return json.NewEncoder(f).Encode(truth)
}

func main() {
	n := flag.Int("n", 2000, "number of endpoints /e/{i}")
	config := flag.String("config", "", "write the permaudit configuration here")
	truth := flag.String("truth", "", "write the truth (role -> path -> status) here")
	flag.Parse()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	target := "http://" + ln.Addr().String()
	if *config != "" {
		if err := writeConfig(*config, target, *n); err != nil {
			log.Fatal(err)
		}
	}
	if *truth != "" {
		if err := writeTruth(*truth, *n); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(target)
	log.Fatal(http.Serve(ln, &server{n: *n, start: time.Now().UnixMilli(), perMS: make([]atomic.Int32, timelineMS)}))
}
