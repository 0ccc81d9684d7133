package roles

import (
	"net/url"
	"strconv"
	"strings"
)

// Matrix is the expected access matrix: rules in order, first match wins.
type Matrix struct {
	// Default applies to endpoints no rule covers: "deny" (the default) or
	// "unmapped" (noted, not judged).
	Default string
	Rules   []Rule
}

// Rule is one matrix rule.
type Rule struct {
	Index int // 1-based position in matrix.rules
	Line  int // line of the rule in the config file
	// Label is the rule's name as written (name:), "" when none is given;
	// Name is what evidence calls it either way.
	Label  string
	Match  []Pattern  // the rule applies when any pattern matches
	Allow  []string   // roles allowed; "*" means every role; inheritance applies
	DenyAs []DenyForm // forms of the denied roles DenyAsRole does not name; empty: the usual forms
	// DenyAsRole are the denial forms of the roles named as keys of a
	// per-role deny_as (deny_as: {anonymous: login, "*": 404}; "*" is
	// DenyAs), by role name: the role itself, not the roles inheriting
	// from it. nil when deny_as names no role.
	DenyAsRole map[string][]DenyForm
	// Body holds the checks made on the body of an allowed answer.
	Body []BodyCheck
}

// Name identifies the rule in findings, notes and reports: its name as
// written (Label), or else its first pattern and its line,
// `GET /admin/** (line 12)`, with how many more patterns it holds,
// `GET / and 3 more (line 12)`. A rule built in code, without a line,
// is `rule 3 (GET /admin/**)`.
func (r *Rule) Name() string {
	if r.Label != "" {
		return r.Label
	}
	first := "no pattern"
	if len(r.Match) > 0 {
		first = r.Match[0].Raw
	}
	if len(r.Match) > 1 {
		first += " and " + strconv.Itoa(len(r.Match)-1) + " more"
	}
	if r.Line <= 0 {
		return "rule " + strconv.Itoa(r.Index) + " (" + first + ")"
	}
	return first + " (line " + strconv.Itoa(r.Line) + ")"
}

// Covers reports whether r matches every request that later can match,
// as far as that can be told cheaply: each of later's patterns must be
// literal (no "*" and no "{...}" in its path or query) and matched, with
// its method, by one of r's patterns that names no role variable (whose
// match would depend on the role). false means "not known to cover".
func (r *Rule) Covers(later *Rule) bool {
	if len(later.Match) == 0 {
		return false
	}
	for _, lp := range later.Match {
		at := strings.IndexByte(lp.Raw, '/')
		if at < 0 || strings.ContainsAny(lp.Raw[at:], "*{}") {
			return false
		}
		u, err := url.Parse(lp.Raw[at:])
		if err != nil {
			return false
		}
		covered := false
		for _, ep := range r.Match {
			if len(ep.VarRefs()) > 0 || ep.Method != "" && ep.Method != lp.Method {
				continue
			}
			// An earlier pattern that constrains the whole query ("?" or
			// "?!keys") matches fewer URLs than a later one that ignores
			// unnamed keys: it covers only a later pattern of its own mode.
			if ep.qmode != queryAny && ep.qmode != lp.qmode {
				continue
			}
			if ep.Match(lp.Method, u, Bindings{}) {
				covered = true
				break
			}
		}
		if !covered {
			return false
		}
	}
	return true
}

// DenyForm is one acceptable form of denial: an answer class
// ("unauthenticated", "forbidden", "hidden"), an exact status code, or a
// redirect to another page. Config spellings: 401 and "login" mean
// unauthenticated, 403 forbidden, 404 and 410 hidden; any other code is
// kept as an exact status; "redirect" is any redirect to a page other
// than the one requested, "redirect:/home*" one whose Location matches
// the path pattern.
type DenyForm struct {
	Class  string // "unauthenticated", "forbidden", "hidden", or "" with Status set
	Status int    // exact status when Class is ""; for 401/403/404/410 the spelled code
	// Redirect: the form is a redirect to a page other than the one
	// requested (Class and Status are empty), whose Location, resolved
	// against the request and on the target's origin, matches To when To
	// is set.
	Redirect bool
	To       *Pattern
}

// String spells the form as the configuration does: the code when there
// is one, else the class, "redirect" or "redirect:PATTERN".
func (f DenyForm) String() string {
	switch {
	case f.Redirect && f.To != nil:
		return "redirect:" + f.To.Raw
	case f.Redirect:
		return "redirect"
	case f.Status != 0:
		return strconv.Itoa(f.Status)
	}
	return f.Class
}

// Hidden reports whether the form is a hidden one (404, 410, hidden).
func (f DenyForm) Hidden() bool { return f.Class == "hidden" }

// Expectation is what the matrix says for one endpoint and role.
type Expectation struct {
	Allow    bool
	DenyAs   []DenyForm // acceptable denial forms; empty means the role's usual forms
	Rule     string     // Rule.Name(), or "default"
	RuleIdx  int        // Rule.Index, 0 for the default
	Unmapped bool       // no rule matched and the default is "unmapped"
	// Body holds the rule's body checks that apply to the role, when Allow.
	Body []BodyCheck
}

// HidesOnly reports whether the expectation is a denial whose accepted
// forms are all hidden ones (404, 410): the rule's author asked that the
// resource's existence not show to this role. The usual forms (no
// deny_as) accept more than hiding, so they do not hide only.
func (e Expectation) HidesOnly() bool {
	if e.Allow || e.Unmapped || len(e.DenyAs) == 0 {
		return false
	}
	for _, f := range e.DenyAs {
		if !f.Hidden() {
			return false
		}
	}
	return true
}

// DenyFormsFor returns the denial forms rule r accepts from role when it
// denies it: the role's own entry of a per-role deny_as, else the forms
// for every other role; empty means the usual forms.
func (r *Rule) DenyFormsFor(role string) []DenyForm {
	if forms, ok := r.DenyAsRole[role]; ok {
		return forms
	}
	return r.DenyAs
}

// Expect returns the expectation for method and u requested as role.
// u is an absolute URL; its path and query are matched. vars looks up the
// role variables the patterns name ({self.var}, {role.var}): the values
// the audit used, captured at sign-in (Config.VarsWith); nil reads the
// configured vars only.
func (c *Config) Expect(method string, u *url.URL, role string, vars Vars) Expectation {
	return expect(c, method, u, role, vars)
}

// Vars looks up the value of a role's variable by role and variable name.
type Vars func(role, name string) (string, bool)

// VarsWith returns the variables of c's roles: the values captured at
// sign-in (role to variable to value, as a session holds them or the run
// saved them) over the configured ones. The configuration itself never
// holds a captured value: it stays as it was loaded.
func (c *Config) VarsWith(captured map[string]map[string]string) Vars {
	return func(role, name string) (string, bool) {
		if v, ok := captured[role][name]; ok {
			return v, true
		}
		return c.staticVar(role, name)
	}
}

// Allows reports whether a rule allow list admits role, through "*",
// the role's name, or any role it inherits from (transitively).
func (c *Config) Allows(allow []string, role string) bool { return allows(c, allow, role) }
