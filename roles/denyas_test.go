package roles

import (
	"slices"
	"strings"
	"testing"
)

// perRoleYAML has a resource whose truth differs per role (issue 15):
// the application tells anonymous to sign in before it looks anything
// up, and hides the resource from signed-in roles that may not see it.
const perRoleYAML = `target: http://127.0.0.1:1
roles:
  user: {login: {bearer: u}}
  editor: {login: {bearer: e}, inherits: [user]}
  admin: {login: {bearer: a}}
matrix:
  rules:
    - match: "GET /projects/{id}"
      allow: [admin]
      deny_as: {anonymous: login, "*": 404}
    - match: "GET /drafts/**"
      allow: [admin]
      deny_as: {user: [403, 404]}
    - match: "GET /signup"
      allow: [anonymous]
      deny_as: [redirect, "redirect:/home*"]
`

func TestDenyAsPerRole(t *testing.T) {
	cfg := parseTest(t, perRoleYAML, nil)
	hidden := DenyForm{Class: "hidden", Status: 404}
	tests := []struct {
		url, role  string
		want       []DenyForm
		hidesOnly  bool
		wantString string
	}{
		{"/projects/5", "anonymous", []DenyForm{{Class: "unauthenticated"}}, false, "unauthenticated"},
		{"/projects/5", "user", []DenyForm{hidden}, true, "404"},
		// Keys name roles themselves: editor inherits user, yet "*" is its entry.
		{"/projects/5", "editor", []DenyForm{hidden}, true, "404"},
		{"/drafts/1", "user", []DenyForm{{Class: "forbidden", Status: 403}, hidden}, false, "403 or 404"},
		// No "*": the roles not named are denied the usual ways.
		{"/drafts/1", "editor", nil, false, ""},
		{"/drafts/1", "anonymous", nil, false, ""},
	}
	for _, tt := range tests {
		got := cfg.Expect("GET", mustURL(t, tt.url), tt.role, nil)
		if got.Allow || !slices.Equal(got.DenyAs, tt.want) {
			t.Errorf("Expect(GET %s, %s).DenyAs = %+v, want %+v", tt.url, tt.role, got.DenyAs, tt.want)
		}
		if got.HidesOnly() != tt.hidesOnly {
			t.Errorf("Expect(GET %s, %s).HidesOnly() = %v, want %v", tt.url, tt.role, got.HidesOnly(), tt.hidesOnly)
		}
		var spelled []string
		for _, f := range got.DenyAs {
			spelled = append(spelled, f.String())
		}
		if s := strings.Join(spelled, " or "); s != tt.wantString {
			t.Errorf("forms of GET %s as %s spelled %q, want %q", tt.url, tt.role, s, tt.wantString)
		}
	}
	signup := cfg.Expect("GET", mustURL(t, "/signup"), "user", nil)
	if len(signup.DenyAs) != 2 || !signup.DenyAs[0].Redirect || signup.DenyAs[0].To != nil ||
		!signup.DenyAs[1].Redirect || signup.DenyAs[1].To == nil || signup.DenyAs[1].String() != "redirect:/home*" {
		t.Errorf("redirect forms: got %+v", signup.DenyAs)
	}
	if to := signup.DenyAs[1].To; !to.Match("", mustURL(t, "http://127.0.0.1:1/home?x=1"), Bindings{}) || to.Match("", mustURL(t, "/account"), Bindings{}) {
		t.Errorf("redirect:/home* should match /home?x=1 and not /account")
	}
}

