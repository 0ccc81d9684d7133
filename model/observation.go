package model

import "time"

// Class is an answer class (docs/design.md).
type Class string

// The answer classes.
const (
	Allowed         Class = "allowed"
	Unauthenticated Class = "unauthenticated"
	Forbidden       Class = "forbidden"
	Hidden          Class = "hidden"
	Other           Class = "other"
	Error           Class = "error"
)

// Hop is one answer of a redirect chain.
type Hop struct {
	URL      string `json:"url"`
	Status   int    `json:"status"`
	Location string `json:"location,omitempty"`
}

// Observation is what one probe (one endpoint requested as one role) saw.
// Status, Location and the body fields describe the final answer of the
// chain; Chain holds every answer when redirects were followed.
type Observation struct {
	Endpoint
	Role        string        `json:"role"`
	Status      int           `json:"status"` // 0 when no HTTP answer
	Location    string        `json:"location,omitempty"`
	Chain       []Hop         `json:"chain,omitempty"`
	Class       Class         `json:"class"`
	Why         string        `json:"why"` // how the class was decided: "status 403", "redirect to login /login", "denial signature 1", "password field"
	ContentType string        `json:"content_type,omitempty"`
	Size        int64         `json:"size"`                // bytes read
	Truncated   bool          `json:"truncated,omitempty"` // the body was cut at the size cap
	BodySHA256  string        `json:"body_sha256,omitempty"`
	Excerpt     string        `json:"excerpt,omitempty"` // redacted, at most 512 bytes, valid UTF-8
	WWWAuth     bool          `json:"www_authenticate,omitempty"`
	Latency     time.Duration `json:"latency_ns"`
	Err         string        `json:"error,omitempty"` // redacted
	// Session says what is known of the role's session for this answer:
	// "live" (a check after it passed), "renewed" (the session had ended;
	// this is the repeated request after renewal, followed by a passing
	// check), "lost", "not-signed-in", "check-error"; "" when nothing was
	// confirmed (anonymous, an allowed answer, a role without a check).
	Session string `json:"session,omitempty"`
	// BodySHA256WithoutIDs is the hex SHA-256 of the body with the
	// requested URL's ids removed (see StripIDs); omitted when the URL
	// holds no id or there was no body. Existence canaries compare it.
	BodySHA256WithoutIDs string `json:"body_sha256_without_ids,omitempty"`
	// Missing is how the body of this denied answer compares with the
	// answers to its two missing siblings (existence canaries), as crawl
	// compared them while probing (judge.CompareMissing); nil when there
	// was nothing to compare with.
	Missing *MissingBody `json:"missing,omitempty"`
	// CanaryOf is set on existence canaries only: the URL of the endpoint
	// whose non-existent sibling this observation requested.
	CanaryOf string `json:"canary_of,omitempty"`
	// BodyChecks are the results of the matrix rule's body checks for this
	// role, made on the full body when the answer is allowed and the rule
	// allows the role.
	BodyChecks []BodyCheckResult `json:"body_checks,omitempty"`
}

// MissingBody is how a denied answer's body compares with the answers to
// two siblings that do not exist, once the requested ids and the noise
// the two siblings calibrate are set aside.
type MissingBody struct {
	// Differs says the body differs from the siblings' where they agree.
	Differs bool `json:"differs"`
	// Difference shows the first such difference, normalised and
	// redacted: `"Forbidden" where the missing siblings have "Not found"`.
	Difference string `json:"difference,omitempty"`
}

// BodyOutcome is the outcome of one body check on one answer.
type BodyOutcome string

// The outcomes of a body check.
const (
	BodyPass BodyOutcome = "pass"
	BodyFail BodyOutcome = "fail"
	// BodyUndecided: the check could not decide (a body cut at the size
	// cap, a path check on a body that is not JSON, a role variable with
	// no value).
	BodyUndecided BodyOutcome = "undecided"
)

// BodyCheckResult is what one body check concluded of one answer, as
// stored in the observation.
type BodyCheckResult struct {
	Check  string      `json:"check"`            // BodyCheck.String()
	Result BodyOutcome `json:"result"`           // pass, fail, undecided
	Detail string      `json:"detail,omitempty"` // why, for fail and undecided; redacted
}

// Observation.Session values.
const (
	// SessionLive: a check that started after the answer passed.
	SessionLive = "live"
	// SessionRenewed: the session had ended; it was renewed and this is
	// the repeated request's answer, followed by a passing check.
	SessionRenewed = "renewed"
	// SessionLost: renewal failed; the answer is not evidence.
	SessionLost = "lost"
	// SessionNotSignedIn: the role could not sign in; nothing was sent.
	SessionNotSignedIn = "not-signed-in"
	// SessionCheckError: the check could not be run.
	SessionCheckError = "check-error"
)
