package crawl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/permaudit/permaudit/crawl/crawltest"
	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
)

// existenceSite serves handle on 127.0.0.1 and logs the request URIs.
type existenceSite struct {
	*httptest.Server
	mu   sync.Mutex
	uris []string
}

func newExistenceSite(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, role string)) *existenceSite {
	t.Helper()
	s := &existenceSite{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.uris = append(s.uris, r.URL.RequestURI())
		s.mu.Unlock()
		handle(w, r, crawltest.Identify(r))
	}))
	t.Cleanup(s.Close)
	return s
}

// canaryURIs returns the URIs requested that are not among paths.
func (s *existenceSite) canaryURIs(paths []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	known := map[string]bool{}
	for _, p := range paths {
		known[p] = true
	}
	seen := map[string]bool{}
	var out []string
	for _, u := range s.uris {
		if !known[u] && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	sort.Strings(out)
	return out
}

// judgeProbe probes paths as every role of siteRoles with canaries and
// judges the observations with matrix.
func judgeProbe(t *testing.T, site *existenceSite, matrix string, paths []string) *model.Run {
	t.Helper()
	cfg := parseConfig(t, site.URL, siteRoles+matrix)
	opts := testOptions(t, cfg)
	opts.Canaries = true
	var eps []model.Endpoint
	for _, p := range paths {
		eps = append(eps, model.Endpoint{Method: "GET", URL: site.URL + p})
	}
	obs, err := Probe(context.Background(), opts, eps)
	if err != nil {
		t.Fatal(err)
	}
	run := &model.Run{Gate: model.Gate{FailOn: model.DefaultFailOn}}
	judge.Judge(run, cfg, obs)
	return run
}

func verdicts(fs []model.Finding, v model.Verdict) []string {
	var out []string
	for _, f := range fs {
		if f.Verdict == v {
			out = append(out, strings.TrimSpace(f.Role+" "+f.Template))
		}
	}
	return out
}

// lastSegment is the id a path ends with.
func lastSegment(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// A denial page that echoes a one-digit id, with "1.5" in its style and
// the id in a link, a query value and JSON, answers exactly like its
// missing siblings: no existence leak (issue 15, problem 1).
func TestCanaryIdenticalBodies(t *testing.T) {
	site := newExistenceSite(t, func(w http.ResponseWriter, r *http.Request, role string) {
		id := lastSegment(r.URL.Path)
		if role == crawltest.Admin && id == "5" {
			fmt.Fprint(w, "note five")
			return
		}
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `<html><head><style>p{line-height:1.5;margin:.5em;font-size:1.5rem}</style>
<script>var item = {"id": %[1]s, "ref": "%[1]s", "scale": 0.5};</script></head>
<body><p>Note %[1]s was not found (5 results, page 5 of 5).</p>
<a href="/notes/%[1]s/edit?id=%[1]s&amp;v=5">retry</a> <a href="/login?next=%%2Fnotes%%2F%[1]s">sign in</a>
<span title="order-5">v1.5</span></body></html>`, id)
	})
	run := judgeProbe(t, site, `
matrix:
  rules:
    - {match: "GET /notes/{id}", allow: [admin], deny_as: 404}
`, []string{"/notes/5"})
	if got := verdicts(run.Findings, model.ExistenceLeak); len(got) > 0 {
		t.Errorf("existence leaks %q on bodies identical but for the id:\n%s", got, run.Findings[0].Message)
	}
	if got := verdicts(run.Notes, model.ExistenceObservable); len(got) > 0 {
		t.Errorf("existence notes %q on bodies identical but for the id", got)
	}
	if len(run.Canaries) != 4 {
		t.Errorf("%d canaries, want 2 siblings x (anonymous, user)", len(run.Canaries))
	}
	for _, c := range run.Observations.All() {
		if c.Role != crawltest.Admin && (c.Missing == nil || c.Missing.Differs) {
			t.Errorf("%s as %s: body comparison %+v, want compared and alike", c.URL, c.Role, c.Missing)
		}
	}
}

// Nonces, request ids, times and counters that change on every request,
// and a session-bound nonce the cell does not share with its siblings
// (a renewal between them), are noise: no existence leak. A real
// difference in the message still counts, and the evidence shows it.
func TestCanaryNoise(t *testing.T) {
	var n atomic.Int64
	site := newExistenceSite(t, func(w http.ResponseWriter, r *http.Request, role string) {
		id := lastSegment(r.URL.Path)
		if role == crawltest.Admin {
			fmt.Fprint(w, "the note")
			return
		}
		k := n.Add(1)
		nonce := sha256.Sum256(fmt.Appendf(nil, "nonce %d", k))
		session := sha256.Sum256([]byte("session " + role + fmt.Sprint(strings.HasPrefix(id, "9"))))
		msg := "Not found"
		if strings.HasPrefix(r.URL.Path, "/secret/") && !strings.HasPrefix(id, "9") {
			msg = "This note is private"
		}
		w.WriteHeader(http.StatusNotFound)
		if strings.HasPrefix(r.URL.Path, "/notes/") {
			// Only a session-bound nonce, which the siblings share.
			fmt.Fprintf(w, `<html><body data-nonce="%s"><p>Not found</p></body></html>`, hex.EncodeToString(session[:5]))
			return
		}
		fmt.Fprintf(w, `<html><head><meta name="csrf-token" content="%[1]s"><script nonce="%[2]s">wp.nonce = "%[3]s";</script></head>
<body><form><input type="hidden" name="_wpnonce" value="%[3]s"></form><p>%[4]s</p>
<footer>request %[2]s at %[5]s, rendered in %[6]d ms, visit %[6]d</footer></body></html>`,
			hex.EncodeToString(nonce[:16]), hex.EncodeToString(nonce[:8]), hex.EncodeToString(session[:5]), msg,
			time.Now().UTC().Format(time.RFC3339Nano), k)
	})
	run := judgeProbe(t, site, `
matrix:
  rules:
    - {match: "GET /notes/{id}", allow: [admin], deny_as: 404}
    - {match: "GET /busy/{id}", allow: [admin], deny_as: 404}
    - {match: "GET /secret/{id}", allow: [admin], deny_as: 404}
`, []string{"/notes/17", "/busy/17", "/secret/17"})
	got := verdicts(run.Findings, model.ExistenceLeak)
	want := []string{"anonymous GET /secret/{id}", "user GET /secret/{id}"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("existence leaks %q, want %q", got, want)
	}
	for _, f := range run.Findings {
		if !strings.Contains(f.Message, `"This note is private" where the missing siblings have "Not found"`) {
			t.Errorf("message %q: want the normalised difference", f.Message)
		}
	}
}

// On a target that answers 404 to a missing id before it checks
// credentials, a rule with the default denial forms or deny_as: 403 gets
// a note per template that existence is observable, never a finding;
// only a rule that asks for hiding (deny_as: 404) gets existence leaks
// (issue 15, problem 1).
func TestCanaryNotesWhereHidingIsNotAsked(t *testing.T) {
	site := newExistenceSite(t, func(w http.ResponseWriter, r *http.Request, role string) {
		id := lastSegment(r.URL.Path)
		switch {
		case id != "1" && id != "2":
			http.NotFound(w, r)
		case role == crawltest.Anonymous:
			w.Header().Set("WWW-Authenticate", "Basic")
			w.WriteHeader(http.StatusUnauthorized)
		case role != crawltest.Admin:
			w.WriteHeader(http.StatusForbidden)
		default:
			fmt.Fprint(w, "the record")
		}
	})
	run := judgeProbe(t, site, `
matrix:
  rules:
    - {match: "GET /orders/{id}", allow: [admin]}
    - {match: "GET /invoices/{id}", allow: [admin], deny_as: 403}
    - {match: "GET /hidden/{id}", allow: [admin], deny_as: [401, 403]}
`, []string{"/orders/1", "/orders/2", "/invoices/1", "/hidden/1"})
	if got := verdicts(run.Findings, model.ExistenceLeak); len(got) > 0 {
		t.Errorf("existence leaks %q where the rules do not ask for hiding", got)
	}
	notes := verdicts(run.Notes, model.ExistenceObservable)
	want := []string{"GET /hidden/{id}", "GET /invoices/{id}", "GET /orders/{id}"}
	if strings.Join(notes, "|") != strings.Join(want, "|") {
		t.Errorf("notes %q, want one per template %q", notes, want)
	}
	for _, n := range run.Notes {
		if n.Verdict == model.ExistenceObservable && n.Template == "GET /orders/{id}" &&
			!strings.Contains(n.Message, "2 endpoints; roles: anonymous, user") {
			t.Errorf("note %q: want the endpoints and roles it covers", n.Message)
		}
	}
	if run.Gate.Failed {
		t.Errorf("the gate failed on notes: %+v", run.Findings)
	}
}

// A canary changes only a value that identifies a resource: never a
// limit, count, page or namespace (issue 16, problem 4).
func TestCanaryKeepsLimits(t *testing.T) {
	site := newExistenceSite(t, func(w http.ResponseWriter, r *http.Request, role string) {
		if role == crawltest.Admin {
			fmt.Fprint(w, "ok")
			return
		}
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "Sorry, you are not allowed")
	})
	paths := []string{
		"/api.php?action=query&list=recentchanges&rclimit=50&rcnamespace=0",
		"/api.php?action=query&list=deletedrevs&adrlimit=20&drlimit=10",
		"/index.php?title=Special:Log&limit=50&offset=20&ns=2&page=3",
		"/api.php?action=query&drlimit=10&oldid=12",
		"/blog/page/2",
	}
	judgeProbe(t, site, `
matrix:
  rules:
    - {match: "GET /**", allow: [admin]}
`, paths)
	got := site.canaryURIs(paths)
	if len(got) != 2 {
		t.Fatalf("canaries %q: want the two siblings of oldid=12 only", got)
	}
	for _, c := range got {
		q, _ := url.ParseQuery(strings.SplitN(c, "?", 2)[1])
		if q.Get("drlimit") != "10" || q.Get("oldid") == "12" || !strings.HasPrefix(q.Get("oldid"), "9") {
			t.Errorf("canary %s: want oldid changed and drlimit kept", c)
		}
	}
}

