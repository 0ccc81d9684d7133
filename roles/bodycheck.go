package roles

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// BodyOp is the operator of a body check.
type BodyOp string

// The body check operators (docs/config.md, "Body checks").
const (
	// OpEquals: every value the path selects equals the value.
	OpEquals BodyOp = "equals"
	// OpNotEquals: no value the path selects equals the value.
	OpNotEquals BodyOp = "not_equals"
	// OpContains: the body holds the text.
	OpContains BodyOp = "contains"
	// OpNotContains: the body does not hold the text.
	OpNotContains BodyOp = "not_contains"
)

// ValueKind is the JSON type of a body check's value.
type ValueKind string

// The kinds of body check values.
const (
	StringValue ValueKind = "string"
	NumberValue ValueKind = "number"
	BoolValue   ValueKind = "bool"
	NullValue   ValueKind = "null"
)

// BodyValue is the value a body check compares with. Text is the string
// (which may hold "{role.var}" references, resolved for each probe), the
// number's decimal text, "true" or "false", or "null".
type BodyValue struct {
	Kind ValueKind
	Text string
	// Raw is a string as written in the configuration, "${NAME}"
	// unexpanded, for String: a value from the environment is a secret
	// and never shown. Empty when Text is what was written.
	Raw string
}

// String renders the value as evidence, never showing a value expanded
// from the environment.
func (v BodyValue) String() string {
	if v.Kind == StringValue {
		if v.Raw != "" {
			return strconv.Quote(v.Raw)
		}
		return strconv.Quote(v.Text)
	}
	return v.Text
}

// BodyCheck is one expectation on the body of an allowed answer: a JSON
// path and equals or not_equals, or contains or not_contains on the whole
// body. It is evaluated when the probe sees the answer (crawl stores the
// result in the observation) and judged with the matrix.
type BodyCheck struct {
	// Path is the JSON path as written ("items[*].owner"), empty for
	// contains and not_contains; Steps is Path parsed (ParseJSONPath).
	Path  string
	Steps []JSONStep
	Op    BodyOp
	Value BodyValue
	// Roles are the roles the check applies to, by exact name (no
	// inheritance); nil means every role the rule allows.
	Roles []string
	Line  int // of the check in the config file
}

// String renders the check as evidence: `items[*].owner equals
// "{self.user_id}"`, `totalItems equals 0`, `body contains "marker"`.
// Role variables stay unresolved, so the text names the check whatever
// role was probed.
func (c BodyCheck) String() string {
	switch c.Op {
	case OpContains, OpNotContains:
		return "body " + string(c.Op) + " " + c.Value.String()
	}
	return c.Path + " " + string(c.Op) + " " + c.Value.String()
}

// AppliesTo reports whether the check is made when role is probed.
func (c BodyCheck) AppliesTo(role string) bool {
	return c.Roles == nil || slices.Contains(c.Roles, role)
}

// Resolve replaces the role variables of a string value: {self.var}
// names a variable of self, {role.var} one of role; vars looks them up
// (nil resolves nothing). The first variable without a value is the
// error, and its reference is left in the text.
func (v BodyValue) Resolve(self string, vars func(role, name string) (string, bool)) (BodyValue, error) {
	if v.Kind != StringValue || !strings.Contains(v.Text, "{") {
		return v, nil
	}
	var missing error
	text := varRefRE.ReplaceAllStringFunc(v.Text, func(ref string) string {
		m := varRefRE.FindStringSubmatch(ref)
		role, name := m[1], m[2]
		if role == "self" {
			role = self
		}
		if vars != nil {
			if val, ok := vars(role, name); ok {
				return val
			}
		}
		if missing == nil {
			missing = fmt.Errorf("role %s has no variable %s for %s", role, name, ref)
		}
		return ref
	})
	return BodyValue{Kind: StringValue, Text: text, Raw: v.Raw}, missing
}

// Selected is one value a JSON path selected, with its concrete path
// ("items[2].owner"), or where the path found nothing.
type Selected struct {
	Path  string
	Value any
	Found bool
}

// SelectJSON returns the values path (see ParseJSONPath) selects in doc,
// as decoded by encoding/json. A "[*]" over an empty list selects nothing;
// a missing key, an index past the end or a step into the wrong type gives
// one Selected with Found false, so that a check can tell "not found" from
// "nothing to check".
func SelectJSON(doc any, path []JSONStep) []Selected {
	var out []Selected
	var walk func(v any, i int, at string)
	walk = func(v any, i int, at string) {
		if i == len(path) {
			out = append(out, Selected{Path: at, Value: v, Found: true})
			return
		}
		s := path[i]
		switch {
		case s.Key != "":
			next := at + "." + s.Key
			if at == "$" {
				next = s.Key
			}
			m, ok := v.(map[string]any)
			if !ok {
				out = append(out, Selected{Path: next})
				return
			}
			x, ok := m[s.Key]
			if !ok {
				out = append(out, Selected{Path: next})
				return
			}
			walk(x, i+1, next)
		case s.All:
			l, ok := v.([]any)
			if !ok {
				out = append(out, Selected{Path: at + "[*]"})
				return
			}
			for j, x := range l {
				walk(x, i+1, at+"["+strconv.Itoa(j)+"]")
			}
		default:
			next := at + "[" + strconv.Itoa(s.Index) + "]"
			l, ok := v.([]any)
			if !ok || s.Index < 0 || s.Index >= len(l) {
				out = append(out, Selected{Path: next})
				return
			}
			walk(l[s.Index], i+1, next)
		}
	}
	walk(doc, 0, "$")
	return out
}
