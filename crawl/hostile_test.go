package crawl

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/permaudit/permaudit/crawl/hostiletest"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

// hostileConfig bounds an audit of a hostile server: 60 pages per role,
// depth 4, 1 s per attempt, 64 KiB per body.
const hostileConfig = `crawl:
  max_depth: 4
  max_requests: 60
  concurrency: 4
  timeout: 1s
  max_body: 65536
roles:
  user:
    login:
      bearer: "${ADMIN_TOKEN}"
`

// fastTransport is the transport of cfg, as the audit command makes it,
// with backoffs and pauses shortened for tests.
func fastTransport(t *testing.T, cfg *roles.Config) *Transport {
	t.Helper()
	o := TransportOptionsFor(cfg)
	o.RetryBase, o.RetryMax = time.Millisecond, 5*time.Millisecond
	o.PauseBase, o.PauseMax = 5*time.Millisecond, 40*time.Millisecond
	return newTransport(t, o)
}

// auditOptions builds the options of an audit of cfg through tr.
func auditOptions(t *testing.T, cfg *roles.Config, tr *Transport) Options {
	t.Helper()
	scope, err := NewScope(cfg)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Config: cfg, Scope: scope, Clients: map[string]*http.Client{}}
	for _, r := range cfg.Roles {
		s := session.NewSession(r)
		opts.Sessions = append(opts.Sessions, s)
		opts.Clients[r.Name] = NewClient(scope, s, ClientOptions{Transport: tr, UserAgent: "permaudit-test"})
	}
	return opts
}

// TestHostileServer discovers and probes the hostile server as two
// roles. The audit must end within its bounds, never request the other
// origin, keep discovery within max_requests, record every hostile route
// as the truth in hostiletest.Routes says (errors with their reason, cut
// bodies marked), and give a run that encodes as valid JSON.
func TestHostileServer(t *testing.T) {
	srv := hostiletest.New(hostiletest.Options{})
	defer srv.Close()
	cfg := parseConfig(t, srv.URL, hostileConfig)
	tr := fastTransport(t, cfg)
	opts := auditOptions(t, cfg, tr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()

	inv, err := Discover(ctx, opts)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	for role, n := range inv.Pages {
		if n > 60 {
			t.Errorf("role %s fetched %d pages, over max_requests 60", role, n)
		}
	}
	discovered := srv.Total()
	obs, err := Probe(ctx, opts, SendableEndpoints(opts.Scope, inv))
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	took := time.Since(start)
	t.Logf("%d endpoints, %d observations, %d requests in %v; stats %+v\n%s", len(inv.Entries), len(obs), srv.Total(), took, tr.Stats(), srv.Counts())
	if took > 30*time.Second {
		t.Errorf("the audit took %v", took)
	}
	if n := srv.OtherCount(); n != 0 {
		t.Errorf("the other origin got %d requests", n)
	}

	// Every probe costs at most 1 + 3 retries per hop.
	budget := discovered
	for _, o := range obs {
		budget += 4 * max(1, len(o.Chain))
	}
	if total := srv.Total(); total > budget {
		t.Errorf("the server got %d requests, more than the bound %d", total, budget)
	}

	byPath := map[string][]model.Observation{}
	for _, o := range obs {
		p := strings.TrimPrefix(o.URL, srv.URL)
		byPath[p] = append(byPath[p], o)
		if !utf8.ValidString(o.Excerpt) || !utf8.ValidString(o.Err) {
			t.Errorf("%s as %s: invalid UTF-8 in excerpt or error", o.URL, o.Role)
		}
		if o.Size > 65536 {
			t.Errorf("%s as %s: %d bytes kept, over max_body", o.URL, o.Role, o.Size)
		}
	}
	for _, rt := range hostiletest.Routes() {
		got := byPath[rt.Path]
		if len(got) != 2 {
			t.Errorf("%s: %d observations, want one per role", rt.Path, len(got))
			continue
		}
		for _, o := range got {
			why := o.Why + " " + o.Err
			if string(o.Class) != rt.Want || !strings.Contains(why, rt.Why) || o.Truncated != rt.Truncated {
				t.Errorf("%s as %s: %s %q (error %q) truncated %v; want %s %q truncated %v",
					rt.Path, o.Role, o.Class, o.Why, o.Err, o.Truncated, rt.Want, rt.Why, rt.Truncated)
			}
			if o.Class == model.Error && o.Err == "" && o.Why == "" {
				t.Errorf("%s as %s: an error without a reason", rt.Path, o.Role)
			}
		}
	}
	// Links in malformed HTML, invalid UTF-8 and wrong types are still found.
	for _, p := range []string{"/from-malformed", "/ok2", "/ok"} {
		if len(byPath[p]) == 0 {
			t.Errorf("%s was not discovered", p)
		}
	}
	if _, err := json.Marshal(struct {
		I *model.Inventory
		O []model.Observation
	}{inv, obs}); err != nil {
		t.Errorf("the results do not encode as JSON: %v", err)
	}
}

// TestFlakyServerRecovers audits, with one worker, a server that answers
// 500 to its first 10 requests. The truth, request by request: "/" is
// tried 4 times and fails; "/a" fails 4 times; "/b" fails twice more,
// then the server has recovered; everything after succeeds. 16 requests
// in all, 8 of them retries; three URLs failed, below the 5 that pause a
// host (each is given up after its own retries); every probe (all after
// the recovery) is allowed.
func TestFlakyServerRecovers(t *testing.T) {
	srv := hostiletest.NewFlaky(10)
	defer srv.Close()
	cfg := parseConfig(t, srv.URL, "crawl: {start: [/, /a, /b, /c], concurrency: 1, max_depth: 0}\nsources: {robots: false, sitemap: false}\n")
	tr := fastTransport(t, cfg)
	opts := auditOptions(t, cfg, tr)
	inv, err := Discover(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := Probe(context.Background(), opts, SendableEndpoints(opts.Scope, inv))
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests(); n != 16 {
		t.Errorf("the server got %d requests, want 16", n)
	}
	if s := tr.Stats(); s.Requests != 16 || s.Retries != 8 || s.Pauses != 0 {
		t.Errorf("stats %+v, want 16 requests, 8 retries, no pause", s)
	}
	if len(obs) != 4 {
		t.Fatalf("%d observations, want 4", len(obs))
	}
	for _, o := range obs {
		if o.Class != model.Allowed || o.Status != 200 {
			t.Errorf("%s: %s %d, want allowed 200 after the recovery", o.URL, o.Class, o.Status)
		}
	}
}
