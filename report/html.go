package report

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"sort"
	"strconv"
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
// The matrix is rendered on the server: one row per endpoint, grouped by
// path prefix (a collapsible <details>) and template (a <tbody>), one cell
// per role. Filters only toggle the hidden attribute of rows, and groups
// use content-visibility so that the browser lays out only what is on
// screen. The evidence of every cell is one JSON array in a
// <script type="application/json"> element, parsed on the first click.
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
	Evidence []evidenceBlob
	Header   headerView
	Filters  filterView
	Summary  summaryView
	Matrix   matrixView
	Findings []findingView
	Notes    []findingView
	Coverage htmlCoverage
	Sections []htmlSection
}

type headerView struct {
	Target, RunID, Tool, Started, Duration string
	ConfigFile, ConfigFingerprint          string
	Complete                               bool
	Incomplete                             string
	GateFailed                             bool
	Gate                                   string
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

type matrixView struct {
	Roles     []string
	Endpoints int
	Cells     int
	Groups    []matrixGroup
	// Index is what report.js filters with, so that it never reads the
	// DOM of 40,000 cells: JSON (matrixIndex) holding only codes and
	// numbers.
	Index template.JS
}

// matrixIndex describes the matrix rows in document order: Rows[k] has
// one verdict code per role column (verdictCodes), Tbody[k] is the index
// of the row's template group (<tbody>), Group[t] the index of that
// tbody's path-prefix group (<details>), and Cells[k] where the evidence
// of each cell is. The cells carry no attribute of their own: 40,000 of
// them parse faster bare.
type matrixIndex struct {
	Codes map[string]string `json:"codes"` // code -> verdict
	Rows  []string          `json:"rows"`
	Tbody []int             `json:"tbody"`
	Group []int             `json:"group"`
	// Cells[k] maps row k's cells to Run.Observations: a number n when
	// its probed cells, left to right, are observations n, n+1, ...
	// (the usual case), else one index per cell, -1 where not probed.
	Cells []any `json:"cells"`
}

// verdictCodes are the one-letter codes of matrixIndex.
var verdictCodes = map[model.Verdict]byte{
	model.Pass: 'P', model.Leak: 'L', model.Blocked: 'B', model.ExistenceLeak: 'E', model.WrongCode: 'W', model.ErrorVerdict: 'X',
	model.Inconclusive: 'I', model.Unmapped: 'U', model.DeadRule: 'D', model.MissingWWWAuth: 'M',
}

// matrixIndexOf builds the filter index of m.
func matrixIndexOf(r *model.Run, m matrixView) template.JS {
	idx := matrixIndex{Codes: map[string]string{"-": "none", "?": "unknown"}, Rows: []string{}, Tbody: []int{}, Group: []int{}, Cells: []any{}}
	for v, c := range verdictCodes {
		idx.Codes[string(c)] = string(v)
	}
	tbody := 0
	for gi, g := range m.Groups {
		for _, t := range g.Templates {
			idx.Group = append(idx.Group, gi)
			for _, row := range t.Rows {
				codes := make([]byte, len(row.Cells))
				explicit := make([]int, len(row.Cells))
				first, next, consecutive := -1, -1, true
				for j, c := range row.Cells {
					explicit[j] = c.Index
					if c.Index >= 0 {
						if first < 0 {
							first = c.Index
						} else if c.Index != next {
							consecutive = false
						}
						next = c.Index + 1
					}
					switch {
					case c.Index < 0:
						codes[j] = '-'
					default:
						code, ok := verdictCodes[r.Observations[c.Index].Verdict]
						if !ok {
							code = '?'
						}
						codes[j] = code
					}
				}
				if consecutive && first >= 0 {
					idx.Cells = append(idx.Cells, first)
				} else {
					idx.Cells = append(idx.Cells, explicit)
				}
				idx.Rows = append(idx.Rows, string(codes))
				idx.Tbody = append(idx.Tbody, tbody)
			}
			tbody++
		}
	}
	b, _ := json.Marshal(idx) // codes and numbers only; map keys sorted: deterministic
	return template.JS(b)
}

type matrixGroup struct {
	Prefix    string
	Endpoints int
	Findings  int
	Templates []matrixTemplate
}

type matrixTemplate struct {
	Template string
	Rows     []matrixRow
	// Header is false for a template of one endpoint that reads the
	// same as its row, so that the row is not said twice.
	Header bool
}

type matrixRow struct {
	Method, Path string
	Cells        []matrixCell
}

type matrixCell struct {
	Index  int    // into Run.Observations; -1 when the role did not probe it
	Class  string // "v-leak": the first class of the cell, read by report.js
	Symbol string
	Answer string
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
	model.Pass:           "✓",
	model.Leak:           "✖",
	model.Blocked:        "⊘",
	model.ExistenceLeak:  "◐",
	model.WrongCode:      "≠",
	model.ErrorVerdict:   "⚠",
	model.Inconclusive:   "?",
	model.Unmapped:       "∅",
	model.DeadRule:       "†",
	model.MissingWWWAuth: "!",
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
	var t *template.Template
	t = template.New("report").Funcs(template.FuncMap{
		// section renders a section's template by name, so that the
		// list of sections is data (htmlSections), not markup.
		"section": func(s htmlSection) (template.HTML, error) {
			var b bytes.Buffer
			if err := t.ExecuteTemplate(&b, s.Tmpl, s.Data); err != nil {
				return "", err
			}
			return template.HTML(b.String()), nil // escaped by html/template already
		},
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

	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "page", v); err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
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
		GateFailed:        r.Gate.Failed,
		Gate:              strings.TrimPrefix(gateLine(r.Gate), "gate: "),
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
			if f.Cell >= 0 && f.Cell < len(r.Observations) {
				byCell[f.Cell] = append(byCell[f.Cell], evFind{f.Verdict, textout.Sanitize(f.Message), f.Fingerprint})
			}
		}
	}

	v.Matrix = buildMatrix(r, roles)
	v.Matrix.Index = matrixIndexOf(r, v.Matrix)
	v.Evidence = encodeEvidence(r, signIn, byCell)

	for _, f := range r.Findings {
		v.Findings = append(v.Findings, findingViewOf(f, gated[f.Verdict] && f.Baseline != BaselineAccepted)) // a baselined finding does not fail the gate
	}
	for _, n := range r.Notes {
		v.Notes = append(v.Notes, findingViewOf(n, false))
	}
	v.Coverage = buildCoverage(r, roles)
	v.Sections = htmlSections(r, v)
	return v
}

