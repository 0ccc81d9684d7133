package judge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"unicode/utf8"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// BodyEnv is what evaluating a check needs beyond the body.
type BodyEnv struct {
	// Self is the role probed, for "{self.var}".
	Self string
	// Var looks up a role's variable; nil resolves nothing.
	Var func(role, name string) (string, bool)
	// Secrets redacts the detail, which may quote the body.
	Secrets *roles.Redactor
}

// maxQuoted is the most bytes of a value a detail quotes.
const maxQuoted = 80

// EvaluateBody makes the body check c on body (truncated when it was cut
// at the size cap), as the probe does on every allowed answer to a role
// the rule allows; the detail is redacted.
func EvaluateBody(c roles.BodyCheck, body []byte, truncated bool, env BodyEnv) model.BodyCheckResult {
	r := evaluate(c, body, truncated, env)
	r.Check = c.String()
	r.Detail = env.Secrets.Redact(r.Detail)
	return r
}

func evaluate(c roles.BodyCheck, body []byte, truncated bool, env BodyEnv) model.BodyCheckResult {
	want, err := c.Value.Resolve(env.Self, env.Var)
	if err != nil {
		return model.BodyCheckResult{Result: model.BodyUndecided, Detail: err.Error()}
	}
	const cut = "the body was cut at the size cap before the check could decide; raise crawl.max_body"
	switch c.Op {
	case roles.OpContains, roles.OpNotContains:
		found := bytes.Contains(body, []byte(want.Text))
		switch {
		case found && c.Op == roles.OpContains:
			return model.BodyCheckResult{Result: model.BodyPass}
		case found:
			return model.BodyCheckResult{Result: model.BodyFail, Detail: "the body holds " + bodyQuote(want.Text)}
		case truncated:
			return model.BodyCheckResult{Result: model.BodyUndecided, Detail: cut}
		case c.Op == roles.OpContains:
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
	sel := roles.SelectJSON(doc, c.Steps)
	for _, s := range sel {
		if !s.Found {
			return model.BodyCheckResult{Result: model.BodyFail, Detail: s.Path + ": not found"}
		}
		eq := jsonEqual(s.Value, want)
		if eq != (c.Op == roles.OpEquals) {
			if c.Op == roles.OpEquals {
				return model.BodyCheckResult{Result: model.BodyFail, Detail: fmt.Sprintf("%s is %s, want %s", s.Path, bodyRender(s.Value), want)}
			}
			return model.BodyCheckResult{Result: model.BodyFail, Detail: fmt.Sprintf("%s is %s", s.Path, bodyRender(s.Value))}
		}
	}
	return model.BodyCheckResult{Result: model.BodyPass}
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
func jsonEqual(got any, want roles.BodyValue) bool {
	switch want.Kind {
	case roles.StringValue:
		switch g := got.(type) {
		case string:
			return g == want.Text
		case json.Number:
			return string(g) == want.Text
		}
	case roles.NumberValue:
		g, ok := got.(json.Number)
		if !ok {
			return false
		}
		a, ok1 := new(big.Rat).SetString(string(g))
		b, ok2 := new(big.Rat).SetString(want.Text)
		return ok1 && ok2 && a.Cmp(b) == 0
	case roles.BoolValue:
		g, ok := got.(bool)
		return ok && strconv.FormatBool(g) == want.Text
	case roles.NullValue:
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
