package judge

import (
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// Judge compares every observation with cfg's matrix and fills run's
// Observations (cells, in the order given), Findings and Notes (sorted:
// severity, then path, method, role order), Counts, Gate and Coverage.
// run.Gate.FailOn must be set (model.DefaultFailOn when the user gave
// none). Judge sends no request: a saved run can be judged again. The
// package comment has the rules.
func Judge(run *model.Run, cfg *roles.Config, obs []model.Observation) {
	cells := model.NewCells(len(obs))
	for i := range obs {
		cells.Set(i, model.Cell{Observation: obs[i]})
	}
	JudgeCells(run, cfg, cells)
}

// JudgeCells is Judge on the observations of cells (crawl.ProbeCells),
// filled in place: run.Observations becomes cells without the canaries,
// each cell completed with its template, expectation, rule and verdict.
// A run of a million cells then holds one set of them while it is
// judged, not observations and cells (docs/design.md, "Outputs at
// scale"). The caller gives cells up.
func JudgeCells(run *model.Run, cfg *roles.Config, cells *model.Cells) {
	j := &judgement{
		run:      run,
		roleRank: map[string]int{},
		unmapped: map[string]*group{},
		noAuth:   map[string]*group{},
	}
	for i, n := range cfg.RoleNames() {
		j.roleRank[n] = i
	}
	vars := cfg.VarsWith(Captured(run))
	j.cfg, j.vars = cfg, vars
	j.takeCanaries(cells)
	run.Observations = cells
	j.exps = make([]cellExp, 0, cells.Len())
	run.Findings = []model.Finding{}
	run.Notes = []model.Finding{}

	// Cells share the strings they have in common: one template for the
	// cells of one endpoint (consecutive, in the probe's order), one name
	// per rule, one text per expectation.
	var in interner
	matched := map[int]bool{}
	for i := range cells.Len() {
		cell := cells.At(i)
		c := &cell
		o := &c.Observation
		c.Template = in.template(o.Method, o.URL)
		u, err := in.parse(o.URL)
		if err != nil {
			c.Expected = "unknown"
			c.Verdict = model.ErrorVerdict
			cells.Set(i, *c)
			j.exps = append(j.exps, cellExp{})
			j.add(i, *c, model.ErrorVerdict, "the URL cannot be parsed, so no expectation applies")
			continue
		}
		exp := cfg.Expect(o.Method, u, o.Role, vars)
		matched[exp.RuleIdx] = true
		c.Rule = exp.Rule // the matrix's one name for the rule (roles.Config.RuleName)
		c.Expected = in.text(expectedString(exp))
		method, role := o.Method, o.Role
		look := func(to *url.URL) roles.Expectation { return cfg.Expect(method, to, role, vars) }
		v, why := DecideAt(exp, *o, look)
		c.Verdict = v
		cells.Set(i, *c)
		j.exps = append(j.exps, cellExp{ruleIdx: int32(exp.RuleIdx), denies: !exp.Allow && !exp.Unmapped, hidesOnly: allHidden(exp.DenyAs)})

		switch v {
		case model.Pass:
		case model.Unmapped:
			j.group(j.unmapped, &j.unmappedOrder, i, *c)
		default:
			j.add(i, *c, v, why)
		}
		if o.Status == 401 && !o.WWWAuth {
			j.group(j.noAuth, &j.noAuthOrder, i, *c)
		}
	}

	j.compareCanaries()
	for _, k := range j.unmappedOrder {
		g := j.unmapped[k]
		c := run.Observations.At(g.cell)
		j.note(g, c, model.Unmapped, fmt.Sprintf("%s: no rule covers it and the matrix default is unmapped (%s; roles: %s)",
			c.Template, plural(len(g.urls), "endpoint"), strings.Join(g.roles, ", ")))
	}
	for _, k := range j.noAuthOrder {
		g := j.noAuth[k]
		c := run.Observations.At(g.cell)
		j.note(g, c, model.MissingWWWAuth, fmt.Sprintf("%s: 401 without a WWW-Authenticate header (RFC 9110 requires one; %s; roles: %s)",
			c.Template, plural(len(g.urls), "endpoint"), strings.Join(g.roles, ", ")))
	}
	deadRules(run, cfg, matched, vars)

	// A pass cell is no evidence: it keeps no excerpt (run schema v2),
	// now that the canaries can no longer make it a finding.
	for i, c := range cells.All() {
		if c.Verdict == model.Pass && c.Excerpt != "" {
			c.Excerpt = ""
			cells.Set(i, c)
		}
	}
	j.sort()
	j.count()
	run.Coverage = coverage(run, cfg)
	run.Rules = ruleInfos(cfg)
}

// interner shares equal strings between cells (Judge), and parses the
// URL of consecutive cells of one endpoint once.
type interner struct {
	method, url, tmpl string // the last endpoint's template
	parsedURL         string // the last URL parsed
	parsed            *url.URL
	parseErr          error
	texts             map[string]string
}

func (in *interner) template(method, url string) string {
	if method != in.method || url != in.url || in.tmpl == "" {
		in.method, in.url, in.tmpl = method, url, model.Template(method, url)
	}
	return in.tmpl
}

// parse is url.Parse(raw), once for consecutive cells of one URL. The
// matrix only reads the URL it is given.
func (in *interner) parse(raw string) (*url.URL, error) {
	if raw != in.parsedURL || (in.parsed == nil && in.parseErr == nil) {
		in.parsedURL = raw
		in.parsed, in.parseErr = url.Parse(raw)
	}
	return in.parsed, in.parseErr
}

func (in *interner) text(s string) string {
	if in.texts == nil {
		in.texts = map[string]string{}
	}
	if t, ok := in.texts[s]; ok {
		return t
	}
	in.texts[s] = s
	return s
}

// ruleInfos lists cfg's matrix rules and its default, where they are
// written (model.Run.Rules). The configuration does not record the line
// of matrix.default, so the default's line is 0 (unknown).
func ruleInfos(cfg *roles.Config) []model.RuleInfo {
	infos := make([]model.RuleInfo, 0, len(cfg.Matrix.Rules)+1)
	for i := range cfg.Matrix.Rules {
		r := &cfg.Matrix.Rules[i]
		pats := make([]string, len(r.Match))
		for k, p := range r.Match {
			pats[k] = p.Raw
		}
		infos = append(infos, model.RuleInfo{Index: r.Index, Name: cfg.RuleName(i + 1), Patterns: pats, File: cfg.File, Line: r.Line})
	}
	return append(infos, model.RuleInfo{Name: "default", File: cfg.File})
}

// cellExp is what judging keeps of a cell's expectation (judgement.exps).
type cellExp struct {
	ruleIdx   int32
	denies    bool // neither allowed nor unmapped
	hidesOnly bool // every accepted denial form is hidden (allHidden)
}

type judgement struct {
	run      *model.Run
	cfg      *roles.Config
	vars     roles.Vars
	roleRank map[string]int
	// exps holds what the canaries need of each cell's expectation
	// (run.Observations' order): its rule, whether the matrix denies it,
	// whether every accepted denial form is hidden. Not the whole
	// expectation, which at a million cells would be 100 MB more.
	exps []cellExp

	unmapped      map[string]*group
	unmappedOrder []string
	noAuth        map[string]*group
	noAuthOrder   []string
}

// group gathers the cells of one template for a note that covers them all.
type group struct {
	cell  int // first cell
	roles []string
	urls  map[string]bool
}

// ruleRef names a rule in a note's message: its name quoted, with its
// line (`"admin area" (line 12)`), or its default name, which holds the
// line (`GET /admin/** (line 12)`).
func ruleRef(r *roles.Rule) string {
	if r.Label != "" && r.Line > 0 {
		return fmt.Sprintf("%q (line %d)", r.Label, r.Line)
	}
	return r.Name()
}

func (j *judgement) group(m map[string]*group, order *[]string, i int, c model.Cell) {
	g := m[c.Template]
	if g == nil {
		g = &group{cell: i, urls: map[string]bool{}}
		m[c.Template] = g
		*order = append(*order, c.Template)
	}
	g.urls[c.URL] = true
	for _, r := range g.roles {
		if r == c.Role {
			return
		}
	}
	g.roles = append(g.roles, c.Role)
	sort.SliceStable(g.roles, func(a, b int) bool { return j.roleLess(g.roles[a], g.roles[b]) })
}

// add records the finding or note of one cell.
func (j *judgement) add(i int, c model.Cell, v model.Verdict, why string) {
	f := model.Finding{
		Verdict:     v,
		Severity:    v.Severity(),
		Method:      c.Method,
		URL:         c.URL,
		Path:        model.PathOf(c.URL),
		Template:    c.Template,
		Role:        c.Role,
		Expected:    c.Expected,
		Observed:    c.Observation.Observed(),
		Rule:        c.Rule,
		Message:     fmt.Sprintf("%s %s as %s: %s", c.Method, model.PathOf(c.URL), c.Role, why),
		Fingerprint: model.Fingerprint(v, c.Method, c.Template, c.Role),
		Cell:        i,
	}
	if v.IsFinding() {
		j.run.Findings = append(j.run.Findings, f)
	} else {
		j.run.Notes = append(j.run.Notes, f)
	}
}

// note records a note covering a group of cells; it names no role.
func (j *judgement) note(g *group, c model.Cell, v model.Verdict, msg string) {
	j.run.Notes = append(j.run.Notes, model.Finding{
		Verdict:     v,
		Severity:    model.Info,
		Method:      c.Method,
		URL:         c.URL,
		Path:        model.PathOf(c.URL),
		Template:    c.Template,
		Expected:    c.Expected,
		Observed:    c.Observation.Observed(),
		Rule:        c.Rule,
		Message:     msg,
		Fingerprint: model.Fingerprint(v, c.Method, c.Template, ""),
		Cell:        g.cell,
	})
}

func (j *judgement) roleLess(a, b string) bool {
	ra, oka := j.roleRank[a]
	rb, okb := j.roleRank[b]
	switch {
	case oka && okb:
		return ra < rb
	case oka != okb:
		return oka // known roles before unknown ones
	}
	return a < b
}

// findingLess orders by severity, path, method, role order, verdict, then
// cell; notes sort first by verdict (model.NoteVerdicts order).
func (j *judgement) findingLess(a, b model.Finding) bool {
	if a.Severity != b.Severity {
		return a.Severity.Rank() < b.Severity.Rank()
	}
	if a.Verdict != b.Verdict && a.Severity == model.Info {
		return a.Verdict.NoteRank() < b.Verdict.NoteRank()
	}
	if a.Path != b.Path {
		return a.Path < b.Path
	}
	if a.Method != b.Method {
		return a.Method < b.Method
	}
	if a.Role != b.Role {
		return j.roleLess(a.Role, b.Role)
	}
	if a.Verdict != b.Verdict {
		return a.Verdict < b.Verdict
	}
	return a.Cell < b.Cell
}

func (j *judgement) sort() {
	for _, fs := range [][]model.Finding{j.run.Findings, j.run.Notes} {
		sort.SliceStable(fs, func(a, b int) bool { return j.findingLess(fs[a], fs[b]) })
	}
}

// count fills Counts (every verdict, zeros included: "pass" counts cells,
// the others count findings and notes) and the gate outcome.
func (j *judgement) count() {
	run := j.run
	run.Counts = map[model.Verdict]int{model.Pass: 0}
	for _, v := range append(append([]model.Verdict{}, model.FindingVerdicts...), model.NoteVerdicts...) {
		run.Counts[v] = 0
	}
	for _, c := range run.Observations.All() {
		if c.Verdict == model.Pass {
			run.Counts[model.Pass]++
		}
	}
	for _, f := range run.Findings {
		run.Counts[f.Verdict]++
	}
	for _, f := range run.Notes {
		run.Counts[f.Verdict]++
	}
	if run.Gate.FailOn == nil {
		run.Gate.FailOn = model.DefaultFailOn
	}
	run.Gate.Failing = 0
	for _, f := range run.Findings {
		if slices.Contains(run.Gate.FailOn, f.Verdict) {
			run.Gate.Failing++
		}
	}
	run.Gate.Failed = run.Gate.Failing > 0
}

// Captured returns the variables the run's roles captured at sign-in
// (model.RoleInfo.Vars), by role: what the matrix is judged with, at
// audit time and whenever the saved run is judged again.
func Captured(run *model.Run) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, r := range run.Roles {
		if len(r.Vars) > 0 {
			out[r.Name] = r.Vars
		}
	}
	return out
}
