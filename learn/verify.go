package learn

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// verify judges the run against the draft with the audit's own matcher.
// A URL whose answers the draft misjudges gets a literal rule of its own,
// first; what still cannot be expressed is said in the header.
func (l *learner) verify(rules []DraftRule) []DraftRule {
	for pass := 0; pass < 2; pass++ {
		bad := l.misjudged(rules)
		if len(bad) == 0 {
			return rules
		}
		if pass == 1 {
			for _, b := range bad {
				l.draft.Header = append(l.draft.Header, "note: the draft cannot express "+b+" (it differs from a URL with the same path by its query only)")
			}
			return rules
		}
		var fix []DraftRule
		for _, b := range bad {
			method, p, _ := strings.Cut(b, " ")
			u := l.unitOf(method, p)
			if u == nil {
				continue
			}
			a, k := l.allowedAt(u, p)
			set := make(roleSet, len(a))
			for i := range a {
				set[i] = a[i] || !k[i] && u.main[i]
			}
			fix = append(fix, DraftRule{Match: []string{exactPattern(u, method, p)}, Allow: l.allowList(set), DenyAs: l.denyOf(u, []string{p}, set),
				Comments: []string{"note: " + method + " " + p + " answers unlike the rest of its group"}})
		}
		rules = append(fix, rules...)
	}
	return rules
}

// matrixConfig builds a configuration holding rules, to check the draft
// with the matcher the audit uses.
func (l *learner) matrixConfig(rules []DraftRule) (*roles.Config, error) {
	cfg := &roles.Config{Roles: l.roles, Matrix: roles.Matrix{Default: "deny"}}
	for i, r := range rules {
		rule := roles.Rule{Index: i + 1, Allow: r.Allow}
		for _, m := range r.Match {
			p, err := roles.ParsePattern(m)
			if err != nil {
				return nil, fmt.Errorf("draft pattern %q: %w", m, err)
			}
			rule.Match = append(rule.Match, p)
		}
		if r.DenyAs == "404" {
			rule.DenyAs = []roles.DenyForm{{Class: string(model.Hidden), Status: 404}}
		}
		cfg.Matrix.Rules = append(cfg.Matrix.Rules, rule)
	}
	return cfg, nil
}

// misjudged returns the endpoints ("GET /path") some answer of which the
// draft misjudges: a role allowed where it was denied or the reverse, or a
// denial in a form the draft rejects although a matrix could accept it.
// Answers no matrix accepts (403 to anonymous, 401 to a signed-in role,
// other, error) and a higher role denied what a role it inherits is
// allowed (no matrix can say that) are left aside.
func (l *learner) misjudged(rules []DraftRule) []string {
	cfg, err := l.matrixConfig(rules)
	if err != nil {
		l.draft.Header = append(l.draft.Header, "note: "+err.Error())
		return nil
	}
	var bad []string
	for _, c := range l.run.Observations.All() {
		if !known(c.Class) || l.inheritanceSuspect(c) {
			continue
		}
		u, err := url.Parse(c.URL)
		if err != nil {
			continue
		}
		exp := cfg.Expect(c.Method, u, c.Role, nil) // the draft's roles hold their vars
		allowed := c.Class == model.Allowed
		if exp.Allow != allowed {
			bad = appendUnique(bad, c.Method+" "+model.PathOf(c.URL))
			continue
		}
		if !allowed && usualDenial(c.Observation) && !denialAccepted(exp, c.Observation) {
			bad = appendUnique(bad, c.Method+" "+model.PathOf(c.URL))
		}
	}
	return bad
}

func (l *learner) unitOf(method, p string) *unit {
	for _, u := range l.units {
		if u.method == method && u.cells[p] != nil {
			return u
		}
	}
	return nil
}

// inheritanceSuspect reports whether c is the denial of a role that
// inherits a role allowed the same URL, which no matrix can express.
func (l *learner) inheritanceSuspect(c model.Cell) bool {
	for _, s := range l.draft.Suspicious {
		if s.Kind == SuspectInheritance && s.Role == c.Role && s.Template == c.Method+" "+templatePath(c) {
			return true
		}
	}
	return false
}

// maxLeft is the most findings ownRun lists one by one.
const maxLeft = 20

// ownRun judges the run the draft was learned from against the draft, as
// "permaudit report run.json -c" would, and says in the header which
// findings the gate would still fail on and why: answers no matrix can
// pass (an error, a role denied what a role it inherits is allowed, an
// existence leak a canary found). A draft thus audits its own run clean,
// or says what it left.
func (l *learner) ownRun(rules []DraftRule) {
	cfg, err := l.matrixConfig(rules)
	if err != nil {
		return // misjudged has said why
	}
	run := *l.run // Judge replaces what it fills; the run stays as read
	run.Baseline = nil
	obs := make([]model.Observation, l.run.Observations.Len())
	for i, c := range l.run.Observations.All() {
		obs[i] = c.Observation
	}
	judge.Judge(&run, cfg, obs)
	var left []model.Finding
	for _, f := range run.Findings {
		if slices.Contains(run.Gate.FailOn, f.Verdict) {
			left = append(left, f)
		}
	}
	if len(left) == 0 {
		return
	}
	h := []string{"", fmt.Sprintf("note: judged against this draft, the run it was learned from still fails the gate (%s) on %s that no rule can pass; they are the application's or the run's to fix:",
		model.JoinVerdicts(run.Gate.FailOn), plural(len(left), "finding"))}
	for i, f := range left {
		if i == maxLeft {
			h = append(h, fmt.Sprintf("note:   ... and %d more: judge the run with this draft to see them all", len(left)-maxLeft))
			break
		}
		who := f.Method + " " + f.Path
		if f.Role != "" {
			who += " as " + f.Role
		}
		msg := strings.TrimPrefix(f.Message, who+": ")
		h = append(h, textout.Sanitize(fmt.Sprintf("note:   %s %s: %s (%s)", f.Verdict, who, msg, leftBecause(f))))
	}
	l.draft.Header = append(l.draft.Header, h...)
}

// leftBecause says why no rule of the draft passes finding f.
func leftBecause(f model.Finding) string {
	switch f.Verdict {
	case model.ErrorVerdict:
		return "no answer to judge: audit again"
	case model.Blocked:
		return "a role denied what a role it inherits is allowed: no allow list says that"
	case model.ExistenceLeak:
		return "the answer tells the resource exists: no rule changes what the application answers"
	case model.Leak:
		return "a body check failed, or the answer cannot be expressed by a rule"
	}
	return "no rule expresses this answer"
}
