package audit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/crawl"
	"github.com/permaudit/permaudit/internal/demoapp"
	"github.com/permaudit/permaudit/model"
)

func TestParseShard(t *testing.T) {
	cases := []struct {
		in   string
		want model.Shard
		ok   bool
	}{
		{"1/1", model.Shard{Index: 1, Count: 1}, true},
		{"2/4", model.Shard{Index: 2, Count: 4}, true},
		{" 3/3 ", model.Shard{Index: 3, Count: 3}, true},
		{"0/3", model.Shard{}, false},
		{"4/3", model.Shard{}, false},
		{"1/0", model.Shard{}, false},
		{"-1/3", model.Shard{}, false},
		{"2", model.Shard{}, false},
		{"a/b", model.Shard{}, false},
		{"1/1001", model.Shard{}, false},
	}
	for _, tc := range cases {
		got, err := ParseShard(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseShard(%q) = %+v, %v; want %+v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestSliceShard checks the assignment's promises: the N slices partition
// the endpoints, keep inventory order, never split a template, are the
// same on every call, and are balanced by endpoints.
func TestSliceShard(t *testing.T) {
	var eps []model.Endpoint
	add := func(method, format string, n int) {
		for i := range n {
			eps = append(eps, model.Endpoint{Method: method, URL: fmt.Sprintf(format, i+1)})
		}
	}
	add("GET", "https://app.test/orders/%d", 40)
	add("GET", "https://app.test/users/%d/profile", 25)
	for _, p := range []string{"/", "/about", "/help", "/search", "/admin", "/admin/users", "/api/health", "/login"} {
		eps = append(eps, model.Endpoint{Method: "GET", URL: "https://app.test" + p})
	}
	add("HEAD", "https://app.test/orders/%d", 10)
	slices.SortFunc(eps, func(a, b model.Endpoint) int {
		if a.Less(b) {
			return -1
		}
		if b.Less(a) {
			return 1
		}
		return 0
	})
	for _, n := range []int{1, 2, 3, 7, 100} {
		owner := map[string]int{}
		seen := map[model.Endpoint]int{}
		var sizes []int
		for k := 1; k <= n; k++ {
			s := model.Shard{Index: k, Count: n}
			got := sliceShard(eps, &s)
			again := model.Shard{Index: k, Count: n}
			if !slices.Equal(got, sliceShard(eps, &again)) {
				t.Errorf("%d/%d: another call gives another slice", k, n)
			}
			if s.Endpoints != len(got) {
				t.Errorf("%d/%d: counts %d endpoints, holds %d", k, n, s.Endpoints, len(got))
			}
			templates := map[string]bool{}
			for i, e := range got {
				seen[e]++
				tpl := model.Template(e.Method, e.URL)
				templates[tpl] = true
				if o, ok := owner[tpl]; ok && o != k {
					t.Errorf("%d/%d: template %s is split between shards %d and %d", k, n, tpl, o, k)
				}
				owner[tpl] = k
				if i > 0 && !got[i-1].Less(e) {
					t.Errorf("%d/%d: %s after %s: not in inventory order", k, n, e, got[i-1])
				}
			}
			if s.Templates != len(templates) {
				t.Errorf("%d/%d: counts %d templates, holds %d", k, n, s.Templates, len(templates))
			}
			sizes = append(sizes, len(got))
		}
		for _, e := range eps {
			if seen[e] != 1 {
				t.Errorf("N=%d: %s is in %d shards, want 1", n, e, seen[e])
			}
		}
		// The largest template (40 orders) bounds the balance.
		if n <= 3 && slices.Max(sizes)-slices.Min(sizes) > 40 {
			t.Errorf("N=%d: slices of %v endpoints", n, sizes)
		}
		if n == 2 && slices.Max(sizes) > 42 {
			t.Errorf("N=2: slices of %v endpoints, want the 83 split about evenly", sizes)
		}
	}
}

func TestShareLoad(t *testing.T) {
	o := crawl.TransportOptions{Rate: 50, HostRate: 9, Concurrency: 8}
	shareLoad(&o, 4)
	if o.Rate != 12.5 || o.HostRate != 2.25 || o.Concurrency != 2 {
		t.Errorf("shared by 4: rate %v, host rate %v, concurrency %d; want 12.5, 2.25, 2", o.Rate, o.HostRate, o.Concurrency)
	}
	o = crawl.TransportOptions{Rate: math.Inf(1), Concurrency: 2}
	shareLoad(&o, 3)
	if !math.IsInf(o.Rate, 1) || o.HostRate != 0 || o.Concurrency != 1 {
		t.Errorf("unlimited shared by 3: rate %v, host rate %v, concurrency %d; want +Inf, 0 (none), 1", o.Rate, o.HostRate, o.Concurrency)
	}
}

// TestAuditOfASavedInventory discovers the demo once (DiscoverOnly), then
// audits the saved inventory without discovering: the run probes it and
// records its digest; an inventory marked incomplete makes the run
// incomplete; an inventory of another target and a shard without an
// inventory are refused before anything is sent.
func TestAuditOfASavedInventory(t *testing.T) {
	cfg := demoConfig(t, demoapp.Bugs{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg, Options{RunID: "discover", DiscoverOnly: true})
	if err != nil {
		t.Fatalf("discover: %v", err)
	}
	inv := res.Inventory
	if res.Run != nil || inv == nil || !inv.Complete || inv.Schema != model.InventorySchema || len(inv.Inventory.Entries) == 0 || inv.Target != cfg.Target || inv.ConfigFingerprint != cfg.Fingerprint() {
		t.Fatalf("discover-only result: run %v, inventory %+v", res.Run, inv)
	}
	digest := model.InventoryDigest(&inv.Inventory)

	var discovered int
	res, err = Run(ctx, cfg, Options{RunID: "saved", Inventory: inv, Progress: func(p crawl.Progress) {
		if p.Phase == "discover" {
			discovered++
		}
	}})
	if err != nil {
		t.Fatalf("audit of the inventory: %v", err)
	}
	run := res.Run
	if !run.Complete || run.InventoryDigest != digest || run.Shard != nil || run.Observations.Len() == 0 || run.Gate.Failed {
		t.Errorf("audit of the saved inventory: complete %v (%s), digest %q (want %q), shard %v, %d cells, gate failed %v",
			run.Complete, run.Incomplete, run.InventoryDigest, digest, run.Shard, run.Observations.Len(), run.Gate.Failed)
	}
	if discovered > 0 {
		t.Errorf("the audit of a saved inventory made %d discovery request(s)", discovered)
	}
	if model.InventoryDigest(&inv.Inventory) != digest {
		t.Error("the audit changed the inventory it was given")
	}

	cut := *inv
	cut.Complete, cut.Incomplete = false, "max duration 1m0s reached"
	res, err = Run(ctx, cfg, Options{RunID: "cut", Inventory: &cut, Shard: model.Shard{Index: 1, Count: 2}})
	if err != nil {
		t.Fatalf("audit of a cut inventory: %v", err)
	}
	if run := res.Run; run.Complete || !strings.Contains(run.Incomplete, "the inventory is incomplete (max duration 1m0s reached)") || run.Shard == nil || *run.Shard == (model.Shard{}) {
		t.Errorf("audit of a cut inventory: complete %v, reason %q, shard %+v", run.Complete, run.Incomplete, run.Shard)
	}

	other := *inv
	other.Target = "https://elsewhere.test"
	for name, opts := range map[string]Options{
		"another target":           {Inventory: &other},
		"a shard, no inventory":    {Shard: model.Shard{Index: 1, Count: 2}},
		"discover, with inventory": {Inventory: inv, DiscoverOnly: true},
	} {
		_, err := Run(ctx, cfg, opts)
		var ae *Error
		if !errors.As(err, &ae) || ae.Kind != Usage {
			t.Errorf("%s: error %v, want a usage error", name, err)
		}
	}
}
