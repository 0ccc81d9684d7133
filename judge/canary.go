package judge

import (
	"fmt"

	"github.com/permaudit/permaudit/model"
)

// Existence canaries (crawl/canary.go asks for them): for each template
// with an id, the probe also asks, as each role the matrix denies one of
// its URLs, for two siblings that cannot exist. A hidden resource must answer exactly
// like them. A cell the matrix passes as a denial is an existence leak
// when its answer differs from the canaries' in status or answer class,
// in Location once the ids are removed, or in body once the ids are
// removed (the denial message). Location and body are compared only when
// the two canaries agree with each other on them, so that an answer that
// changes on every request (a nonce, a time) is never a finding; and only
// when the canaries were denied themselves (a canary answered 200 or 500
// tells nothing).

// takeCanaries copies the canaries of obs into run.Canaries and returns
// the number of the other observations, which Judge turns into cells,
// skipping the canaries (no copy of obs without them: at a million
// cells, that copy was 300 MB). Without canaries in obs (a saved run
// judged again), run.Canaries is kept as it is.
func (j *judgement) takeCanaries(obs []model.Observation) (cells int) {
	var canaries []model.Observation
	for _, o := range obs {
		if o.CanaryOf != "" {
			canaries = append(canaries, o)
			continue
		}
		cells++
	}
	if len(canaries) > 0 {
		j.run.Canaries = canaries
	}
	return cells
}

// compareCanaries turns the passing denials that answer unlike their
// template's canaries into existence leaks, and adds the canary's answer
// to the evidence of the existence leaks the matrix found.
func (j *judgement) compareCanaries() {
	run := j.run
	if len(run.Canaries) == 0 {
		return
	}
	type key struct{ template, role string }
	byKey := map[key][]int{}
	for i, c := range run.Canaries {
		k := key{model.Template(c.Method, c.URL), c.Role}
		byKey[k] = append(byKey[k], i)
	}
	// Existence leaks the matrix found (a 403 where deny_as says 404) get
	// the canary's answer as evidence too.
	leakOf := map[int]int{}
	for fi, f := range run.Findings {
		if f.Verdict == model.ExistenceLeak && f.Cell >= 0 {
			leakOf[f.Cell] = fi
		}
	}
	for i := range run.Observations {
		c := &run.Observations[i]
		idx := byKey[key{c.Template, c.Role}]
		if len(idx) < 2 {
			continue
		}
		a, b := run.Canaries[idx[0]], run.Canaries[idx[1]]
		if fi, ok := leakOf[i]; ok && c.Verdict == model.ExistenceLeak {
			if isDenial(a.Class) && a.Class == b.Class && a.Status == b.Status {
				f := &run.Findings[fi]
				f.Observed += fmt.Sprintf("; missing sibling %s: %s", model.PathOf(a.URL), a.Observed())
				ci := idx[0]
				f.Canary = &ci
			}
			continue
		}
		if c.Verdict != model.Pass || !j.denies[i] || !isDenial(c.Class) {
			continue
		}
		why, leak := existenceDiff(c.Observation, a, b)
		if !leak {
			continue
		}
		c.Verdict = model.ExistenceLeak
		j.add(i, *c, model.ExistenceLeak, why)
		f := &run.Findings[len(run.Findings)-1]
		f.Observed = fmt.Sprintf("%s; missing sibling %s: %s", c.Observation.Observed(), model.PathOf(a.URL), a.Observed())
		ci := idx[0]
		f.Canary = &ci
	}
}

// isDenial reports whether an answer class denies.
func isDenial(c model.Class) bool {
	return c == model.Unauthenticated || c == model.Forbidden || c == model.Hidden
}

// existenceDiff compares the answer o to a hidden resource with the
// answers a and b to two siblings that do not exist, and says how it
// tells that the resource exists.
func existenceDiff(o, a, b model.Observation) (string, bool) {
	if !isDenial(a.Class) || a.Class != b.Class || a.Status != b.Status {
		return "", false // the canaries tell nothing: not denied, or not alike
	}
	missing := model.PathOf(a.URL)
	if o.Status != a.Status || o.Class != a.Class {
		return fmt.Sprintf("answered %s, but %s, which does not exist, answered %s: the different answer tells that the resource exists",
			o.Observed(), missing, a.Observed()), true
	}
	la, lb := model.StripIDs(a.URL, a.Location), model.StripIDs(b.URL, b.Location)
	if la == lb && model.StripIDs(o.URL, o.Location) != la {
		return fmt.Sprintf("answered %s, like %s, which does not exist, but to another location once the ids are removed (%s, not %s): the location tells that the resource exists",
			o.Observed(), missing, o.Location, a.Location), true
	}
	da, db, do := bodyWithoutIDs(a), bodyWithoutIDs(b), bodyWithoutIDs(o)
	if da == db && do != da {
		return fmt.Sprintf("answered %s, like %s, which does not exist, but with another body once the requested id is removed: the denial message tells that the resource exists",
			o.Observed(), missing), true
	}
	return "", false
}

// bodyWithoutIDs is the digest of o's body with its URL's ids removed,
// or of the body as it is when the URL has none.
func bodyWithoutIDs(o model.Observation) string {
	if o.BodySHA256WithoutIDs != "" {
		return o.BodySHA256WithoutIDs
	}
	return o.BodySHA256
}