// TestDenyAsFingerprint: a configuration that uses neither per-role forms
// nor redirects keeps its fingerprint (the canonical text is unchanged),
// and one that uses them gets another.
func TestDenyAsFingerprint(t *testing.T) {
	base := "target: http://h\nroles: {u: {}}\nmatrix:\n  rules:\n    - {match: /p, allow: [], deny_as: %s}\n"
	plain := parseTest(t, sprintf(base, "404"), nil)
	if c := canonical(plain, nil); !strings.Contains(c, "matrix.rules[0].deny_as[0]=\"hidden/404\"\n") || strings.Contains(c, "deny_as.") {
		t.Errorf("canonical form of a plain deny_as changed:\n%s", c)
	}
	star := parseTest(t, sprintf(base, `{"*": 404}`), nil)
	if star.Fingerprint() != plain.Fingerprint() {
		t.Errorf(`deny_as: {"*": 404} should mean deny_as: 404, fingerprint included`)
	}
	for _, v := range []string{`{u: 404}`, `{anonymous: login, "*": 404}`, "redirect", "'redirect:/'", "[404, redirect]"} {
		if parseTest(t, sprintf(base, v), nil).Fingerprint() == plain.Fingerprint() {
			t.Errorf("deny_as: %s has the fingerprint of deny_as: 404", v)
		}
	}
	withLoc := parseTest(t, "target: http://h\ndenials: [{location: /}]\n", nil)
	withBody := parseTest(t, "target: http://h\ndenials: [{body: x}]\n", nil)
	if withLoc.Fingerprint() == withBody.Fingerprint() || !strings.Contains(canonical(withLoc, nil), "denials[0].location=\"/\"\n") {
		t.Errorf("a location signature is not in the fingerprint")
	}
}

func TestDenyAsErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		line, col  int
		field, msg string
	}{
		{"unknown role", "target: http://h\nroles: {u: {}}\nmatrix:\n  rules:\n    - {match: /, allow: [], deny_as: {bob: 404}}\n", 5, 39,
			"matrix.rules[0].deny_as.bob", `unknown role "bob": a per-role deny_as takes role names (roles: anonymous, u), and "*" for every other role`},
		{"allowed role", "target: http://h\nroles: {u: {}}\nmatrix:\n  rules:\n    - {match: /, allow: [u], deny_as: {anonymous: login, u: 404}}\n", 5, 58,
			"matrix.rules[0].deny_as.u", `the rule allows "u"`},
		{"empty mapping", "target: http://h\nmatrix:\n  rules:\n    - {match: /, allow: [], deny_as: {}}\n", 4, 38,
			"matrix.rules[0].deny_as", "empty"},
		{"empty role entry", "target: http://h\nmatrix:\n  rules:\n    - {match: /, allow: [], deny_as: {anonymous: []}}\n", 4, 50,
			"matrix.rules[0].deny_as.anonymous", "empty"},
		{"bad form in a role entry", "target: http://h\nmatrix:\n  rules:\n    - {match: /, allow: [], deny_as: {'*': [404, 500]}}\n", 4, 50,
			"matrix.rules[0].deny_as.*[1]", "a 5xx is never a denial"},
		{"redirect without a path", "target: http://h\nmatrix:\n  rules:\n    - {match: /, allow: [], deny_as: 'redirect:home'}\n", 4, 38,
			"matrix.rules[0].deny_as", `want a path pattern on the target`},
		{"redirect with a role variable", "target: http://h\nroles: {u: {vars: {id: '1'}}}\nmatrix:\n  rules:\n    - {match: /, allow: [], deny_as: 'redirect:/u/{u.id}'}\n", 5, 38,
			"matrix.rules[0].deny_as", "cannot use role variables"},
		{"location without a path", "target: http://h\ndenials: [{location: home}]\n", 2, 22,
			"denials[0].location", "want a path pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := parseErrs(t, tt.yaml, nil)
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1:\n%v", len(errs), errs)
			}
			e := errs[0]
			if e.File != "test.yaml" || e.Line != tt.line || e.Col != tt.col || e.Field != tt.field || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("got %s:%d:%d field %q msg %q\nwant test.yaml:%d:%d field %q msg containing %q",
					e.File, e.Line, e.Col, e.Field, e.Msg, tt.line, tt.col, tt.field, tt.msg)
			}
		})
	}
}
