package roles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/permaudit/permaudit/model"
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

// BodyEnv is what evaluating a check needs beyond the body.
type BodyEnv struct {
	// Self is the role probed, for "{self.var}".
	Self string
	// Var looks up a role's variable; nil resolves nothing.
	Var func(role, name string) (string, bool)
	// Secrets redacts the detail, which may quote the body.
	Secrets *Redactor
}

// maxQuoted is the most bytes of a value a detail quotes.
const maxQuoted = 80

// Evaluate checks body (truncated when it was cut at the size cap).
func (c BodyCheck) Evaluate(body []byte, truncated bool, env BodyEnv) model.BodyCheckResult {
	r := c.evaluate(body, truncated, env)
	r.Check = c.String()
	r.Detail = env.Secrets.Redact(r.Detail)
	return r
}

func (c BodyCheck) evaluate(body []byte, truncated bool, env BodyEnv) model.BodyCheckResult {
	want, err := c.Value.resolve(env)
	if err != nil {
		return model.BodyCheckResult{Result: model.BodyUndecided, Detail: err.Error()}
	}
	const cut = "the body was cut at the size cap before the check could decide; raise crawl.max_body"
	switch c.Op {
	case OpContains, OpNotContains:
		found := bytes.Contains(body, []byte(want.Text))
		switch {
		case found && c.Op == OpContains:
			return model.BodyCheckResult{Result: model.BodyPass}
		case found:
			return model.BodyCheckResult{Result: model.BodyFail, Detail: "the body holds " + bodyQuote(want.Text)}
		case truncated:
			return model.BodyCheckResult{Result: model.BodyUndecided, Detail: cut}
		case c.Op == OpContains:
			return model.BodyCheckResult{Result: model.BodyFail, Detail: "the body does not hold " + bodyQuote(want.Text)}
		}
		return model.BodyCheckResult{Result: model.BodyPass}
	}
	if truncated {
		return model.BodyCheckResult{Result: model.BodyUndecided, Detail: cut}
	}
	doc, err := decodeBodyJSON(body)
	if err != nil {
		// A maintenance or error page on a JSON endpoint says nothing of
		// what the role may read: no decision, never a failure (a leak).
		return model.BodyCheckResult{Result: model.BodyUndecided, Detail: "the body is not JSON (" + err.Error() + "): a path check cannot decide"}
	}
	sel := SelectJSON(doc, c.Steps)
	for _, s := range sel {
		if !s.Found {
			return model.BodyCheckResult{Result: model.BodyFail, Detail: s.Path + ": not found"}
		}
		eq := jsonEqual(s.Value, want)
		if eq != (c.Op == OpEquals) {
			if c.Op == OpEquals {
				return model.BodyCheckResult{Result: model.BodyFail, Detail: fmt.Sprintf("%s is %s, want %s", s.Path, bodyRender(s.Value), want)}
			}
			return model.BodyCheckResult{Result: model.BodyFail, Detail: fmt.Sprintf("%s is %s", s.Path, bodyRender(s.Value))}
		}
	}
	return model.BodyCheckResult{Result: model.BodyPass}
}

// resolve replaces the role variables of a string value.
func (v BodyValue) resolve(env BodyEnv) (BodyValue, error) {
	if v.Kind != StringValue || !strings.Contains(v.Text, "{") {
		return v, nil
	}
	var missing error
	text := varRefRE.ReplaceAllStringFunc(v.Text, func(ref string) string {
		m := varRefRE.FindStringSubmatch(ref)
		role, name := m[1], m[2]
		if role == "self" {
			role = env.Self
		}
		if env.Var != nil {
			if val, ok := env.Var(role, name); ok {
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

// decodeBodyJSON decodes one JSON document, numbers kept as json.Number.
func decodeBodyJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty")
		}
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one value")
	}
	return v, nil
}

// jsonEqual compares a decoded JSON value with a check's value. A string
// equals a JSON string with the same text, or a JSON number written with
// exactly that text (ids are often numbers in JSON and strings in role
// variables); a number equals a JSON number of the same value.
func jsonEqual(got any, want BodyValue) bool {
	switch want.Kind {
	case StringValue:
		switch g := got.(type) {
		case string:
			return g == want.Text
		case json.Number:
			return string(g) == want.Text
		}
	case NumberValue:
		g, ok := got.(json.Number)
		if !ok {
			return false
		}
		a, ok1 := new(big.Rat).SetString(string(g))
		b, ok2 := new(big.Rat).SetString(want.Text)
		return ok1 && ok2 && a.Cmp(b) == 0
	case BoolValue:
		g, ok := got.(bool)
		return ok && strconv.FormatBool(g) == want.Text
	case NullValue:
		return got == nil
	}
	return false
}

// render shows a decoded JSON value in a detail, shortened.
func bodyRender(v any) string {
	switch x := v.(type) {
	case string:
		return bodyQuote(x)
	case json.Number:
		return bodyShorten(string(x))
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	case []any:
		return fmt.Sprintf("a list of %d", len(x))
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func bodyQuote(s string) string { return strconv.Quote(bodyShorten(s)) }

// shorten cuts s to maxQuoted bytes on a rune boundary, marking the cut.
func bodyShorten(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
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
