package crawl

import (
	"unique"

	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// dropNonEvidence drops from obs (a cell's answer, exp its expectation;
// canary when the cell is an existence canary), before the run holds it,
// what is kept only as evidence where it cannot be any (run schema v2,
// docs/design.md "Outputs at scale"): the excerpt of an
// allowed answer the matrix passes (the canaries compare denials only, so
// such a cell stays a pass; the judge drops the excerpts of the other
// pass cells once canaries are compared), and the digest without ids
// when it equals the body's digest (the canaries then read the body's).
// The few texts many observations repeat (the class's why, the content
// type, the role, the method), and the excerpt and digest of a denial,
// become one shared string each (unique.Make).
func dropNonEvidence(exp roles.Expectation, canary bool, obs *model.Observation) {
	obs.Why = unique.Make(obs.Why).Value()
	obs.ContentType = unique.Make(obs.ContentType).Value()
	obs.Role = unique.Make(obs.Role).Value()
	obs.Method = unique.Make(obs.Method).Value()
	if obs.BodySHA256WithoutIDs == obs.BodySHA256 {
		obs.BodySHA256WithoutIDs = ""
	}
	if obs.Class != model.Allowed {
		// A denial's body is most often the same page for every URL (a
		// login page, "403 Forbidden"): one excerpt and one digest for
		// them all. Kept, since the canaries may yet make it evidence.
		obs.Excerpt = unique.Make(obs.Excerpt).Value()
		obs.BodySHA256 = unique.Make(obs.BodySHA256).Value()
		return
	}
	if canary || obs.Excerpt == "" {
		return
	}
	if v, _ := judge.Decide(exp, *obs); v == model.Pass {
		obs.Excerpt = ""
	}
}
