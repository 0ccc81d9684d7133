package crawl

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestDiscoverBodyCap: the collector's callbacks read a page up to
// crawl.max_body and no further, whoever cuts it (the run's Transport,
// or colly for a client whose transport does not cut), and the cut is
// not silent: it is logged, and the run's Transport counts it. A page
// declaring another charset than UTF-8 is read after colly converted it
// (its é link is requested as UTF-8, as a browser would).
func TestDiscoverBodyCap(t *testing.T) {
	const maxBody = 2000
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<a href="/big">big</a> <a href="/latin">latin</a>`))
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<a href="/in">in</a>` + strings.Repeat(" ", maxBody) + `<a href="/past">past</a>`))
	})
	mux.HandleFunc("GET /latin", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		w.Write([]byte("<p>Caf\xe9 cr\xe8me</p><a href=\"/caf\xe9\">menu</a>"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, capped := range []bool{true, false} {
		name := "the Transport cuts"
		if !capped {
			name = "colly cuts"
		}
		t.Run(name, func(t *testing.T) {
			cfg := parseConfig(t, srv.URL, "crawl: {max_body: 2000}\n"+noMeta)
			var opts Options
			var tr *Transport
			if capped {
				tr = fastTransport(t, cfg)
				opts = auditOptions(t, cfg, tr)
			} else {
				opts = testOptions(t, cfg) // a client of its own: no body cap
			}
			var logs bytes.Buffer
			opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			inv, err := Discover(context.Background(), opts)
			if err != nil {
				t.Fatalf("Discover: %v", err)
			}
			var got []string
			for _, e := range inv.Entries {
				got = append(got, strings.TrimPrefix(e.URL, srv.URL))
			}
			want := []string{"/", "/big", "/caf%C3%A9", "/in", "/latin"}
			if !slices.Equal(got, want) {
				t.Errorf("found %v, want %v (nothing past the cap)", got, want)
			}
			if !strings.Contains(logs.String(), "crawl.max_body") || !strings.Contains(logs.String(), "/big") {
				t.Errorf("the cut of /big was not logged:\n%s", logs.String())
			}
			if capped {
				if n := tr.Stats().Truncated; n != 1 {
					t.Errorf("the Transport counted %d cut bodies, want 1 (/big)", n)
				}
			}
		})
	}
}
