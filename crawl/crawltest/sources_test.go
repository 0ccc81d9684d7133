package crawltest

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"path"
	"strings"
	"testing"
)

func get(t *testing.T, site *SourcesSite, target, role string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", site.URL+target, nil)
	switch role {
	case User:
		req.SetBasicAuth(UserName, UserPassword)
	case Admin:
		req.Header.Set("Authorization", "Bearer "+AdminToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if len(body) > 1 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err == nil {
			body, _ = io.ReadAll(zr)
		}
	}
	return resp.StatusCode, string(body)
}

// TestSourcesSiteServesItsTable checks that the route table, the truth of
// the discovery tests, is what the site serves: every route answers the
// roles it allows and denies the others, and every Via names a reference
// the site really holds.
func TestSourcesSiteServesItsTable(t *testing.T) {
	site := NewSourcesSite()
	defer site.Close()
	docs := map[string]string{}
	for _, d := range []string{"/robots.txt", "/sitemap.xml", "/sitemap_index.xml.gz", "/sitemaps/pages.xml", "/openapi.json"} {
		_, docs[d] = get(t, site, d, Anonymous)
	}
	docs["har"] = string(site.HAR())
	docs["list"] = SourcesConfig("x.har", "")
	docs["sitemap"] = docs["/sitemap.xml"] + docs["/sitemaps/pages.xml"]
	if !strings.Contains(docs["/sitemap_index.xml.gz"], "/sitemaps/pages.xml") || !strings.Contains(docs["/robots.txt"], "/sitemap_index.xml.gz") {
		t.Errorf("robots.txt does not lead to the gzip sitemap index, or the index to its sitemap")
	}
	for _, r := range SourceRoutes() {
		if r.Method != "" && r.Method != http.MethodGet {
			continue
		}
		for _, role := range []string{Anonymous, User, Admin} {
			status, _ := get(t, site, r.Path, role)
			want := http.StatusOK
			if !r.Allows(role) {
				want = map[string]int{Anonymous: 401, User: 403, Admin: 403}[role]
			}
			if status != want {
				t.Errorf("GET %s as %s: %d, want %d", r.Path, role, status, want)
			}
		}
	}
	for _, r := range SourceRoutes() {
		p, _, _ := strings.Cut(r.Path, "?")
		last := path.Base(p)
		for _, v := range r.Via {
			var text string
			switch {
			case v.From != "":
				from, ok := site.Route("GET", v.From)
				if !ok {
					t.Errorf("%s: via %s from %s, which is no route", r.Path, v.Source, v.From)
					continue
				}
				role := Admin
				if !from.Allows(Admin) {
					role = Anonymous
				}
				_, text = get(t, site, v.From, role)
			case v.Source == "robots":
				text = docs["/robots.txt"]
			case v.Source == "openapi":
				text, last = docs["/openapi.json"], strings.SplitN(strings.TrimPrefix(p, "/api/v3/"), "/", 2)[0]
			case v.Source == "start":
				continue
			default:
				text = docs[v.Source]
			}
			if !strings.Contains(text, last) {
				t.Errorf("%s %s: via %s %s, which does not hold %q", r.Method, r.Path, v.Source, v.From, last)
			}
		}
	}
}

func TestDiscoverable(t *testing.T) {
	site := NewSourcesSite()
	defer site.Close()
	admin, user := site.Discoverable(Admin), site.Discoverable(User)
	if _, ok := admin["GET /admin/audit-log"]; !ok {
		t.Errorf("admin cannot discover /admin/audit-log")
	}
	if _, ok := user["GET /admin/audit-log"]; ok {
		t.Errorf("user can discover /admin/audit-log, linked only from the admin area")
	}
	if got := admin["GET /"]; strings.Join(got, ",") != "robots,start" {
		t.Errorf("sources of / = %v", got)
	}
	if _, ok := user["GET /api/v3/customers/"+StatusCustomerID+"/orders"]; ok {
		t.Errorf("user finds the orders filled for the roles without its variable")
	}
}
