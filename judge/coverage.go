package judge

import (
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
	for _, c := range run.Observations {
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
			p := model.PartialEntry{Method: e.Method, URL: e.URL, Template: e.Template, FoundBy: append([]string(nil), e.FoundBy...)}
			sort.Strings(p.FoundBy)
			cov.Partial = append(cov.Partial, p)
		}
	}
	cov.NotProbed = cov.Endpoints - cov.Probed
	return cov
}
