package crawl

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
)

func TestProbeOrder(t *testing.T) {
	const o = "http://h"
	entry := func(u string, sources ...string) model.Entry {
		return model.Entry{Endpoint: model.Endpoint{Method: "GET", URL: o + u}, Template: model.Template("GET", o+u), Sources: sources}
	}
	inv := &model.Inventory{Entries: []model.Entry{
		entry("/a?sort=x", "link"), entry("/a?sort=y", "link"), entry("/a?sort=z", "link"),
		entry("/b/1", "link"), entry("/b/2", "link"), entry("/b/3", "link"),
		entry("/c", "link"),
		entry("/z/declared", "list"),
		entry("/y/start", "start"),
	}}
	var eps []model.Endpoint
	for _, e := range inv.Entries {
		eps = append(eps, e.Endpoint)
	}
	var got []string
	for _, e := range ProbeOrder(inv, eps) {
		got = append(got, strings.TrimPrefix(e.URL, o))
	}
	// Declared first (URL order); then one URL per template, the paths
	// taking turns (/a's three sort templates do not all come before /b
	// and /c); then the second URL of /b/{id}, then the third.
	want := []string{"/y/start", "/z/declared", "/a?sort=x", "/b/1", "/c", "/a?sort=y", "/a?sort=z", "/b/2", "/b/3"}
	if !slices.Equal(got, want) {
		t.Errorf("order\n got %q\nwant %q", got, want)
	}
}

func TestSpread(t *testing.T) {
	items := []fetchItem{
		{url: "http://h/a?p=1"}, {url: "http://h/a?p=2"}, {url: "http://h/a?p=3"},
		{url: "http://h/b"}, {url: "http://h/c/1"}, {url: "http://h/c/2"},
		{url: "http://h/robots.txt", kind: kindRobots},
	}
	var got []string
	for _, it := range spread(items) {
		got = append(got, strings.TrimPrefix(it.url, "http://h"))
	}
	want := []string{"/robots.txt", "/a?p=1", "/b", "/c/1", "/a?p=2", "/c/2", "/a?p=3"}
	if !slices.Equal(got, want) {
		t.Errorf("spread\n got %q\nwant %q", got, want)
	}
}

func TestQueryVariantsCap(t *testing.T) {
	v := newVariants(3)
	admit := func(raw string, exempt bool) bool {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return v.admit(model.Endpoint{Method: "GET", URL: raw}, u, exempt)
	}
	for _, tt := range []struct {
		url    string
		exempt bool
		want   bool
	}{
		{"http://h/list", false, true}, // no query: not a variant
		{"http://h/list?sort=a", false, true},
		{"http://h/list?sort=b", false, true},
		{"http://h/list?sort=c", false, true},
		{"http://h/list?sort=d", false, false},            // the path has its 3
		{"http://h/list?offset=2", false, true},           // a new set of keys: kept
		{"http://h/list?offset=3", false, false},          // a known set
		{"http://h/list?sort=e", true, true},              // declared
		{"http://h/list/7?sort=a", false, true},           // another path
		{"http://h/list?filter=x", false, true},           // third key set
		{"http://h/list?filter=x&offset=1", false, false}, // a fourth key set: over the cap of key sets too
	} {
		if got := admit(tt.url, tt.exempt); got != tt.want {
			t.Errorf("admit(%s, exempt=%v) = %v, want %v", tt.url, tt.exempt, got, tt.want)
		}
	}
	if len(v.cut) != 3 {
		t.Errorf("cut %d, want 3", len(v.cut))
	}
}

// TestFeedOrder: the endpoints go out by their first position in the
// caller's order, whatever the sorted order probe made the jobs in; an
// endpoint named twice is sent once, and one with no job (out of scope)
// is passed over.
func TestFeedOrder(t *testing.T) {
	ep := func(path string) model.Endpoint { return model.Endpoint{Method: "GET", URL: "http://h" + path} }
	jobs := &jobTable{}
	for _, p := range []string{"/a", "/b", "/c", "/d"} { // sorted, as probe makes them
		jobs.eps = append(jobs.eps, probeEndpoint{ep: ep(p)})
	}
	caller := []model.Endpoint{ep("/c"), ep("/out-of-scope"), ep("/a"), ep("/c"), ep("/d"), ep("/b")}
	got := feedOrder(caller, jobs)
	want := []int32{2, 0, 3, 1}
	if !slices.Equal(got, want) {
		t.Errorf("feed order %v, want %v", got, want)
	}
}