// A named resource (a project slug the rule names) gets missing
// siblings too, and where the rule asks for hiding, a real project that
// answers unlike a missing one is an existence leak (issue 16, problem 4).
func TestCanarySlug(t *testing.T) {
	site := newExistenceSite(t, func(w http.ResponseWriter, r *http.Request, role string) {
		slug := lastSegment(r.URL.Path)
		switch {
		case role == crawltest.Admin && (slug == "alpha" || slug == "beta"):
			fmt.Fprint(w, "project "+slug)
		case slug == "alpha" || slug == "beta":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, "Project %s is private: sign in with an account of the project", slug)
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, "No project %s", slug)
		}
	})
	run := judgeProbe(t, site, `
matrix:
  rules:
    - {match: "GET /projects/{project}", allow: [admin], deny_as: 404}
`, []string{"/projects/alpha"})
	got := site.canaryURIs([]string{"/projects/alpha"})
	if len(got) != 2 || !strings.HasPrefix(got[0], "/projects/alpha-permaudit-missing-") {
		t.Fatalf("canaries %q: want two derived slugs", got)
	}
	leaks := verdicts(run.Findings, model.ExistenceLeak)
	want := []string{"anonymous GET /projects/alpha", "user GET /projects/alpha"}
	if strings.Join(leaks, "|") != strings.Join(want, "|") {
		t.Errorf("existence leaks %q, want %q", leaks, want)
	}
	for _, f := range run.Findings {
		if f.Fingerprint != model.Fingerprint(model.ExistenceLeak, "GET", "GET /projects/alpha", f.Role) {
			t.Errorf("fingerprint %s: not the template's", f.Fingerprint)
		}
	}
	// Without deny_as, one note for every slug of the pattern.
	run = judgeProbe(t, site, `
matrix:
  rules:
    - {match: "GET /projects/{project}", allow: [admin]}
`, []string{"/projects/alpha", "/projects/beta"})
	if got := verdicts(run.Findings, model.ExistenceLeak); len(got) > 0 {
		t.Errorf("existence leaks %q without deny_as: 404", got)
	}
	notes := verdicts(run.Notes, model.ExistenceObservable)
	if len(notes) != 1 || notes[0] != "GET /projects/{project}" {
		t.Errorf("notes %q, want one for GET /projects/{project}", notes)
	}
}
