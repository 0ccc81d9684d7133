package audit

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// treeSite is a small bench/scaleserver: /e/{i} links /e/{2i+1} and
// /e/{2i+2}; reader may read every one, auditor those with i%3 == 0,
// anonymous those with i%4 == 0; the others are told 403 (401 to
// anonymous). It counts every request.
type treeSite struct {
	n        int
	requests atomic.Int64
}

const (
	treeReader  = "tree-reader-token-0001"
	treeAuditor = "tree-auditor-token-0002"
)

func (s *treeSite) allowed(role string, i int) bool {
	switch role {
	case "reader":
		return true
	case "auditor":
		return i%3 == 0
	}
	return i%4 == 0
}

func (s *treeSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	role := "anonymous"
	switch r.Header.Get("Authorization") {
	case "Bearer " + treeReader:
		role = "reader"
	case "Bearer " + treeAuditor:
		role = "auditor"
	}
	switch {
	case r.URL.Path == "/":
		fmt.Fprint(w, `<!doctype html><a href="/e/0">start</a>`)
	case r.URL.Path == "/me":
		if role == "anonymous" {
			http.Error(w, "who?", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "signed in as "+role)
	case strings.HasPrefix(r.URL.Path, "/e/"):
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/e/"))
		if err != nil || i < 0 || i >= s.n || !s.allowed(role, i) {
			if role == "anonymous" {
				http.Error(w, "sign in", http.StatusUnauthorized)
				return
			}
			http.Error(w, "not yours", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>e%d</title>", i)
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < s.n {
				fmt.Fprintf(w, `<a href="/e/%d">e%d</a>`, c, c)
			}
		}
	default:
		http.NotFound(w, r)
	}
}

// TestOneRequestPerCell: an audit requests each cell once where once is
// enough (issue 12): what a role got while discovering, on the same
// session, is that cell's observation, and one check confirms many
// denials. Every cell is still right. The old code requested a cell seen
// in discovery again in the probe phase and checked the session after
// almost every denial: 1.6 requests per cell here.
func TestOneRequestPerCell(t *testing.T) {
	site := &treeSite{n: 120}
	srv := httptest.NewServer(site)
	defer srv.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "target: %s\nlogin_url: /login\ncrawl: {concurrency: 4, max_depth: 20, max_per_template: 1000}\nroles:\n", srv.URL)
	fmt.Fprintf(&b, "  reader: {login: {bearer: %q}, check: {url: /me, contains: signed in as reader}}\n", treeReader)
	fmt.Fprintf(&b, "  auditor: {login: {bearer: %q}, check: {url: /me, contains: signed in as auditor}}\n", treeAuditor)
	b.WriteString("matrix:\n  default: deny\n  rules:\n    - {match: \"GET /\", allow: [\"*\"]}\n")
	for i := range site.n {
		var allow []string
		for _, r := range []string{"anonymous", "reader", "auditor"} {
			if site.allowed(r, i) {
				allow = append(allow, r)
			}
		}
		fmt.Fprintf(&b, "    - {match: \"GET /e/%d\", allow: [%s]}\n", i, strings.Join(allow, ", "))
	}
	cfg, err := roles.Parse("tree.yaml", []byte(b.String()), roles.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg, Options{RunID: "tree", UserAgent: "permaudit-test"})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	run := res.Run
	cells := 0
	for _, o := range run.Observations.All() {
		if o.CanaryOf != "" {
			continue
		}
		cells++
		path := strings.TrimPrefix(o.URL, srv.URL)
		want := model.Allowed
		if i, err := strconv.Atoi(strings.TrimPrefix(path, "/e/")); err == nil && !site.allowed(o.Role, i) {
			want = model.Forbidden
			if o.Role == "anonymous" {
				want = model.Unauthenticated
			}
		}
		if o.Class != want {
			t.Errorf("GET %s as %s: %s (%s), the site says %s", path, o.Role, o.Class, o.Why, want)
		}
	}
	if want := 3 * (site.n + 1); cells != want {
		t.Errorf("%d cells, want %d", cells, want)
	}
	// Besides the cells: the preflight, two sign-ins' checks, the
	// canaries and a few batch checks.
	got := site.requests.Load()
	if max := int64(cells) * 11 / 10; got > max {
		t.Errorf("%d requests for %d cells (%.2f per cell), want at most %d (1.1 per cell)", got, cells, float64(got)/float64(cells), max)
	}
	if len(run.Findings) != 0 {
		t.Errorf("findings %+v, want none", run.Findings)
	}
}
