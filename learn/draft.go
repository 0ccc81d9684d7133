package learn

// Draft is a proposed access matrix, drafted from what each role of a run
// was actually answered (Learn). WriteYAML renders it as the matrix
// section of a configuration, with its comments.
type Draft struct {
	// Header holds the comment lines written above the matrix.
	Header []string
	// Rules are the proposed rules, in order (first match wins).
	Rules []DraftRule
	// Suspicious lists the answers that look like bugs, in the order
	// their comments appear.
	Suspicious []Suspicion
	// Endpoints is the number of distinct endpoints (method, path and
	// query) the run probed.
	Endpoints int
}

// DraftRule is one proposed matrix rule.
type DraftRule struct {
	// Comments are written above the rule: "suspicious: ..." for answers
	// that look like bugs, "note: ..." for what the reader should know.
	Comments []string
	Match    []string // patterns, such as "GET /admin/**"
	Allow    []string // roles; ["*"] for every role; [] for none
	DenyAs   string   // "404" when every denial observed was a 404 or 410; "" otherwise
}

// The kinds of a Suspicion.
const (
	SuspectAnonymous403   = "403-to-anonymous"
	SuspectSignedIn401    = "401-to-signed-in"
	SuspectAllowedOutlier = "allowed-unlike-subtree" // a role sees what a higher role sees, unlike the rest of its subtree
	SuspectDeniedOutlier  = "denied-unlike-subtree"
	SuspectExistence      = "hidden-and-forbidden" // 404 to some, 403 to others: the 403 tells the resource exists
	SuspectSeesAll        = "sees-everything"      // a role is allowed everything a higher role is
	SuspectInheritance    = "higher-role-denied"   // a role is denied what a role it inherits is allowed
)

// Suspicion is an answer that looks like a bug. It is a comment of the
// draft, never a finding.
type Suspicion struct {
	Kind     string
	Template string // "GET /api/tickets"; "" for a role-wide suspicion
	Role     string
	Message  string // the comment, without its "suspicious: " prefix
}
