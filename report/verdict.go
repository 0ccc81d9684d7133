package report

import (
	"fmt"
	"strings"
)

// findingVerdicts are the verdicts that can fail a gate, in report order.
var findingVerdicts = []Verdict{Leak, Blocked, ExistenceLeak, WrongCode, ErrorVerdict}

// noteVerdicts are the informational verdicts, in report order.
var noteVerdicts = []Verdict{Inconclusive, Unmapped, DeadRule, MissingWWWAuth}

// severityOf maps a verdict to its severity (DESIGN.md "Verdicts").
func severityOf(v Verdict) Severity {
	switch v {
	case Leak:
		return Critical
	case Blocked:
		return High
	case ExistenceLeak, ErrorVerdict:
		return Medium
	case WrongCode:
		return Low
	}
	return Info
}

// severityRank orders severities, highest first.
func severityRank(s Severity) int {
	switch s {
	case Critical:
		return 0
	case High:
		return 1
	case Medium:
		return 2
	case Low:
		return 3
	case Info:
		return 4
	}
	return 5
}

// noteRank orders note verdicts as noteVerdicts lists them.
func noteRank(v Verdict) int {
	for i, n := range noteVerdicts {
		if n == v {
			return i
		}
	}
	return len(noteVerdicts)
}

func isFindingVerdict(v Verdict) bool {
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
func parseFailOn(s string) ([]Verdict, error) {
	if strings.EqualFold(strings.TrimSpace(s), "none") {
		return []Verdict{}, nil
	}
	valid := joinVerdictList(findingVerdicts)
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty verdict list: want a comma-separated list of %s, or none", valid)
	}
	out := []Verdict{}
	for _, item := range strings.Split(s, ",") {
		v := Verdict(strings.ToLower(strings.TrimSpace(item)))
		switch {
		case v == "":
			return nil, fmt.Errorf("%q: empty item in the verdict list; valid verdicts: %s", s, valid)
		case v == "none":
			return nil, fmt.Errorf("%q: none cannot be combined with verdicts", s)
		case noteRank(v) < len(noteVerdicts):
			return nil, fmt.Errorf("%q: %s is a note, which never fails the gate; valid verdicts: %s", s, v, valid)
		case v == Pass:
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

func containsVerdict(vs []Verdict, v Verdict) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

func joinVerdictList(vs []Verdict) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
