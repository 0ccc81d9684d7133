package judge

import (
	"fmt"
	"net/url"
	"slices"
	"sort"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// coverage computes the coverage of a judged run from its inventory and
// cells.
func coverage(run *model.Run, cfg *roles.Config) *model.Coverage {
	return coverageOf(run, cfg.RoleNames())
}

// coverageOf is coverage with the configuration's role names, in order.
func coverageOf(run *model.Run, names []string) *model.Coverage {
	inv := run.Inventory
	cov := &model.Coverage{Endpoints: len(inv.Entries), Roles: []model.RoleCoverage{}, Sources: map[string]int{}, Partial: []model.PartialEntry{}}
	byRole := map[string]*model.RoleCoverage{}
	for _, n := range names {
		cov.Roles = append(cov.Roles, model.RoleCoverage{Role: n, Pages: inv.Pages[n]})
	}
	for i := range cov.Roles {
		byRole[cov.Roles[i].Role] = &cov.Roles[i]
	}
	crawled := 0
	for _, n := range names {
		if _, ok := inv.Pages[n]; ok {
			crawled++
		}
	}
	probed := map[model.Endpoint]bool{}
	for _, c := range run.Observations.All() {
		probed[c.Endpoint] = true
		if rc := byRole[c.Role]; rc != nil {
			rc.Probed++
			if c.Class == model.Allowed {
				rc.Allowed++
			}
		}
	}
	for _, e := range inv.Entries {
		if probed[e.Endpoint] {
			cov.Probed++
		}
		for _, s := range e.Sources {
			cov.Sources[s]++
		}
		for _, r := range e.FoundBy {
			if rc := byRole[r]; rc != nil {
				rc.Found++
				if len(e.FoundBy) == 1 {
					rc.Only++
				}
			}
		}
		if len(e.FoundBy) < crawled {
			p := model.PartialEntry{Method: e.Method, URL: e.URL, Template: e.Template, FoundBy: slices.Clip(e.FoundBy)}
			sort.Strings(p.FoundBy)
			cov.Partial = append(cov.Partial, p)
		}
	}
	cov.NotProbed = cov.Endpoints - cov.Probed
	return cov
}

// deadRules adds a dead-rule note for each matrix rule that decided no
// observation (matched holds the Index of those that did), where the run
// can tell (docs/config.md, "Rule names"):
//
//   - a narrowed run (--role, --only) or one with no observation tells
//     nothing: it kept rules away;
//   - a complete run: every rule that decided nothing;
//   - an incomplete run whose discovery ran to its end (it stopped while
//     probing: max_probes, max_duration, an interrupt): a rule that decided
//     nothing and could decide none of the cells (inventory endpoint x
//     role) left unprobed, since the run reached every URL it could
//     apply to;
//   - an incomplete run whose discovery was cut (max_requests): only a
//     rule an earlier one fully covers (roles.Rule.Covers), which is dead
//     whatever the crawl finds.
//
// So a rule is never called dead because the run stopped before its URLs.
func deadRules(run *model.Run, cfg *roles.Config, matched map[int]bool, vars roles.Vars) {
	if run.Observations.Len() == 0 || len(run.Filters.Roles) > 0 || len(run.Filters.Only) > 0 {
		return
	}
	incomplete := run.Incomplete != ""
	discoveryCut := incomplete && run.Inventory.Cut.MaxRequests > 0
	var unreached map[int]bool // rules that could decide an unprobed cell
	if incomplete && !discoveryCut {
		unreached = unprobedRules(run, cfg, vars)
	}
	for ri := range cfg.Matrix.Rules {
		r := &cfg.Matrix.Rules[ri]
		if matched[r.Index] || unreached[r.Index] {
			continue
		}
		var cover *roles.Rule
		for e := range cfg.Matrix.Rules[:ri] {
			if cfg.Matrix.Rules[e].Covers(r) {
				cover = &cfg.Matrix.Rules[e]
				break
			}
		}
		if discoveryCut && cover == nil {
			continue
		}
		pats := make([]string, len(r.Match))
		for i, p := range r.Match {
			pats[i] = p.String()
		}
		msg := "rule " + ruleRef(r) + " matched no probed endpoint"
		if cover != nil {
			msg += fmt.Sprintf("; the earlier rule %s matches every request it could (first match wins), so it never applies", ruleRef(cover))
		} else if incomplete {
			msg += "; the run is incomplete, but it probed every endpoint it found that this rule could decide"
		}
		run.Notes = append(run.Notes, model.Finding{
			Verdict:     model.DeadRule,
			Severity:    model.Info,
			Rule:        r.Name(),
			Message:     msg,
			Fingerprint: model.DeadRuleFingerprint(pats),
			Cell:        -1,
		})
	}
}

// unprobedRules returns the Index of every rule one of whose patterns
// matches a cell the run did not probe: an inventory endpoint requested
// as one of cfg's roles with no observation. Such a rule could have
// decided that cell, so it is not known to be dead.
func unprobedRules(run *model.Run, cfg *roles.Config, vars roles.Vars) map[int]bool {
	type cell struct {
		ep   model.Endpoint
		role string
	}
	probed := make(map[cell]bool, run.Observations.Len()) // no canary: none is an inventory endpoint
	for _, o := range run.Observations.All() {
		probed[cell{o.Endpoint, o.Role}] = true
	}
	out := map[int]bool{}
	for _, e := range run.Inventory.Entries {
		u, err := url.Parse(e.URL)
		for _, role := range cfg.RoleNames() {
			if probed[cell{e.Endpoint, role}] {
				continue
			}
			if err != nil { // no rule can be ruled out
				for _, r := range cfg.Matrix.Rules {
					out[r.Index] = true
				}
				return out
			}
			cfg.Matching(e.Method, u, role, vars, func(i int) { out[i] = true })
		}
	}
	return out
}
