package report

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

// bodyOutcome reduces the body-check results of one answer to one
// outcome, as the matrix and the CSV show it: fail when any check failed,
// else undecided when any could not decide (or holds a result this
// version does not know), else pass; "" when no check was made.
func bodyOutcome(rs []model.BodyCheckResult) model.BodyOutcome {
	if len(rs) == 0 {
		return ""
	}
	out := model.BodyPass
	for _, r := range rs {
		switch r.Result {
		case model.BodyFail:
			return model.BodyFail
		case model.BodyPass:
		default:
			out = model.BodyUndecided
		}
	}
	return out
}

// bodyMarks are the marks a matrix cell appends for its body checks.
var bodyMarks = map[model.BodyOutcome]string{
	model.BodyPass:      " b✓",
	model.BodyFail:      " b✖",
	model.BodyUndecided: " b?",
}

// bodyNotes are what a CSV cell appends for its body checks.
var bodyNotes = map[model.BodyOutcome]string{
	model.BodyPass:      " (body check passed)",
	model.BodyFail:      " (body check failed)",
	model.BodyUndecided: " (body check undecided)",
}

// bodyCheckLines render the body-check results of one answer for the
// evidence panel, in the order the checks were made: "pass: CHECK",
// "fail: CHECK: DETAIL", "undecided: CHECK: DETAIL". A result this
// version does not know reads as undecided, as bodyVerdict judges it.
// Each line is sanitised.
func bodyCheckLines(rs []model.BodyCheckResult) []string {
	lines := make([]string, 0, len(rs))
	for _, r := range rs {
		var l string
		switch r.Result {
		case model.BodyPass:
			l = "pass: " + r.Check
		case model.BodyFail:
			l = "fail: " + r.Check
		default:
			l = "undecided: " + r.Check
			if r.Detail == "" && r.Result != model.BodyUndecided {
				r.Detail = fmt.Sprintf("result %q", string(r.Result))
			}
		}
		if r.Detail != "" && r.Result != model.BodyPass {
			l += ": " + r.Detail
		}
		lines = append(lines, sanitize(l))
	}
	return lines
}
