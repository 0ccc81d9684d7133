package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

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
		s := fmt.Sprintf("%s found %d", textout.Sanitize(rc.Role), rc.Found)
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
