package roles

import (
	"net/url"
	"strings"
)

// Shadow is a rule that can never apply: every URL its patterns match is
// matched first by an earlier rule (By).
type Shadow struct {
	Rule, By *Rule
}

// Shadowed returns the rules an earlier rule fully covers, in rule order
// (docs/config.md, "Shadowed rules"): first match wins, so they never
// decide anything, and a matrix author meant something else. It is told
// where it can be told exactly and cheaply: a rule whose patterns are all
// literal (no "*", no "{...}"), each matched first, with its method, by
// the same earlier rule, one whose matching patterns name no role
// variable. A rule with wildcards is never reported (false means "not
// known to be shadowed"). One lookup per pattern in the compiled matrix,
// so a generated matrix of many thousand rules is checked in linear time.
func (c *Config) Shadowed() []Shadow {
	var out []Shadow
	for i := range c.Matrix.Rules {
		r := &c.Matrix.Rules[i]
		by := c.coveredBy(r)
		if by != nil {
			out = append(out, Shadow{Rule: r, By: by})
		}
	}
	return out
}

// coveredBy returns the earlier rule that matches every pattern of r
// first, or nil.
func (c *Config) coveredBy(r *Rule) *Rule {
	if len(r.Match) == 0 {
		return nil
	}
	var by *Rule
	for _, p := range r.Match {
		at := strings.IndexByte(p.Raw, '/')
		if at < 0 || strings.ContainsAny(p.Raw[at:], "*{}") || p.Method == "" {
			return nil
		}
		u, err := url.Parse(p.Raw[at:])
		if err != nil {
			return nil
		}
		// The role and variables do not matter to a pattern without role
		// variables; patterns with them are left out by Covers below.
		exp := c.Expect(p.Method, u, "", func(string, string) (string, bool) { return "", false })
		if exp.RuleIdx == 0 || exp.RuleIdx >= r.Index {
			return nil
		}
		first := &c.Matrix.Rules[exp.RuleIdx-1]
		if by != nil && by != first {
			return nil
		}
		by = first
	}
	if by == nil || !by.Covers(r) {
		return nil
	}
	return by
}
