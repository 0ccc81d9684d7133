package roles

import (
	"strings"
	"testing"
)

// bodyConfig has one rule with body checks of every kind; users own
// records, staff sees all of them.
const bodyConfig = `target: http://127.0.0.1:8080
roles:
  alice:
    login: {bearer: alice-token}
    vars: {user_id: "u1", marker: "alice-marker"}
  bob:
    login: {bearer: bob-token}
    vars: {user_id: "u2"}
  staff:
    login: {bearer: staff-token}
matrix:
  rules:
    - match: "GET /api/notes"
      allow: ["*"]
      body:
        - {path: "items[*].owner", equals: "{self.user_id}", roles: [alice, bob]}
        - {path: totalItems, equals: 0, roles: [anonymous]}
        - {path: "items[*].owner", not_equals: "{alice.user_id}", roles: [bob]}
        - contains: "page"
    - match: "GET /api/health"
      allow: [staff]
      body:
        - {path: data.ready, equals: true}
        - {path: data.error, equals: null}
        - {path: data.state, not_equals: "down"}
        - not_contains: "${MARKER}"
    - match: "GET /**"
      allow: [alice]
`

func TestBodyChecksLoad(t *testing.T) {
	c := parseTest(t, bodyConfig, map[string]string{"MARKER": "secret-marker"})
	r := c.Matrix.Rules[0]
	var got []string
	for _, chk := range r.Body {
		got = append(got, chk.String()+" roles="+strings.Join(chk.Roles, ","))
	}
	want := []string{
		`items[*].owner equals "{self.user_id}" roles=alice,bob`,
		`totalItems equals 0 roles=anonymous`,
		`items[*].owner not_equals "{alice.user_id}" roles=bob`,
		`body contains "page" roles=`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rule 1 body checks:\n got %q\nwant %q", got, want)
	}
	if r.Body[0].Line != 16 {
		t.Errorf("first check line = %d, want 16", r.Body[0].Line)
	}
	kinds := []ValueKind{}
	for _, chk := range c.Matrix.Rules[1].Body {
		kinds = append(kinds, chk.Value.Kind)
	}
	if want := []ValueKind{BoolValue, NullValue, StringValue, StringValue}; strings.Join(toStrings(kinds), ",") != strings.Join(toStrings(want), ",") {
		t.Errorf("rule 2 value kinds = %v, want %v", kinds, want)
	}
	big := parseTest(t, strings.Replace(bodyConfig, "equals: 0", "equals: 99999999999999999999", 1), map[string]string{"MARKER": "m"})
	if v := big.Matrix.Rules[0].Body[1].Value; v != (BodyValue{Kind: NumberValue, Text: "99999999999999999999"}) {
		t.Errorf("a big integer reads as %+v, want its exact text", v)
	}
	if got := c.Secrets.Redact("x secret-marker y"); !strings.Contains(got, "[REDACTED:matrix.rules[1].body[3].not_contains]") {
		t.Errorf("a ${ENV} marker is not a secret: %q", got)
	}
	// A check from the environment shows its name, never its value.
	secret := c.Matrix.Rules[1].Body[3]
	if got, want := secret.String(), `body not_contains "${MARKER}"`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	// (judge's TestBodyCheckDetailIsRedactedAndShort evaluates it.)

	// Expect hands each role the checks that apply to it.
	for _, tc := range []struct {
		role string
		want []string
	}{
		{"anonymous", []string{"totalItems equals 0", `body contains "page"`}},
		{"alice", []string{`items[*].owner equals "{self.user_id}"`, `body contains "page"`}},
		{"bob", []string{`items[*].owner equals "{self.user_id}"`, `items[*].owner not_equals "{alice.user_id}"`, `body contains "page"`}},
		{"staff", []string{`body contains "page"`}},
	} {
		exp := c.Expect("GET", mustURL(t, "http://127.0.0.1:8080/api/notes"), tc.role, nil)
		var got []string
		for _, chk := range exp.Body {
			got = append(got, chk.String())
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("Expect(%s).Body = %q, want %q", tc.role, got, tc.want)
		}
	}
	// A denied role gets no checks.
	if exp := c.Expect("GET", mustURL(t, "http://127.0.0.1:8080/api/health"), "alice", nil); exp.Allow || exp.Body != nil {
		t.Errorf("Expect(health, alice) = %+v, want deny without checks", exp)
	}

	// Checks are part of the fingerprint; a secret marker enters by name.
	other := parseTest(t, strings.Replace(bodyConfig, "equals: 0", "equals: 1", 1), map[string]string{"MARKER": "secret-marker"})
	if other.Fingerprint() == c.Fingerprint() {
		t.Errorf("changing a body check keeps the fingerprint")
	}
	moved := parseTest(t, bodyConfig, map[string]string{"MARKER": "another-marker"})
	if moved.Fingerprint() != c.Fingerprint() {
		t.Errorf("changing a secret marker changes the fingerprint")
	}
}

