package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/permaudit/permaudit/crawl"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

// signInRoles signs every role in (session.SignInAll), after the
// preflight and before any discovery or probe. A role that cannot sign in
// stops the audit with an Unreachable Error (exit 3), naming the role and
// what was seen, unless skipFailed: then its error is returned in failed
// and the caller audits the other roles (the keeper records the role's
// cells as errors).
//
// Each session signs in with a copy of the anonymous client (scoped, no
// credentials; the flow gives it a fresh cookie jar) and checks itself
// with its role's own client.
func signInRoles(ctx context.Context, cfg *roles.Config, secrets *roles.Redactor, sessions []*session.Session, clients map[string]*http.Client, log *slog.Logger, skipFailed bool) (failed map[string]error, err error) {
	signer := clients["anonymous"]
	for _, s := range sessions {
		s.Configure(session.SessionOptions{
			Target:  cfg.Target,
			Secrets: secrets,
			SignIn:  signer,
			Client:  clients[s.Name()],
			Logger:  log,
		})
	}
	errs := session.SignInAll(ctx, sessions)
	if ctx.Err() != nil {
		return nil, errorf(Interrupted, "interrupted while signing in")
	}
	failed = map[string]error{}
	var msgs []string
	for i, s := range sessions {
		if errs[i] == nil {
			continue
		}
		msg := secrets.Redact(errs[i].Error())
		failed[s.Name()] = errors.New(msg)
		msgs = append(msgs, fmt.Sprintf("role %s could not sign in: %s", s.Name(), msg))
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	if skipFailed {
		for _, m := range msgs {
			log.Warn(m + "; its cells are recorded as errors (--skip-failed-roles)")
		}
		return failed, nil
	}
	return nil, &Error{Kind: Unreachable, Err: errors.New(strings.Join(msgs, "\n") +
		"\nfix the role's login or check, or run with --skip-failed-roles to audit the other roles")}
}

// signOutTimeout bounds the logouts at the end of an audit.
const signOutTimeout = 30 * time.Second

// signOutRoles ends the sessions the audit signed in with a flow, for
// the roles that declare a logout (session.SignOutAll), with a context
// that a signal or the maximum duration has not cancelled: an
// interrupted or failed audit leaves no session behind either. Sessions
// given as static credentials are never ended. A failure is a warning.
func signOutRoles(parent context.Context, sessions []*session.Session, secrets *roles.Redactor, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), signOutTimeout)
	defer cancel()
	for i, err := range session.SignOutAll(crawl.WithPhase(ctx, crawl.PhaseSignOut), sessions) {
		if err != nil {
			log.Warn("role "+sessions[i].Name()+": its session could not be ended: "+secrets.Redact(err.Error())+"; it stays open on the target until it expires", "role", sessions[i].Name())
		}
	}
}

// sessionInfo fills the session fields of the run's roles: how each
// signed in, what it captured, its renewals and checks, and what the
// keeper saw.
func sessionInfo(run *model.Run, cfg *roles.Config, secrets *roles.Redactor, sessions []*session.Session, failed map[string]error, keeper *session.Keeper) {
	byName := map[string]*session.Session{}
	for _, s := range sessions {
		byName[s.Name()] = s
	}
	reports := map[string]session.Report{}
	if keeper != nil {
		for _, r := range keeper.Reports(cfg.RoleNames()) {
			reports[r.Role] = r
		}
	}
	for i := range run.Roles {
		ri := &run.Roles[i]
		r := cfg.Role(ri.Name)
		if r != nil && r.Check != nil {
			ri.Check = r.Check.String()
		}
		if err := failed[ri.Name]; err != nil {
			ri.SignInError = secrets.Redact(err.Error())
		}
		if s := byName[ri.Name]; s != nil {
			st := s.Stats()
			ri.SignIns, ri.Renewals, ri.Refreshes, ri.Checks = st.SignIns, st.Renewals, st.Refreshes, st.Checks
			// What the matrix is judged with, saved so that judging the
			// run again uses the same values; a secret capture is
			// registered with the redactor, so it is saved as its name.
			for k, v := range s.Captured() {
				if ri.Vars == nil {
					ri.Vars = map[string]string{}
				}
				ri.Vars[k] = secrets.Redact(v)
			}
		}
		if rep, ok := reports[ri.Name]; ok {
			ri.SessionLost = rep.Lost
			ri.LostReason = secrets.Redact(rep.LostReason)
			for _, u := range rep.SessionEnding {
				ri.SessionEnding = append(ri.SessionEnding, secrets.Redact(u))
			}
		}
	}
}
