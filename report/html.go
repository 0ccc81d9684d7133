package report

import (
	"bufio"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

// htmlAssets holds the report's templates, stylesheet and script. Each
// section of the report is one {{define}} in html/*.tmpl.
//
//go:embed html/*.tmpl html/report.css html/report.js
var htmlAssets embed.FS

// htmlWriter writes the audit report: one self-contained HTML file. The
// stylesheet and script are embedded inline and allowed by hash in a
// Content-Security-Policy that also forbids every network request, so the
// page loads nothing when opened, and markup injected by a target could
// neither run a script nor fetch anything even if it slipped past
// html/template's escaping.
//
// The matrix travels as data: compact arrays of one JSON document in a
// <script type="application/json"> element (html_rows.go), from which
// report.js renders only the rows on screen (a virtualised table: one row
// per endpoint, grouped by path prefix and template, one cell per role)
// and filters over the arrays, never over the DOM. The evidence of the
// cells is in gzipped chunks decoded on the first click
// (html_evidence.go). Everything is written as a stream: the page's parts
// by their templates, the matrix's data and the evidence by Go, one
// value and one chunk at a time.
type htmlWriter struct{}

// htmlSection is one section of the report. To add a section, write a
// {{define "name"}} template in html/ and add an entry to htmlSections.
type htmlSection struct {
	ID    string // the element id, for the table of contents
	Title string
	Tmpl  string // the name of the {{define}}
	Data  any
}

// htmlSections lists the report's sections in order. A section with no
// data to show still appears, saying so, so that a printed report always
// has the same sections.
func htmlSections(r *model.Run, v *htmlView) []htmlSection {
	return withChanges(r, []htmlSection{ // the Changes section: baseline_html.go
		{ID: "summary", Title: "Summary", Tmpl: "summary", Data: v.Summary},
		{ID: "matrix", Title: "Matrix", Tmpl: "matrix", Data: v.Matrix},
		{ID: "findings", Title: fmt.Sprintf("Findings (%d)", len(r.Findings)), Tmpl: "findings", Data: v.Findings},
		{ID: "notes", Title: fmt.Sprintf("Notes (%d)", len(r.Notes)), Tmpl: "notes", Data: v.Notes},
		{ID: "coverage", Title: "Coverage", Tmpl: "coverage", Data: v.Coverage},
	})
}

// htmlView is everything the templates read.
type htmlView struct {
	Title    string
	CSP      string
	CSS      template.CSS
	JS       template.JS
	Header   headerView
	Filters  filterView
	Summary  summaryView
	Matrix   *htmlMatrix
	Findings listView
	Notes    listView
	Coverage htmlCoverage
	Sections []htmlSection
	// What the evidence needs (writeEvidence): each role's sign-in, and
	// the findings and notes of each cell.
	signIn map[string]string
	byCell map[int][]evFind
}

type headerView struct {
	Target, RunID, Tool, Started, Duration string
	ConfigFile, ConfigFingerprint          string
	Complete                               bool
	Incomplete                             string
	Outcome                                string // outcomePassed, outcomeFailed, outcomeIncomplete or outcomeShard
	Gate                                   string
	Shard                                  string // "2/4" for a shard's run
	Roles                                  []model.RoleInfo
	FilterRoles, FilterOnly                string
}

type filterView struct {
	Verdicts   []verdictCount
	Severities []model.Severity
	Roles      []string
}

type verdictCount struct {
	Verdict model.Verdict
	Symbol  string
	Kind    string // "finding", "note", "pass"
	Count   int
}

type summaryView struct {
	Findings, Notes []verdictCount
	Pass            int
	Severities      []severityCount
	Roles           []roleSummary
	FindingVerdicts []model.Verdict
}

type severityCount struct {
	Severity model.Severity
	Count    int
}

type roleSummary struct {
	Role     string
	SignIn   string
	Probes   int
	Findings []int // per summaryView.FindingVerdicts
	Notes    int
	Pass     int
}

// listRowsMax is the most rows the findings or the notes are written as:
// a longer list travels as data (writeListData), drawn by window like the
// matrix, since a page of a hundred thousand rows takes seconds to parse
// and lay out. A variable so that tests can send short lists as data.
var listRowsMax = 5000

// listView is the findings or the notes: as rows of the page, or, when
// Big, as data only.
type listView struct {
	Name string // "findings" or "notes": the ids of its table and data
	Rows []findingView
	Big  bool
}

type findingView struct {
	Index             int // cell index, -1 for none
	Verdict           model.Verdict
	Symbol            string
	Severity          model.Severity
	SeverityRank      int
	Method, Path      string
	Role              string
	Expected          string
	Observed          string
	Rule              string
	Message           string
	Fingerprint       string
	Gated             bool
	Template          string
	BaselineState     string
	BaselineReason    string
	BaselineExpiresOn string
}

type htmlCoverage struct {
	Endpoints int
	Templates int
	Probes    int
	Roles     []htmlRoleCoverage
	Sources   []sourceCount
	Skipped   []skipView
	Left      []leftView // per page and reason (model.Inventory.Left)
}

// leftView is one row of what a run's bounds left unprobed.
type leftView struct {
	Group, Reason, Example string
	Count                  int
}

type htmlRoleCoverage struct {
	Role     string
	Pages    int
	Found    int
	Probes   int
	Answered int
}

type sourceCount struct {
	Source string
	Count  int
}

type skipView struct {
	Method, URL, Reason, Role string
}

// verdictSymbols give each verdict a mark that reads without colour.
var verdictSymbols = map[model.Verdict]string{
	model.Pass:                "✓",
	model.Leak:                "✖",
	model.Blocked:             "⊘",
	model.ExistenceLeak:       "◐",
	model.WrongCode:           "≠",
	model.ErrorVerdict:        "⚠",
	model.Inconclusive:        "?",
	model.Unmapped:            "∅",
	model.DeadRule:            "†",
	model.MissingWWWAuth:      "!",
	model.ExistenceObservable: "◌",
}

func symbolOf(v model.Verdict) string {
	if s, ok := verdictSymbols[v]; ok {
		return s
	}
	return "•"
}

func (htmlWriter) Write(w io.Writer, r *model.Run) error {
	css, err := htmlAssets.ReadFile("html/report.css")
	if err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	js, err := htmlAssets.ReadFile("html/report.js")
	if err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	t := template.New("report").Funcs(template.FuncMap{
		"inc":    func(n int) int { return n + 1 },
		"plural": plural,
	})
	if _, err := t.ParseFS(htmlAssets, "html/*.tmpl"); err != nil {
		return fmt.Errorf("write html: parse templates: %w", err)
	}

	v := buildHTMLView(r)
	v.CSS = template.CSS(css)
	v.JS = template.JS(js)
	v.CSP = "default-src 'none'; script-src '" + cspHash(js) + "'; style-src '" + cspHash(css) +
		"'; img-src data:; base-uri 'none'; form-action 'none'"

	// The page is written as a stream, in the order it reads: each part
	// of the page and each section by its template, the matrix's data
	// and the evidence by Go, straight into w.
	bw := bufio.NewWriterSize(w, 64<<10)
	exec := func(name string, data any) error {
		if err := t.ExecuteTemplate(bw, name, data); err != nil {
			return fmt.Errorf("write html: %s: %w", name, err)
		}
		return nil
	}
	if err := exec("page-head", v); err != nil {
		return err
	}
	for _, s := range v.Sections {
		if err := exec("section-open", s); err != nil {
			return err
		}
		if err := exec(s.Tmpl, s.Data); err != nil {
			return err
		}
		if s.Tmpl == "matrix" {
			if err := writeMatrixData(bw, r, v.Matrix); err != nil {
				return fmt.Errorf("write html: matrix: %w", err)
			}
		}
		if l, ok := s.Data.(listView); ok && l.Big {
			if err := writeListData(bw, l); err != nil {
				return fmt.Errorf("write html: %s: %w", l.Name, err)
			}
		}
		if _, err := bw.WriteString("\n</section>\n"); err != nil {
			return fmt.Errorf("write html: %w", err)
		}
	}
	if err := exec("page-tail", v); err != nil {
		return err
	}
	// The evidence comes after the script: the browser draws the matrix
	// before it reads the evidence, which is most of the file.
	if err := writeEvidence(bw, r, v.signIn, v.byCell); err != nil {
		return fmt.Errorf("write html: evidence: %w", err)
	}
	if _, err := bw.WriteString("</body>\n</html>\n"); err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	return nil
}

// cspHash is the CSP source expression allowing exactly this inline text.
func cspHash(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

func buildHTMLView(r *model.Run) *htmlView {
	v := &htmlView{
		Title: "permaudit report: " + textout.Sanitize(r.Target),
	}
	switch outcomeOf(r) {
	case outcomeIncomplete:
		v.Title = "permaudit report (INCOMPLETE): " + textout.Sanitize(r.Target)
	case outcomeShard:
		v.Title = "permaudit report (SHARD " + r.Shard.String() + ", gates nothing): " + textout.Sanitize(r.Target)
	}
	roles := matrixRoles(r)
	signIn := map[string]string{}
	for _, ri := range r.Roles {
		signIn[ri.Name] = ri.SignIn
	}
	gated := map[model.Verdict]bool{}
	for _, f := range r.Gate.FailOn {
		gated[f] = true
	}

	v.Header = headerView{
		Target:            textout.Sanitize(r.Target),
		RunID:             textout.Sanitize(r.RunID),
		Tool:              textout.Sanitize(strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version)),
		Started:           r.Started.UTC().Format("2006-01-02 15:04:05 UTC"),
		Duration:          formatDuration(r.Duration),
		ConfigFile:        textout.Sanitize(r.ConfigFile),
		ConfigFingerprint: textout.Sanitize(r.ConfigFingerprint),
		Complete:          r.Complete,
		Incomplete:        textout.Sanitize(r.Incomplete),
		Outcome:           outcomeOf(r),
		Gate:              strings.TrimPrefix(outcomeLine(r), "gate: "),
		Shard:             shardName(r),
		FilterRoles:       textout.Sanitize(strings.Join(r.Filters.Roles, ", ")),
		FilterOnly:        textout.Sanitize(strings.Join(r.Filters.Only, ", ")),
	}
	for _, ri := range r.Roles {
		v.Header.Roles = append(v.Header.Roles, model.RoleInfo{Name: textout.Sanitize(ri.Name), SignIn: textout.Sanitize(ri.SignIn), Inherits: sanitizeAll(ri.Inherits)})
	}

	// Filters and summary.
	for _, fv := range model.FindingVerdicts {
		v.Filters.Verdicts = append(v.Filters.Verdicts, verdictCount{fv, symbolOf(fv), "finding", r.Counts[fv]})
		v.Summary.Findings = append(v.Summary.Findings, verdictCount{fv, symbolOf(fv), "finding", r.Counts[fv]})
	}
	for _, nv := range model.NoteVerdicts {
		v.Filters.Verdicts = append(v.Filters.Verdicts, verdictCount{nv, symbolOf(nv), "note", r.Counts[nv]})
		v.Summary.Notes = append(v.Summary.Notes, verdictCount{nv, symbolOf(nv), "note", r.Counts[nv]})
	}
	v.Filters.Verdicts = append(v.Filters.Verdicts, verdictCount{model.Pass, symbolOf(model.Pass), "pass", r.Counts[model.Pass]})
	v.Filters.Severities = []model.Severity{model.Critical, model.High, model.Medium, model.Low, model.Info}
	v.Filters.Roles = sanitizeAll(roles)
	v.Summary.Pass = r.Counts[model.Pass]
	v.Summary.FindingVerdicts = model.FindingVerdicts
	sev := map[model.Severity]int{}
	for _, f := range r.Findings {
		sev[f.Severity]++
	}
	for _, s := range []model.Severity{model.Critical, model.High, model.Medium, model.Low} {
		v.Summary.Severities = append(v.Summary.Severities, severityCount{s, sev[s]})
	}
	v.Summary.Severities = append(v.Summary.Severities, severityCount{model.Info, len(r.Notes)})
	v.Summary.Roles = roleSummaries(r, roles, signIn)

	// Findings attached to each cell, for the evidence.
	byCell := map[int][]evFind{}
	for _, list := range [][]model.Finding{r.Findings, r.Notes} {
		for _, f := range list {
			if f.Cell >= 0 && f.Cell < r.Observations.Len() {
				byCell[f.Cell] = append(byCell[f.Cell], evFind{f.Verdict, textout.Sanitize(f.Message), f.Fingerprint})
			}
		}
	}

	v.Matrix = buildHTMLMatrix(r, roles)
	v.signIn, v.byCell = signIn, byCell

	for _, f := range r.Findings {
		v.Findings.Rows = append(v.Findings.Rows, findingViewOf(f, gated[f.Verdict] && f.Baseline != BaselineAccepted)) // a baselined finding does not fail the gate
	}
	for _, n := range r.Notes {
		v.Notes.Rows = append(v.Notes.Rows, findingViewOf(n, false))
	}
	v.Findings.Name, v.Findings.Big = "findings", len(v.Findings.Rows) > listRowsMax
	v.Notes.Name, v.Notes.Big = "notes", len(v.Notes.Rows) > listRowsMax
	v.Coverage = buildCoverage(r, roles)
	v.Sections = htmlSections(r, v)
	return v
}

func roleSummaries(r *model.Run, roles []string, signIn map[string]string) []roleSummary {
	idx := map[string]int{}
	out := make([]roleSummary, len(roles))
	for i, n := range roles {
		idx[n] = i
		out[i] = roleSummary{Role: textout.Sanitize(n), SignIn: textout.Sanitize(signIn[n]), Findings: make([]int, len(model.FindingVerdicts))}
	}
	for _, c := range r.Observations.All() {
		if i, ok := idx[c.Role]; ok {
			out[i].Probes++
			if c.Verdict == model.Pass {
				out[i].Pass++
			}
		}
	}
	for _, f := range r.Findings {
		if i, ok := idx[f.Role]; ok {
			for k, fv := range model.FindingVerdicts {
				if f.Verdict == fv {
					out[i].Findings[k]++
				}
			}
		}
	}
	for _, n := range r.Notes {
		if i, ok := idx[n.Role]; ok {
			out[i].Notes++
		}
	}
	return out
}

// displayPath shows a URL on the run's target as its path and query, and
// any other URL whole.
func displayPath(target, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if t, err := url.Parse(target); err == nil && t.Scheme == u.Scheme && t.Host == u.Host {
		return model.PathOf(raw)
	}
	return raw
}

// Gate is what the findings list says of f and the gate: "fails" or
// "—", and the baseline's word on it if any.
func (f findingView) Gate() string {
	gate := "—"
	if f.Gated {
		gate = "fails"
	}
	if f.BaselineState != "" {
		gate += " (" + f.BaselineState + ")"
	}
	return gate
}

func findingViewOf(f model.Finding, gated bool) findingView {
	return findingView{
		Index:             f.Cell,
		Verdict:           f.Verdict,
		Symbol:            symbolOf(f.Verdict),
		Severity:          f.Severity,
		SeverityRank:      f.Severity.Rank(),
		Method:            textout.Sanitize(f.Method),
		Path:              textout.Sanitize(f.Path),
		Role:              textout.Sanitize(f.Role),
		Expected:          textout.Sanitize(f.Expected),
		Observed:          textout.Sanitize(f.Observed),
		Rule:              textout.Sanitize(f.Rule),
		Message:           textout.Sanitize(f.Message),
		Fingerprint:       f.Fingerprint,
		Gated:             gated,
		Template:          textout.Sanitize(f.Template),
		BaselineState:     textout.Sanitize(f.Baseline),
		BaselineReason:    textout.Sanitize(f.BaselineReason),
		BaselineExpiresOn: textout.Sanitize(f.BaselineExpires),
	}
}

func buildCoverage(r *model.Run, roles []string) htmlCoverage {
	cv := htmlCoverage{Endpoints: len(r.Inventory.Entries), Probes: r.Observations.Len()}
	templates := map[string]bool{}
	found := map[string]int{}
	sources := map[string]int{}
	for _, e := range r.Inventory.Entries {
		templates[e.Template] = true
		for _, by := range e.FoundBy {
			found[by]++
		}
		for _, s := range e.Sources {
			sources[s]++
		}
	}
	cv.Templates = len(templates)
	probes := map[string]int{}
	answered := map[string]int{}
	for _, c := range r.Observations.All() {
		probes[c.Role]++
		if c.Class != model.Error {
			answered[c.Role]++
		}
	}
	names := append([]string(nil), roles...)
	for _, ri := range r.Roles { // roles narrowed away from probing still discovered
		if !containsString(names, ri.Name) {
			names = append(names, ri.Name)
		}
	}
	for _, n := range names {
		cv.Roles = append(cv.Roles, htmlRoleCoverage{Role: textout.Sanitize(n), Pages: r.Inventory.Pages[n], Found: found[n], Probes: probes[n], Answered: answered[n]})
	}
	var srcs []string
	for s := range sources {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	for _, s := range srcs {
		cv.Sources = append(cv.Sources, sourceCount{textout.Sanitize(s), sources[s]})
	}
	for _, s := range r.Inventory.Skipped {
		cv.Skipped = append(cv.Skipped, skipView{textout.Sanitize(s.Method), textout.Sanitize(s.URL), textout.Sanitize(s.Reason), textout.Sanitize(s.Role)})
	}
	for _, l := range r.Inventory.Left {
		cv.Left = append(cv.Left, leftView{Group: textout.Sanitize(l.Group), Reason: textout.Sanitize(l.Reason), Example: textout.Sanitize(l.Example), Count: l.Count})
	}
	return cv
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// formatDuration rounds a duration for people: "1.5ms", "2.5s".
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

func sanitizeAll(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = textout.Sanitize(s)
	}
	return out
}

// sanitizeBlock is sanitize for multi-line text (body excerpts): newlines
// and tabs are kept, "\r\n" becomes "\n", and every other control
// character, bidirectional formatting character and invalid byte is
// escaped as sanitize does.
func sanitizeBlock(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		parts := strings.Split(l, "\t")
		for j, p := range parts {
			parts[j] = textout.Sanitize(p)
		}
		lines[i] = strings.Join(parts, "\t")
	}
	return strings.Join(lines, "\n")
}

// shardName is "2/4" for a shard's run, "" for any other.
func shardName(r *model.Run) string {
	if r.Shard == nil {
		return ""
	}
	return r.Shard.String()
}
