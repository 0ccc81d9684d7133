package judge

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/permaudit/permaudit/model"
)

// Part is one shard run to merge, with the name errors call it by (its
// file).
type Part struct {
	Name string
	Run  *model.Run
}

// Merge joins the runs of the N shards of one inventory (permaudit audit
// --shard K/N) into the run an unsharded audit of that inventory would
// have made, without the configuration and without a request.
//
// Every cell was decided on its own, and a template's cells, canaries and
// notes (unmapped, missing WWW-Authenticate) were judged within the one
// shard that probed it, so they are kept as judged; what needs the whole
// is judged again over the whole: a rule is dead when no cell of any shard
// matched it (each shard lists the rules its own cells left unmatched, so
// the merged run keeps those every shard lists), and the order of cells,
// findings and notes, the counts, the gate and the coverage are those of
// the joined cells. The merged run is incomplete when any shard was.
//
// Merge refuses parts that are not shard runs, shards of different counts,
// a missing or duplicate shard, and runs of different configurations,
// inventories, targets, filters or gates; each error names the parts.
func Merge(parts []Part) (*model.Run, error) {
	if err := checkParts(parts); err != nil {
		return nil, err
	}
	parts = slices.Clone(parts)
	sort.Slice(parts, func(i, j int) bool { return parts[i].Run.Shard.Index < parts[j].Run.Shard.Index })
	first := parts[0].Run
	run := &model.Run{
		Schema:            first.Schema,
		Tool:              first.Tool,
		RunIDHeader:       first.RunIDHeader,
		Target:            first.Target,
		ConfigFile:        first.ConfigFile,
		ConfigFingerprint: first.ConfigFingerprint,
		Filters:           first.Filters,
		Gate:              model.Gate{FailOn: slices.Clone(first.Gate.FailOn)},
		Rules:             first.Rules,
		InventoryDigest:   first.InventoryDigest,
		Complete:          true,
		Traffic:           &model.Stats{},
	}
	j := &judgement{run: run, roleRank: map[string]int{}}
	var names []string
	for i, r := range first.Roles {
		j.roleRank[r.Name] = i
		names = append(names, r.Name)
	}
	var ids, reasons []string
	for _, p := range parts {
		r := p.Run
		ids = append(ids, r.RunID)
		if run.Started.IsZero() || r.Started.Before(run.Started) {
			run.Started = r.Started
		}
		if r.Finished.After(run.Finished) {
			run.Finished = r.Finished
		}
		if !r.Complete {
			run.Complete = false
			reasons = append(reasons, fmt.Sprintf("shard %s: %s", r.Shard, r.Incomplete))
		}
		if t := r.Traffic; t != nil {
			run.Traffic.Requests += t.Requests
			run.Traffic.Retries += t.Retries
			run.Traffic.Pauses += t.Pauses
			run.Traffic.Paused += t.Paused
			run.Traffic.Refused += t.Refused
			run.Traffic.Truncated += t.Truncated
		}
		run.Merged = append(run.Merged, model.MergedShard{
			Shard: *r.Shard, File: p.Name, RunID: r.RunID, Started: r.Started, Duration: r.Duration,
			Complete: r.Complete, Incomplete: r.Incomplete,
		})
	}
	run.RunID = strings.Join(ids, "+")
	run.Incomplete = strings.Join(reasons, "; ")
	run.Duration = run.Finished.Sub(run.Started)
	run.Roles = mergeRoles(parts)
	run.Inventory = mergeInventory(parts)

	// Cells and canaries in the order an unsharded audit lists them:
	// endpoint, then role order; canaries by URL, then role order.
	type ref struct{ part, i int }
	type cellRef struct {
		ref
		ep   model.Endpoint
		role string
	}
	var cells []cellRef
	var canaries []ref
	for pi, p := range parts {
		for i, c := range p.Run.Observations.All() {
			cells = append(cells, cellRef{ref{pi, i}, c.Endpoint, c.Role})
		}
		for i := range p.Run.Canaries {
			canaries = append(canaries, ref{pi, i})
		}
	}
	sort.SliceStable(cells, func(a, b int) bool {
		x, y := &cells[a], &cells[b]
		if x.ep != y.ep {
			return x.ep.Less(y.ep)
		}
		return j.roleLess(x.role, y.role)
	})
	sort.SliceStable(canaries, func(a, b int) bool {
		x, y := parts[canaries[a].part].Run.Canaries[canaries[a].i], parts[canaries[b].part].Run.Canaries[canaries[b].i]
		if x.URL != y.URL {
			return x.URL < y.URL
		}
		return j.roleRank[x.Role] < j.roleRank[y.Role]
	})
	cellAt := make([]map[int]int, len(parts))
	canaryAt := make([]map[int]int, len(parts))
	for pi := range parts {
		cellAt[pi], canaryAt[pi] = map[int]int{}, map[int]int{}
	}
	run.Observations = model.NewCells(0)
	for n, c := range cells {
		run.Observations.Append(parts[c.part].Run.Observations.At(c.i))
		cellAt[c.part][c.i] = n
	}
	for n, c := range canaries {
		run.Canaries = append(run.Canaries, parts[c.part].Run.Canaries[c.i])
		canaryAt[c.part][c.i] = n
	}

	run.Findings, run.Notes = []model.Finding{}, []model.Finding{}
	dead := deadEverywhere(parts)
	deadSeen := map[string]bool{}
	for pi, p := range parts {
		move := func(f model.Finding) model.Finding {
			if f.Cell >= 0 {
				f.Cell = cellAt[pi][f.Cell]
			}
			if f.Canary != nil {
				c := canaryAt[pi][*f.Canary]
				f.Canary = &c
			}
			f.Baseline, f.BaselineReason, f.BaselineExpires = "", "", ""
			return f
		}
		for _, f := range p.Run.Findings {
			run.Findings = append(run.Findings, move(f))
		}
		for _, f := range p.Run.Notes {
			if f.Verdict == model.DeadRule {
				if dead[f.Fingerprint] && !deadSeen[f.Fingerprint] {
					deadSeen[f.Fingerprint] = true
					run.Notes = append(run.Notes, f)
				}
				continue
			}
			run.Notes = append(run.Notes, move(f))
		}
	}
	j.sort()
	j.count()
	run.Coverage = coverageOf(run, names)
	return run, nil
}

