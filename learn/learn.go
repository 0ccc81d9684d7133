package learn

import (
	"maps"
	"sort"

	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// Options tune Learn.
type Options struct {
	// Vars are the roles' variables (role name to variable name to value),
	// as a configuration declares them (learn -c). The values the run's
	// roles captured at sign-in (model.RoleInfo.Vars) are read too, over
	// these. An id that only the roles holding it as a variable may read
	// becomes {self.name} in the draft instead of a literal id; without
	// any variable, ids stay literal.
	Vars map[string]map[string]string
}

// Learn drafts an access matrix from run: for every endpoint template, the
// roles that were allowed it, grouped into rules by path prefix, with
// "**" where a whole subtree answered alike, and comments where roles or
// answers disagree inside a group or look suspicious. The draft describes
// behaviour: judged against it, the run it was learned from passes the
// gate, except for findings no matrix can pass (errors, a role denied what
// a role it inherits is allowed), which the draft's header names with why.
// It sends no request.
func Learn(run *model.Run, opts Options) *Draft {
	l := newLearner(run, opts)
	return l.learn()
}

// learn runs the stages in order (see the package comment).
func (l *learner) learn() *Draft {
	l.collect()
	for _, u := range l.units {
		l.summarise(u)
	}
	l.suspectCells()
	l.suspectOutliers()
	l.suspectRoles()
	general, exceptions := l.group()
	rules := l.compose(general, exceptions)
	rules = l.verify(rules)
	l.ownRun(rules)
	l.draft.Rules = rules
	l.header()
	return l.draft
}

type learner struct {
	run   *model.Run
	opts  Options
	names []string
	index map[string]int
	// roles are the run's roles as a configuration holds them (names,
	// inheritance, variables): the draft is verified with them, and
	// inheritance is read through them.
	roles []*roles.Role
	// above[i][j]: role j inherits role i, transitively (j is higher).
	above [][]bool
	units []*unit
	draft *Draft
}

func newLearner(run *model.Run, opts Options) *learner {
	l := &learner{run: run, opts: opts, index: map[string]int{}, draft: &Draft{}}
	for _, r := range run.Roles {
		l.addRole(r.Name)
	}
	for _, c := range run.Observations.All() {
		l.addRole(c.Role)
	}
	inherits := map[string][]string{}
	for _, r := range run.Roles {
		inherits[r.Name] = r.Inherits
	}
	captured := judge.Captured(run)
	for _, n := range l.names {
		l.roles = append(l.roles, &roles.Role{Name: n, Inherits: inherits[n], Vars: roleVars(opts.Vars[n], captured[n])})
	}
	// Inheritance as the audit's matcher reads it: an allow list naming i
	// admits j when j is i or inherits it. A role named "*" (which no
	// configuration can name) would admit everyone, so it is left out.
	cfg := &roles.Config{Roles: l.roles}
	n := len(l.names)
	l.above = make([][]bool, n)
	for i := range l.above {
		l.above[i] = make([]bool, n)
		for j := range l.names {
			l.above[i][j] = i != j && l.names[i] != "*" && cfg.Allows([]string{l.names[i]}, l.names[j])
		}
	}
	return l
}

func (l *learner) addRole(name string) {
	if _, ok := l.index[name]; ok || name == "" {
		return
	}
	l.index[name] = len(l.names)
	l.names = append(l.names, name)
}

// roleVars returns the variables of a role: the one place learn decides
// them, once per role in newLearner. The values the run's role captured
// at sign-in (what the audit judged with) come over the configuration's
// (Options.Vars).
func roleVars(configured, captured map[string]string) map[string]string {
	if len(captured) == 0 {
		return configured
	}
	vars := maps.Clone(configured)
	if vars == nil {
		vars = map[string]string{}
	}
	maps.Copy(vars, captured)
	return vars
}

// varHolding returns the name of role's variable whose value is v, the
// first in name order, or "" when none holds it.
func (l *learner) varHolding(role, v string) string {
	var vars map[string]string
	if i, ok := l.index[role]; ok {
		vars = l.roles[i].Vars
	}
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if vars[k] == v {
			return k
		}
	}
	return ""
}

// allowList is the shortest allow list whose roles, with the roles that
// inherit them, are set: ["*"] for every role.
func (l *learner) allowList(set roleSet) []string {
	if set.count() == len(set) && len(set) > 0 {
		return []string{"*"}
	}
	out := []string{}
	for i, in := range set {
		if !in {
			continue
		}
		minimal := true
		for j, jn := range set {
			if jn && l.above[j][i] {
				minimal = false // i inherits j, which is allowed
				break
			}
		}
		if minimal {
			out = append(out, l.names[i])
		}
	}
	return out
}
