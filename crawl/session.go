package crawl

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/permaudit/permaudit/roles"
)

// Keeper keeps the signed-in roles honest during discovery and probing:
// it confirms every non-ok answer of a role that has a check before the
// answer can become a finding, renews a session found dead and repeats
// the request once, records what a lost session touched as an error,
// and remembers the URLs after which a role's check fails (session-ending
// URLs), which no signed-in role requests again.
//
// The confirmation rules:
//
//   - an answer of class unauthenticated, forbidden, hidden or other (the
//     role's logged-out text turns an allowed answer into unauthenticated)
//     to a role with a check is confirmed: the check runs, unless a check
//     that started after the answer arrived already passed (sessions do not
//     come back to life, so a later passing check proves the earlier
//     answer was given to a live session);
//   - an answer unauthenticated only by the logged-out text, followed by
//     a passing check, is recorded as an error: the text contradicts the
//     check, and the answer may be data that merely holds the text;
//   - a failing check renews the session (roles.Session.Renew: capped,
//     with backoff); the request is then repeated once, alone (no other
//     request of the role in flight), between two checks. When the check
//     after the repeat fails, nothing else can have ended the session: the
//     URL is session-ending, it is not recorded for the role, and no
//     signed-in role requests it again;
//   - when renewal fails, the session is lost: every answer of the role
//     since its last passing check, and every later one (not requested),
//     is recorded as an error "session lost", never as a denial;
//   - a role that could not sign in (run with --skip-failed-roles) is not
//     requested at all: its observations are errors "not signed in".
//
// While a role renews, its other probes are set aside and run once the
// renewal is over, so that one role's renewal never holds the probe
// workers that other roles need.
type Keeper struct {
	log     *slog.Logger
	secrets *roles.Redactor
	cls     *Classifier
	roles   map[string]*roleKeeper

	mu     sync.Mutex
	ending map[Endpoint]string // session-ending endpoint -> the role that found it
}

// SessionReport is what the keeper saw of one role's session.
type SessionReport struct {
	Role string
	// Lost counts the observations recorded as "session lost" (and "not
	// signed in" for a role that never signed in).
	Lost int
	// LostReason says why the session was lost; "" when it was not.
	LostReason string
	// SessionEnding lists the URLs this role found to end its session.
	SessionEnding []string
}

// NewKeeper returns the keeper of the sessions of cfg's roles. logger may
// be nil. Every message is redacted with cfg.Secrets.
func NewKeeper(cfg *roles.Config, sessions []*roles.Session, logger *slog.Logger) *Keeper {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	k := &Keeper{log: logger, secrets: cfg.Secrets, cls: NewClassifier(cfg), roles: map[string]*roleKeeper{}, ending: map[Endpoint]string{}}
	for _, s := range sessions {
		if s == nil || s.Role == nil || s.Name() == "anonymous" {
			continue
		}
		k.roles[s.Name()] = &roleKeeper{sess: s, log: logger.With("role", s.Name())}
	}
	return k
}

// Reports returns what the keeper saw of each signed-in role, in the
// order of names.
func (k *Keeper) Reports(names []string) []SessionReport {
	var out []SessionReport
	for _, n := range names {
		rk := k.roles[n]
		if rk == nil {
			continue
		}
		rk.mu.Lock()
		r := SessionReport{Role: n, Lost: rk.lostCount, LostReason: rk.lostWhy, SessionEnding: append([]string(nil), rk.ending...)}
		rk.mu.Unlock()
		sort.Strings(r.SessionEnding)
		out = append(out, r)
	}
	return out
}

// Skips returns the session-ending endpoints as inventory skips, sorted.
func (k *Keeper) Skips() []Skip {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]Skip, 0, len(k.ending))
	for ep, role := range k.ending {
		out = append(out, Skip{Endpoint: ep, Reason: fmt.Sprintf("session-ending: the check of role %s failed right after it; no signed-in role requests it", role)})
	}
	sort.Slice(out, func(i, j int) bool { return lessEndpoint(out[i].Endpoint, out[j].Endpoint) })
	return out
}

// AddSkips adds the session-ending endpoints to inv.Skipped, keeping its
// order (endpoint, then reason).
func (k *Keeper) AddSkips(inv *Inventory) {
	if k == nil || inv == nil {
		return
	}
	inv.Skipped = append(inv.Skipped, k.Skips()...)
	sort.SliceStable(inv.Skipped, func(i, j int) bool {
		a, b := inv.Skipped[i], inv.Skipped[j]
		if a.Endpoint != b.Endpoint {
			return lessEndpoint(a.Endpoint, b.Endpoint)
		}
		return a.Reason < b.Reason
	})
}

