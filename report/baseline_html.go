package report

import (
	"fmt"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

// The HTML report's "Changes" section (html/changes.tmpl): the baseline
// outcome and the diff with an earlier run, when the run carries them.

type changesHTML struct {
	Baseline *baselineHTML
	Diff     *diffHTML
}

type baselineHTML struct {
	File                          string
	New, Accepted, Expired, Fixed int
	Unseen                        int
	Rows                          []baselineRowHTML
}

type baselineRowHTML struct {
	State, Verdict, Endpoint, Role, Reason string
}

type diffHTML struct {
	OldRun, OldTarget          string
	NewFindings, FixedFindings []diffFindingHTML
	Changed                    []diffChangeHTML
	Added, Removed             int
}

type diffFindingHTML struct {
	Verdict, Endpoint, Role, Expected, Observed string
}

type diffChangeHTML struct {
	Endpoint, Role, Old, New, OldVerdict, NewVerdict string
}

// withChanges adds the "Changes" section after the summary when the run
// was judged with a baseline or rendered with an earlier run to compare
// with (report --diff); other runs have no such section.
func withChanges(r *model.Run, sections []htmlSection) []htmlSection {
	v := changesOf(r)
	if v.Baseline == nil && v.Diff == nil {
		return sections
	}
	out := make([]htmlSection, 0, len(sections)+1)
	for _, s := range sections {
		out = append(out, s)
		if s.ID == "summary" {
			out = append(out, htmlSection{ID: "changes", Title: "Changes", Tmpl: "changes", Data: v})
		}
	}
	if len(out) == len(sections) { // no summary: first
		out = append([]htmlSection{{ID: "changes", Title: "Changes", Tmpl: "changes", Data: v}}, sections...)
	}
	return out
}

func changesOf(r *model.Run) changesHTML {
	var v changesHTML
	if b := r.Baseline; b != nil {
		bv := &baselineHTML{File: textout.Sanitize(b.File), New: b.New, Accepted: b.Accepted, Expired: b.Expired,
			Fixed: len(b.Fixed), Unseen: len(b.Unseen)}
		for _, f := range r.Findings {
			if f.Baseline == "" {
				continue
			}
			bv.Rows = append(bv.Rows, baselineRowHTML{State: textout.Sanitize(f.Baseline), Verdict: textout.Sanitize(string(f.Verdict)),
				Endpoint: textout.Sanitize(f.Method + " " + f.Path), Role: textout.Sanitize(f.Role), Reason: textout.Sanitize(f.BaselineReason)})
		}
		for _, list := range []struct {
			state   string
			entries []model.BaselineEntry
		}{{"fixed", b.Fixed}, {"not probed", b.Unseen}} {
			for _, e := range list.entries {
				endpoint := e.Template
				if endpoint == "" {
					endpoint = "fingerprint " + e.Fingerprint
				}
				bv.Rows = append(bv.Rows, baselineRowHTML{State: list.state, Verdict: textout.Sanitize(string(e.Verdict)),
					Endpoint: textout.Sanitize(endpoint), Role: textout.Sanitize(e.Role), Reason: textout.Sanitize(e.Reason)})
			}
		}
		v.Baseline = bv
	}
	if d := r.Diff; d != nil {
		dv := &diffHTML{OldRun: textout.Sanitize(d.Old.RunID), OldTarget: textout.Sanitize(d.Old.Target),
			Added: len(d.AddedEndpoints), Removed: len(d.RemovedEndpoints)}
		finding := func(f model.Finding) diffFindingHTML {
			return diffFindingHTML{Verdict: textout.Sanitize(string(f.Verdict)), Endpoint: textout.Sanitize(f.Method + " " + f.Path),
				Role: textout.Sanitize(f.Role), Expected: textout.Sanitize(f.Expected), Observed: textout.Sanitize(f.Observed)}
		}
		for _, f := range d.NewFindings {
			dv.NewFindings = append(dv.NewFindings, finding(f))
		}
		for _, f := range d.FixedFindings {
			dv.FixedFindings = append(dv.FixedFindings, finding(f))
		}
		for _, c := range d.Changed {
			dv.Changed = append(dv.Changed, diffChangeHTML{Endpoint: textout.Sanitize(fmt.Sprintf("%s %s", c.Method, c.Path)), Role: textout.Sanitize(c.Role),
				Old: textout.Sanitize(c.Old), New: textout.Sanitize(c.New), OldVerdict: textout.Sanitize(string(c.OldVerdict)), NewVerdict: textout.Sanitize(string(c.NewVerdict))})
		}
		v.Diff = dv
	}
	return v
}
