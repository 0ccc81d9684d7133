package model

import "strings"

// Verdict is the result of comparing an expectation with an observation.
type Verdict string

// Verdicts: findings, notes, and pass.
const (
	Pass          Verdict = "pass"
	Leak          Verdict = "leak"
	Blocked       Verdict = "blocked"
	ExistenceLeak Verdict = "existence-leak"
	WrongCode     Verdict = "wrong-code"
	ErrorVerdict  Verdict = "error"

	Inconclusive   Verdict = "inconclusive"
	Unmapped       Verdict = "unmapped"
	DeadRule       Verdict = "dead-rule"
	MissingWWWAuth Verdict = "missing-www-authenticate"
	// ExistenceObservable: a denied resource answers unlike a missing one
	// where the rule does not ask for hiding (a note, per template).
	ExistenceObservable Verdict = "existence-observable"
)

// DefaultFailOn is the gate when --fail-on is not given (docs/design.md).
var DefaultFailOn = []Verdict{Leak, Blocked, ExistenceLeak, ErrorVerdict}

// Severity of a finding; notes have "info".
type Severity string

// Severities, highest first.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Finding is a verdict that may fail the gate, or a note (Severity info).
type Finding struct {
	Verdict     Verdict  `json:"verdict"`
	Severity    Severity `json:"severity"`
	Method      string   `json:"method,omitempty"`
	URL         string   `json:"url,omitempty"`
	Path        string   `json:"path,omitempty"` // path and query
	Template    string   `json:"template,omitempty"`
	Role        string   `json:"role,omitempty"`
	Expected    string   `json:"expected,omitempty"`
	Observed    string   `json:"observed,omitempty"` // "200 allowed", "302 to /login (unauthenticated)"
	Rule        string   `json:"rule,omitempty"`
	Message     string   `json:"message"`
	Fingerprint string   `json:"fingerprint"`
	// Cell indexes Run.Observations for the evidence; -1 for none (dead-rule).
	Cell int `json:"cell"`
	// Canary indexes Run.Canaries for the second piece of evidence of an
	// existence leak found by a canary: the answer to a sibling that does
	// not exist. Omitted otherwise.
	Canary *int `json:"canary,omitempty"`
	// Baseline is the finding's state against the baseline the run was
	// judged with: "new", "baselined" (does not fail the gate) or
	// "expired"; "" without a baseline, and for notes.
	Baseline string `json:"baseline,omitempty"`
	// BaselineReason and BaselineExpires copy the matching baseline
	// entry's reason and expiry date.
	BaselineReason  string `json:"baseline_reason,omitempty"`
	BaselineExpires string `json:"baseline_expires,omitempty"`
}

// FindingVerdicts are the verdicts that can fail a gate, in report order.
var FindingVerdicts = []Verdict{Leak, Blocked, ExistenceLeak, WrongCode, ErrorVerdict}

// NoteVerdicts are the informational verdicts, in report order.
var NoteVerdicts = []Verdict{Inconclusive, Unmapped, DeadRule, MissingWWWAuth, ExistenceObservable}

// Severity is the severity of a finding of verdict v (docs/design.md,
// "Verdicts"); notes have Info.
func (v Verdict) Severity() Severity {
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

// Rank orders severities, highest first.
func (s Severity) Rank() int {
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

// NoteRank orders note verdicts as NoteVerdicts lists them; other
// verdicts rank after every note.
func (v Verdict) NoteRank() int {
	for i, n := range NoteVerdicts {
		if n == v {
			return i
		}
	}
	return len(NoteVerdicts)
}

// IsFinding reports whether v is a finding verdict, one that can fail the
// gate.
func (v Verdict) IsFinding() bool {
	for _, f := range FindingVerdicts {
		if f == v {
			return true
		}
	}
	return false
}

// JoinVerdicts spells vs as "leak, blocked".
func JoinVerdicts(vs []Verdict) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
