package judge

import (
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
)

const bodyCheckConfig = `target: http://127.0.0.1:8080
roles:
  alice:
    login: {bearer: alice-token}
    vars: {user_id: u1}
  staff:
    login: {bearer: staff-token}
matrix:
  rules:
    - match: "GET /api/notes"
      allow: [alice, staff]
      body:
        - {path: "items[*].owner", equals: "{self.user_id}", roles: [alice]}
        - contains: "items"
`

func withBody(o model.Observation, rs ...model.BodyCheckResult) model.Observation {
	o.BodyChecks = rs
	return o
}

func TestJudgeBodyChecks(t *testing.T) {
	cfg := parseConfig(t, bodyCheckConfig)
	own := `items[*].owner equals "{self.user_id}"`
	items := `body contains "items"`
	pass := func(c string) model.BodyCheckResult { return model.BodyCheckResult{Check: c, Result: model.BodyPass} }
	fail := func(c, d string) model.BodyCheckResult {
		return model.BodyCheckResult{Check: c, Result: model.BodyFail, Detail: d}
	}
	cut := func(c string) model.BodyCheckResult {
		return model.BodyCheckResult{Check: c, Result: model.BodyUndecided, Detail: "the body was cut at the size cap before the check could decide; raise crawl.max_body"}
	}
	allowed := func(role string) model.Observation { return ob(role, "/api/notes", 200, model.Allowed, "status 200") }
	for _, tc := range []struct {
		name    string
		obs     model.Observation
		verdict model.Verdict
		msg     string
	}{
		{"every check passes", withBody(allowed("alice"), pass(own), pass(items)), model.Pass, ""},
		{"another user's record is a leak", withBody(allowed("alice"), fail(own, `items[1].owner is "u2", want "u1"`), pass(items)), model.Leak,
			"GET /api/notes as alice: expected allow with body check `" + own + "`, got 200 allowed, and the check failed: items[1].owner is \"u2\", want \"u1\""},
		{"a failure outweighs a cut body", withBody(allowed("alice"), cut(own), fail(items, `the body does not hold "items"`)), model.Leak,
			"and the check failed: the body does not hold \"items\""},
		{"a cut body is an error", withBody(allowed("alice"), cut(own), pass(items)), model.ErrorVerdict,
			"GET /api/notes as alice: no decision: body check `" + own + "` could not decide: the body was cut at the size cap"},
		{"a check never made is an error", withBody(allowed("alice"), pass(items)), model.ErrorVerdict,
			"body check `" + own + "` was not made when the endpoint was probed"},
		{"checks of other roles do not apply", withBody(allowed("staff"), pass(items)), model.Pass, ""},
		{"a denied role's allowed answer is a leak", allowed("anonymous"), model.Leak, "expected deny, got 200 allowed"},
		{"a denial of an allowed role is blocked, bodies aside", ob("alice", "/api/notes", 403, model.Forbidden, "status 403"), model.Blocked, "expected allow, got 403 forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := judgeOne(t, cfg, tc.obs)
			if got := run.Observations.At(0).Verdict; got != tc.verdict {
				t.Fatalf("verdict = %s, want %s", got, tc.verdict)
			}
			if tc.verdict == model.Pass {
				if len(run.Findings) != 0 {
					t.Errorf("findings = %+v, want none", run.Findings)
				}
				return
			}
			if len(run.Findings) != 1 || !strings.Contains(run.Findings[0].Message, tc.msg) {
				t.Errorf("findings = %+v\nwant one whose message holds %q", run.Findings, tc.msg)
			}
		})
	}
}
