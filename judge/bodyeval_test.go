package judge

import (
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

func TestBodyCheckEvaluate(t *testing.T) {
	vars := map[string]map[string]string{"alice": {"user_id": "u1"}, "bob": {"user_id": "u2"}, "num": {"id": "21"}}
	env := BodyEnv{Self: "alice", Var: func(role, name string) (string, bool) {
		v, ok := vars[role][name]
		return v, ok
	}}
	check := func(path string, op roles.BodyOp, v roles.BodyValue) roles.BodyCheck {
		steps, err := roles.ParseJSONPath(path)
		if path != "" && err != nil {
			t.Fatalf("roles.ParseJSONPath(%q): %v", path, err)
		}
		return roles.BodyCheck{Path: path, Steps: steps, Op: op, Value: v}
	}
	str := func(s string) roles.BodyValue { return roles.BodyValue{Kind: roles.StringValue, Text: s} }
	num := func(s string) roles.BodyValue { return roles.BodyValue{Kind: roles.NumberValue, Text: s} }
	own := `{"items":[{"owner":"u1"},{"owner":"u1"}],"totalItems":2}`
	mixed := `{"items":[{"owner":"u1"},{"owner":"u2"}],"totalItems":2}`
	for _, tc := range []struct {
		name      string
		chk       roles.BodyCheck
		body      string
		truncated bool
		want      model.BodyOutcome
		detail    string
	}{
		{"every item is mine", check("items[*].owner", roles.OpEquals, str("{self.user_id}")), own, false, model.BodyPass, ""},
		{"another user's item", check("items[*].owner", roles.OpEquals, str("{self.user_id}")), mixed, false, model.BodyFail, `items[1].owner is "u2", want "u1"`},
		{"empty list passes", check("items[*].owner", roles.OpEquals, str("{self.user_id}")), `{"items":[]}`, false, model.BodyPass, ""},
		{"item without owner", check("items[*].owner", roles.OpEquals, str("{self.user_id}")), `{"items":[{"id":1}]}`, false, model.BodyFail, "items[0].owner: not found"},
		{"not a list", check("items[*].owner", roles.OpEquals, str("u1")), `{"items":{}}`, false, model.BodyFail, "items[*]: not found"},
		{"no other user's item", check("items[*].owner", roles.OpNotEquals, str("{bob.user_id}")), own, false, model.BodyPass, ""},
		{"bob's item", check("items[*].owner", roles.OpNotEquals, str("{bob.user_id}")), mixed, false, model.BodyFail, `items[1].owner is "u2"`},
		{"total is 0", check("totalItems", roles.OpEquals, num("0")), `{"totalItems":0}`, false, model.BodyPass, ""},
		{"total 0.0 is 0", check("totalItems", roles.OpEquals, num("0")), `{"totalItems":0.0e5}`, false, model.BodyPass, ""},
		{"total is 2", check("totalItems", roles.OpEquals, num("0")), own, false, model.BodyFail, "totalItems is 2, want 0"},
		{"big numbers compare exactly", check("n", roles.OpEquals, num("99999999999999999999")), `{"n":100000000000000000000}`, false, model.BodyFail, "n is 100000000000000000000, want 99999999999999999999"},
		{"big numbers equal", check("n", roles.OpEquals, num("99999999999999999999")), `{"n":99999999999999999999}`, false, model.BodyPass, ""},
		{"string 0 is not number 0", check("totalItems", roles.OpEquals, num("0")), `{"totalItems":"0"}`, false, model.BodyFail, `totalItems is "0", want 0`},
		{"string matches number text", check("id", roles.OpEquals, str("21")), `{"id":21}`, false, model.BodyPass, ""},
		{"string does not match 21.0", check("id", roles.OpEquals, str("21")), `{"id":21.0}`, false, model.BodyFail, "id is 21.0"},
		{"missing key", check("total", roles.OpEquals, num("0")), own, false, model.BodyFail, "total: not found"},
		{"index", check("items[1].owner", roles.OpEquals, str("u2")), mixed, false, model.BodyPass, ""},
		{"index past the end", check("items[5].owner", roles.OpEquals, str("u2")), mixed, false, model.BodyFail, "items[5]: not found"},
		{"root list", check("$[*].id", roles.OpNotEquals, num("3")), `[{"id":1},{"id":2}]`, false, model.BodyPass, ""},
		{"bool", check("ok", roles.OpEquals, roles.BodyValue{Kind: roles.BoolValue, Text: "true"}), `{"ok":true}`, false, model.BodyPass, ""},
		{"bool mismatch", check("ok", roles.OpEquals, roles.BodyValue{Kind: roles.BoolValue, Text: "true"}), `{"ok":"true"}`, false, model.BodyFail, `ok is "true", want true`},
		{"null", check("err", roles.OpEquals, roles.BodyValue{Kind: roles.NullValue, Text: "null"}), `{"err":null}`, false, model.BodyPass, ""},
		{"null is not a missing key", check("err", roles.OpEquals, roles.BodyValue{Kind: roles.NullValue, Text: "null"}), `{}`, false, model.BodyFail, "err: not found"},
		{"object value", check("items", roles.OpEquals, str("x")), own, false, model.BodyFail, "items is a list of 2"},
		// A body that is not JSON (a maintenance page, an error page) cannot
		// decide a path check: undecided, never a failure (a leak).
		{"not JSON", check("a", roles.OpEquals, str("x")), `<html>`, false, model.BodyUndecided, "the body is not JSON (invalid character '<'"},
		{"HTML not_equals", check("items[*].owner", roles.OpNotEquals, str("u2")), `<html><p>down for maintenance</p></html>`, false, model.BodyUndecided, "the body is not JSON ("},
		{"two documents", check("a", roles.OpEquals, str("x")), `{"a":"x"} {"a":"x"}`, false, model.BodyUndecided, "the body is not JSON (more than one value): a path check cannot decide"},
		{"empty body", check("a", roles.OpEquals, str("x")), ``, false, model.BodyUndecided, "the body is not JSON (empty): a path check cannot decide"},
		{"contains on HTML", check("", roles.OpContains, str("u2")), `<html><p>u2</p></html>`, false, model.BodyPass, ""},
		{"not_contains on HTML", check("", roles.OpNotContains, str("u2")), `<html><p>u2</p></html>`, false, model.BodyFail, `the body holds "u2"`},
		{"cut JSON", check("a", roles.OpEquals, str("x")), `{"a":"x"`, true, model.BodyUndecided, "the body was cut at the size cap"},
		{"unknown variable", check("a", roles.OpEquals, str("{self.team}")), `{"a":"x"}`, false, model.BodyUndecided, "role alice has no variable team for {self.team}"},
		{"contains", check("", roles.OpContains, str("marker")), "a marker b", false, model.BodyPass, ""},
		{"contains in a cut body", check("", roles.OpContains, str("marker")), "a marker", true, model.BodyPass, ""},
		{"does not contain", check("", roles.OpContains, str("marker")), "nothing", false, model.BodyFail, `the body does not hold "marker"`},
		{"not found before the cut", check("", roles.OpContains, str("marker")), "nothing", true, model.BodyUndecided, "the body was cut"},
		{"not_contains", check("", roles.OpNotContains, str("u2")), own, false, model.BodyPass, ""},
		{"not_contains fails", check("", roles.OpNotContains, str("{bob.user_id}")), mixed, false, model.BodyFail, `the body holds "u2"`},
		{"not_contains in a cut body", check("", roles.OpNotContains, str("u2")), own, true, model.BodyUndecided, "the body was cut"},
		{"found in a cut body", check("", roles.OpNotContains, str("u2")), mixed, true, model.BodyFail, `the body holds "u2"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := EvaluateBody(tc.chk, []byte(tc.body), tc.truncated, env)
			if got.Check != tc.chk.String() {
				t.Errorf("Check = %q, want %q", got.Check, tc.chk.String())
			}
			if got.Result != tc.want || !strings.HasPrefix(got.Detail, tc.detail) || (tc.detail == "") != (got.Detail == "") {
				t.Errorf("Evaluate(%s) on %q = %s %q, want %s %q", tc.chk, tc.body, got.Result, got.Detail, tc.want, tc.detail)
			}
		})
	}
}

func TestBodyCheckDetailIsRedactedAndShort(t *testing.T) {
	secrets := roles.NewRedactor()
	secrets.Add("roles.alice.login.bearer", "tok-SECRET-1")
	chk := roles.BodyCheck{Path: "token", Steps: []roles.JSONStep{{Key: "token"}}, Op: roles.OpEquals, Value: roles.BodyValue{Kind: roles.StringValue, Text: "x"}}
	long := strings.Repeat("é", 100)
	for _, body := range []string{`{"token":"tok-SECRET-1"}`, `{"token":"` + long + `"}`} {
		got := EvaluateBody(chk, []byte(body), false, BodyEnv{Self: "alice", Secrets: secrets})
		if strings.Contains(got.Detail, "tok-SECRET-1") {
			t.Errorf("detail shows a secret: %q", got.Detail)
		}
		if len(got.Detail) > 2*maxQuoted || !strings.Contains(got.Detail, "...") && strings.Contains(body, long) {
			t.Errorf("detail not shortened: %q", got.Detail)
		}
	}
}
