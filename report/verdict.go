package report

import (
	"fmt"
	"strings"

	"github.com/permaudit/permaudit/model"
)

// findingVerdicts are the verdicts that can fail a gate, in report order.
var findingVerdicts = []model.Verdict{model.Leak, model.Blocked, model.ExistenceLeak, model.WrongCode, model.ErrorVerdict}

// noteVerdicts are the informational verdicts, in report order.
var noteVerdicts = []model.Verdict{model.Inconclusive, model.Unmapped, model.DeadRule, model.MissingWWWAuth}

// severityOf maps a verdict to its severity (DESIGN.md "Verdicts").
func severityOf(v model.Verdict) model.Severity {
	switch v {
	case model.Leak:
		return model.Critical
	case model.Blocked:
		return model.High
	case model.ExistenceLeak, model.ErrorVerdict:
		return model.Medium
	case model.WrongCode:
		return model.Low
	}
	return model.Info
}

// severityRank orders severities, highest first.
func severityRank(s model.Severity) int {
	switch s {
	case model.Critical:
		return 0
	case model.High:
		return 1
	case model.Medium:
		return 2
	case model.Low:
		return 3
	case model.Info:
		return 4
	}
	return 5
}

// noteRank orders note verdicts as noteVerdicts lists them.
func noteRank(v model.Verdict) int {
	for i, n := range noteVerdicts {
		if n == v {
			return i
		}
	}
	return len(noteVerdicts)
}

func isFindingVerdict(v model.Verdict) bool {
	for _, f := range findingVerdicts {
		if f == v {
			return true
		}
	}
	return false
}

// parseFailOn parses "leak, blocked" into verdicts. Spaces around items
// are trimmed and case is ignored; duplicates are dropped, first kept.
// "none" alone gives an empty, non-nil gate.
func parseFailOn(s string) ([]model.Verdict, error) {
	if strings.EqualFold(strings.TrimSpace(s), "none") {
		return []model.Verdict{}, nil
	}
	valid := joinVerdictList(findingVerdicts)
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty verdict list: want a comma-separated list of %s, or none", valid)
	}
	out := []model.Verdict{}
	for _, item := range strings.Split(s, ",") {
		v := model.Verdict(strings.ToLower(strings.TrimSpace(item)))
		switch {
		case v == "":
			return nil, fmt.Errorf("%q: empty item in the verdict list; valid verdicts: %s", s, valid)
		case v == "none":
			return nil, fmt.Errorf("%q: none cannot be combined with verdicts", s)
		case noteRank(v) < len(noteVerdicts):
			return nil, fmt.Errorf("%q: %s is a note, which never fails the gate; valid verdicts: %s", s, v, valid)
		case v == model.Pass:
			return nil, fmt.Errorf("%q: pass cannot fail the gate; valid verdicts: %s", s, valid)
		case !isFindingVerdict(v):
			return nil, fmt.Errorf("%q: unknown verdict %q; valid verdicts: %s, or none", s, string(v), valid)
		}
		if !containsVerdict(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

func containsVerdict(vs []model.Verdict, v model.Verdict) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

func joinVerdictList(vs []model.Verdict) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