// isEnding reports whether ep was found to end sessions.
func (k *Keeper) isEnding(ep Endpoint) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.ending[ep]
	return ok
}

func (k *Keeper) markEnding(ep Endpoint, rk *roleKeeper) {
	k.mu.Lock()
	_, had := k.ending[ep]
	if !had {
		k.ending[ep] = rk.sess.Name()
	}
	k.mu.Unlock()
	if !had {
		rk.ending = append(rk.ending, ep.URL) // under rk.mu
		rk.log.Warn("session-ending URL: the role's check failed right after it; no signed-in role requests it again",
			"endpoint", k.secrets.Redact(ep.String()))
	}
}

// roleKeeper is the keeper's state for one role.
//
// Checks are numbered in the order they start (started). An answer that
// arrived when n checks had started is proven given to a live session by
// a passing check numbered above n (lastPass).
type roleKeeper struct {
	sess *roles.Session
	log  *slog.Logger

	// solo is held for reading by every request of the role and for
	// writing while a request is repeated alone.
	solo sync.RWMutex

	mu        sync.Mutex // serialises checks and renewals; guards what follows
	started   atomic.Uint64
	lastPass  uint64
	lost      bool
	lostAt    uint64 // lastPass when the session was lost
	lostWhy   string
	lostCount int
	ending    []string

	pm     sync.Mutex // guards busy and parked
	busy   int        // renewals and lone repeats in progress
	parked []func()   // work set aside while busy
}

// outcome is how a kept request ended.
type outcome int

const (
	outKept       outcome = iota // the answer stands
	outLost                      // the session was lost: error
	outNotSignIn                 // the role never signed in: error
	outCheckError                // the check could not run: error
	outEnding                    // the URL ends sessions: nothing recorded for the role
	outParked                    // set aside until the role's renewal is over
	outCancelled                 // cut short by the context
)

// kept is the result of a request made under the keeper's rules.
type kept[T any] struct {
	val     T
	out     outcome
	why     string // for outLost, outNotSignIn, outCheckError
	session string // Observation.Session of the answer kept
	sendSeq uint64 // checks started when the kept request was sent
}

// sendFunc makes one request and says whether its answer needs
// confirmation, and false when ctx cut it short.
type sendFunc[T any] func(ctx context.Context) (val T, confirm bool, ok bool)

// keepRequest makes one request of ep as sess under the keeper's rules.
// park, when not nil, sets the whole request aside while the role
// renews (it reports whether it did).
func keepRequest[T any](ctx context.Context, k *Keeper, sess *roles.Session, ep Endpoint, park func(*roleKeeper) bool, send sendFunc[T]) kept[T] {
	var rk *roleKeeper
	if k != nil {
		rk = k.roles[sess.Name()]
	}
	if rk == nil { // anonymous, or no keeper: answers are taken as they come
		v, _, ok := send(ctx)
		if !ok {
			return kept[T]{out: outCancelled}
		}
		return kept[T]{val: v}
	}
	if err := sess.Failure(); err != nil {
		return kept[T]{out: outNotSignIn, why: "the role could not sign in: " + k.secrets.Redact(err.Error())}
	}
	if lost, why := rk.isLost(); lost {
		return kept[T]{out: outLost, why: why}
	}
	if k.isEnding(ep) {
		return kept[T]{out: outEnding}
	}
	if park != nil && park(rk) {
		return kept[T]{out: outParked}
	}
	rk.solo.RLock()
	gen := sess.Generation()
	sendSeq := rk.started.Load()
	v, confirm, ok := send(ctx)
	answerSeq := rk.started.Load()
	rk.solo.RUnlock()
	if !ok {
		return kept[T]{out: outCancelled}
	}
	if !confirm || !sess.Checked() {
		return kept[T]{val: v, sendSeq: sendSeq}
	}
	if park != nil && park(rk) { // a renewal began: this answer is suspect, redo it after
		return kept[T]{out: outParked}
	}
	res, why, seen := rk.confirm(ctx, gen, answerSeq)
	switch res {
	case confirmLive:
		return kept[T]{val: v, session: SessionLive, sendSeq: sendSeq}
	case confirmLost:
		return kept[T]{val: v, out: outLost, why: why}
	case confirmCheckError:
		return kept[T]{val: v, out: outCheckError, why: why}
	case confirmCancelled:
		return kept[T]{out: outCancelled}
	}
	// The session ended (seen says how), or was renewed since the request
	// was sent: repeat the request alone, renewing first if still needed.
	if k.isEnding(ep) {
		return kept[T]{out: outEnding}
	}
	rk.enter() // set the role's other probes aside meanwhile
	defer rk.leave()
	return repeatAlone(ctx, k, rk, ep, gen, seen, send)
}

