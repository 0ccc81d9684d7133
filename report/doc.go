// Package report compares observations with the expected access matrix,
// turns the differences into findings and notes, and renders a run.
//
// # Judging
//
// Judge reads each observation (one endpoint requested as one role), asks
// the configuration for its expectation (roles.Config.Expect) and decides a
// verdict (DESIGN.md, "Answer classes" and "Verdicts"):
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
//     comes with session checks); other is inconclusive.
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
//   - dead-rule: one note per matrix rule that matched no observation,
//     with Cell -1. A run narrowed by --role or --only, a run already
//     marked incomplete (Run.Incomplete set before Judge) or one with no
//     observation at all gets no dead-rule note, because it cannot tell a
//     dead rule from one that was kept away.
//
// Findings are sorted by severity (critical first), then path, method and
// role order (the configuration's); notes by verdict (inconclusive,
// unmapped, dead-rule, missing-www-authenticate), then the same keys.
// Observations keep their given order. Counts holds every verdict, zeros
// included: "pass" counts observations, the others findings and notes.
// The gate fails when at least one finding's verdict is in Gate.FailOn.
//
// A finding's fingerprint hashes its verdict, method, template path (ids
// folded) and sorted query keys, and role: never a scheme, host, port or
// query value, so it is stable across runs, ports and environments.
//
// # Rendering
//
// Each format is one small Writer over an io.Writer, producing the same
// bytes for the same run: "text" is the summary printed on stdout, with
// every value that may come from the target stripped of control
// characters and terminal escape sequences; "json" is the run itself
// (schema SchemaVersion, documented in docs/run-schema.md), which ReadRun
// reads back so that a saved run can be rendered or judged again without
// the network.
//
// "html" is the audit report (html.go, templates and assets in html/): one
// file that loads nothing when opened, rendered with html/template under a
// Content-Security-Policy that allows only its own inline style and script
// (by hash). Each section is a {{define}} in html/*.tmpl listed in
// htmlSections, so adding one is a template and a line. The matrix rows are
// rendered on the server and filtered by toggling the hidden attribute;
// the evidence of the cells is gzipped JSON in base64 chunks decoded on
// click (html_evidence.go). "junit" is JUnit XML (a test case per endpoint
// and role), "sarif" SARIF 2.1.0 (a rule per verdict, a result per finding
// and note), "markdown" a short summary for pull requests and "csv" the
// matrix. Every string from the target is sanitised (control and bidi
// characters escaped) and then escaped for its format; the tests validate
// JUnit against testdata/schemas/junit-10.xsd with xmllint and SARIF against
// the OASIS schema, and drive the HTML report in headless Chromium.
package report
