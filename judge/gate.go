package judge

import (
	"fmt"
	"slices"
	"strings"

	"github.com/permaudit/permaudit/model"
)

// ParseFailOn parses the gate's list of verdicts, "leak, blocked" (--fail-on).
// Only finding verdicts are accepted. Spaces around items
// are trimmed and case is ignored; duplicates are dropped, first kept.
// "none" alone gives an empty, non-nil gate.
func ParseFailOn(s string) ([]model.Verdict, error) {
	if strings.EqualFold(strings.TrimSpace(s), "none") {
		return []model.Verdict{}, nil
	}
	valid := model.JoinVerdicts(model.FindingVerdicts)
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("empty verdict list: want a comma-separated list of %s, or none", valid)
	}
	out := []model.Verdict{}
	for _, item := range strings.Split(s, ",") {
		v := model.Verdict(strings.ToLower(strings.TrimSpace(item)))
		switch {
		case v == "":
			return nil, fmt.Errorf("%q: empty item in the verdict list; valid verdicts: %s", s, valid)
		case v == "none":
			return nil, fmt.Errorf("%q: none cannot be combined with verdicts", s)
		case v.NoteRank() < len(model.NoteVerdicts):
			return nil, fmt.Errorf("%q: %s is a note, which never fails the gate; valid verdicts: %s", s, v, valid)
		case v == model.Pass:
			return nil, fmt.Errorf("%q: pass cannot fail the gate; valid verdicts: %s", s, valid)
		case !v.IsFinding():
			return nil, fmt.Errorf("%q: unknown verdict %q; valid verdicts: %s, or none", s, string(v), valid)
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}
