package report

import (
	"fmt"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

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
		lines = append(lines, textout.Sanitize(l))
	}
	return lines
}
