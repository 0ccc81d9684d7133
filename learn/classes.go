package learn

import (
	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// What an answer means to learn. Which classes tell whether a role was
// allowed, and which denials are a role's usual forms, are learn's own
// reading (a draft accepts only those); whether the audit passes a denial
// is the judge's, asked through judge.Decide.

// known reports whether a class tells whether the role was allowed:
// allowed, or one of the three denials. Other and error tell neither.
func known(c model.Class) bool {
	switch c {
	case model.Allowed, model.Unauthenticated, model.Forbidden, model.Hidden:
		return true
	}
	return false
}

// usualDenial reports whether o is a denial in one of its role's usual
// forms: unauthenticated or hidden for anonymous, forbidden or hidden for
// a signed-in role. The others, a 403 to anonymous and a 401 to a
// signed-in role, are denials the draft never accepts (its only deny_as
// is 404): they are suspicions, not rules.
func usualDenial(o model.Observation) bool {
	switch o.Class {
	case model.Hidden:
		return true
	case model.Unauthenticated:
		return o.Role == model.Anonymous
	case model.Forbidden:
		return o.Role != model.Anonymous
	}
	return false
}

// denialAccepted reports whether the audit passes the denial o where exp
// denies it: the judge decides (judge.Decide), so a draft is verified
// with the rules the audit judges by.
func denialAccepted(exp roles.Expectation, o model.Observation) bool {
	v, _ := judge.Decide(exp, o)
	return v == model.Pass
}
