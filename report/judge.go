package report

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// anonymous is the role that always exists and never signs in.
const anonymous = "anonymous"

// judge fills run from cfg's matrix and obs. See Judge and the package
// comment for the rules.
func judge(run *model.Run, cfg *roles.Config, obs []model.Observation) {
	j := &judgement{
		run:      run,
		roleRank: map[string]int{},
		unmapped: map[string]*group{},
		noAuth:   map[string]*group{},
	}
	for i, n := range cfg.RoleNames() {
		j.roleRank[n] = i
	}
	obs = j.takeCanaries(obs)
	run.Observations = make([]model.Cell, 0, len(obs))
	run.Findings = []model.Finding{}
	run.Notes = []model.Finding{}

	matched := map[int]bool{}
	for i, o := range obs {
		c := model.Cell{Observation: o, Template: model.Template(o.Method, o.URL)}
		u, err := url.Parse(o.URL)
		if err != nil {
			c.Expected = "unknown"
			c.Verdict = model.ErrorVerdict
			run.Observations = append(run.Observations, c)
			j.add(i, c, model.ErrorVerdict, "the URL cannot be parsed, so no expectation applies")
			continue
		}
		exp := cfg.Expect(o.Method, u, o.Role)
		matched[exp.RuleIdx] = true
		c.Rule = exp.Rule
		c.Expected = expectedString(exp)
		v, why := decide(exp, o)
		c.Verdict = v
		run.Observations = append(run.Observations, c)

		switch v {
		case model.Pass:
		case model.Unmapped:
			j.group(j.unmapped, &j.unmappedOrder, i, c)
		default:
			j.add(i, c, v, why)
		}
		if o.Status == 401 && !o.WWWAuth {
			j.group(j.noAuth, &j.noAuthOrder, i, c)
		}
	}

	j.compareCanaries()
	for _, k := range j.unmappedOrder {
		g := j.unmapped[k]
		c := run.Observations[g.cell]
		j.note(g, c, model.Unmapped, fmt.Sprintf("%s: no rule covers it and the matrix default is unmapped (%s; roles: %s)",
			c.Template, plural(len(g.urls), "endpoint"), strings.Join(g.roles, ", ")))
	}
	for _, k := range j.noAuthOrder {
		g := j.noAuth[k]
		c := run.Observations[g.cell]
		j.note(g, c, model.MissingWWWAuth, fmt.Sprintf("%s: 401 without a WWW-Authenticate header (RFC 9110 requires one; %s; roles: %s)",
			c.Template, plural(len(g.urls), "endpoint"), strings.Join(g.roles, ", ")))
	}
	// A narrowed run (--role, --only), an incomplete one or one with no
	// observation cannot tell a dead rule from one that was kept away.
	if len(obs) > 0 && len(run.Filters.Roles) == 0 && len(run.Filters.Only) == 0 && run.Incomplete == "" {
		for _, r := range cfg.Matrix.Rules {
			if matched[r.Index] {
				continue
			}
			pats := make([]string, len(r.Match))
			for i, p := range r.Match {
				pats[i] = p.String()
			}
			name := r.Name()
			run.Notes = append(run.Notes, model.Finding{
				Verdict:     model.DeadRule,
				Severity:    model.Info,
				Rule:        name,
				Message:     fmt.Sprintf("%s at line %d matched no probed endpoint", name, r.Line),
				Fingerprint: model.DeadRuleFingerprint(pats),
				Cell:        -1,
			})
		}
	}

	j.sort()
	j.count()
	run.Coverage = coverage(run, cfg)
}

type judgement struct {
	run      *model.Run
	roleRank map[string]int

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
	for _, c := range run.Observations {
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
		if containsVerdict(run.Gate.FailOn, f.Verdict) {
			run.Gate.Failing++
		}
	}
	run.Gate.Failed = run.Gate.Failing > 0
}

