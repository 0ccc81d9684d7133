package judge

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// Decide compares one expectation with one observation and returns the
// verdict and, for anything but a pass, why. It knows nothing of the
// pages a redirect led to (DecideAt does): an allowed answer after a
// redirect to another page is judged as an answer of the requested one.
func Decide(exp roles.Expectation, o model.Observation) (model.Verdict, string) {
	return DecideAt(exp, o, nil)
}

// Lookup returns the matrix's expectation, for the observation's method
// and role, of another URL: a page a redirect led to.
type Lookup func(u *url.URL) roles.Expectation

// DecideAt is Decide knowing, through look, what the matrix says of the
// pages a redirect led to (docs/design.md, "Redirects"):
//
//   - a denial form "redirect" accepts a redirect to a page other than the
//     one requested (its Location matching the form's pattern, if any),
//     unless the page it led to answered allowed and the role may not see
//     that page (a leak stays a leak);
//   - expected deny, the chain left the requested page and ended allowed
//     on a page the role may see: inconclusive, never a leak (the answer
//     is that page's, not the requested one's);
//   - expected allow, the chain went to a page the request's own query
//     named (/login?back_url=X): the answer is X's, judged by X's
//     expectation.
//
// A nil look knows no page: an allowed answer after a redirect is judged
// as the requested page's.
func DecideAt(exp roles.Expectation, o model.Observation, look Lookup) (model.Verdict, string) {
	if exp.Unmapped {
		return model.Unmapped, ""
	}
	switch o.Class {
	case model.Allowed, model.Unauthenticated, model.Forbidden, model.Hidden, model.Other:
	case model.Error:
		return model.ErrorVerdict, "no decision: " + o.ErrorReason()
	default:
		return model.ErrorVerdict, fmt.Sprintf("no decision: unknown answer class %q", string(o.Class))
	}
	r := redirectOf(o)
	if exp.Allow && r.named && r.hop > 0 && look != nil {
		if to := look(r.left); !to.Unmapped {
			// The body checks the probe made were the requested page's;
			// X's own cell is judged with X's.
			to.Body = nil
			v, why := DecideAt(to, r.from(o), look)
			if why != "" {
				why = fmt.Sprintf("redirected to %s, which the request's query named, so judged as that page (%s, %s): %s", r.left.RequestURI(), to.Rule, expectedString(to), why)
			}
			return v, why
		}
	}
	if !exp.Allow && r.left != nil && o.Class == model.Allowed && look != nil {
		final := look(r.final)
		if !final.Allow {
			return model.Leak, fmt.Sprintf("expected %s, got %s after a redirect to %s, which the role may not see either (%s)", expectedString(exp), o.Observed(), r.final.RequestURI(), final.Rule)
		}
		if redirectAccepted(exp.DenyAs, r) {
			return model.Pass, ""
		}
		return model.Inconclusive, fmt.Sprintf("expected %s, got a redirect to %s, a page the role may see (%s), which answered %s: not an answer of this page; if the redirect is how this page denies, name redirect in the rule's deny_as", expectedString(exp), r.final.RequestURI(), final.Rule, o.Observed())
	}
	return decide(exp, o, r)
}

// decide is the verdict of the answer itself; r is where its redirects
// led. The observation is spelled (Observed) only where a verdict's text
// needs it: most cells pass, and at a million cells the text was a
// tenth of the probe's allocations.
func decide(exp roles.Expectation, o model.Observation, r redirect) (model.Verdict, string) {
	if exp.Allow {
		switch {
		case o.Class == model.Allowed:
			return bodyVerdict(exp, o)
		case o.Class == model.Other && !namesStatus(exp.DenyAs, o.Status):
			return model.Inconclusive, fmt.Sprintf("expected allow, got %s, which is neither allowed nor a denial; name the code in the rule's deny_as to judge it", o.Observed())
		}
		why := fmt.Sprintf("expected allow, got %s", o.Observed())
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
		return model.Leak, fmt.Sprintf("expected %s, got %s", expectedString(exp), o.Observed())
	}
	if len(exp.DenyAs) > 0 {
		if redirectAccepted(exp.DenyAs, r) {
			return model.Pass, ""
		}
		for _, f := range exp.DenyAs {
			if formMatches(f, o) {
				return model.Pass, ""
			}
		}
		want := expectedString(exp)
		switch {
		case o.Class == model.Other:
			return model.Inconclusive, fmt.Sprintf("expected %s, got %s, which is not a denial form the rule names", want, o.Observed())
		case o.Class == model.Unauthenticated && o.Role != model.Anonymous:
			// A signed-in role told to sign in: the application did not
			// see its session, which says nothing of the resource.
			return model.WrongCode, fmt.Sprintf("expected %s, got %s: 401 to a signed-in role%s", want, o.Observed(), sessionNote(o))
		case anyHidden(exp.DenyAs) && (o.Class == model.Unauthenticated || o.Class == model.Forbidden):
			// The rule hides the resource (a missing one answers 404), so
			// any other denial tells that it exists.
			return model.ExistenceLeak, fmt.Sprintf("expected %s (hidden), got %s, which tells that the resource exists", want, o.Observed())
		}
		return model.WrongCode, fmt.Sprintf("expected %s, got %s", want, o.Observed())
	}

	switch o.Class {
	case model.Hidden:
		return model.Pass, ""
	case model.Other:
		return model.Inconclusive, fmt.Sprintf("expected deny, got %s, which is neither allowed nor a denial; name the code in the rule's deny_as to judge it", o.Observed())
	case model.Unauthenticated:
		if o.Role == model.Anonymous {
			return model.Pass, ""
		}
		return model.WrongCode, fmt.Sprintf("401 to a signed-in role: got %s, expected forbidden (403) or hidden (404, 410)%s", o.Observed(), sessionNote(o))
	default: // crawl.Forbidden
		if o.Role != model.Anonymous {
			return model.Pass, ""
		}
		return model.WrongCode, fmt.Sprintf("403 to anonymous: got %s, expected unauthenticated (401 or the login page) or hidden (404, 410)", o.Observed())
	}
}