// matrixRoles are the matrix's columns: the run's roles in configuration
// order (only those probed when --role narrowed the run), then any role
// seen in an observation but not declared.
func matrixRoles(r *model.Run) []string {
	seen := map[string]bool{}
	for _, c := range r.Observations {
		seen[c.Role] = true
	}
	var roles []string
	narrowed := len(r.Filters.Roles) > 0
	for _, ri := range r.Roles {
		if narrowed && !seen[ri.Name] {
			continue
		}
		roles = append(roles, ri.Name)
		delete(seen, ri.Name)
	}
	var extra []string
	for n := range seen {
		extra = append(extra, n)
	}
	sort.Strings(extra)
	return append(roles, extra...)
}

func roleSummaries(r *model.Run, roles []string, signIn map[string]string) []roleSummary {
	idx := map[string]int{}
	out := make([]roleSummary, len(roles))
	for i, n := range roles {
		idx[n] = i
		out[i] = roleSummary{Role: textout.Sanitize(n), SignIn: textout.Sanitize(signIn[n]), Findings: make([]int, len(model.FindingVerdicts))}
	}
	for _, c := range r.Observations {
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

// buildMatrix groups the observations into rows (one per method and
// URL), templates and path prefixes, each sorted.
func buildMatrix(r *model.Run, roles []string) matrixView {
	col := map[string]int{}
	for i, n := range roles {
		col[n] = i
	}
	type rowAcc struct {
		method, url, template string
		cells                 []int
	}
	rows := map[string]*rowAcc{}
	var keys []string
	for i, c := range r.Observations {
		k := c.Method + " " + c.URL
		acc, ok := rows[k]
		if !ok {
			acc = &rowAcc{method: c.Method, url: c.URL, template: c.Template, cells: make([]int, len(roles))}
			for j := range acc.cells {
				acc.cells[j] = -1
			}
			rows[k] = acc
			keys = append(keys, k)
		}
		if j, ok := col[c.Role]; ok && acc.cells[j] < 0 {
			acc.cells[j] = i
		}
	}
	type keyed struct {
		prefix, template, path, method string
		acc                            *rowAcc
	}
	list := make([]keyed, 0, len(keys))
	for _, k := range keys {
		acc := rows[k]
		p := displayPath(r.Target, acc.url)
		list = append(list, keyed{pathPrefix(acc.url), acc.template, p, acc.method, acc})
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.prefix != b.prefix {
			return a.prefix < b.prefix
		}
		if a.template != b.template {
			return a.template < b.template
		}
		if a.path != b.path {
			return a.path < b.path
		}
		return a.method < b.method
	})

	m := matrixView{Roles: sanitizeAll(roles), Endpoints: len(list)}
	for _, k := range list {
		if len(m.Groups) == 0 || m.Groups[len(m.Groups)-1].Prefix != textout.Sanitize(k.prefix) {
			m.Groups = append(m.Groups, matrixGroup{Prefix: textout.Sanitize(k.prefix)})
		}
		g := &m.Groups[len(m.Groups)-1]
		if len(g.Templates) == 0 || g.Templates[len(g.Templates)-1].Template != textout.Sanitize(k.template) {
			g.Templates = append(g.Templates, matrixTemplate{Template: textout.Sanitize(k.template)})
		}
		t := &g.Templates[len(g.Templates)-1]
		row := matrixRow{Method: textout.Sanitize(k.method), Path: textout.Sanitize(k.path), Cells: make([]matrixCell, len(roles))}
		finding := false
		for j, ci := range k.acc.cells {
			if ci < 0 {
				row.Cells[j] = matrixCell{Index: -1, Class: "v-none", Symbol: "—"}
				continue
			}
			c := r.Observations[ci]
			row.Cells[j] = matrixCell{
				Index:  ci,
				Class:  "v-" + string(c.Verdict),
				Symbol: symbolOf(c.Verdict),
				Answer: answerOf(c),
			}
			m.Cells++
			if c.Verdict.IsFinding() {
				finding = true
			}
		}
		g.Endpoints++
		if finding {
			g.Findings++
		}
		t.Rows = append(t.Rows, row)
		t.Header = len(t.Rows) > 1 || t.Template != row.Method+" "+row.Path
	}
	return m
}

// answerOf is the short answer a matrix cell shows: statusAnswer, then
// " b✓" when every body check passed, " b✖" when one failed, " b?" when
// one could not decide (bodyOutcome).
func answerOf(c model.Cell) string {
	return statusAnswer(c) + bodyMarks[bodyOutcome(c.BodyChecks)]
}

// statusAnswer is a cell's answer without its body checks: the final
// status, or "login" for a redirect to (or a page of) the login, "denial"
// for a denial signature on another status, "error" when nothing
// decided, with "↪" when redirects were followed.
func statusAnswer(c model.Cell) string {
	var a string
	switch {
	case c.Class == model.Error:
		a = "error"
		if c.Status > 0 {
			a = strconv.Itoa(c.Status)
		}
	case c.Class == model.Unauthenticated && c.Status != 401:
		a = "login"
	case c.Class == model.Forbidden && c.Status != 403:
		a = "denial"
	case c.Status == 0:
		a = "error"
	default:
		a = strconv.Itoa(c.Status)
	}
	if c.Redirects() > 0 {
		a = "↪" + a
	}
	return a
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

// pathPrefix is the first segment of a URL's path ("/api"), or "/".
func pathPrefix(raw string) string {
	p := raw
	if u, err := url.Parse(raw); err == nil {
		p = u.EscapedPath()
	}
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		p = p[:i]
	}
	return "/" + p
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
	cv := htmlCoverage{Endpoints: len(r.Inventory.Entries), Probes: len(r.Observations)}
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
	for _, c := range r.Observations {
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
