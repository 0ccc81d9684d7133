package judge

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/judge/judgetest"
	"github.com/permaudit/permaudit/model"
)

// TestMergeEqualsJudgingTheWhole splits the shop's observations (every
// bug planted, canaries, a 401 without WWW-Authenticate, an unmapped
// template) by template into N shards for N = 1..6, judges each shard as a
// shard run, merges them, and compares with judging everything at once:
// cells, findings (cell and canary indexes included), notes (dead rules
// included: with more shards than templates, some shards judge nothing),
// counts, gate and coverage.
func TestMergeEqualsJudgingTheWhole(t *testing.T) {
	cfg := parseConfig(t, strings.Replace(testConfig, "default: deny", "default: unmapped", 1))
	obs := shop(true, true, true)
	obs = append(obs,
		ob("anonymous", "/members/", 401, model.Unauthenticated, "status 401"),
		ob("customer", "/members/", 200, model.Allowed, "status 200"),
		ob("admin", "/members/", 200, model.Allowed, "status 200"),
		ob("customer", "/unmapped/x", 200, model.Allowed, "status 200"),
	)
	for _, u := range []string{"/api/orders/900001", "/api/orders/900002"} {
		for _, r := range []string{"anonymous", "customer"} {
			c := ob(r, u, 404, model.Hidden, "status 404")
			c.CanaryOf = base + "/api/orders/18"
			obs = append(obs, c)
		}
	}
	for _, u := range []string{"/admin/users/900001", "/admin/users/900002"} { // another template's, listed first
		c := ob("customer", u, 403, model.Forbidden, "status 403")
		c.CanaryOf = base + "/admin/users/1"
		obs = append(obs, c)
	}
	sortObs(obs)
	newRun := func() *model.Run {
		run := shopRunUnjudged()
		for _, o := range obs {
			if o.CanaryOf == "" && !slices.ContainsFunc(run.Inventory.Entries, func(e model.Entry) bool { return e.Endpoint == o.Endpoint }) {
				run.Inventory.Entries = append(run.Inventory.Entries, model.Entry{Endpoint: o.Endpoint, Template: model.Template(o.Method, o.URL), FoundBy: []string{"admin"}, Sources: []string{"link"}})
			}
		}
		run.ConfigFingerprint = cfg.Fingerprint()
		run.InventoryDigest = model.InventoryDigest(&run.Inventory)
		return run
	}
	whole := newRun()
	Judge(whole, cfg, obs)
	if whole.Counts[model.Unmapped] == 0 || whole.Counts[model.DeadRule] == 0 || whole.Counts[model.MissingWWWAuth] == 0 || whole.Counts[model.ExistenceLeak] == 0 || whole.Counts[model.Leak] == 0 {
		t.Fatalf("the whole run lacks a verdict the test needs: %v", whole.Counts)
	}
	if !slices.ContainsFunc(whole.Findings, func(f model.Finding) bool { return f.Canary != nil && *f.Canary > 0 }) {
		t.Fatalf("no finding cites a canary after the first: %+v", whole.Findings)
	}

	var templates []string
	for _, o := range obs {
		if tpl := model.Template(o.Method, o.URL); !slices.Contains(templates, tpl) {
			templates = append(templates, tpl)
		}
	}
	for n := 1; n <= 6; n++ {
		var parts []Part
		for k := 1; k <= n; k++ {
			var mine []model.Observation
			for _, o := range obs {
				if slices.Index(templates, model.Template(o.Method, o.URL))%n == k-1 {
					mine = append(mine, o)
				}
			}
			run := newRun()
			run.RunID = "shard"
			run.Shard = &model.Shard{Index: k, Count: n}
			Judge(run, cfg, mine)
			parts = append(parts, Part{Name: "shard.json", Run: run})
		}
		slices.Reverse(parts) // the order given does not matter
		merged, err := Merge(parts)
		if err != nil {
			t.Fatalf("N=%d: %v", n, err)
		}
		for _, c := range []struct {
			what string
			a, b any
		}{
			{"cells", whole.Observations.Slice(), merged.Observations.Slice()},
			{"canaries", whole.Canaries, merged.Canaries},
			{"findings", whole.Findings, merged.Findings},
			{"notes", whole.Notes, merged.Notes},
			{"counts", whole.Counts, merged.Counts},
			{"gate", whole.Gate, merged.Gate},
			{"coverage", whole.Coverage, merged.Coverage},
		} {
			if !reflect.DeepEqual(c.a, c.b) {
				t.Errorf("N=%d: %s differ:\nwhole  %+v\nmerged %+v", n, c.what, c.a, c.b)
			}
		}
		if len(merged.Merged) != n || !merged.Complete || merged.Shard != nil {
			t.Errorf("N=%d: merged %+v, complete %v, shard %v", n, merged.Merged, merged.Complete, merged.Shard)
		}
	}
}

