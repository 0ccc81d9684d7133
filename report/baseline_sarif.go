package report

import (
	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

// The SARIF side of baselines (sarif.go calls these): with a baseline,
// every finding's result has a baselineState, a baselined finding is
// suppressed (kind external, status accepted, the entry's reason as the
// justification), and each fixed baseline entry is an "absent" result.

// sarifSuppression is a SARIF 2.1.0 suppression object.
type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
}

// sarifBaselineState marks the result of finding f of a run judged with a
// baseline: "new" when the baseline does not list it, "unchanged" when it
// does (expired entries included: the finding fails again), suppressed
// when the entry accepts it.
func sarifBaselineState(r *model.Run, f model.Finding, res *sarifResult) {
	if r.Baseline == nil || !f.Verdict.IsFinding() {
		return
	}
	switch f.Baseline {
	case BaselineNew:
		res.BaselineState = "new"
	case BaselineAccepted:
		res.BaselineState = "unchanged"
		res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: f.BaselineReason}}
		res.Properties.Gated = false
	case BaselineExpired:
		res.BaselineState = "unchanged"
	}
}

// sarifAbsentResults are the baseline entries this run probed without
// their finding: results with baselineState "absent", kind "pass".
// Each points at the baseline file, where the entry can be removed.
func sarifAbsentResults(r *model.Run, index map[model.Verdict]int, loc *sarifLocator) []sarifResult {
	if r.Baseline == nil {
		return nil
	}
	var out []sarifResult
	for _, e := range r.Baseline.Fixed {
		i, ok := index[e.Verdict]
		if !ok {
			continue // an entry that names no verdict has no rule
		}
		res := sarifResult{
			RuleID:              "permaudit/" + string(e.Verdict),
			RuleIndex:           i,
			Kind:                "pass",
			Level:               "none",
			Message:             sarifText{"fixed: " + entryString(e) + " is no longer seen (the baseline accepted it: " + textout.Sanitize(e.Reason) + ")"},
			PartialFingerprints: map[string]string{"permaudit/v1": e.Fingerprint},
			BaselineState:       "absent",
			Properties:          sarifResultProps{Severity: e.Verdict.Severity(), Template: e.Template, Role: e.Role, Baseline: "fixed"},
		}
		if r.Baseline.File != "" {
			res.Locations = []sarifLocation{{PhysicalLocation: loc.physical(r.Baseline.File, 1)}}
		} else {
			res.Locations = []sarifLocation{loc.ofConfig()}
		}
		name := e.Template
		if e.Role != "" {
			name += " as " + e.Role
		}
		res.Locations[0].LogicalLocations = []sarifLogical{{Name: textout.Sanitize(name), Kind: "resource"}}
		out = append(out, res)
	}
	return out
}