func toStrings[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

func TestBodyChecksLoadErrors(t *testing.T) {
	head := `target: http://127.0.0.1:8080
roles:
  alice:
    login: {bearer: alice-token}
    vars: {user_id: "u1"}
matrix:
  rules:
    - match: "GET /x"
      allow: [alice]
`
	for _, tc := range []struct {
		name, body, want string
	}{
		{"no operator", "      body: [{path: a}]", "test.yaml:10:14: matrix.rules[0].body[0]: no operator"},
		{"two operators", "      body: [{path: a, equals: 1, not_equals: 2}]", "test.yaml:10:35: matrix.rules[0].body[0].not_equals: one operator per check, not equals and not_equals"},
		{"unknown field", "      body: [{path: a, equal: 1}]", "test.yaml:10:24: matrix.rules[0].body[0].equal: unknown field"},
		{"equals needs a path", "      body: [{equals: 1}]", "test.yaml:10:14: matrix.rules[0].body[0].path: required with equals"},
		{"contains takes no path", "      body: [{path: a, contains: x}]", "test.yaml:10:15: matrix.rules[0].body[0].path: contains looks at the whole body"},
		{"bad path", "      body: [{path: \"a[x]\", equals: 1}]", "test.yaml:10:21: matrix.rules[0].body[0].path: JSON path \"a[x]\""},
		{"list value", "      body: [{path: a, equals: [1]}]", "test.yaml:10:32: matrix.rules[0].body[0].equals: must be a string, number, true, false or null, not a list"},
		{"empty contains", "      body: [{contains: \"\"}]", "test.yaml:10:25: matrix.rules[0].body[0].contains: empty"},
		{"null contains", "      body: [{contains: null}]", "test.yaml:10:25: matrix.rules[0].body[0].contains: must be the text to look for"},
		{"unknown role var", "      body: [{path: a, equals: \"{carol.user_id}\"}]", "test.yaml:10:32: matrix.rules[0].body[0].equals: {carol.user_id}: unknown role \"carol\""},
		{"undeclared var", "      body: [{path: a, equals: \"{alice.team}\"}]", "test.yaml:10:32: matrix.rules[0].body[0].equals: {alice.team}: role alice declares no variable team"},
		{"role not allowed", "      body: [{path: a, equals: 1, roles: [anonymous]}]", "test.yaml:10:43: matrix.rules[0].body[0].roles[0]: role anonymous is not allowed by this rule"},
		{"unknown role", "      body: [{path: a, equals: 1, roles: [carol]}]", "test.yaml:10:43: matrix.rules[0].body[0].roles[0]: unknown role \"carol\""},
		{"empty list", "      body: []", "test.yaml:10:13: matrix.rules[0].body: empty"},
		{"not a mapping", "      body: [totalItems]", "test.yaml:10:14: matrix.rules[0].body[0]: a body check must be a mapping"},
		{"infinite number", "      body: [{path: a, equals: .inf}]", "test.yaml:10:32: matrix.rules[0].body[0].equals: number \".inf\": write it as JSON does"},
		{"hex number", "      body: [{path: a, equals: 0x1F}]", "test.yaml:10:32: matrix.rules[0].body[0].equals: number \"0x1F\": write it as JSON does"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := parseErrs(t, head+tc.body+"\n", nil)
			if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), tc.want) {
				t.Errorf("errors:\n%v\nwant one starting %q", errs, tc.want)
			}
		})
	}

	// A rule that allows nobody has no body to check.
	errs := parseErrs(t, strings.Replace(head, "allow: [alice]", "allow: []", 1)+"      body: [{contains: x}]\n", nil)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "the rule allows no role") {
		t.Errorf("errors: %v, want the rule allows no role", errs)
	}
}