// checkParts refuses what cannot be merged, naming the parts.
func checkParts(parts []Part) error {
	if len(parts) == 0 {
		return errors.New("no shard run to merge")
	}
	for _, p := range parts {
		r := p.Run
		switch {
		case r.Shard == nil:
			return fmt.Errorf("%s is not a shard run (it records no shard): merge joins the runs of permaudit audit --shard K/N --inventory FILE", p.Name)
		case r.Merged != nil:
			return fmt.Errorf("%s is a merged run already: merge the shard runs themselves", p.Name)
		case r.Rejudged != nil || r.Baseline != nil:
			return fmt.Errorf("%s was judged again (report -c or --baseline): merge the shard runs as the audits wrote them, then judge the merged run (permaudit report merged.json -c ... --baseline ...)", p.Name)
		}
	}
	first := parts[0]
	n := first.Run.Shard.Count
	byIndex := map[int]string{}
	for _, p := range parts {
		r := p.Run
		same := []struct {
			what string
			a, b string
		}{
			{"shard count", fmt.Sprint(first.Run.Shard.Count), fmt.Sprint(r.Shard.Count)},
			{"schema", first.Run.Schema, r.Schema},
			{"configuration fingerprint", first.Run.ConfigFingerprint, r.ConfigFingerprint},
			{"inventory digest", first.Run.InventoryDigest, r.InventoryDigest},
			{"target", first.Run.Target, r.Target},
			{"--role filter", strings.Join(first.Run.Filters.Roles, ","), strings.Join(r.Filters.Roles, ",")},
			{"--only filter", strings.Join(first.Run.Filters.Only, " "), strings.Join(r.Filters.Only, " ")},
			{"gate (--fail-on)", verdictList(first.Run.Gate.FailOn), verdictList(r.Gate.FailOn)},
			{"roles", roleNames(first.Run), roleNames(r)},
		}
		for _, s := range same {
			if s.a != s.b {
				return fmt.Errorf("%s and %s differ in %s (%q and %q): merge joins the shards of one audit, run with the same configuration, inventory and flags",
					first.Name, p.Name, s.what, s.a, s.b)
			}
		}
		if prev, ok := byIndex[r.Shard.Index]; ok {
			return fmt.Errorf("%s and %s are both shard %s: give each shard's run once", prev, p.Name, r.Shard)
		}
		byIndex[r.Shard.Index] = p.Name
	}
	var missing []string
	for k := 1; k <= n; k++ {
		if _, ok := byIndex[k]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", k, n))
		}
	}
	if len(missing) > 0 {
		var given []string
		for _, p := range parts {
			given = append(given, fmt.Sprintf("%s (%s)", p.Name, p.Run.Shard))
		}
		return fmt.Errorf("shard(s) %s missing: merge needs the run of every shard of %d; given %s", strings.Join(missing, ", "), n, strings.Join(given, ", "))
	}
	if first.Run.InventoryDigest == "" {
		return fmt.Errorf("%s records no inventory digest: shards must probe a saved inventory (--inventory)", first.Name)
	}
	return nil
}