// TestMergeRefuses: each refusal names the files at fault.
func TestMergeRefuses(t *testing.T) {
	shard := func(k, n int, edit func(*model.Run)) *model.Run {
		r := shopRunUnjudged()
		r.Complete = true
		r.ConfigFingerprint, r.InventoryDigest = "sha256:c", "sha256:i"
		r.Shard = &model.Shard{Index: k, Count: n}
		if edit != nil {
			edit(r)
		}
		return r
	}
	cases := []struct {
		name  string
		parts []Part
		want  string
	}{
		{"none", nil, "no shard run"},
		{"not a shard", []Part{{"a.json", shard(1, 2, nil)}, {"run.json", shard(2, 2, func(r *model.Run) { r.Shard = nil })}}, "run.json is not a shard run"},
		{"missing", []Part{{"a.json", shard(1, 3, nil)}, {"c.json", shard(3, 3, nil)}}, "shard(s) 2/3 missing: merge needs the run of every shard of 3; given a.json (1/3), c.json (3/3)"},
		{"duplicate", []Part{{"a.json", shard(1, 2, nil)}, {"b.json", shard(1, 2, nil)}}, "a.json and b.json are both shard 1/2"},
		{"counts", []Part{{"a.json", shard(1, 2, nil)}, {"b.json", shard(2, 3, nil)}}, `a.json and b.json differ in shard count ("2" and "3")`},
		{"configuration", []Part{{"a.json", shard(1, 2, nil)}, {"b.json", shard(2, 2, func(r *model.Run) { r.ConfigFingerprint = "sha256:d" })}}, "differ in configuration fingerprint"},
		{"inventory", []Part{{"a.json", shard(1, 2, nil)}, {"b.json", shard(2, 2, func(r *model.Run) { r.InventoryDigest = "sha256:j" })}}, "a.json and b.json differ in inventory digest"},
		{"filters", []Part{{"a.json", shard(1, 2, nil)}, {"b.json", shard(2, 2, func(r *model.Run) { r.Filters.Only = []string{"GET /admin/**"} })}}, "differ in --only filter"},
		{"gate", []Part{{"a.json", shard(1, 2, nil)}, {"b.json", shard(2, 2, func(r *model.Run) { r.Gate.FailOn = []model.Verdict{model.Leak} })}}, "differ in gate (--fail-on)"},
		{"judged again", []Part{{"a.json", shard(1, 1, func(r *model.Run) { r.Rejudged = &model.Rejudged{} })}}, "a.json was judged again"},
		{"merged", []Part{{"m.json", shard(1, 1, func(r *model.Run) { r.Merged = []model.MergedShard{{}} })}}, "m.json is a merged run already"},
		{"no inventory", []Part{{"a.json", shard(1, 1, func(r *model.Run) { r.InventoryDigest = "" })}}, "a.json records no inventory digest"},
	}
	for _, tc := range cases {
		_, err := Merge(tc.parts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}

	// An incomplete shard makes the merged run incomplete, naming it.
	m, err := Merge([]Part{{"a.json", shard(1, 2, nil)}, {"b.json", shard(2, 2, func(r *model.Run) { r.Complete, r.Incomplete = false, "max duration 15m0s reached" })}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Complete || m.Incomplete != "shard 2/2: max duration 15m0s reached" {
		t.Errorf("merged complete %v, reason %q", m.Complete, m.Incomplete)
	}
}

func shopRunUnjudged() *model.Run { return judgetest.ShopRun() }

// sortObs orders observations as probing returns them: endpoint, then
// role order; canaries after, by URL then role order.
func sortObs(obs []model.Observation) {
	rank := map[string]int{"anonymous": 0, "customer": 1, "admin": 2}
	slices.SortStableFunc(obs, func(a, b model.Observation) int {
		if (a.CanaryOf != "") != (b.CanaryOf != "") {
			if a.CanaryOf == "" {
				return -1
			}
			return 1
		}
		if a.Endpoint != b.Endpoint {
			if a.Endpoint.Less(b.Endpoint) {
				return -1
			}
			return 1
		}
		return rank[a.Role] - rank[b.Role]
	})
}