// repeatAlone repeats a request with no other request of the role in
// flight and decides whether its URL ends sessions. When seen is set,
// the session was found ended and is renewed first (unless renewed since
// generation gen).
//
// A URL is session-ending only when the request was sent on a fresh
// session (signed in within this section, nothing else sent since) and
// the check right after it failed: a session that ends after N requests
// or T seconds must not get an innocent URL blamed. A repeat on a session
// that is not fresh and ends is tried once more on a fresh one.
func repeatAlone[T any](ctx context.Context, k *Keeper, rk *roleKeeper, ep Endpoint, gen uint64, seen string, send sendFunc[T]) kept[T] {
	rk.solo.Lock()
	defer rk.solo.Unlock()
	rk.mu.Lock()
	defer rk.mu.Unlock()
	if rk.lost {
		return kept[T]{out: outLost, why: rk.lostWhy}
	}
	fresh := false
	if seen != "" && rk.sess.Generation() == gen {
		rk.log.Info("session found ended; renewing", "seen", seen)
		if err := rk.renewLocked(ctx, seen); err != nil {
			return renewFailed[T](ctx, rk)
		}
		fresh = true
	}
	for attempt := 0; ; attempt++ {
		if attempt == 3 { // tokens expiring faster than a request and a check
			return kept[T]{out: outCheckError, why: "the session changed during every repeat: its tokens expire faster than a request and a check take"}
		}
		if !fresh {
			// Prove the session live now: other requests may have run
			// since it was renewed.
			n := rk.started.Add(1)
			res := rk.sess.Check(ctx)
			switch {
			case ctx.Err() != nil:
				return kept[T]{out: outCancelled}
			case res.Err != nil:
				return kept[T]{out: outCheckError, why: rk.checkErr(res.Err)}
			case res.Live:
				rk.lastPass = n
			default:
				if err := rk.renewLocked(ctx, res.Seen); err != nil {
					return renewFailed[T](ctx, rk)
				}
				fresh = true
			}
		}
		sendSeq := rk.started.Load()
		sent := rk.sess.Generation()
		v, _, ok := send(ctx)
		if !ok {
			return kept[T]{out: outCancelled}
		}
		n := rk.started.Add(1)
		res := rk.sess.Check(ctx)
		switch {
		case ctx.Err() != nil:
			return kept[T]{out: outCancelled}
		case res.Err != nil:
			return kept[T]{val: v, out: outCheckError, why: rk.checkErr(res.Err)}
		case rk.sess.Generation() != sent:
			// A token was refreshed on the way: the check proves nothing
			// of the request. Repeat on the new token.
			fresh = false
			continue
		case res.Live:
			rk.lastPass = n
			return kept[T]{val: v, session: SessionRenewed, sendSeq: sendSeq}
		}
		if !fresh { // it may have ended on its own: try on a fresh session
			if err := rk.renewLocked(ctx, res.Seen); err != nil {
				return renewFailed[T](ctx, rk)
			}
			fresh = true
			continue
		}
		// Fresh before, ended right after, nothing else in flight.
		k.markEnding(ep, rk)
		_ = rk.renewLocked(ctx, res.Seen) // a failure marks the session lost
		return kept[T]{out: outEnding}
	}
}

// renewFailed is the outcome of a renewal that failed: the session is
// lost, or the run was cancelled.
func renewFailed[T any](ctx context.Context, rk *roleKeeper) kept[T] {
	if ctx.Err() != nil {
		return kept[T]{out: outCancelled}
	}
	return kept[T]{out: outLost, why: rk.lostWhy}
}

// Observation.Session values.
const (
	// SessionLive: a check that started after the answer passed.
	SessionLive = "live"
	// SessionRenewed: the session had ended; it was renewed and this is
	// the repeated request's answer, followed by a passing check.
	SessionRenewed = "renewed"
	// SessionLost: renewal failed; the answer is not evidence.
	SessionLost = "lost"
	// SessionNotSignedIn: the role could not sign in; nothing was sent.
	SessionNotSignedIn = "not-signed-in"
	// SessionCheckError: the check could not be run.
	SessionCheckError = "check-error"
)

