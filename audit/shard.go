package audit

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/permaudit/permaudit/crawl"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// Sharding (README.md, "Shards"): an audit of a saved inventory
// may probe only shard K of N. The inventory's sendable endpoints are
// grouped by template, so that a template's existence canaries, its
// unmapped note and its baseline entries stay within one shard; the
// groups, largest first, each go to the shard with the fewest endpoints
// so far (the lowest index on a tie). The same inventory, configuration
// and flags give every shard the same assignment, wherever it runs.

// ParseShard reads --shard K/N: 1 <= K <= N.
func ParseShard(s string) (model.Shard, error) {
	k, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	ki, err1 := strconv.Atoi(k)
	ni, err2 := strconv.Atoi(n)
	switch {
	case !ok || err1 != nil || err2 != nil:
		return model.Shard{}, fmt.Errorf("%q: want K/N, such as 2/4 (shard 2 of 4)", s)
	case ni < 1 || ni > 1000:
		return model.Shard{}, fmt.Errorf("%q: N must be 1 to 1000", s)
	case ki < 1 || ki > ni:
		return model.Shard{}, fmt.Errorf("%q: K must be 1 to N (%d)", s, ni)
	}
	return model.Shard{Index: ki, Count: ni}, nil
}

// checkInventory refuses what cannot be audited from a saved inventory:
// a shard without one, and an inventory of another target.
func checkInventory(cfg *roles.Config, opts Options) error {
	if opts.Shard.Count > 0 && opts.Inventory == nil {
		return errors.New("--shard needs --inventory: shards probe slices of one saved inventory (permaudit discover --out inventory.json), so that no shard discovers on its own")
	}
	if opts.Inventory == nil {
		return nil
	}
	if opts.DiscoverOnly {
		return errors.New("discover does not read an inventory")
	}
	a, err1 := url.Parse(opts.Inventory.Target)
	b, err2 := url.Parse(cfg.Target)
	if err1 != nil || err2 != nil || !model.SameOrigin(a, b) {
		return fmt.Errorf("the inventory was discovered on %s, and this audit's target is %s: discover again with this target, or audit with --target %s",
			opts.Inventory.Target, cfg.Target, opts.Inventory.Target)
	}
	return nil
}

// shareLoad divides the run's rate, per-host rate and requests in flight
// by the number of shards, so the target sees one audit's load, not N.
func shareLoad(o *crawl.TransportOptions, n int) {
	if n <= 1 {
		return
	}
	if o.Rate > 0 && !math.IsInf(o.Rate, 1) {
		o.Rate /= float64(n)
	}
	if o.HostRate > 0 && !math.IsInf(o.HostRate, 1) {
		o.HostRate /= float64(n)
	}
	if o.Concurrency > 0 {
		o.Concurrency = max(1, o.Concurrency/n)
	}
}

// sliceShard returns the endpoints of eps (in inventory order) that shard
// s probes, and fills s's counts.
func sliceShard(eps []model.Endpoint, s *model.Shard) []model.Endpoint {
	if s.Count <= 1 {
		s.Templates, s.Endpoints = countTemplates(eps), len(eps)
		return eps
	}
	type group struct {
		first, size int
		shard       int
	}
	var groups []*group
	byTemplate := map[string]*group{}
	keys := make([]string, len(eps))
	for i, e := range eps {
		t := model.Template(e.Method, e.URL)
		keys[i] = t
		g := byTemplate[t]
		if g == nil {
			g = &group{first: i}
			byTemplate[t] = g
			groups = append(groups, g)
		}
		g.size++
	}
	order := append([]*group(nil), groups...)
	sort.SliceStable(order, func(i, j int) bool { return order[i].size > order[j].size })
	load := make([]int, s.Count)
	for _, g := range order {
		best := 0
		for k := 1; k < s.Count; k++ {
			if load[k] < load[best] {
				best = k
			}
		}
		g.shard = best + 1
		load[best] += g.size
	}
	var out []model.Endpoint
	for i, e := range eps {
		if byTemplate[keys[i]].shard == s.Index {
			out = append(out, e)
		}
	}
	s.Endpoints = len(out)
	for _, g := range groups {
		if g.shard == s.Index {
			s.Templates++
		}
	}
	return out
}

func countTemplates(eps []model.Endpoint) int {
	seen := map[string]bool{}
	for _, e := range eps {
		seen[model.Template(e.Method, e.URL)] = true
	}
	return len(seen)
}

// fromInventory marks run incomplete when its saved inventory is: what
// discovery never reached may hold a leak.
func fromInventory(run *model.Run, f *model.InventoryFile) {
	if f == nil || f.Complete {
		return
	}
	why := "the inventory is incomplete"
	if f.Incomplete != "" {
		why += " (" + f.Incomplete + ")"
	}
	run.Complete = false
	if run.Incomplete == "" {
		run.Incomplete = why
	} else {
		run.Incomplete += "; " + why
	}
}

// discovered is the inventory file of a discover-only run. It is
// incomplete only when a signal or the maximum duration cut discovery
// short: a cap (max_requests) is recorded in the inventory's Cut, which
// every audit of it reports.
func (g *guard) discovered(run *model.Run, finished time.Time) *model.InventoryFile {
	complete, why := g.completeness(&model.Inventory{})
	return &model.InventoryFile{
		Schema:            model.InventorySchema,
		Tool:              run.Tool,
		RunID:             run.RunID,
		Target:            run.Target,
		Started:           run.Started,
		Finished:          finished,
		ConfigFile:        run.ConfigFile,
		ConfigFingerprint: run.ConfigFingerprint,
		Complete:          complete,
		Incomplete:        why,
		Inventory:         run.Inventory,
	}
}

// cloneInventory copies what an audit appends to (the skipped list), so
// that the caller's inventory stays as read.
func cloneInventory(inv *model.Inventory) *model.Inventory {
	c := *inv
	c.Skipped = slices.Clone(inv.Skipped)
	c.Entries = slices.Clone(inv.Entries)
	c.Pages = maps.Clone(inv.Pages)
	return &c
}
