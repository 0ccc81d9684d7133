package model

import (
	"fmt"
	"time"
)

// DiffSchema names the JSON form of a Diff (docs/baseline.md, "Diff").
const DiffSchema = "permaudit.diff/v1"

// Diff is what changed between two runs of the same application: the
// findings only the new run has, those only the old run had, and the
// cells (an endpoint requested as a role) whose answer changed. Runs are
// matched by path and query, never by scheme, host or port, so two runs
// of one application on different ports compare.
type Diff struct {
	Schema string  `json:"schema"`
	Old    RunInfo `json:"old"`
	New    RunInfo `json:"new"`
	// NewFindings are the new run's findings whose fingerprint the old
	// run did not have, in the new run's order.
	NewFindings []Finding `json:"new_findings"`
	// FixedFindings are the old run's findings whose fingerprint the new
	// run does not have, in the old run's order.
	FixedFindings []Finding `json:"fixed_findings"`
	// Changed are the cells both runs probed whose status or answer class
	// differs, sorted by path, method and role.
	Changed []CellChange `json:"changed"`
	// AddedEndpoints and RemovedEndpoints are the endpoints ("GET /path")
	// only the new, or only the old, run probed, sorted.
	AddedEndpoints   []string `json:"added_endpoints"`
	RemovedEndpoints []string `json:"removed_endpoints"`
}

// RunInfo identifies a run in a diff.
type RunInfo struct {
	RunID             string    `json:"run_id"`
	Target            string    `json:"target"`
	Started           time.Time `json:"started"`
	ConfigFingerprint string    `json:"config_fingerprint"`
	Complete          bool      `json:"complete"`
	Findings          int       `json:"findings"`
}

// CellChange is one endpoint requested as one role whose answer changed.
type CellChange struct {
	Method     string  `json:"method"`
	Path       string  `json:"path"` // path and query
	Template   string  `json:"template"`
	Role       string  `json:"role"`
	Old        string  `json:"old"` // "403 forbidden"
	New        string  `json:"new"` // "200 allowed"
	OldVerdict Verdict `json:"old_verdict"`
	NewVerdict Verdict `json:"new_verdict"`
}

// Empty reports whether nothing changed.
func (d *Diff) Empty() bool {
	return len(d.NewFindings) == 0 && len(d.FixedFindings) == 0 && len(d.Changed) == 0 &&
		len(d.AddedEndpoints) == 0 && len(d.RemovedEndpoints) == 0
}

// String says a cell change in words: "403 forbidden became 200
// allowed for support on GET /admin/export (pass became leak)".
func (c CellChange) String() string {
	s := fmt.Sprintf("%s became %s for %s on %s %s", c.Old, c.New, c.Role, c.Method, c.Path)
	if c.OldVerdict != c.NewVerdict {
		s += fmt.Sprintf(" (%s became %s)", c.OldVerdict, c.NewVerdict)
	}
	return s
}
