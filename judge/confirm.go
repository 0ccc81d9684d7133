package judge

import (
	"bytes"
	"fmt"

	"github.com/permaudit/permaudit/model"
)

// NeedsConfirm reports whether an answer of class c to a signed-in role
// with a check must be confirmed by a live session before it is recorded
// (docs/design.md, "Sessions"): every answer that is not allowed and not
// an error could come from a session that has ended.
func NeedsConfirm(c model.Class) bool {
	switch c {
	case model.Unauthenticated, model.Forbidden, model.Hidden, model.Other:
		return true
	}
	return false
}

// MustConfirm reports whether an observation of a signed-in role with a
// check must be confirmed by a live session before it is recorded: an
// answer NeedsConfirm names, or an allowed answer whose body check failed.
// An ended session turns many answers into a page a signed-out visitor
// gets, with 200 (an application that shows the page and ignores the
// action, as DokuWiki does): a failed body check is a leak only if the
// session that got it was live.
func MustConfirm(obs model.Observation) bool {
	if NeedsConfirm(obs.Class) {
		return true
	}
	if obs.Class != model.Allowed {
		return false
	}
	for _, b := range obs.BodyChecks {
		if b.Result == model.BodyFail {
			return true
		}
	}
	return false
}

// WhyLoggedOut is the Why of an answer unauthenticated only because it
// holds the role's logged-out text.
const WhyLoggedOut = "logged-out text"

// LoggedOut reads an allowed answer whose body holds marker, the role's
// logged-out text (check.logged_out), as unauthenticated; "" marks
// nothing.
func LoggedOut(marker string, body []byte, c model.Class, why string) (model.Class, string) {
	if c != model.Allowed || marker == "" {
		return c, why
	}
	if bytes.Contains(body, []byte(marker)) {
		return model.Unauthenticated, WhyLoggedOut
	}
	return c, why
}

// MarkerContradicted turns an answer unauthenticated only by the role's
// logged-out text into an error when a check passed right after it
// (session live or renewed): the text proved nothing, and the answer
// (which may be a page of data that merely holds the text) must not
// become a denial, which would hide a leak. Any other answer is
// returned as it is.
func MarkerContradicted(obs model.Observation) model.Observation {
	if obs.Class != model.Unauthenticated || obs.Why != WhyLoggedOut || (obs.Session != model.SessionLive && obs.Session != model.SessionRenewed) {
		return obs
	}
	obs.Class = model.Error
	obs.Why = fmt.Sprintf("the answer holds the logged-out text, but the session check passed right after it: the marker is not reliable here; the answer was %d", obs.Status)
	return obs
}

// Unfollowed is the class of the final answer of a probe that did not
// follow its redirect: a redirect of class other says why it was not
// followed (reason), and a chain that went on past the hop limit
// (endless: a loop or an endless chain) decides nothing, so it is an
// error.
func Unfollowed(c model.Class, why, reason string, endless bool) (model.Class, string) {
	if c == model.Other && reason != "" {
		why = reason
	}
	if endless {
		c = model.Error
	}
	return c, why
}
