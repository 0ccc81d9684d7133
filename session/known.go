package session

import (
	"strings"

	"github.com/permaudit/permaudit/model"
)

// Known marks as session-ending the endpoints a saved inventory lists as
// such (the Skips of the keeper of the discovery that wrote it), so that
// an audit of that inventory (audit --inventory, a shard) requests none of
// them as a signed-in role, as the audit that discovered them would not
// have. Shapes of cookie deletions are known again too. Skips leaves them
// out: the inventory lists them already. k may be nil (a dry run).
func (k *Keeper) Known(skips []model.Skip) {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, s := range skips {
		why, ok := strings.CutPrefix(s.Reason, "session-ending: ")
		if !ok {
			continue
		}
		why = strings.TrimSuffix(why, "; no signed-in role requests it")
		if _, had := k.ending[s.Endpoint]; had {
			continue
		}
		k.ending[s.Endpoint] = ending{why: why, known: true}
		if strings.Contains(why, "deletes the session cookie") {
			if _, had := k.shapes[shapeOf(s.Endpoint)]; !had {
				k.shapes[shapeOf(s.Endpoint)] = s.Endpoint
			}
		}
	}
}
