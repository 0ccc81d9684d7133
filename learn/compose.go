package learn

import (
	"fmt"
	"sort"
	"strings"

	"github.com/permaudit/permaudit/internal/textout"
)

// compose merges the patterns that carry the same expectation into
// rules: exceptions first, then the general rules, most open first.
func (l *learner) compose(general, exceptions []placed) []DraftRule {
	var rules []DraftRule
	merge := func(ps []placed) []DraftRule {
		var out []DraftRule
		byExp := map[string]int{}
		for _, p := range ps {
			i, ok := byExp[p.exp]
			if !ok {
				i = len(out)
				byExp[p.exp] = i
				out = append(out, DraftRule{Allow: l.allowList(p.set), DenyAs: p.deny})
			}
			out[i].Match = append(out[i].Match, p.pattern)
			for _, c := range p.comments {
				out[i].Comments = appendUnique(out[i].Comments, c)
			}
		}
		return out
	}
	rules = append(rules, merge(exceptions)...)
	gen := merge(general)
	open := func(r DraftRule) int {
		if len(r.Allow) == 1 && r.Allow[0] == "*" {
			return 1 << 20
		}
		n := 0
		for _, a := range r.Allow {
			i := l.index[a]
			n++
			for j := range l.names {
				if l.above[i][j] {
					n++
				}
			}
		}
		return n
	}
	sort.SliceStable(gen, func(i, j int) bool {
		if a, b := open(gen[i]), open(gen[j]); a != b {
			return a > b
		}
		if gen[i].DenyAs != gen[j].DenyAs {
			return gen[i].DenyAs < gen[j].DenyAs
		}
		return gen[i].Match[0] < gen[j].Match[0]
	})
	return append(rules, gen...)
}

func (l *learner) header() {
	d := l.draft
	h := []string{
		fmt.Sprintf("Access matrix drafted by `permaudit learn` from run %s of %s:", textout.Sanitize(l.run.RunID), textout.Sanitize(l.run.Target)),
		fmt.Sprintf("%s and %s as %s.", plural(d.Endpoints, "endpoint"), plural(l.run.Observations.Len(), "observation"), strings.Join(l.names, ", ")),
		"",
		"Each rule says who WAS allowed, not who should be: read it, correct it, and",
		"use it as the matrix section of your configuration. \"**\" stands for a",
		"whole subtree whose endpoints all answered alike, so a new endpoint there",
		"is expected to answer alike too. Lines starting \"suspicious:\" mark answers",
		"that look like bugs; \"note:\" lines say where roles disagree inside a group.",
		"Comments are not findings.",
	}
	if len(l.run.Filters.Roles) > 0 || len(l.run.Filters.Only) > 0 || !l.run.Complete {
		h = append(h, "", "note: the run was narrowed or incomplete: the draft covers only what it probed.")
	}
	var global []string
	for _, s := range d.Suspicious {
		if s.Template == "" {
			global = append(global, "suspicious: "+s.Message)
		}
	}
	if len(global) > 0 {
		h = append(h, "")
		h = append(h, global...)
	}
	d.Header = append(h, d.Header...)
}
