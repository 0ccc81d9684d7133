package crawl

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unsafe"

	"github.com/permaudit/permaudit/model"
)

// TestProbeKeepsOnlyEvidence: an allowed answer the matrix passes keeps
// no excerpt (run schema v2), while one that is a finding, or a denial
// (which the canaries may still make one), does; the digest without ids
// is kept only when it differs from the body's.
func TestProbeKeepsOnlyEvidence(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/denied":
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, "no access")
		case "/items/7":
			fmt.Fprint(w, "item 7")
		case "/items/8/x":
			fmt.Fprint(w, "an item")
		default:
			fmt.Fprint(w, "page "+strings.TrimPrefix(r.URL.Path, "/"))
		}
	}))
	defer srv.Close()
	cfg := parseConfig(t, srv.URL, `
roles:
  admin:
    login: {bearer: "${ADMIN_TOKEN}"}
matrix:
  rules:
    - match: "GET /ok"
      allow: [admin]
    - match: ["GET /secret", "GET /denied"]
      allow: []
    - match: "GET /items/{id}"
      allow: [admin]
    - match: "GET /items/{id}/x"
      allow: [admin]
`)
	opts := testOptions(t, cfg)
	opts.Sessions = opts.Sessions[1:] // admin only
	var eps []model.Endpoint
	for _, p := range []string{"/ok", "/secret", "/denied", "/items/7", "/items/8/x"} {
		eps = append(eps, model.Endpoint{Method: "GET", URL: srv.URL + p})
	}
	obs, err := Probe(context.Background(), opts, eps)
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	got := map[string]model.Observation{}
	for _, o := range obs {
		got[strings.TrimPrefix(o.URL, srv.URL)] = o
	}
	for path, want := range map[string]bool{"/ok": false, "/secret": true, "/denied": true, "/items/7": false} {
		if has := got[path].Excerpt != ""; has != want {
			t.Errorf("%s (%s): excerpt %q; want one: %v", path, got[path].Class, got[path].Excerpt, want)
		}
	}
	// One digest: the id-less one is no longer written (existence canaries
	// compare bodies as they are probed: Observation.Missing).
	for _, path := range []string{"/items/7", "/items/8/x"} {
		if o := got[path]; o.BodySHA256 == "" || o.BodySHA256WithoutIDs != "" {
			t.Errorf("%s: digests %q and %q; want only the body's", path, o.BodySHA256, o.BodySHA256WithoutIDs)
		}
	}
}

// TestProbeSharesRepeatedTexts: observations share one string for the
// texts they repeat (why, content type, a denial's excerpt and digest),
// not a copy each.
func TestProbeSharesRepeatedTexts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "no access")
	}))
	defer srv.Close()
	cfg := parseConfig(t, srv.URL, `
roles:
  admin:
    login: {bearer: "${ADMIN_TOKEN}"}
`)
	opts := testOptions(t, cfg)
	var eps []model.Endpoint
	for _, p := range []string{"/a", "/b", "/c"} {
		eps = append(eps, model.Endpoint{Method: "GET", URL: srv.URL + p})
	}
	obs, err := Probe(context.Background(), opts, eps)
	if err != nil || len(obs) < 2 {
		t.Fatalf("Probe: %d observations, %v", len(obs), err)
	}
	for _, o := range obs[1:] {
		if unsafe.StringData(o.Why) != unsafe.StringData(obs[0].Why) || unsafe.StringData(o.ContentType) != unsafe.StringData(obs[0].ContentType) ||
			unsafe.StringData(o.Excerpt) != unsafe.StringData(obs[0].Excerpt) || unsafe.StringData(o.BodySHA256) != unsafe.StringData(obs[0].BodySHA256) {
			t.Errorf("%s as %s: why %q, content type %q, excerpt %q or digest are copies of the first observation's", o.URL, o.Role, o.Why, o.ContentType, o.Excerpt)
		}
	}
}
