package judge

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// Existence canaries (crawl/canary.go asks for them): for each template
// with a value that identifies a resource (CanaryTarget), the probe also
// asks, as each role the matrix denies one of its URLs, for two siblings
// that cannot exist. A cell the matrix passes as a denial answers like a
// missing resource unless, in this order, its status or answer class,
// its Location (ids set aside, calibrated on the two siblings), the
// reason of its class (a denial signature, the login page's form), or
// its body (MissingBody, compared by crawl as it probes) differ from the
// siblings'. Nothing is compared unless the two siblings were denied
// alike (same status and class): a sibling answered 200 or 500 tells
// nothing.
//
// Such a difference is a finding (existence-leak) only where every
// denial form the rule accepts is hidden (deny_as: 404 or 410): the
// author asked for hiding. Elsewhere, with the default forms or
// deny_as: 403, the author did not, and it is a note per template
// (existence-observable): existence is observable there.

// Target is the value of a URL an existence canary changes: a path
// segment or query value that identifies a resource.
type Target struct {
	// Group is the URL's template with that value folded: cells and
	// canaries of one group are compared ("GET /projects/{project}").
	Group string
	// Seg indexes the URL's escaped path split at "/" (the first element
	// is the empty string before the leading slash); -1 for a query value.
	Seg int
	// Param indexes the URL's raw query split at "&", for a query value.
	Param int
	// Value is the value, decoded.
	Value string
	// Name is the rule's name for a segment it names ("{project}"); ""
	// for a value folded as an id.
	Name string
}

// CanaryTarget returns the value of u an existence canary changes: the
// last path segment that identifies a resource, or else the last query
// value that does. A segment identifies one when it is folded as an id
// (model.IsID) and does not follow a paging segment ("page/2"), or when
// the rule that matched it names it ("GET /projects/{project}", as ruleIdx
// says: roles.Expectation.RuleIdx); a query value when it is folded as an
// id and its key does not name a limit, count, page, offset, size, date or
// namespace (CountKey). It reports false when u has no such value.
func CanaryTarget(cfg *roles.Config, method string, u *url.URL, role string, vars roles.Vars, ruleIdx int) (Target, bool) {
	segs := strings.Split(u.EscapedPath(), "/")
	var named map[string]string // decoded value to its name; nil reads as empty
	if cfg != nil && ruleIdx > 0 && ruleIdx <= len(cfg.Matrix.Rules) {
		r := &cfg.Matrix.Rules[ruleIdx-1]
		b := roles.Bindings{Self: role, Vars: vars}
		for _, p := range r.Match {
			names := p.Names()
			if len(names) == 0 { // nothing to capture: only whether it is the first to match
				if p.Match(method, u, b) {
					break
				}
				continue
			}
			got, ok := p.Capture(method, u, b)
			if !ok {
				continue
			}
			for _, n := range names {
				if v, ok := got[n]; ok && v != "" {
					if named == nil {
						named = map[string]string{}
					}
					named[v] = n
				}
			}
			break
		}
	}
	for i := len(segs) - 1; i > 0; i-- {
		d, err := url.PathUnescape(segs[i])
		if err != nil || d == "" {
			continue
		}
		name, isNamed := named[d]
		if !isNamed && (!model.IsID(d) || CountKey(segs[i-1])) {
			continue
		}
		t := Target{Seg: i, Param: -1, Value: d}
		if isNamed && !model.IsID(d) {
			t.Name = name
		}
		t.Group = model.Template(method, u.String())
		if t.Name != "" {
			t.Group = foldSegment(t.Group, i, "{"+t.Name+"}")
		}
		return t, true
	}
	params := strings.Split(u.RawQuery, "&")
	for i := len(params) - 1; i >= 0; i-- {
		k, v, _ := strings.Cut(params[i], "=")
		key, err1 := url.QueryUnescape(k)
		d, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || !model.IsID(d) || CountKey(key) {
			continue
		}
		return Target{Group: model.Template(method, u.String()), Seg: -1, Param: i, Value: d}, true
	}
	return Target{}, false
}

