package roles

import (
	"strings"
	"testing"
)

func TestCaptureSecret(t *testing.T) {
	for _, tc := range []struct {
		c    Capture
		want bool
	}{
		{Capture{Var: "user_id", From: "regex:user (\\d+)"}, false},
		{Capture{Var: "user_id", From: "data.user.id"}, false},
		{Capture{Var: "user_id", From: "header:X-User-Id"}, false},
		{Capture{Var: "session", From: "header:Set-Cookie"}, true},
		{Capture{Var: "auth", From: "header: authorization"}, true},
		{Capture{Var: "x", From: "header:X-Api-Key"}, true},
		{Capture{Var: "api_token", From: "data.token"}, true},
		{Capture{Var: "csrf_Secret", From: "regex:(.*)"}, true},
	} {
		if got := tc.c.Secret(); got != tc.want {
			t.Errorf("%+v.Secret() = %v, want %v", tc.c, got, tc.want)
		}
	}
}

// TestSecretCaptureInRuleRefused: a captured secret would be redacted
// wherever it appears, so no rule, body check or start URL may use it.
func TestSecretCaptureInRuleRefused(t *testing.T) {
	const cfg = `target: http://127.0.0.1:8080
crawl:
  start: ["/", "/t/{alice.api_token}"]
roles:
  alice:
    login:
      json: {url: /api/login, body: {user: alice}, token: data.access_token}
      capture: {api_token: data.token, user_id: data.user.id}
matrix:
  rules:
    - match: "GET /users/{self.user_id}"
      allow: [alice]
    - match: "GET /keys/{self.api_token}"
      allow: [alice]
`
	errs := parseErrs(t, cfg, nil)
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		`test.yaml:3:`, `{alice.api_token}: role alice captures api_token as a secret`,
		`matrix.rules[1].match`, `{self.api_token}: role alice captures api_token as a secret`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("errors do not hold %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "user_id") {
		t.Errorf("the id capture is refused:\n%s", all)
	}
}
