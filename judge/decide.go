package judge

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// Decide compares one expectation with one observation and returns the
// verdict and, for anything but a pass, why.
func Decide(exp roles.Expectation, o model.Observation) (model.Verdict, string) {
	if exp.Unmapped {
		return model.Unmapped, ""
	}
	obs := o.Observed()
	switch o.Class {
	case model.Allowed, model.Unauthenticated, model.Forbidden, model.Hidden, model.Other:
	case model.Error:
		return model.ErrorVerdict, "no decision: " + o.ErrorReason()
	default:
		return model.ErrorVerdict, fmt.Sprintf("no decision: unknown answer class %q", string(o.Class))
	}

	if exp.Allow {
		switch {
		case o.Class == model.Allowed:
			return bodyVerdict(exp, o)
		case o.Class == model.Other && !namesStatus(exp.DenyAs, o.Status):
			return model.Inconclusive, fmt.Sprintf("expected allow, got %s, which is neither allowed nor a denial; name the code in the rule's deny_as to judge it", obs)
		}
		why := fmt.Sprintf("expected allow, got %s", obs)
		switch {
		case o.Role == model.Anonymous:
		case o.Class == model.Unauthenticated:
			why += sessionNote(o)
		case o.Session == "":
			// docs/design.md, "Verdicts": blocked is confirmed with a live
			// session; without a check nothing confirmed it, and the reader
			// must know.
			why += "; unconfirmed: the role has no check to prove its session live, so an expired credential reads the same"
		}
		return model.Blocked, why
	}

	if o.Class == model.Allowed {
		return model.Leak, fmt.Sprintf("expected %s, got %s", expectedString(exp), obs)
	}
	if len(exp.DenyAs) > 0 {
		for _, f := range exp.DenyAs {
			if formMatches(f, o) {
				return model.Pass, ""
			}
		}
		want := expectedString(exp)
		switch {
		case o.Class == model.Other:
			return model.Inconclusive, fmt.Sprintf("expected %s, got %s, which is not a denial form the rule names", want, obs)
		case anyHidden(exp.DenyAs) && (o.Class == model.Unauthenticated || o.Class == model.Forbidden):
			// The rule hides the resource (a missing one answers 404), so
			// any other denial tells that it exists.
			return model.ExistenceLeak, fmt.Sprintf("expected %s (hidden), got %s, which tells that the resource exists", want, obs)
		}
		return model.WrongCode, fmt.Sprintf("expected %s, got %s", want, obs)
	}

	switch o.Class {
	case model.Hidden:
		return model.Pass, ""
	case model.Other:
		return model.Inconclusive, fmt.Sprintf("expected deny, got %s, which is neither allowed nor a denial; name the code in the rule's deny_as to judge it", obs)
	case model.Unauthenticated:
		if o.Role == model.Anonymous {
			return model.Pass, ""
		}
		return model.WrongCode, fmt.Sprintf("401 to a signed-in role: got %s, expected forbidden (403) or hidden (404, 410)%s", obs, sessionNote(o))
	default: // crawl.Forbidden
		if o.Role != model.Anonymous {
			return model.Pass, ""
		}
		return model.WrongCode, fmt.Sprintf("403 to anonymous: got %s, expected unauthenticated (401 or the login page) or hidden (404, 410)", obs)
	}
}

// formMatches reports whether o is the denial form f: same class, or the
// exact status for a form without a class.
func formMatches(f roles.DenyForm, o model.Observation) bool {
	if f.Class != "" {
		return string(o.Class) == f.Class
	}
	return f.Status != 0 && o.Status == f.Status
}

// namesStatus reports whether forms hold an exact-status form for status.
func namesStatus(forms []roles.DenyForm, status int) bool {
	for _, f := range forms {
		if f.Class == "" && f.Status != 0 && f.Status == status {
			return true
		}
	}
	return false
}

// anyHidden reports whether forms let the resource be hidden (404, 410).
func anyHidden(forms []roles.DenyForm) bool {
	for _, f := range forms {
		if f.Class == string(model.Hidden) {
			return true
		}
	}
	return false
}

// expectedString renders an expectation: "allow", "deny", "deny as 404",
// "deny as 401 or 403", "unmapped".
func expectedString(exp roles.Expectation) string {
	switch {
	case exp.Unmapped:
		return "unmapped"
	case exp.Allow:
		return "allow"
	case len(exp.DenyAs) == 0:
		return "deny"
	}
	forms := make([]string, len(exp.DenyAs))
	for i, f := range exp.DenyAs {
		forms[i] = formString(f)
	}
	return "deny as " + strings.Join(forms, " or ")
}

// formString spells a denial form as the config did where it can: the code
// when there is one, otherwise the class.
func formString(f roles.DenyForm) string {
	if f.Status != 0 {
		return strconv.Itoa(f.Status)
	}
	return f.Class
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// sessionNote says what is known of the session of a signed-in role that
// was told to sign in: proven live by its check (so the application
// mislabels a denial, or refuses the role), or unknown.
func sessionNote(o model.Observation) string {
	switch o.Session {
	case model.SessionLive, model.SessionRenewed:
		return "; the role's session was proven live by its check right after this answer, so the application itself refuses the signed-in role this way"
	}
	return "; the application may not accept the role's credentials, or its session ended (the role has no check to prove its session live)"
}
