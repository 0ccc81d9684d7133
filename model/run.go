package model

import "time"

// Stats counts what a Transport did.
type Stats struct {
	Requests  int64         `json:"requests"`  // attempts sent to the network
	Retries   int64         `json:"retries"`   // attempts that were retries
	Pauses    int64         `json:"pauses"`    // pauses of a host failing across many URLs
	Paused    time.Duration `json:"paused_ns"` // their total length
	Refused   int64         `json:"refused"`   // requests refused or not sent (scope, plain HTTP, stopped run)
	Truncated int64         `json:"truncated"` // bodies cut at the size cap
}

// SchemaVersion names the run JSON format; docs/run-schema.md documents it.
// A change that removes or renames a field bumps it.
const SchemaVersion = "permaudit.run/v2"

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
	Traffic *Stats `json:"traffic,omitempty"`
	// Rules are the matrix rules the run was judged with, in matrix order,
	// then the default: where each is written, so that an output can point
	// a finding at the line a reviewer changes (SARIF). Empty in runs made
	// before it was recorded.
	Rules []RuleInfo `json:"rules,omitempty"`

	Inventory    Inventory       `json:"inventory"`
	Observations *Cells          `json:"observations"` // held compactly: see Cells
	Findings     []Finding       `json:"findings"`
	Notes        []Finding       `json:"notes"`
	Counts       map[Verdict]int `json:"counts"` // per verdict, findings and notes; "pass" included
	// Canaries are the existence canaries' observations (CanaryOf set),
	// sorted by URL then role order; omitted when none were asked for.
	Canaries []Observation `json:"canaries,omitempty"`
	// Coverage says, per role, what discovery found and what was probed;
	// nil until judged.
	Coverage *Coverage `json:"coverage,omitempty"`

	// Baseline is the outcome of the baseline the run was judged with
	// (--baseline); nil without one.
	Baseline *BaselineResult `json:"baseline,omitempty"`
	// Rejudged records the configuration a saved run was judged again
	// with (permaudit report -c); nil when judged at audit time.
	Rejudged *Rejudged `json:"rejudged,omitempty"`
	// InventoryDigest identifies the saved inventory the run probed
	// (audit --inventory; model.InventoryDigest); omitted when the run
	// discovered its own.
	InventoryDigest string `json:"inventory_digest,omitempty"`
	// Shard is the slice of that inventory a shard run probed (audit
	// --shard K/N); nil otherwise. A shard run never gates on its own.
	Shard *Shard `json:"shard,omitempty"`
	// Merged lists the shard runs this run was joined from (report
	// merge), in shard order; nil otherwise.
	Merged []MergedShard `json:"merged,omitempty"`
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
	// Vars are the variables captured at the role's first sign-in, the
	// values the matrix was judged with ({self.user_id}); a secret capture
	// holds its redacted name. Judging the run again uses them. Omitted
	// when nothing was captured.
	Vars map[string]string `json:"vars,omitempty"`

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

// RuleInfo is one rule of the matrix a run was judged with, or its
// default.
type RuleInfo struct {
	// Index is the rule's 1-based position in matrix.rules; 0 for the
	// default.
	Index int `json:"index"`
	// Name is the rule as cells and findings cite it (Cell.Rule,
	// Finding.Rule): "rule 3 (GET /admin/**)", or "default".
	Name string `json:"name"`
	// Patterns are the rule's match patterns as written; none for the
	// default.
	Patterns []string `json:"patterns,omitempty"`
	// File is the configuration file the rule is written in, as given
	// (-c); "" for a configuration built in code.
	File string `json:"file,omitempty"`
	// Line is the rule's line in File; 0 when unknown (the default's).
	Line int `json:"line,omitempty"`
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
	Observation
	Template string  `json:"template"`
	Expected string  `json:"expected"` // "allow", "deny", "deny as 404", "unmapped"
	Rule     string  `json:"rule"`
	Verdict  Verdict `json:"verdict"`
}

// Rejudged records the configuration a saved run was judged again with.
// The run's own ConfigFile and ConfigFingerprint still name the
// configuration of the audit, which chose what was discovered and probed.
type Rejudged struct {
	ConfigFile        string `json:"config_file,omitempty"`
	ConfigFingerprint string `json:"config_fingerprint"`
}
