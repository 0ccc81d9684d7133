// Package report renders a judged run (package judge decides it) in
// every output format, and reads and writes baselines and diffs.
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
// htmlSections, so adding one is a template and a line. The matrix is
// data (compact arrays of JSON, html_rows.go) from which the page draws
// only the rows on screen and filters over the arrays; the evidence of
// the cells is gzipped JSON in base64 chunks decoded on click
// (html_evidence.go). The page is written as a stream. "junit" is JUnit XML (a test case per endpoint
// and role), "sarif" SARIF 2.1.0 for code scanning (a rule per verdict, a
// result per finding and note, located at the line of its matrix rule in
// the configuration, within GitHub's upload limits), "markdown" a short summary for pull requests and "csv" the
// matrix. Every string from the target is sanitised (control and bidi
// characters escaped) and then escaped for its format; the tests validate
// JUnit against testdata/schemas/junit-10.xsd with xmllint and SARIF against
// the OASIS schema, and drive the HTML report in headless Chromium.
package report