type confirmResult int

const (
	confirmLive confirmResult = iota
	confirmRenewed
	confirmLost
	confirmCheckError
	confirmCancelled
)

// confirm proves an answer was given to a live session. gen is the
// session's generation when the request was sent, answerSeq the number
// of checks started when its answer arrived. It returns confirmRenewed
// when the session was renewed since, or, with what the check saw, when
// the check failed: the caller repeats the request.
func (rk *roleKeeper) confirm(ctx context.Context, gen, answerSeq uint64) (confirmResult, string, string) {
	rk.mu.Lock()
	defer rk.mu.Unlock()
	switch {
	case rk.lost:
		return confirmLost, rk.lostWhy, ""
	case rk.sess.Generation() != gen:
		return confirmRenewed, "", ""
	case rk.lastPass > answerSeq:
		return confirmLive, "", ""
	}
	n := rk.started.Add(1)
	res := rk.sess.Check(ctx)
	switch {
	case ctx.Err() != nil:
		return confirmCancelled, "", ""
	case res.Err != nil:
		return confirmCheckError, rk.checkErr(res.Err), ""
	case rk.sess.Generation() != gen:
		// The check itself renewed a token about to expire (Ready): it
		// proves nothing of the credentials the request carried.
		return confirmRenewed, "", ""
	case res.Live:
		rk.lastPass = max(rk.lastPass, n)
		return confirmLive, "", ""
	}
	return confirmRenewed, "", res.Seen
}

// renewLocked renews the session; rk.mu is held. A failure loses it.
func (rk *roleKeeper) renewLocked(ctx context.Context, seen string) error {
	n := rk.started.Add(1)
	err := rk.sess.Renew(ctx)
	if err == nil {
		rk.lastPass = n // a sign-in ends with a passing check
		return nil
	}
	if ctx.Err() != nil {
		return err
	}
	rk.lost = true
	rk.lostAt = rk.lastPass
	rk.lostWhy = fmt.Sprintf("session lost: the check %s saw %s and renewal failed: %s",
		rk.sess.Role.Check, seen, err.Error())
	rk.log.Warn("session lost", "reason", rk.lostWhy)
	return err
}

func (rk *roleKeeper) checkErr(err error) string {
	return fmt.Sprintf("the session check %s could not be run: %s", rk.sess.Role.Check, err.Error())
}

func (rk *roleKeeper) isLost() (bool, string) {
	rk.mu.Lock()
	defer rk.mu.Unlock()
	return rk.lost, rk.lostWhy
}

// lostSince reports whether a request sent when sendSeq checks had
// started falls after the last passing check of a lost session.
func (rk *roleKeeper) lostSince(sendSeq uint64) (bool, string) {
	rk.mu.Lock()
	defer rk.mu.Unlock()
	return rk.lost && sendSeq >= rk.lostAt, rk.lostWhy
}

func (rk *roleKeeper) countLost() {
	rk.mu.Lock()
	rk.lostCount++
	rk.mu.Unlock()
}

func (rk *roleKeeper) enter() {
	rk.pm.Lock()
	rk.busy++
	rk.pm.Unlock()
}

// leave ends a busy section; the last to leave runs what was set aside.
func (rk *roleKeeper) leave() {
	rk.pm.Lock()
	rk.busy--
	var work []func()
	if rk.busy == 0 {
		work, rk.parked = rk.parked, nil
	}
	rk.pm.Unlock()
	for _, w := range work {
		w()
	}
}

// park sets fn aside while the role is busy; it reports whether it did.
func (rk *roleKeeper) park(fn func()) bool {
	rk.pm.Lock()
	defer rk.pm.Unlock()
	if rk.busy == 0 {
		return false
	}
	rk.parked = append(rk.parked, fn)
	return true
}

// needsConfirm reports whether an answer of class c to a signed-in role
// must be confirmed.
func needsConfirm(c Class) bool {
	switch c {
	case Unauthenticated, Forbidden, Hidden, Other:
		return true
	}
	return false
}

// whyLoggedOut is the Why of an answer unauthenticated only because it
// holds the role's logged-out text.
const whyLoggedOut = "logged-out text"