// foldSegment replaces the i-th "/" element of template's path with s.
func foldSegment(template string, i int, s string) string {
	method, rest, _ := strings.Cut(template, " ")
	path, query, hasQuery := strings.Cut(rest, "?")
	parts := strings.Split(path, "/")
	if i < len(parts) {
		parts[i] = s
	}
	out := method + " " + strings.Join(parts, "/")
	if hasQuery {
		out += "?" + query
	}
	return out
}

// countWords are query keys and path segments that name a quantity, a
// position or a scope rather than a resource: their values are never
// changed by a canary.
var countWords = map[string]bool{
	"limit": true, "count": true, "page": true, "pages": true, "p": true, "pg": true, "perpage": true,
	"pagesize": true, "size": true, "offset": true, "start": true, "skip": true, "top": true, "first": true,
	"last": true, "max": true, "min": true, "ns": true, "namespace": true, "namespaces": true, "days": true,
	"hours": true, "minutes": true, "weeks": true, "months": true, "years": true, "day": true, "week": true,
	"month": true, "year": true, "since": true, "until": true, "depth": true,
	"level": true, "rows": true, "results": true, "num": true, "n": true, "per": true, "width": true,
	"height": true, "zoom": true, "version": true, "v": true, "amount": true, "total": true,
	"length": true, "sort": true, "order": true, "dir": true, "lang": true, "before": true, "after": true,
}

// countSuffixes end query keys that name a quantity or scope: MediaWiki's
// "rclimit", "adrlimit", "rcnamespace", "rcdays", and the like. The
// words of sepSuffixes count only after a separator or as a capitalised
// word ("item_count", "pageSize"), so that "account" is not a count.
var (
	countSuffixes = []string{"limit", "namespace", "offset", "days", "hours"}
	sepSuffixes   = []string{"count", "size", "page", "max", "min", "num"}
)

// CountKey reports whether a query key (or the path segment before a
// value) names a limit, count, page, offset, size, date or namespace
// rather than a resource: "limit", "per_page", "adrlimit", "ns".
func CountKey(key string) bool {
	var b strings.Builder
	for _, r := range strings.ToLower(key) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			b.WriteRune(r)
		}
	}
	k := b.String()
	if k == "" {
		return false
	}
	if countWords[k] {
		return true
	}
	for _, s := range countSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	for _, s := range sepSuffixes {
		if len(key) <= len(s) {
			continue
		}
		head, tail := key[:len(key)-len(s)], key[len(key)-len(s):]
		last := head[len(head)-1]
		if strings.EqualFold(tail, s) && (last == '_' || last == '-' || last == '.' || tail[0] == strings.ToUpper(s)[0]) {
			return true
		}
	}
	return false
}

// MissingIDs are the values ShapeOf sets aside in an answer to rawURL:
// its id-like parts and the target's value.
func MissingIDs(rawURL string, t Target) []string {
	ids := model.IDParts(rawURL)
	if t.Value != "" {
		ids = append(ids, t.Value)
	}
	return ids
}

// takeCanaries copies the canaries of all into run.Canaries and drops
// them from all, in place. Without canaries in all (a saved run judged
// again), run.Canaries is kept as it is.
func (j *judgement) takeCanaries(all *model.Cells) {
	var canaries []model.Observation
	isCanary := make([]bool, all.Len())
	for i, c := range all.All() {
		if c.CanaryOf != "" {
			canaries = append(canaries, c.Observation)
			isCanary[i] = true
		}
	}
	if len(canaries) > 0 {
		all.Keep(func(i int) bool { return !isCanary[i] })
		j.run.Canaries = canaries
	}
}

