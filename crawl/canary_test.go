package crawl

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/crawl/crawltest"
	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
)

func TestCanaryID(t *testing.T) {
	tests := []struct {
		id   string
		want func(string) bool
	}{
		{"17", func(s string) bool { return len(s) == 9 && s[0] == '9' && model.IDKind(s) == model.IDNumber }},
		{"123456789012", func(s string) bool { return len(s) == 12 && s[0] == '9' && model.IDKind(s) == model.IDNumber }},
		{"1234567890123456789", func(s string) bool { return len(s) == 19 && s[0] == '1' }},
		{"550e8400-e29b-41d4-a716-446655440000", func(s string) bool { return model.IDKind(s) == model.IDUUID && s == strings.ToLower(s) && s[14] == '4' }},
		{"550E8400-E29B-41D4-A716-446655440000", func(s string) bool { return model.IDKind(s) == model.IDUUID && s == strings.ToUpper(s) }},
		{"deadbeef01", func(s string) bool { return len(s) == 10 && model.IDKind(s) == model.IDHex && s == strings.ToLower(s) }},
		{"ab12cd34ef56gh7", func(s string) bool { return len(s) == 15 && s == strings.ToLower(s) }},
		{"Ab12Cd34Ef56Gh7", func(s string) bool { return len(s) == 15 && model.IDKind(s) == model.IDToken }},
		{"AB12CD34EF56GH7", func(s string) bool { return len(s) == 15 && s == strings.ToUpper(s) }},
	}
	for _, tt := range tests {
		a, b := canaryID(tt.id, "GET /x/{id}", 1), canaryID(tt.id, "GET /x/{id}", 2)
		for _, c := range []string{a, b} {
			if !tt.want(c) || !model.IsID(c) {
				t.Errorf("canaryID(%q) = %q: not an id of its kind", tt.id, c)
			}
		}
		if a == b || a == tt.id {
			t.Errorf("canaryID(%q): %q and %q: want two new ids", tt.id, a, b)
		}
		if again := canaryID(tt.id, "GET /x/{id}", 1); again != a {
			t.Errorf("canaryID(%q) is not derived: %q then %q", tt.id, a, again)
		}
		if other := canaryID(tt.id, "GET /y/{id}", 1); other == a {
			t.Errorf("canaryID(%q): the same canary for two templates", tt.id)
		}
	}
}

func TestCanaryURL(t *testing.T) {
	tests := []struct{ raw, keep string }{
		{"http://h/users/7/orders/12?page=3", "http://h/users/7/orders/9"},
		// year is not an identifier (judge.CountKey): the id changes.
		{"http://h/report?id=42&year=2024&x=y", "http://h/report?id=9"},
	}
	for _, tt := range tests {
		u0, _ := url.Parse(tt.raw)
		tg, ok := judge.CanaryTarget(nil, "GET", u0, "r", nil, 0)
		if !ok {
			t.Errorf("CanaryTarget(%q): none", tt.raw)
			continue
		}
		u, ok := canaryURL(tt.raw, tg, tg.Group, 1)
		if !ok || !strings.HasPrefix(u.String(), tt.keep) {
			t.Errorf("canaryURL(%q) = %v %v, want a sibling starting %q", tt.raw, u, ok, tt.keep)
			continue
		}
		if model.Template("GET", u.String()) != model.Template("GET", tt.raw) {
			t.Errorf("canary %s has another template than %s", u, tt.raw)
		}
	}
	u0, _ := url.Parse("http://h/about")
	if _, ok := judge.CanaryTarget(nil, "GET", u0, "r", nil, 0); ok {
		t.Errorf("a canary for a URL without id")
	}
}

func TestProbeAsksForCanaries(t *testing.T) {
	site := crawltest.NewSite([]crawltest.Route{
		{Path: "/notes/17", Allow: []string{crawltest.Admin}, Deny: crawltest.Deny404},
		{Path: "/notes/18", Allow: []string{crawltest.Admin}, Deny: crawltest.Deny404},
		{Path: "/public/5"},
		{Path: "/about"},
	})
	defer site.Close()
	cfg := parseConfig(t, site.URL, siteRoles+`
matrix:
  rules:
    - {match: "GET /notes/{id}", allow: [admin], deny_as: 404}
    - {match: "GET /public/{id}", allow: ["*"]}
    - {match: "GET /about", allow: ["*"]}
`)
	opts := testOptions(t, cfg)
	opts.Canaries = true
	var eps []model.Endpoint
	for _, p := range []string{"/notes/17", "/notes/18", "/public/5", "/about"} {
		eps = append(eps, model.Endpoint{Method: "GET", URL: site.URL + p})
	}
	obs, err := Probe(context.Background(), opts, eps)
	if err != nil {
		t.Fatal(err)
	}
	var canaries []string
	for i, o := range obs {
		if o.CanaryOf == "" {
			if len(canaries) > 0 {
				t.Errorf("observation %d (%s) after the canaries", i, o.URL)
			}
			continue
		}
		canaries = append(canaries, o.Role+" "+strings.TrimPrefix(o.URL, site.URL)+" of "+strings.TrimPrefix(o.CanaryOf, site.URL))
		if o.Class != model.Hidden {
			t.Errorf("canary %s as %s: %s", o.URL, o.Role, o.Class)
		}
	}
	// Two canaries of /notes/{id}, as the roles denied it; none for the
	// public template or a URL without id.
	if len(canaries) != 4 {
		t.Fatalf("canaries %q, want 2 siblings x (anonymous, user)", canaries)
	}
	for _, c := range canaries {
		if !strings.HasSuffix(c, " of /notes/17") || strings.HasPrefix(c, "admin") || !strings.Contains(c, " /notes/9") {
			t.Errorf("canary %q", c)
		}
	}
	if !slices.IsSortedFunc(obs[len(obs)-4:], func(a, b model.Observation) int { return strings.Compare(a.URL, b.URL) }) {
		t.Errorf("canaries not sorted by URL")
	}
	sent := 0
	for _, r := range site.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("sent %s %s", r.Method, r.URI)
		}
		if strings.HasPrefix(r.URI, "/notes/9") {
			sent++
		}
	}
	if sent != 4 {
		t.Errorf("%d canary requests reached the site, want 4", sent)
	}
	// Without Canaries, none.
	opts.Canaries = false
	obs, _ = Probe(context.Background(), opts, eps)
	if len(obs) != len(eps)*3 {
		t.Errorf("%d observations without canaries, want %d", len(obs), len(eps)*3)
	}
}
