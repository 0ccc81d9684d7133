package model

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
)

// DefaultFailOn is the gate when --fail-on is not given (DESIGN.md).
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