// compareCanaries compares the passing denials with their group's
// canaries: a difference is an existence leak where the rule asks for
// hiding, a note per template elsewhere; and it adds the canary's answer
// to the evidence of the existence leaks the matrix found.
func (j *judgement) compareCanaries() {
	run := j.run
	if len(run.Canaries) == 0 {
		return
	}
	type key struct{ group, role string }
	type sample struct {
		idx []int
		t   Target
	}
	byKey := map[key]*sample{}
	for i, c := range run.Canaries {
		u, err := url.Parse(c.CanaryOf)
		if err != nil {
			continue
		}
		exp := j.cfg.Expect(c.Method, u, c.Role, j.vars)
		t, ok := CanaryTarget(j.cfg, c.Method, u, c.Role, j.vars, exp.RuleIdx)
		if !ok {
			continue
		}
		k := key{t.Group, c.Role}
		if byKey[k] == nil {
			byKey[k] = &sample{t: t}
		}
		byKey[k].idx = append(byKey[k].idx, i)
	}
	// Existence leaks the matrix found (a 403 where deny_as says 404) get
	// the canary's answer as evidence too.
	leakOf := map[int]int{}
	for fi, f := range run.Findings {
		if f.Verdict == model.ExistenceLeak && f.Cell >= 0 {
			leakOf[f.Cell] = fi
		}
	}
	observable := map[string]*group{}
	var order []string
	whyOf := map[string]string{}
	canaryOf := map[string]int{}
	for i := range run.Observations.Len() {
		cell := run.Observations.At(i)
		c := &cell
		exp := j.exps[i]
		if !exp.denies || !IsDenial(c.Class) {
			continue
		}
		_, isLeak := leakOf[i]
		if c.Verdict != model.Pass && !(isLeak && c.Verdict == model.ExistenceLeak) {
			continue
		}
		u, err := url.Parse(c.URL)
		if err != nil {
			continue
		}
		t, ok := CanaryTarget(j.cfg, c.Method, u, c.Role, j.vars, int(exp.ruleIdx))
		if !ok {
			continue
		}
		smp := byKey[key{t.Group, c.Role}]
		if smp == nil || len(smp.idx) < 2 {
			continue
		}
		ai := smp.idx[0]
		a, b := run.Canaries[smp.idx[0]], run.Canaries[smp.idx[1]]
		if isLeak {
			if IsDenial(a.Class) && a.Class == b.Class && a.Status == b.Status {
				f := &run.Findings[leakOf[i]]
				f.Observed += fmt.Sprintf("; missing sibling %s: %s", model.PathOf(a.URL), a.Observed())
				f.Canary = &ai
			}
			continue
		}
		why, differs := existenceDiff(c.Observation, t, a, b, smp.t)
		if !differs {
			continue
		}
		if exp.hidesOnly {
			c.Verdict = model.ExistenceLeak
			run.Observations.Set(i, *c)
			j.add(i, *c, model.ExistenceLeak, why)
			f := &run.Findings[len(run.Findings)-1]
			f.Observed = fmt.Sprintf("%s; missing sibling %s: %s", c.Observation.Observed(), model.PathOf(a.URL), a.Observed())
			f.Canary = &ai
			continue
		}
		// One note per group: a template, or a named resource's pattern
		// ("GET /projects/{project}") for all its slugs.
		gc := *c
		gc.Template = t.Group
		if observable[t.Group] == nil {
			whyOf[t.Group] = why
			canaryOf[t.Group] = ai
		}
		j.group(observable, &order, i, gc)
	}
	for _, k := range order {
		g := observable[k]
		c := run.Observations.At(g.cell)
		c.Template = k
		ai := canaryOf[k]
		a := run.Canaries[ai]
		j.note(g, c, model.ExistenceObservable, fmt.Sprintf("%s: existence is observable: %s %s (%s; roles: %s); the rule %s accepts this denial, so this is a note: deny_as: 404 asks for hiding and makes it an existence-leak finding",
			c.Template, c.Method, model.PathOf(c.URL)+" "+whyOf[k], plural(len(g.urls), "endpoint"), strings.Join(g.roles, ", "), c.Rule))
		n := &run.Notes[len(run.Notes)-1]
		n.Observed = fmt.Sprintf("%s; missing sibling %s: %s", c.Observation.Observed(), model.PathOf(a.URL), a.Observed())
		n.Canary = &ai
	}
}

