package roles

import (
	"net/url"
	"slices"
)

// expect finds the first rule one of whose patterns matches, in the
// compiled matrix (compiled.go). Role variables resolve through vars, or
// the configuration's static vars when it is nil; Self is role.
func expect(c *Config, method string, u *url.URL, role string, vars Vars) Expectation {
	m, ok := asciiUpper(method)
	if !ok {
		return expectScan(c, method, u, role, vars)
	}
	if vars == nil {
		vars = c.staticVar
	}
	x := c.matrixIndex()
	i := x.first(m, u, Bindings{Self: role, Vars: vars})
	if i < 0 {
		return defaultExpectation(c)
	}
	return owned(expectation(c, &x.rules[i], x.names[i], role))
}

// Matching calls fn with the Index of every rule one of whose patterns
// matches method and u requested as role, not only the first: the rules
// that could decide that request were the rules before them absent. A
// rule may be named more than once, in no particular order.
func (c *Config) Matching(method string, u *url.URL, role string, vars Vars, fn func(index int)) {
	if vars == nil {
		vars = c.staticVar
	}
	b := Bindings{Self: role, Vars: vars}
	m, ok := asciiUpper(method)
	if !ok {
		for i := range c.Matrix.Rules {
			r := &c.Matrix.Rules[i]
			for _, p := range r.Match {
				if p.match(method, u, b) {
					fn(r.Index)
					break
				}
			}
		}
		return
	}
	x := c.matrixIndex()
	x.every(m, u, b, func(i int) { fn(x.rules[i].Index) })
}

// expectScan is expect by a plain first-match scan of every pattern of
// every rule: the reference the compiled matrix is tested against
// (FuzzCompiledMatrix), and the lookup for a method outside ASCII.
func expectScan(c *Config, method string, u *url.URL, role string, vars Vars) Expectation {
	if vars == nil {
		vars = c.staticVar
	}
	b := Bindings{Self: role, Vars: vars}
	for i := range c.Matrix.Rules {
		r := &c.Matrix.Rules[i]
		for _, p := range r.Match {
			if p.match(method, u, b) {
				return owned(expectation(c, r, r.Name(), role))
			}
		}
	}
	return defaultExpectation(c)
}

// expectation is what rule r, named name (r.Name()), says of role. It
// shares the rule's denial forms (ExpectRule); Expect gives a copy
// (owned).
func expectation(c *Config, r *Rule, name, role string) Expectation {
	e := Expectation{Rule: name, RuleIdx: r.Index}
	if c.Allows(r.Allow, role) {
		e.Allow = true
		for _, chk := range r.Body {
			if chk.AppliesTo(role) {
				e.Body = append(e.Body, chk)
			}
		}
	} else {
		e.DenyAs = r.DenyFormsFor(role)
	}
	return e
}

// owned is e with denial forms of its own.
func owned(e Expectation) Expectation {
	e.DenyAs = slices.Clone(e.DenyAs)
	return e
}

// ExpectRule returns what the matrix rule with Index index (0: the
// default) says of role: what Expect returns for a request that rule is
// the first to match. It is how a caller that keeps only the rule's index
// of a lookup (crawl's probe jobs, a million of them) gets the rest back
// without matching again. The expectation shares the rule's denial forms,
// which the caller must not change.
func (c *Config) ExpectRule(index int, role string) Expectation {
	if index <= 0 || index > len(c.Matrix.Rules) {
		return defaultExpectation(c)
	}
	x := c.matrixIndex()
	return expectation(c, &x.rules[index-1], x.names[index-1], role)
}

// RuleName is the Name of the matrix rule with Index index, made once
// for every caller (a run's rules table, its cells); "default" for 0.
func (c *Config) RuleName(index int) string {
	if index <= 0 || index > len(c.Matrix.Rules) {
		return "default"
	}
	return c.matrixIndex().names[index-1]
}

func defaultExpectation(c *Config) Expectation {
	if c.Matrix.Default == "unmapped" {
		return Expectation{Rule: "default", Unmapped: true}
	}
	return Expectation{Rule: "default"}
}

// staticVar looks up a role's configured variable.
func (c *Config) staticVar(role, name string) (string, bool) {
	r := c.Role(role)
	if r == nil {
		return "", false
	}
	v, ok := r.Vars[name]
	return v, ok
}

// allows walks role's inheritance breadth first; a cycle (a config error
// Load rejects) cannot loop.
func allows(c *Config, allow []string, role string) bool {
	if slices.Contains(allow, "*") || slices.Contains(allow, role) {
		return true
	}
	if r := c.Role(role); r == nil || len(r.Inherits) == 0 {
		return false // the common case, without the walk's allocations
	}
	seen := map[string]bool{}
	queue := []string{role}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		if slices.Contains(allow, name) {
			return true
		}
		if r := c.Role(name); r != nil {
			queue = append(queue, r.Inherits...)
		}
	}
	return false
}
