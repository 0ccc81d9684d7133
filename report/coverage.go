package report

import (
	"fmt"
	"io"
	"slices"
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
	}{{cut.MaxPerTemplate, "max_per_template"}, {cut.MaxQueryVariants, "max_query_variants"}, {cut.Loop, "loop"}, {cut.MaxDepth, "max_depth"}, {cut.MaxRequests, "max_requests"}, {cut.MaxDuration, "max_duration"}} {
		if c.n > 0 {
			cuts = append(cuts, fmt.Sprintf("%d by %s", c.n, c.what))
		}
	}
	if len(cuts) > 0 {
		line += "; cut " + strings.Join(cuts, ", ")
	}
	fmt.Fprintln(b, line)
}

// maxLeftLines is how many pages the text summary lists of what a run
// left unprobed; the run JSON has them all.
const maxLeftLines = 20

// writeLeftText lists, per page and reason, the endpoints the run's
// bounds left unprobed (model.Inventory.Left), the largest first.
func writeLeftText(b io.Writer, left []model.Left) {
	if len(left) == 0 {
		return
	}
	total := 0
	for _, l := range left {
		total += l.Count
	}
	ls := slices.Clone(left)
	slices.SortStableFunc(ls, func(x, y model.Left) int { return y.Count - x.Count })
	fmt.Fprintf(b, "left unprobed: %s, per page:\n", plural(total, "endpoint"))
	for i, l := range ls {
		if i == maxLeftLines {
			fmt.Fprintf(b, "  and %d more (inventory.left in the run JSON)\n", len(ls)-i)
			break
		}
		fmt.Fprintf(b, "  %s: %d by %s, such as %s\n", textout.Sanitize(l.Group), l.Count, l.Reason, textout.Sanitize(l.Example))
	}
}
