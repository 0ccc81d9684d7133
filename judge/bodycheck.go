package judge

import (
	"fmt"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// bodyVerdict judges an allowed answer to an allowed role by the body
// checks the rule sets for it: a check that failed is a leak (a list
// holding another user's records), one that could not decide (a body cut
// at the size cap) or was never made is an error. The first check in
// rule order that did not pass decides; failures come before errors.
func bodyVerdict(exp roles.Expectation, o model.Observation) (model.Verdict, string) {
	var undecided string
	for _, chk := range exp.Body {
		want := chk.String()
		r, ok := findBodyResult(o.BodyChecks, want)
		switch {
		case !ok:
			if undecided == "" {
				undecided = fmt.Sprintf("no decision: body check `%s` was not made when the endpoint was probed (a saved run judged with a newer configuration?)", want)
			}
		case r.Result == model.BodyFail:
			return model.Leak, fmt.Sprintf("expected allow with body check `%s`, got %s, and the check failed: %s", want, o.Observed(), r.Detail)
		case r.Result != model.BodyPass && undecided == "":
			detail := r.Detail
			if detail == "" {
				detail = fmt.Sprintf("result %q", string(r.Result))
			}
			undecided = fmt.Sprintf("no decision: body check `%s` could not decide: %s", want, detail)
		}
	}
	if undecided != "" {
		return model.ErrorVerdict, undecided
	}
	return model.Pass, ""
}

// findBodyResult finds the result of the check rendered as want.
func findBodyResult(rs []model.BodyCheckResult, want string) (model.BodyCheckResult, bool) {
	for _, r := range rs {
		if r.Check == want {
			return r, true
		}
	}
	return model.BodyCheckResult{}, false
}
