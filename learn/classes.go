package learn

import (
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// What an answer means to learn. The judge reads answer classes too, and
// decides whether a denial takes a form the matrix accepts; the functions
// of this file are learn's reading of both, kept together and apart from
// the stages so that a later step can point them at the judge package
// (learn imports no judge today).

// anonymous is the role that always exists and never signs in.
const anonymous = "anonymous"

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
		return o.Role == anonymous
	case model.Forbidden:
		return o.Role != anonymous
	}
	return false
}

// denialAccepted reports whether the audit passes the denial o where exp
// (of a matrix whose default is deny) denies it: o takes one of the
// rule's deny_as forms (a class form by its class, an exact code by its
// status), or, where the rule names none, one of the role's usual forms.
// It is the judge's rule for a denial as the draft needs it; the judge
// also says why an answer fails, which learn does not need.
func denialAccepted(exp roles.Expectation, o model.Observation) bool {
	if len(exp.DenyAs) == 0 {
		return usualDenial(o)
	}
	for _, f := range exp.DenyAs {
		if f.Class != "" && string(o.Class) == f.Class || f.Class == "" && f.Status != 0 && o.Status == f.Status {
			return true
		}
	}
	return false
}
