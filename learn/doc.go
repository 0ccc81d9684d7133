// Package learn drafts an access matrix from a saved run: the matrix
// section of a configuration that says, for every endpoint, which roles
// were allowed it, with comments where the answers look like bugs. It is
// what "permaudit learn" writes. The draft describes behaviour, not
// policy: it is meant to be read, corrected and committed.
//
// Learn reads the run's cells and nothing else, except the role
// variables a caller passes in Options; it sends no request. It works in
// stages, one file each.
//
// Collect (collect.go) reads the cells into units, one per method and
// template path with the query left out ("GET /orders/{id}"): the level
// rules are written at. For each URL of a unit it keeps every role's
// answer. It then summarises each unit: the set of roles allowed that
// most of its URLs agree with is the unit's rule, the URLs that disagree
// are its exceptions, and when every denial was a 404 or 410 the rule
// says deny_as: 404. Only an answer whose class tells whether the role
// was allowed counts; classes.go holds how learn reads answer classes
// and denial forms, in one place.
//
// Suspect (suspect.go) writes comments, never findings. A 403 to
// anonymous, a 401 to a signed-in role, a resource answering 404 to some
// roles and 403 to others, and a role denied what a role it inherits is
// allowed are answers no rule of the draft accepts; a unit allowed or
// denied to a role unlike at least two thirds of the units of its
// subtree, and a role allowed everything a higher role is, are answers
// the reader should look at. Answers of class other or error get a note.
//
// Group (group.go) builds a prefix tree of the units' paths for each
// method. A subtree of two or more units whose rules agree becomes one
// "prefix/**" pattern; any other unit is a pattern of its own. The
// exceptions of a unit become literal patterns, or {self.var} patterns
// where every role they add holds the id as the same variable; an
// exception with a query names it exactly ("?!k=v"), and one without a
// query whose path the run also saw with queries ends in "?" (no query),
// so that it decides that URL and not its path's other variants.
//
// Compose (compose.go) merges the patterns that carry the same rule into
// one rule, writes each allow list as the shortest one that gives the
// roles allowed through inheritance, and orders the rules: exceptions
// first, then the general rules, most open first. It also writes the
// draft's header.
//
// Verify (verify.go) checks the draft as the audit would: it builds a
// roles.Config from the rules and the run's roles and asks its matcher
// for every answer. A URL the draft misjudges gets a literal rule of its
// own, placed first, with its exact query as above; what still cannot be
// expressed is said in the header. Then the run is judged
// against the draft with judge.Judge, as "permaudit report -c" would, and
// every finding the gate would still fail on (an error, a role denied
// what a role it inherits is allowed, an existence leak) is named in the
// header with why no rule can pass it: a draft audits its own run clean,
// or says what it left.
//
// Write (write.go) renders the draft as YAML, with its comments: the
// "matrix:" section of a configuration.
//
// learn imports model, roles and judge: where it needs to know whether
// the audit would pass an answer, it asks judge.Decide, so that a draft
// is verified by the rules the audit judges with.
package learn
