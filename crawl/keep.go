package crawl

import (
	"context"
	"net/http"

	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/session"
)

// probeRun is the keeper's bookkeeping for one Probe call.
type probeRun struct {
	k       *session.Keeper
	sendSeq []uint64
}

// probeKept probes job (index i) under the keeper's rules and hands the
// observation to record, possibly later and from another goroutine (when
// the answer waits for the role's next check, or the job was set aside
// during a renewal). Nothing is recorded for a session-ending endpoint or
// a cancelled probe. The prober flushes the keeper before reading what
// was recorded.
func (p *prober) probeKept(ctx context.Context, i int, job probeJob, record func(int, model.Observation)) {
	if p.keep == nil || p.keep.k == nil {
		if obs, ok := p.probe(ctx, job); ok {
			record(i, obs)
		}
		return
	}
	again := func() { p.probeKept(ctx, i, job, record) }
	session.Keep(ctx, p.keep.k, job.sess, job.ep, again, func(ctx context.Context) (model.Observation, bool, bool) {
		obs, ok := p.probe(ctx, job)
		return obs, ok && judge.MustConfirm(obs), ok
	}, func(res session.Result[model.Observation]) {
		if obs, ok := p.kept(i, job, res); ok {
			record(i, obs)
		}
	})
}

// kept reads the keeper's result of job i into the observation recorded,
// and keeps the request's place among the role's checks (settle).
func (p *prober) kept(i int, job probeJob, res session.Result[model.Observation]) (model.Observation, bool) {
	obs := res.Val
	switch res.Outcome {
	case session.Parked, session.Cancelled, session.Ending:
		return obs, false
	case session.Kept:
		obs.Session = res.Session
		obs = judge.MarkerContradicted(obs)
		p.keep.sendSeq[i] = res.SendSeq
		return obs, true
	}
	if obs.Role == "" { // nothing was sent
		obs = model.Observation{Endpoint: job.ep, Role: job.sess.Name()}
	}
	obs.Class, obs.Err = model.Error, p.secrets.Redact(res.Why)
	switch res.Outcome {
	case session.Lost:
		obs.Why, obs.Session = "session lost", model.SessionLost
	case session.NotSignedIn:
		obs.Why, obs.Session = "not signed in", model.SessionNotSignedIn
	case session.CheckError:
		obs.Why, obs.Session = "session check failed", model.SessionCheckError
	}
	if res.Outcome != session.CheckError {
		p.keep.k.CountLost(job.sess.Name())
	}
	p.keep.sendSeq[i] = ^uint64(0)
	return obs, true
}

// settle records as "session lost" every kept answer of a lost role sent
// after its last passing check.
func (p *prober) settle(results *model.Cells, finished []bool) {
	if p.keep == nil || p.keep.k == nil {
		return
	}
	for i, c := range results.All() {
		o := &c.Observation
		if !finished[i] || o.Session == model.SessionLost || o.Session == model.SessionNotSignedIn || o.Session == model.SessionCheckError {
			continue
		}
		if lost, why := p.keep.k.LostSince(o.Role, p.keep.sendSeq[i]); lost {
			o.Class, o.Why, o.Session = model.Error, "session lost", model.SessionLost
			o.Err = p.secrets.Redact(why)
			o.BodyChecks = nil
			p.keep.k.CountLost(o.Role)
			results.Set(i, c)
		}
	}
}

// fetchKept is a discovery request under the keeper's rules: it hands
// done the page, or nil when no page is to be followed (a lost or
// unsigned role, a session-ending URL, a cancelled request), possibly
// later and from another goroutine (an answer waiting for the role's next
// check); the crawl flushes the keeper before reading the pages. sem is
// taken for each request only, never while the role renews. A page kept
// whose answer is a probe's observation is remembered as that cell's
// (Answers).
func (rc *roleCrawl) fetchKept(ctx context.Context, it fetchItem, done func(*page)) {
	send := func(ctx context.Context) (*page, bool, bool) {
		select {
		case rc.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, false, false
		}
		// The collector's callback gives the slot back once the answer
		// is in, and classifies it (read).
		p := rc.fetch(it, func() { <-rc.sem })
		return p, p.confirm, true
	}
	ep := model.Endpoint{Method: http.MethodGet, URL: it.url}
	session.Keep(ctx, rc.opts.Keeper, rc.sess, ep, nil, send, func(res session.Result[*page]) {
		switch res.Outcome {
		case session.Kept:
			rc.remember(ep, res)
			done(res.Val)
			return
		case session.Lost, session.NotSignedIn, session.CheckError:
			rc.log.Debug("page not fetched", "url", rc.redact(it.url), "reason", rc.redact(res.Why))
		}
		done(nil)
	})
}

// loggedOutMarker is the logged-out text of sess's role; "" for none.
func loggedOutMarker(sess *session.Session) string {
	if sess == nil {
		return ""
	}
	return sess.LoggedOutMarker()
}