// decide compares one expectation with one observation and returns the
// verdict and, for anything but a pass, why.
func decide(exp roles.Expectation, o model.Observation) (model.Verdict, string) {
	if exp.Unmapped {
		return model.Unmapped, ""
	}
	obs := o.Observed()
	switch o.Class {
	case model.Allowed, model.Unauthenticated, model.Forbidden, model.Hidden, model.Other:
	case model.Error:
		return model.ErrorVerdict, "no decision: " + o.ErrorReason()
	default:
		return model.ErrorVerdict, fmt.Sprintf("no decision: unknown answer class %q", string(o.Class))
	}

	if exp.Allow {
		switch {
		case o.Class == model.Allowed:
			return bodyVerdict(exp, o)
		case o.Class == model.Other && !namesStatus(exp.DenyAs, o.Status):
			return model.Inconclusive, fmt.Sprintf("expected allow, got %s, which is neither allowed nor a denial; name the code in the rule's deny_as to judge it", obs)
		}
		why := fmt.Sprintf("expected allow, got %s", obs)
		switch {
		case o.Role == anonymous:
		case o.Class == model.Unauthenticated:
			why += sessionNote(o)
		case o.Session == "":
			// DESIGN: blocked is confirmed with a live session; without a
			// check nothing confirmed it, and the reader must know.
			why += "; unconfirmed: the role has no check to prove its session live, so an expired credential reads the same"
		}
		return model.Blocked, why
	}

	if o.Class == model.Allowed {
		return model.Leak, fmt.Sprintf("expected %s, got %s", expectedString(exp), obs)
	}
	if len(exp.DenyAs) > 0 {
		for _, f := range exp.DenyAs {
			if formMatches(f, o) {
				return model.Pass, ""
			}
		}
		want := expectedString(exp)
		switch {
		case o.Class == model.Other:
			return model.Inconclusive, fmt.Sprintf("expected %s, got %s, which is not a denial form the rule names", want, obs)
		case anyHidden(exp.DenyAs) && (o.Class == model.Unauthenticated || o.Class == model.Forbidden):
			// The rule hides the resource (a missing one answers 404), so
			// any other denial tells that it exists.
			return model.ExistenceLeak, fmt.Sprintf("expected %s (hidden), got %s, which tells that the resource exists", want, obs)
		}
		return model.WrongCode, fmt.Sprintf("expected %s, got %s", want, obs)
	}

	switch o.Class {
	case model.Hidden:
		return model.Pass, ""
	case model.Other:
		return model.Inconclusive, fmt.Sprintf("expected deny, got %s, which is neither allowed nor a denial; name the code in the rule's deny_as to judge it", obs)
	case model.Unauthenticated:
		if o.Role == anonymous {
			return model.Pass, ""
		}
		return model.WrongCode, fmt.Sprintf("401 to a signed-in role: got %s, expected forbidden (403) or hidden (404, 410)%s", obs, sessionNote(o))
	default: // crawl.Forbidden
		if o.Role != anonymous {
			return model.Pass, ""
		}
		return model.WrongCode, fmt.Sprintf("403 to anonymous: got %s, expected unauthenticated (401 or the login page) or hidden (404, 410)", obs)
	}
}

// formMatches reports whether o is the denial form f: same class, or the
// exact status for a form without a class.
func formMatches(f roles.DenyForm, o model.Observation) bool {
	if f.Class != "" {
		return string(o.Class) == f.Class
	}
	return f.Status != 0 && o.Status == f.Status
}

// namesStatus reports whether forms hold an exact-status form for status.
func namesStatus(forms []roles.DenyForm, status int) bool {
	for _, f := range forms {
		if f.Class == "" && f.Status != 0 && f.Status == status {
			return true
		}
	}
	return false
}

// anyHidden reports whether forms let the resource be hidden (404, 410).
func anyHidden(forms []roles.DenyForm) bool {
	for _, f := range forms {
		if f.Class == string(model.Hidden) {
			return true
		}
	}
	return false
}

// expectedString renders an expectation: "allow", "deny", "deny as 404",
// "deny as 401 or 403", "unmapped".
func expectedString(exp roles.Expectation) string {
	switch {
	case exp.Unmapped:
		return "unmapped"
	case exp.Allow:
		return "allow"
	case len(exp.DenyAs) == 0:
		return "deny"
	}
	forms := make([]string, len(exp.DenyAs))
	for i, f := range exp.DenyAs {
		forms[i] = formString(f)
	}
	return "deny as " + strings.Join(forms, " or ")
}

// formString spells a denial form as the config did where it can: the code
// when there is one, otherwise the class.
func formString(f roles.DenyForm) string {
	if f.Status != 0 {
		return strconv.Itoa(f.Status)
	}
	return f.Class
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// sessionNote says what is known of the session of a signed-in role that
// was told to sign in: proven live by its check (so the application
// mislabels a denial, or refuses the role), or unknown.
func sessionNote(o model.Observation) string {
	switch o.Session {
	case model.SessionLive, model.SessionRenewed:
		return "; the role's session was proven live by its check right after this answer, so the application itself refuses the signed-in role this way"
	}
	return "; the application may not accept the role's credentials, or its session ended (the role has no check to prove its session live)"
}
