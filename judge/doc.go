// Package judge is the one home of judging (docs/design.md, "Packages"):
// what an answer means and what it is worth against the matrix. It
// classifies answers, says which answers a live session must confirm,
// decides each cell's verdict from its typed expectation, runs body
// checks, compares existence canaries, and fills the gate. It sends no
// request and renders nothing: crawl asks it, report shows what it
// decided.
//
// # Answer classes
//
// The Classifier reads an answer, in this order:
//
//   - a configured denial signature (body substring, header, JSON path and
//     value, page title, a redirect's Location, status; all given
//     conditions must hold): the class it names (forbidden by default),
//     "denial signature N (class)";
//   - 401: unauthenticated;
//   - 3xx to the login URL (its path, and the query keys and values that
//     name the page at a front controller's path, loginRoute; without a
//     login URL, a path naming log-in or sign-in): unauthenticated,
//     "redirect to login /login"; any other 3xx: other;
//   - 2xx holding a login page (an HTML form posting to the login URL, or
//     the password field of a sign-in form: one password input, not
//     autocomplete="new-password", in a form that posts back in place when
//     a login URL is configured), unless the answer is the login URL
//     itself: unauthenticated, "login page served in place"; other 2xx
//     (a page with a change-password or new-user form): allowed;
//   - 403: forbidden; 404 and 410: hidden;
//   - 429, 503 and every other 5xx: error;
//   - anything else (1xx, 400, 405, 422, ...): other.
//
// A code http.StatusText does not know reads as the x00 of its class.
//
// # Confirming
//
// An answer to a signed-in role that could come from an ended session is
// confirmed before crawl records it: NeedsConfirm names those classes
// (unauthenticated, forbidden, hidden, other). LoggedOut reads an allowed
// answer holding the role's logged-out text as unauthenticated, and
// MarkerContradicted turns such an answer into an error when the session
// then proved live: the text proved nothing.
//
// # Verdicts
//
// Judge reads each observation (one endpoint requested as one role), asks
// the configuration for its expectation (roles.Config.Expect) and decides a
// verdict (docs/design.md, "Answer classes" and "Verdicts"):
//
//   - an endpoint no rule covers when the matrix default is "unmapped" is
//     not judged, whatever its answer (even an error): it gets the note
//     unmapped;
//   - an answer of class error (5xx without a denial signature, transport
//     failure, time-out, cut body) is the finding error: no decision;
//   - expected allow: allowed passes; unauthenticated, forbidden or hidden
//     is blocked; other is inconclusive unless the rule's deny_as names its
//     exact code (then it is a denial, so blocked);
//   - expected deny: allowed is a leak. With deny_as, the answer must be
//     one of the forms (a class form matches by class, so a spelled 401
//     accepts a redirect to the login page and 404 accepts 410; an exact
//     code matches by status); a form missed is an existence-leak when
//     every form is hidden and the answer was unauthenticated or forbidden,
//     inconclusive when the answer is of class other, and wrong-code
//     otherwise. Without deny_as, anonymous must be told unauthenticated or
//     hidden (forbidden is wrong-code) and any other role forbidden or
//     hidden (unauthenticated is wrong-code; proving the session was live
//     comes with session checks); other is inconclusive. A 401 to a
//     signed-in role is wrong-code even where every form is hidden.
//   - redirects (DecideAt, docs/design.md "Redirects"): a redirect form
//     ("redirect", "redirect:/path*") accepts a redirect to another page;
//     expected deny, a chain that left the page and ended allowed on a
//     page the role may see is inconclusive (a pass with a redirect form),
//     a leak only when the role may not see that page either; expected
//     allow, a chain to a page the request's query named (back_url=X) is
//     judged by X's expectation.
//   - a passing denial that answers unlike its existence canaries (two
//     siblings that do not exist; canary.go, canarybody.go) is an
//     existence-leak where every form the rule accepts is hidden (deny_as:
//     404 or 410), and otherwise stays a pass, with an existence-observable
//     note for its template.
//
// Severities: leak critical, blocked high, existence-leak and error medium,
// wrong-code low, notes info.
//
// Notes never fail the gate. To keep them readable, some are grouped:
//
//   - inconclusive: one note per observation;
//   - unmapped: one note per template ("GET /orders/{id}"), naming the
//     roles and counting the concrete endpoints it covers; its Cell is the
//     first one, its Role empty;
//   - missing-www-authenticate: one note per template whose answers
//     include a 401 without WWW-Authenticate, grouped like unmapped;
//   - existence-observable: one note per template whose denials answer
//     unlike its existence canaries where the rule does not ask for hiding,
//     grouped like unmapped, with the first cell's and the canary's answers
//     as evidence (Canary set);
//   - dead-rule: one note per matrix rule that matched no observation,
//     with Cell -1. A run narrowed by --role or --only, or one with no
//     observation at all, gets no dead-rule note: it kept rules away. An
//     incomplete run (Run.Incomplete set before Judge) notes a rule only
//     where the stop cannot be why it matched nothing: when discovery
//     ran to its end (the run stopped while probing), a rule that could
//     decide none of the unprobed cells (inventory endpoint x role, found
//     with roles.Config.Matching); when discovery was cut (max_requests),
//     only a rule an earlier rule fully covers.
//
// Findings are sorted by severity (critical first), then path, method and
// role order (the configuration's); notes by verdict (inconclusive,
// unmapped, dead-rule, missing-www-authenticate, existence-observable),
// then the same keys.
// Observations keep their given order. Counts holds every verdict, zeros
// included: "pass" counts observations, the others findings and notes.
// The gate fails when at least one finding's verdict is in Gate.FailOn.
//
// A finding's fingerprint hashes its verdict, method, template path (ids
// folded) and sorted query keys, and role: never a scheme, host, port or
// query value, so it is stable across runs, ports and environments.
package judge