// redirect is where an answer's redirects led: the first page other than
// the requested one that a Location named (followed or not), the page
// whose answer was classified, and whether the request's query named
// the first.
type redirect struct {
	req   *url.URL // the requested page
	left  *url.URL // nil: every Location stayed on the requested page
	hop   int      // index in the chain of the hop at left; -1 when not followed
	final *url.URL // the page whose answer is the observation's
	named bool
}

// redirectOf reads where o's redirects led (samePage says what leaving
// the page is).
func redirectOf(o model.Observation) redirect {
	if len(o.Chain) == 0 && (o.Status < 300 || o.Status >= 400 || o.Location == "") {
		return redirect{} // no redirect: most answers
	}
	req, err := url.Parse(o.URL)
	if err != nil {
		return redirect{}
	}
	r := redirect{req: req, hop: -1, final: req}
	for i, h := range o.Chain {
		u, err := url.Parse(h.URL)
		if err != nil {
			return redirect{}
		}
		r.final = u
		if i > 0 && r.left == nil && !samePage(u, req) {
			r.left, r.hop = u, i
		}
	}
	if r.left == nil && o.Status >= 300 && o.Status < 400 && o.Location != "" {
		if u, err := r.final.Parse(o.Location); err == nil && !samePage(u, req) {
			r.left = u
		}
	}
	if r.hop > 0 {
		r.named = queryNames(req, r.left)
	}
	return r
}

// from is o as the page at r.left answered it: the chain from that hop.
func (r redirect) from(o model.Observation) model.Observation {
	o.URL = r.left.String()
	if r.hop >= 0 && r.hop < len(o.Chain) {
		o.Chain = o.Chain[r.hop:]
	}
	if len(o.Chain) <= 1 {
		o.Chain = nil
	}
	return o
}

// samePage reports whether a and b are the same page: origin, path (a
// trailing slash aside) and query (its pairs in any order). A query
// selects the page in many applications (index.php?title=...), so a
// redirect that changes it leaves the page; where the new URL is one the
// role may not see, the lookup still makes an allowed answer a leak.
func samePage(a, b *url.URL) bool {
	if !model.SameOrigin(a, b) || strings.TrimSuffix(a.EscapedPath(), "/") != strings.TrimSuffix(b.EscapedPath(), "/") {
		return false
	}
	if a.RawQuery == b.RawQuery {
		return true
	}
	qa, erra := url.ParseQuery(a.RawQuery)
	qb, errb := url.ParseQuery(b.RawQuery)
	return erra == nil && errb == nil && maps.EqualFunc(qa, qb, slices.Equal)
}

// queryNames reports whether a query value of req names the page to: a
// path ("/admin") or an absolute URL of the same origin, as back_url,
// next or return_to carry.
func queryNames(req, to *url.URL) bool {
	for _, vs := range req.Query() {
		for _, v := range vs {
			if !namesLocation(v) {
				continue
			}
			if u, err := req.Parse(v); err == nil && samePage(u, to) {
				return true
			}
		}
	}
	return false
}

// namesLocation reports whether a query value is a location, a path
// ("/admin") or an absolute http(s) URL, as back_url, next or return_to
// carry.
func namesLocation(v string) bool {
	return strings.HasPrefix(v, "/") || strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://")
}

// redirectAccepted reports whether a redirect form of forms accepts r: a
// redirect to another page, its Location matching the form's pattern on
// the requested page's origin.
func redirectAccepted(forms []roles.DenyForm, r redirect) bool {
	if r.left == nil {
		return false
	}
	for _, f := range forms {
		if !f.Redirect {
			continue
		}
		if f.To == nil {
			return true
		}
		if model.SameOrigin(r.left, r.req) && f.To.Match("", r.left, roles.Bindings{}) {
			return true
		}
	}
	return false
}

// formMatches reports whether o is the denial form f: same class, or the
// exact status for a form without a class.
func formMatches(f roles.DenyForm, o model.Observation) bool {
	if f.Redirect {
		return false // redirectAccepted
	}
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
func formString(f roles.DenyForm) string { return f.String() }

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
