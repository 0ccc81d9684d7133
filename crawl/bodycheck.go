package crawl

import (
	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

// checkBody makes the body checks the matrix sets for job's endpoint and
// role (exp, the job's expectation) on the full answer, before the body
// is reduced to an excerpt. It returns nil when the rule does not allow
// the role or has no check for it: a denied role's allowed answer is a
// leak whatever its body.
func (p *prober) checkBody(job probeJob, exp roles.Expectation, a *answer) []model.BodyCheckResult {
	if !exp.Allow || len(exp.Body) == 0 {
		return nil
	}
	env := judge.BodyEnv{Self: job.sess.Name(), Var: p.roleVar, Secrets: p.secrets}
	out := make([]model.BodyCheckResult, len(exp.Body))
	for i, chk := range exp.Body {
		out[i] = judge.EvaluateBody(chk, a.body, a.truncated, env)
	}
	return out
}

// roleVar looks a role variable up in the role's session (variables
// captured at sign-in included), or, for a role not probed in this run,
// in the configuration.
func (p *prober) roleVar(role, name string) (string, bool) {
	if s := p.sessions[role]; s != nil {
		return s.Var(name)
	}
	if r := p.cfg.Role(role); r != nil {
		v, ok := r.Vars[name]
		return v, ok
	}
	return "", false
}

func sessionsByName(ss []*session.Session) map[string]*session.Session {
	m := make(map[string]*session.Session, len(ss))
	for _, s := range ss {
		m[s.Name()] = s
	}
	return m
}
