package judge

import (
	"fmt"
	"net/url"
	"sort"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// BroadVariants is how many query variants of one path a bare pattern
// (roles.Pattern.Bare) must have matched in a run, some of them findings,
// before BroadRules names it.
const BroadVariants = 10

// Broad is a rule's pattern written for a bare path that matched many
// query variants of that path in a run, some of them findings: a rule
// for a page (GET /api.php) that also judged every crawled variant of it
// (?action=delete, ?returnto=...), which is where false findings come
// from.
type Broad struct {
	Rule     *roles.Rule
	Pattern  string // as written
	Path     string // method and path, ids folded (model.PathGroup)
	Variants int    // distinct queries of Path the pattern matched
	Findings int    // cells among them that are findings
	Example  string // the first such query, "?a=1&b=2"
}

// BroadRules returns the bare patterns of cfg that matched at least
// BroadVariants query variants of one path in the judged run, at least
// one of them a finding, in rule order then path. Each cell is charged to
// the first pattern of its rule that matches it.
func BroadRules(run *model.Run, cfg *roles.Config) []Broad {
	type key struct {
		rule    int
		pattern string
		path    string
	}
	type acc struct {
		queries  map[string]bool
		findings int
		example  string
	}
	vars := cfg.VarsWith(Captured(run))
	seen := map[key]*acc{}
	for _, c := range run.Observations.All() {
		u, err := url.Parse(c.URL)
		if err != nil || u.RawQuery == "" {
			continue
		}
		exp := cfg.Expect(c.Method, u, c.Role, vars)
		if exp.RuleIdx <= 0 || exp.RuleIdx > len(cfg.Matrix.Rules) {
			continue
		}
		r := &cfg.Matrix.Rules[exp.RuleIdx-1]
		b := roles.Bindings{Self: c.Role, Vars: vars}
		for _, p := range r.Match {
			if !p.Match(c.Method, u, b) {
				continue
			}
			if p.Bare() {
				k := key{exp.RuleIdx, p.Raw, model.PathGroup(c.Method, c.URL)}
				a := seen[k]
				if a == nil {
					a = &acc{queries: map[string]bool{}}
					seen[k] = a
				}
				a.queries[u.RawQuery] = true
				if c.Verdict.IsFinding() {
					a.findings++
				}
				if q := "?" + u.RawQuery; a.example == "" || q < a.example {
					a.example = q
				}
			}
			break
		}
	}
	var out []Broad
	for k, a := range seen {
		if len(a.queries) >= BroadVariants && a.findings > 0 {
			out = append(out, Broad{Rule: &cfg.Matrix.Rules[k.rule-1], Pattern: k.pattern, Path: k.path, Variants: len(a.queries), Findings: a.findings, Example: a.example})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rule.Index != out[j].Rule.Index {
			return out[i].Rule.Index < out[j].Rule.Index
		}
		if out[i].Pattern != out[j].Pattern {
			return out[i].Pattern < out[j].Pattern
		}
		return out[i].Path < out[j].Path
	})
	return out
}

// Warning says what b means and how to write the rule instead
// (docs/config.md, "Patterns": the trailing "?" and "?!").
func (b Broad) Warning() string {
	return fmt.Sprintf("pattern %q of rule %s names no query, so it judged %d query variants of %s (such as %s), %d cell(s) of them findings: if the rule is for the page alone, write %q (no query); for exactly some keys, \"?!key=value\"; put a rule for the variants before it (docs/config.md, \"Patterns\")",
		b.Pattern, b.Rule.Name(), b.Variants, b.Path, b.Example, b.Findings, b.Pattern+"?")
}