// allHidden reports whether forms are given and every one is hidden
// (404, 410): the rule asks that the resource be hidden.
func allHidden(forms []roles.DenyForm) bool {
	for _, f := range forms {
		if f.Class != string(model.Hidden) && f.Status != 404 && f.Status != 410 {
			return false
		}
	}
	return len(forms) > 0
}

// IsDenial reports whether an answer class denies: unauthenticated,
// forbidden or hidden.
func IsDenial(c model.Class) bool {
	return c == model.Unauthenticated || c == model.Forbidden || c == model.Hidden
}

// existenceDiff compares the answer o to a resource (its URL's target t)
// with the answers a and b to two siblings that do not exist (the
// sample's target st), denial semantics first: status and class,
// Location, the reason of the class, then the body. It says how the
// answer tells that the resource exists.
func existenceDiff(o model.Observation, t Target, a, b model.Observation, st Target) (string, bool) {
	if !IsDenial(a.Class) || a.Class != b.Class || a.Status != b.Status {
		return "", false // the canaries tell nothing: not denied, or not alike
	}
	missing := model.PathOf(a.URL)
	if o.Status != a.Status || o.Class != a.Class {
		return fmt.Sprintf("answered %s, but %s, which does not exist, answered %s: the different answer tells that the resource exists",
			o.Observed(), missing, a.Observed()), true
	}
	if o.Location != "" || a.Location != "" || b.Location != "" {
		so := ShapeOf(o.Location, MissingIDs(o.URL, t))
		sa := ShapeOf(a.Location, MissingIDs(a.URL, targetIn(a.URL, st)))
		sb := ShapeOf(b.Location, MissingIDs(b.URL, targetIn(b.URL, st)))
		if d := CompareMissing(so, sa, sb); d != nil && d.Differs {
			return fmt.Sprintf("answered %s, like %s, which does not exist, but to another location (%s, not %s; %s): the location tells that the resource exists",
				o.Observed(), missing, o.Location, a.Location, d.Difference), true
		}
	}
	if a.Why == b.Why && o.Why != a.Why {
		return fmt.Sprintf("answered %s (%s), like %s, which does not exist, but for another reason (%s): the denial tells that the resource exists",
			o.Observed(), o.Why, missing, a.Why), true
	}
	if o.Missing != nil { // compared by crawl as it probed
		if o.Missing.Differs {
			return fmt.Sprintf("answered %s, like %s, which does not exist, but with another body once the ids and the noise the missing siblings show are set aside (%s): the denial message tells that the resource exists",
				o.Observed(), missing, o.Missing.Difference), true
		}
		return "", false
	}
	// A run saved before bodies were compared by crawl: the digests of
	// the bodies with their ids removed.
	da, db, do := bodyWithoutIDs(a), bodyWithoutIDs(b), bodyWithoutIDs(o)
	if da == db && do != da && o.BodySHA256WithoutIDs != "" {
		return fmt.Sprintf("answered %s, like %s, which does not exist, but with another body once the requested id is removed: the denial message tells that the resource exists",
			o.Observed(), missing), true
	}
	return "", false
}

// targetIn is t moved to rawURL, a sibling of the URL t was read from:
// its value is rawURL's at the same place.
func targetIn(rawURL string, t Target) Target {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Target{}
	}
	if t.Seg >= 0 {
		segs := strings.Split(u.EscapedPath(), "/")
		if t.Seg < len(segs) {
			t.Value, _ = url.PathUnescape(segs[t.Seg])
		}
		return t
	}
	params := strings.Split(u.RawQuery, "&")
	if t.Param >= 0 && t.Param < len(params) {
		_, v, _ := strings.Cut(params[t.Param], "=")
		t.Value, _ = url.QueryUnescape(v)
	}
	return t
}

// bodyWithoutIDs is the digest of o's body with its URL's ids removed,
// or of the body as it is when the URL has none.
func bodyWithoutIDs(o model.Observation) string {
	if o.BodySHA256WithoutIDs != "" {
		return o.BodySHA256WithoutIDs
	}
	return o.BodySHA256
}