func verdictList(vs []model.Verdict) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ",")
}

func roleNames(r *model.Run) string {
	var s []string
	for _, ri := range r.Roles {
		s = append(s, ri.Name)
	}
	return strings.Join(s, ",")
}

// deadEverywhere returns the fingerprints of the dead-rule notes of every
// part that judged any cell: the rules no cell of the whole matched. A
// part with no cell judged none (Judge cannot tell a dead rule from an
// empty slice) and has no say.
func deadEverywhere(parts []Part) map[string]bool {
	var out map[string]bool
	for _, p := range parts {
		if p.Run.Observations.Len() == 0 {
			continue
		}
		mine := map[string]bool{}
		for _, f := range p.Run.Notes {
			if f.Verdict == model.DeadRule && (out == nil || out[f.Fingerprint]) {
				mine[f.Fingerprint] = true
			}
		}
		out = mine
	}
	return out
}

// mergeRoles adds up what happened to each role's sessions in every shard.
func mergeRoles(parts []Part) []model.RoleInfo {
	out := slices.Clone(parts[0].Run.Roles)
	for i := range out {
		out[i].SignIns, out[i].Renewals, out[i].Refreshes, out[i].Checks, out[i].SessionLost = 0, 0, 0, 0, 0
		out[i].SessionEnding = nil
		out[i].Vars = maps.Clone(out[i].Vars)
	}
	for _, p := range parts {
		for i, r := range p.Run.Roles {
			o := &out[i]
			o.SignIns += r.SignIns
			o.Renewals += r.Renewals
			o.Refreshes += r.Refreshes
			o.Checks += r.Checks
			o.SessionLost += r.SessionLost
			if o.SignInError == "" {
				o.SignInError = r.SignInError
			}
			if o.LostReason == "" {
				o.LostReason = r.LostReason
			}
			for _, u := range r.SessionEnding {
				if !slices.Contains(o.SessionEnding, u) {
					o.SessionEnding = append(o.SessionEnding, u)
				}
			}
		}
	}
	for i := range out {
		sort.Strings(out[i].SessionEnding)
	}
	return out
}

// mergeInventory is the shards' common inventory, with what any shard
// found it must skip.
func mergeInventory(parts []Part) model.Inventory {
	inv := parts[0].Run.Inventory
	inv.Skipped = nil
	seen := map[model.Skip]bool{}
	for _, p := range parts {
		for _, s := range p.Run.Inventory.Skipped {
			if !seen[s] {
				seen[s] = true
				inv.Skipped = append(inv.Skipped, s)
			}
		}
	}
	sort.SliceStable(inv.Skipped, func(i, j int) bool {
		a, b := inv.Skipped[i], inv.Skipped[j]
		if a.Endpoint != b.Endpoint {
			return a.Endpoint.Less(b.Endpoint)
		}
		return a.Reason < b.Reason
	})
	return inv
}
