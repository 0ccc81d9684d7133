package judge

import (
	"bytes"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// FuzzBodyCheck parses a JSON path and checks a body with it. Invariants:
// nothing panics; every selection has a path; a check's result names the
// check; on a whole body, equals and not_equals of the same value agree
// with what the path selects (both pass only when it selects nothing, and
// exactly one passes when it selects one value); contains agrees with
// bytes.Contains; a cut body, or one that is not JSON, never lets a path
// check decide; and no detail shows a secret.
func FuzzBodyCheck(f *testing.F) {
	f.Add("items[*].owner", `{"items":[{"owner":"u1"},{"owner":"u2"}]}`, "u1")
	f.Add("totalItems", `{"totalItems":0}`, "0")
	f.Add("$.data[0].links[*]", `{"data":[{"links":["a","SeCrEt-1"]}]}`, "a")
	f.Add("a[99999999999]", `[]`, "")
	f.Add("$[*]", `[1,2,3]`, "2")
	f.Add("a..b", `{"a":{"":{"b":1}}}`, "1")
	f.Fuzz(func(t *testing.T, path, body, value string) {
		secrets := roles.NewRedactor()
		secrets.Add("roles.alice.login.bearer", "SeCrEt-1")
		env := BodyEnv{Self: "alice", Secrets: secrets}
		value = strings.ReplaceAll(value, "{", "(") // no role variables here
		str := roles.BodyValue{Kind: roles.StringValue, Text: value}

		if value != "" {
			c := roles.BodyCheck{Op: roles.OpContains, Value: str}
			r := EvaluateBody(c, []byte(body), false, env)
			if (r.Result == model.BodyPass) != bytes.Contains([]byte(body), []byte(value)) {
				t.Fatalf("contains %q on %q: %s", value, body, r.Result)
			}
			noSecretIn(t, r.Detail)
		}

		steps, err := roles.ParseJSONPath(path)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("roles.ParseJSONPath(%q): empty error", path)
			}
			return
		}
		eq := roles.BodyCheck{Path: path, Steps: steps, Op: roles.OpEquals, Value: str}
		ne := roles.BodyCheck{Path: path, Steps: steps, Op: roles.OpNotEquals, Value: str}
		re, rn := EvaluateBody(eq, []byte(body), false, env), EvaluateBody(ne, []byte(body), false, env)
		for _, r := range []model.BodyCheckResult{re, rn} {
			if r.Result != model.BodyPass && r.Result != model.BodyFail && !strings.HasPrefix(r.Detail, "the body is not JSON") {
				t.Fatalf("%s on %q: %s %q; only a cut body, a body that is not JSON or a missing variable leaves a check undecided", r.Check, body, r.Result, r.Detail)
			}
			noSecretIn(t, r.Detail)
		}
		if re.Check != eq.String() || rn.Check != ne.String() {
			t.Fatalf("results name %q and %q", re.Check, rn.Check)
		}
		if doc, err := decodeBodyJSON([]byte(body)); err == nil {
			sel := roles.SelectJSON(doc, steps)
			found := 0
			for _, s := range sel {
				if s.Path == "" {
					t.Fatalf("roles.SelectJSON(%q) on %q: a selection without a path", path, body)
				}
				if s.Found {
					found++
				}
			}
			if re.Result == model.BodyPass && rn.Result == model.BodyPass && len(sel) != 0 {
				t.Fatalf("%q on %q: equals and not_equals %q both pass, selecting %d", path, body, value, len(sel))
			}
			if len(sel) == 1 && found == 1 && (re.Result == model.BodyPass) == (rn.Result == model.BodyPass) {
				t.Fatalf("%q on %q selects one value: equals %s, not_equals %s", path, body, re.Result, rn.Result)
			}
		} else if re.Result != model.BodyUndecided || rn.Result != model.BodyUndecided {
			// A body that is not JSON cannot decide a path check: never a
			// failure, which would read as a leak.
			t.Fatalf("%q on a body that is not JSON (%v): %s, %s", path, err, re.Result, rn.Result)
		}
		if r := EvaluateBody(eq, []byte(body), true, env); r.Result != model.BodyUndecided {
			t.Fatalf("%s on a cut body: %s", r.Check, r.Result)
		}
	})
}

func noSecretIn(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, "SeCrEt-1") {
		t.Fatalf("detail shows a secret: %q", s)
	}
}