// loggedOut reads an allowed answer holding the role's logged-out text as
// unauthenticated.
func loggedOut(sess *roles.Session, body []byte, c Class, why string) (Class, string) {
	if sess == nil || c != Allowed {
		return c, why
	}
	if m := sess.LoggedOutMarker(); m != "" && bytes.Contains(body, []byte(m)) {
		return Unauthenticated, whyLoggedOut
	}
	return c, why
}

// markerContradicted turns an answer unauthenticated only by the role's
// logged-out text into an error when a check passed right after it
// (session live or renewed): the text proved nothing, and the answer
// (which may be a page of data that merely holds the text) must not
// become a denial, which would hide a leak. Any other answer is
// returned as it is.
func markerContradicted(obs Observation) Observation {
	if obs.Class != Unauthenticated || obs.Why != whyLoggedOut || (obs.Session != SessionLive && obs.Session != SessionRenewed) {
		return obs
	}
	obs.Class = Error
	obs.Why = fmt.Sprintf("the answer holds the logged-out text, but the session check passed right after it: the marker is not reliable here; the answer was %d", obs.Status)
	return obs
}

// probeRun is the keeper's bookkeeping for one Probe call.
type probeRun struct {
	k       *Keeper
	sendSeq []uint64
}

// probeKept probes job (index i) under the keeper's rules and hands the
// observation to record, possibly later and from another goroutine (when
// the job was set aside during a renewal). Nothing is recorded for a
// session-ending endpoint or a cancelled probe.
func (p *prober) probeKept(ctx context.Context, i int, job probeJob, record func(int, Observation)) {
	if p.keep == nil || p.keep.k == nil {
		if obs, ok := p.probe(ctx, job); ok {
			record(i, obs)
		}
		return
	}
	var park func(*roleKeeper) bool
	park = func(rk *roleKeeper) bool {
		return rk.park(func() { p.probeKept(ctx, i, job, record) })
	}
	res := keepRequest(ctx, p.keep.k, job.sess, job.ep, park, func(ctx context.Context) (Observation, bool, bool) {
		obs, ok := p.probe(ctx, job)
		return obs, ok && needsConfirm(obs.Class), ok
	})
	obs := res.val
	switch res.out {
	case outParked, outCancelled, outEnding:
		return
	case outKept:
		obs.Session = res.session
		obs = markerContradicted(obs)
		p.keep.sendSeq[i] = res.sendSeq
	default:
		if obs.Role == "" { // nothing was sent
			obs = Observation{Endpoint: job.ep, Role: job.sess.Name()}
		}
		obs.Class, obs.Err = Error, p.cfg.Secrets.Redact(res.why)
		switch res.out {
		case outLost:
			obs.Why, obs.Session = "session lost", SessionLost
		case outNotSignIn:
			obs.Why, obs.Session = "not signed in", SessionNotSignedIn
		case outCheckError:
			obs.Why, obs.Session = "session check failed", SessionCheckError
		}
		if rk := p.keep.k.roles[job.sess.Name()]; rk != nil && res.out != outCheckError {
			rk.countLost()
		}
		p.keep.sendSeq[i] = ^uint64(0)
	}
	record(i, obs)
}

// settle records as "session lost" every kept answer of a lost role sent
// after its last passing check.
func (p *prober) settle(results []Observation, finished []bool) {
	if p.keep == nil || p.keep.k == nil {
		return
	}
	for i := range results {
		o := &results[i]
		if !finished[i] || o.Session == SessionLost || o.Session == SessionNotSignedIn || o.Session == SessionCheckError {
			continue
		}
		rk := p.keep.k.roles[o.Role]
		if rk == nil {
			continue
		}
		if lost, why := rk.lostSince(p.keep.sendSeq[i]); lost {
			o.Class, o.Why, o.Session = Error, "session lost", SessionLost
			o.Err = p.cfg.Secrets.Redact(why)
			o.BodyChecks = nil
			rk.countLost()
		}
	}
}

// fetchKept is a discovery request under the keeper's rules: nil when no
// page is to be followed (a lost or unsigned role, a session-ending URL,
// a cancelled request). sem is taken for each request only, never while
// the role renews.
func (rc *roleCrawl) fetchKept(ctx context.Context, it fetchItem) *page {
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
	res := keepRequest(ctx, rc.opts.Keeper, rc.sess, Endpoint{Method: http.MethodGet, URL: it.url}, nil, send)
	switch res.out {
	case outKept:
		return res.val
	case outLost, outNotSignIn, outCheckError:
		rc.log.Debug("page not fetched", "url", rc.redact(it.url), "reason", rc.redact(res.why))
	}
	return nil
}
