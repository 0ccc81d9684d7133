package report

import (
	"time"

	"github.com/permaudit/permaudit/crawl"
)

// SchemaVersion names the run JSON format; docs/run-schema.md documents it.
// A change that removes or renames a field bumps it.
const SchemaVersion = "permaudit.run/v1"

// Run is everything one audit produced. It is saved as JSON and is all a
// renderer reads.
type Run struct {
	Schema            string        `json:"schema"`
	Tool              Tool          `json:"tool"`
	RunID             string        `json:"run_id"`
	RunIDHeader       string        `json:"run_id_header,omitempty"` // the header that carried RunID on every request
	Target            string        `json:"target"`
	Started           time.Time     `json:"started"`
	Finished          time.Time     `json:"finished"`
	Duration          time.Duration `json:"duration_ns"`
	ConfigFile        string        `json:"config_file,omitempty"`
	ConfigFingerprint string        `json:"config_fingerprint"`
	Roles             []RoleInfo    `json:"roles"`
	Filters           Filters       `json:"filters"`
	Gate              Gate          `json:"gate"`
	Complete          bool          `json:"complete"`
	Incomplete        string        `json:"incomplete_reason,omitempty"`
	// Traffic counts what the run sent: requests, retries, pauses; nil
	// in runs made before it was recorded.
	Traffic *crawl.Stats `json:"traffic,omitempty"`

	Inventory    crawl.Inventory `json:"inventory"`
	Observations []Cell          `json:"observations"`
	Findings     []Finding       `json:"findings"`
	Notes        []Finding       `json:"notes"`
	Counts       map[Verdict]int `json:"counts"` // per verdict, findings and notes; "pass" included
	// Canaries are the existence canaries' observations (CanaryOf set),
	// sorted by URL then role order; omitted when none were asked for.
	Canaries []crawl.Observation `json:"canaries,omitempty"`
	// Coverage says, per role, what discovery found and what was probed;
	// nil until judged.
	Coverage *Coverage `json:"coverage,omitempty"`

	// Baseline is the outcome of the baseline the run was judged with
	// (--baseline); nil without one.
	Baseline *BaselineResult `json:"baseline,omitempty"`
	// Rejudged records the configuration a saved run was judged again
	// with (permaudit report -c); nil when judged at audit time.
	Rejudged *Rejudged `json:"rejudged,omitempty"`
	// Diff is what changed since an earlier run (permaudit report --diff
	// OLD.json), for renderers to show; nil otherwise.
	Diff *Diff `json:"diff,omitempty"`
}

// Tool names the program that made the run.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// RoleInfo describes a role without any secret.
type RoleInfo struct {
	Name     string   `json:"name"`
	SignIn   string   `json:"sign_in"` // roles.Login.Kind()
	Inherits []string `json:"inherits,omitempty"`

	// What happened to the role's session (docs/run-schema.md, Role);
	// every field is omitted when empty.
	Check         string   `json:"check,omitempty"`          // the check's request, "GET /api/me"
	SignInError   string   `json:"sign_in_error,omitempty"`  // why it could not sign in (--skip-failed-roles), redacted
	SignIns       int      `json:"sign_ins,omitempty"`       // successful sign-ins, the first included
	Renewals      int      `json:"renewals,omitempty"`       // renewals after the session was found ended
	Refreshes     int      `json:"refreshes,omitempty"`      // renewals before a known token expiry
	Checks        int      `json:"checks,omitempty"`         // session checks run
	SessionLost   int      `json:"session_lost,omitempty"`   // observations recorded as error: session lost (or not signed in)
	LostReason    string   `json:"lost_reason,omitempty"`    // why the session was lost, redacted
	SessionEnding []string `json:"session_ending,omitempty"` // URLs after which its check failed, sorted
}

// Filters records how the run was narrowed (--role, --only).
type Filters struct {
	Roles []string `json:"roles,omitempty"`
	Only  []string `json:"only,omitempty"`
}

// Gate is which verdicts fail the run, and the outcome.
type Gate struct {
	FailOn  []Verdict `json:"fail_on"`
	Failed  bool      `json:"failed"`
	Failing int       `json:"failing"` // findings the gate fails on
}

// Cell is one observation with its expectation and verdict.
type Cell struct {
	crawl.Observation
	Template string  `json:"template"`
	Expected string  `json:"expected"` // "allow", "deny", "deny as 404", "unmapped"
	Rule     string  `json:"rule"`
	Verdict  Verdict `json:"verdict"`
}

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
