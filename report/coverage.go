package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// coverage computes the coverage of a judged run from its inventory and
// cells.
func coverage(run *model.Run, cfg *roles.Config) *model.Coverage {
	inv := run.Inventory
	cov := &model.Coverage{Endpoints: len(inv.Entries), Roles: []model.RoleCoverage{}, Sources: map[string]int{}, Partial: []model.PartialEntry{}}
	byRole := map[string]*model.RoleCoverage{}
	for _, n := range cfg.RoleNames() {
		cov.Roles = append(cov.Roles, model.RoleCoverage{Role: n, Pages: inv.Pages[n]})
	}
	for i := range cov.Roles {
		byRole[cov.Roles[i].Role] = &cov.Roles[i]
	}
	crawled := 0
	for _, n := range cfg.RoleNames() {
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

// writeCoverageText adds the coverage lines of the text summary: per
// role, what it found and was asked; what only some roles found; what
// the crawl's bounds cut. Nothing without coverage.
func writeCoverageText(b io.Writer, r *model.Run) {
	cov := r.Coverage
	if cov == nil {
		return
	}
	var parts []string
	for _, rc := range cov.Roles {
		s := fmt.Sprintf("%s found %d", sanitize(rc.Role), rc.Found)
		if rc.Only > 0 {
			s += fmt.Sprintf(" (%d only it)", rc.Only)
		}
		parts = append(parts, s+fmt.Sprintf(", probed %d", rc.Probed))
	}
	fmt.Fprintf(b, "coverage: %s\n", strings.Join(parts, "; "))
	line := fmt.Sprintf("coverage: %d of %d endpoints probed, %d found by some roles only",
		cov.Probed, cov.Endpoints, len(cov.Partial))
	if n := len(r.Canaries); n > 0 {
		line += fmt.Sprintf(", %s", plural(n, "existence canary probe"))
	}
	cut := r.Inventory.Cut
	var cuts []string
	for _, c := range []struct {
		n    int
		what string
	}{{cut.MaxPerTemplate, "max_per_template"}, {cut.Loop, "loop"}, {cut.MaxDepth, "max_depth"}, {cut.MaxRequests, "max_requests"}} {
		if c.n > 0 {
			cuts = append(cuts, fmt.Sprintf("%d by %s", c.n, c.what))
		}
	}
	if len(cuts) > 0 {
		line += "; cut " + strings.Join(cuts, ", ")
	}
	fmt.Fprintln(b, line)
}
