package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/permaudit/permaudit/crawl"
	"github.com/permaudit/permaudit/roles"
)

// Coverage says what discovery found, role by role, and what the probe
// asked: an endpoint never requested is a leak never found.
type Coverage struct {
	// Endpoints is the number of inventory entries.
	Endpoints int `json:"endpoints"`
	// Probed is the number of entries probed as at least one role.
	Probed int `json:"probed"`
	// NotProbed is the number of entries never probed: methods not sent,
	// --only, or a run cut short.
	NotProbed int `json:"not_probed"`
	// Roles has one line per configured role, in configuration order.
	Roles []RoleCoverage `json:"roles"`
	// Sources is source name to the number of entries it found (an entry
	// found by several sources counts for each).
	Sources map[string]int `json:"sources"`
	// Partial lists the entries that only some of the roles that crawled
	// found, in inventory order: what one role sees and another does not.
	Partial []PartialEntry `json:"partial"`
}

// RoleCoverage is what one role found and was asked.
type RoleCoverage struct {
	Role string `json:"role"`
	// Found is the number of entries the role discovered.
	Found int `json:"found"`
	// Only is the number of entries no other role discovered.
	Only int `json:"only"`
	// Pages is the number of discovery requests the role made.
	Pages int `json:"pages"`
	// Probed is the number of endpoints probed as the role.
	Probed int `json:"probed"`
	// Allowed is the number of those answered "allowed".
	Allowed int `json:"allowed"`
}

// PartialEntry is an inventory entry only some roles found.
type PartialEntry struct {
	Method   string   `json:"method"`
	URL      string   `json:"url"`
	Template string   `json:"template"`
	FoundBy  []string `json:"found_by"`
}

// coverage computes the coverage of a judged run from its inventory and
// cells.
func coverage(run *Run, cfg *roles.Config) *Coverage {
	inv := run.Inventory
	cov := &Coverage{Endpoints: len(inv.Entries), Roles: []RoleCoverage{}, Sources: map[string]int{}, Partial: []PartialEntry{}}
	byRole := map[string]*RoleCoverage{}
	for _, n := range cfg.RoleNames() {
		cov.Roles = append(cov.Roles, RoleCoverage{Role: n, Pages: inv.Pages[n]})
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
	probed := map[crawl.Endpoint]bool{}
	for _, c := range run.Observations {
		probed[c.Endpoint] = true
		if rc := byRole[c.Role]; rc != nil {
			rc.Probed++
			if c.Class == crawl.Allowed {
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
			p := PartialEntry{Method: e.Method, URL: e.URL, Template: e.Template, FoundBy: append([]string(nil), e.FoundBy...)}
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
func writeCoverageText(b io.Writer, r *Run) {
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
