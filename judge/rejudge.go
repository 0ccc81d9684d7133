package judge

import (
	"fmt"
	"slices"
	"strings"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// Rejudge judges a saved run again against cfg's matrix, without sending
// a request: the observations are rebuilt from the run's cells and given
// to Judge, so a matrix edit can be tried in seconds. The run keeps its
// gate's fail-on list, filters and completeness; its findings, notes,
// counts and gate outcome are replaced, a baseline outcome is dropped
// (apply one again with ApplyBaseline), and Rejudged names cfg. Every
// role the run probed must be a role of cfg.
func Rejudge(run *model.Run, cfg *roles.Config) error {
	var missing []string
	for _, c := range run.Observations.All() {
		if cfg.Role(c.Role) == nil && !slices.Contains(missing, c.Role) {
			missing = append(missing, c.Role)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the run probed role(s) %s, which %s does not declare (roles: %s); judge it with the configuration it was audited with, or add them",
			strings.Join(missing, ", "), cfg.File, strings.Join(cfg.RoleNames(), ", "))
	}
	obs := make([]model.Observation, run.Observations.Len())
	for i, c := range run.Observations.All() {
		obs[i] = c.Observation
	}
	run.Baseline = nil
	Judge(run, cfg, obs)
	run.Rejudged = &model.Rejudged{ConfigFile: cfg.File, ConfigFingerprint: cfg.Fingerprint()}
	return nil
}
