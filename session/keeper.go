package session

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/permaudit/permaudit/model"
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
//     to a role with a check is confirmed before it is recorded, by a
//     check that started after the answer arrived and passed on the
//     session the request carried (the same generation): sessions do not
//     come back to life, so a later passing check proves the earlier
//     answer was given to a live session. Confirmations are batched: the
//     answer waits, and one check confirms every answer of the role that
//     arrived before it (at most BatchSize wait at once; Flush confirms
//     the rest at the end of a step);
//   - an answer that waited on a session renewed since, or for a check
//     that failed, is repeated alone (below), never taken as it was;
//   - an answer unauthenticated only by the logged-out text, followed by
//     a passing check, is recorded as an error: the text contradicts the
//     check, and the answer may be data that merely holds the text;
//   - a failing check renews the session (Session.Renew: capped,
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
	roles   map[string]*roleKeeper

	mu     sync.Mutex
	ending map[model.Endpoint]ending // session-ending endpoints; each role's list (roleKeeper.ending) is under mu too
	shapes map[string]model.Endpoint // shapeOf -> the first endpoint of that shape whose answer deleted a session cookie
}

// ending is who found a session-ending endpoint, and how.
type ending struct {
	role string
	why  string // the reason listed in the inventory
	// known: listed already by the inventory the audit read (Known).
	known bool
}

// Report is what the keeper saw of one role's
type Report struct {
	Role string
	// Lost counts the observations recorded as "session lost" (and "not
	// signed in" for a role that never signed in).
	Lost int
	// LostReason says why the session was lost; "" when it was not.
	LostReason string
	// SessionEnding lists the URLs this role found to end its
	SessionEnding []string
}

// NewKeeper returns the keeper of the sessions of cfg's roles. logger may
// be nil. Every message is redacted with secrets, the run's redactor.
func NewKeeper(secrets *roles.Redactor, sessions []*Session, logger *slog.Logger) *Keeper {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	k := &Keeper{log: logger, secrets: secrets, roles: map[string]*roleKeeper{}, ending: map[model.Endpoint]ending{}, shapes: map[string]model.Endpoint{}}
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
func (k *Keeper) Reports(names []string) []Report {
	var out []Report
	for _, n := range names {
		rk := k.roles[n]
		if rk == nil {
			continue
		}
		rk.mu.Lock()
		r := Report{Role: n, Lost: rk.lostCount, LostReason: rk.lostWhy}
		rk.mu.Unlock()
		k.mu.Lock()
		r.SessionEnding = append([]string(nil), rk.ending...)
		k.mu.Unlock()
		sort.Strings(r.SessionEnding)
		out = append(out, r)
	}
	return out
}

// Skips returns the session-ending endpoints as inventory skips, sorted.
func (k *Keeper) Skips() []model.Skip {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]model.Skip, 0, len(k.ending))
	for ep, e := range k.ending {
		if e.known {
			continue
		}
		out = append(out, model.Skip{Endpoint: ep, Reason: "session-ending: " + e.why + "; no signed-in role requests it"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Endpoint.Less(out[j].Endpoint) })
	return out
}

// AddSkips adds the session-ending endpoints to inv.Skipped, keeping its
// order (endpoint, then reason).
func (k *Keeper) AddSkips(inv *model.Inventory) {
	if k == nil || inv == nil {
		return
	}
	inv.Skipped = append(inv.Skipped, k.Skips()...)
	sort.SliceStable(inv.Skipped, func(i, j int) bool {
		a, b := inv.Skipped[i], inv.Skipped[j]
		if a.Endpoint != b.Endpoint {
			return a.Endpoint.Less(b.Endpoint)
		}
		return a.Reason < b.Reason
	})
}

// isEnding reports whether ep was found to end sessions: itself, or, for
// an endpoint of the same method, path and query keys as one whose answer
// deleted a session cookie (a re-authentication page linked with another
// redirect_to each time), its shape. Such an endpoint is listed as
// session-ending the first time it is asked about, and never requested.
func (k *Keeper) isEnding(ep model.Endpoint) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.ending[ep]; ok {
		return true
	}
	if len(k.shapes) == 0 {
		return false
	}
	first, ok := k.shapes[shapeOf(ep)]
	if !ok {
		return false
	}
	e := k.ending[first]
	k.ending[ep] = ending{role: e.role, why: "its method, path and parameter names are those of " + k.secrets.Redact(first.URL) + ", whose answer deletes a session cookie"}
	if rk := k.roles[e.role]; rk != nil {
		rk.ending = append(rk.ending, ep.URL)
	}
	return true
}

// Ends reports whether a request of ep as role is refused for ending
// sessions (Keep's Ending): role is signed in and ep was found to end
// sessions. An answer got before that was found is not taken either.
func (k *Keeper) Ends(role string, ep model.Endpoint) bool {
	if k == nil || k.roles[role] == nil {
		return false
	}
	return k.isEnding(ep)
}

// shapeOf is ep's method, path and sorted query keys, without values.
func shapeOf(ep model.Endpoint) string {
	u, err := url.Parse(ep.URL)
	if err != nil {
		return ep.Method + " " + ep.URL
	}
	keys := slices.Sorted(maps.Keys(u.Query()))
	return ep.Method + " " + u.Scheme + "://" + u.Host + u.EscapedPath() + "?" + strings.Join(keys, "&")
}

// markEnding records ep as session-ending, found by rk's role for the
// reason why ("the check of role editor failed right after it").
func (k *Keeper) markEnding(ep model.Endpoint, rk *roleKeeper, why string) {
	k.mu.Lock()
	_, had := k.ending[ep]
	if !had {
		k.ending[ep] = ending{role: rk.sess.Name(), why: why}
		rk.ending = append(rk.ending, ep.URL)
	}
	k.mu.Unlock()
	if !had {
		rk.log.Warn("session-ending URL: "+why+"; no signed-in role requests it again",
			"endpoint", k.secrets.Redact(ep.String()))
	}
}

// cookieEnded marks as session-ending, at once, every URL whose answer
// deleted one of the session cookies of rk's role since the last call
// (the deletion was not applied: sessionJar), and reports whether ep is
// now session-ending. A URL requested with another method than ep's
// (a redirect the probe followed) is marked for GET.
func (k *Keeper) cookieEnded(rk *roleKeeper, ep model.Endpoint) bool {
	for _, d := range rk.sess.jar.takeDeleted() {
		e := model.Endpoint{Method: http.MethodGet, URL: d.url}
		if d.url == ep.URL {
			e = ep
		}
		k.markEnding(e, rk, fmt.Sprintf("its answer deletes the session cookie %q of role %s (the deletion was not applied)", d.cookie, rk.sess.Name()))
		k.mu.Lock()
		if _, had := k.shapes[shapeOf(e)]; !had {
			k.shapes[shapeOf(e)] = e
		}
		k.mu.Unlock()
	}
	return k.isEnding(ep)
}

// roleKeeper is the keeper's state for one role.
//
// Checks are numbered in the order they start (started). An answer that
// arrived when n checks had started is proven given to a live session by
// a passing check numbered above n (lastPass).
type roleKeeper struct {
	sess *Session
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
	ending    []string // under Keeper.mu

	pm     sync.Mutex // guards busy and parked
	busy   int        // renewals and lone repeats in progress
	parked []func()   // work set aside while busy

	wm      sync.Mutex // guards waiting
	waiting []waiting  // answers waiting for a check to confirm them (Keep)

	lostSet atomic.Bool  // lost, read without waiting for a check under mu
	batch   atomic.Int32 // answers that may wait at once; 0: BatchSize
}

// batchLimit is how many answers of the role may wait for a check.
func (rk *roleKeeper) batchLimit() int {
	if n := rk.batch.Load(); n > 0 {
		return int(n)
	}
	return BatchSize
}

// adapt shrinks the role's batch after a check found its session dead,
// and grows it back after a passing one.
func (rk *roleKeeper) adapt(live bool) {
	n := rk.batchLimit()
	if live {
		n = min(BatchSize, n*2)
	} else {
		n = max(1, n/4)
	}
	rk.batch.Store(int32(n))
}

// Outcome is how a request made under the keeper's rules ended.
type Outcome int

const (
	Kept        Outcome = iota // the answer stands
	Lost                       // the session was lost: error
	NotSignedIn                // the role never signed in: error
	CheckError                 // the check could not run: error
	Ending                     // the URL ends sessions: nothing recorded for the role
	Parked                     // set aside until the role's renewal is over
	Cancelled                  // cut short by the context
)

// Result is the result of a request made under the keeper's rules.
type Result[T any] struct {
	Val     T
	Outcome Outcome
	Why     string // for Lost, NotSignedIn, CheckError
	Session string // Observation.Session of the answer kept
	SendSeq uint64 // checks started when the request was sent (LostSince)
	// Generation is the session's generation when the kept answer's
	// request was sent (Session.Generation): an answer is evidence of the
	// session it was given to, not of a later one.
	Generation uint64
}

// Send makes one request and says whether its answer needs confirmation
// (judge.NeedsConfirm), and false when ctx cut it short.
type Send[T any] func(ctx context.Context) (val T, confirm bool, ok bool)

// BatchSize is the most answers of a role waiting for confirmation at
// once: when that many wait, a check runs. It bounds what a session found
// dead costs: every answer since its last passing check is repeated. A
// check that finds the session dead divides the role's batch by 4 (down
// to 1: a check per answer, as for a session that ends every few
// requests), a passing one doubles it again.
const BatchSize = 64

// Keep makes one request of ep as sess under the keeper's rules (Keeper)
// and hands its result to done: at once, or, for an answer that needs
// confirmation, once a check confirms it (from whichever goroutine runs
// that check: a later Keep of the role, or Flush). again, when not nil,
// is the whole request made anew: while the role renews, Keep sets it
// aside (done gets Parked) and runs it once the renewal is over, so that
// one role's renewal never holds the workers other roles need. A nil
// Keeper takes every answer as it comes.
//
// Confirmations are batched: one passing check confirms every answer of
// the role that arrived before it started, on the session the check
// proves (the same generation). A failing check renews the session and
// repeats each of those answers' requests alone (see repeatLocked), so
// that an answer given to a dead session is never taken for a denial.
// Every caller must Flush the role before it reads what done recorded.
func Keep[T any](ctx context.Context, k *Keeper, sess *Session, ep model.Endpoint, again func(), send Send[T], done func(Result[T])) {
	var rk *roleKeeper
	if k != nil {
		rk = k.roles[sess.Name()]
	}
	if rk == nil { // anonymous, or no keeper: answers are taken as they come
		gen := sess.Generation()
		v, _, ok := send(ctx)
		if !ok {
			done(Result[T]{Outcome: Cancelled})
			return
		}
		done(Result[T]{Val: v, Generation: gen})
		return
	}
	if err := sess.Failure(); err != nil {
		done(Result[T]{Outcome: NotSignedIn, Why: "the role could not sign in: " + k.secrets.Redact(err.Error())})
		return
	}
	if lost, why := rk.isLost(); lost {
		done(Result[T]{Outcome: Lost, Why: why})
		return
	}
	if k.isEnding(ep) {
		done(Result[T]{Outcome: Ending})
		return
	}
	if again != nil && rk.park(again) {
		done(Result[T]{Outcome: Parked})
		return
	}
	rk.solo.RLock()
	gen := sess.Generation()
	sendSeq := rk.started.Load()
	v, confirm, ok := send(ctx)
	answerSeq := rk.started.Load()
	rk.solo.RUnlock()
	if !ok {
		done(Result[T]{Outcome: Cancelled})
		return
	}
	if k.cookieEnded(rk, ep) {
		done(Result[T]{Outcome: Ending})
		return
	}
	if !confirm || !sess.Checked() {
		done(Result[T]{Val: v, SendSeq: sendSeq, Generation: gen})
		return
	}
	if again != nil && rk.park(again) { // a renewal began: this answer is suspect, redo it after
		done(Result[T]{Outcome: Parked})
		return
	}
	w := waiting{
		gen: gen, answerSeq: answerSeq, ep: ep,
		live: func() {
			done(Result[T]{Val: v, Session: model.SessionLive, SendSeq: sendSeq, Generation: gen})
		},
		fail: func(o Outcome, why string) {
			if o == Cancelled || o == Ending {
				done(Result[T]{Outcome: o})
				return
			}
			done(Result[T]{Val: v, Outcome: o, Why: why})
		},
		repeat: func(ctx context.Context, st *soloState) func() {
			if k.isEnding(ep) {
				return func() { done(Result[T]{Outcome: Ending}) }
			}
			r := repeatLocked(ctx, k, rk, ep, st, send)
			return func() { done(r) }
		},
	}
	if rk.wait(w) >= rk.batchLimit() {
		k.flushOnce(ctx, rk)
	}
}

// Flush confirms every answer of sess's role still waiting for
// confirmation (Keep), and those the repeats it makes set waiting in
// turn; when it returns, every done of the role has been called. A nil
// Keeper, or a role without one, has nothing waiting.
func (k *Keeper) Flush(ctx context.Context, sess *Session) {
	if k == nil || sess == nil {
		return
	}
	if rk := k.roles[sess.Name()]; rk != nil {
		for rk.waitingCount() > 0 {
			k.flushOnce(ctx, rk)
		}
	}
}

// FlushAll is Flush for every role.
func (k *Keeper) FlushAll(ctx context.Context) {
	if k == nil {
		return
	}
	for _, rk := range k.roles {
		for rk.waitingCount() > 0 {
			k.flushOnce(ctx, rk)
		}
	}
}

// waiting is an answer waiting for the check that confirms it.
type waiting struct {
	gen       uint64 // the session's generation when the request was sent
	answerSeq uint64 // checks started when the answer arrived
	ep        model.Endpoint
	live      func()                                          // a check proved it given to a live session
	fail      func(Outcome, string)                           // Lost, CheckError, Cancelled, Ending
	repeat    func(context.Context, *soloState) (done func()) // repeat it alone; rk.solo and rk.mu held
}

// soloState is what is known of the session during repeats made alone.
type soloState struct {
	proven bool // a check passed, or a sign-in ended, and nothing was sent since
	fresh  bool // signed in within this section, and nothing was sent since
}

// flushOnce runs one check for the answers of rk's role waiting now: it
// confirms those it proves, and repeats alone those it cannot (the check
// failed, or the session was renewed since their request was sent).
func (k *Keeper) flushOnce(ctx context.Context, rk *roleKeeper) {
	var after []func()
	defer func() {
		for _, f := range after {
			f()
		}
	}()
	rk.mu.Lock()
	n := rk.started.Load() + 1 // the number of the check below: every Add is under rk.mu
	batch := rk.take(n)
	if len(batch) == 0 {
		rk.mu.Unlock()
		return
	}
	if rk.lost {
		why := rk.lostWhy
		for _, w := range batch {
			after = append(after, func() { w.fail(Lost, why) })
		}
		rk.mu.Unlock()
		return
	}
	gen := rk.sess.Generation()
	// Answers a passing check already proves (it started after they
	// arrived, on their session) need no other.
	var need []waiting
	for _, w := range batch {
		if w.gen == gen && rk.lastPass > w.answerSeq {
			after = append(after, w.live)
		} else {
			need = append(need, w)
		}
	}
	var repeat []waiting
	seen := ""
	if len(need) > 0 {
		if slices.ContainsFunc(need, func(w waiting) bool { return w.gen == gen }) {
			rk.started.Add(1)
			res := rk.sess.Check(ctx)
			switch {
			case ctx.Err() != nil:
				for _, w := range need {
					after = append(after, func() { w.fail(Cancelled, "") })
				}
				rk.mu.Unlock()
				return
			case res.Err != nil:
				why := rk.checkErr(res.Err)
				for _, w := range need {
					after = append(after, func() { w.fail(CheckError, why) })
				}
				rk.mu.Unlock()
				return
			case rk.sess.Generation() != gen:
				// The check itself renewed a token about to expire (Ready):
				// it proves nothing of the credentials the requests carried.
				repeat = need
			case res.Live:
				rk.lastPass = max(rk.lastPass, n)
				rk.adapt(true)
				for _, w := range need {
					if w.gen == gen {
						after = append(after, w.live)
					} else {
						repeat = append(repeat, w)
					}
				}
			default:
				repeat, seen = need, res.Seen
				rk.adapt(false)
			}
		} else { // all sent on a session renewed since: repeat them
			repeat = need
		}
	}
	rk.mu.Unlock()
	if len(repeat) == 0 {
		return
	}
	// The session ended (seen says how), or was renewed since the requests
	// were sent: repeat each alone, renewing first if still needed.
	rk.enter() // set the role's other probes aside meanwhile
	defer rk.leave()
	rk.solo.Lock()
	rk.mu.Lock()
	st := &soloState{}
	if seen != "" && rk.sess.Generation() == gen && !rk.lost {
		rk.log.Info("session found ended; renewing", "seen", seen, "answers", len(repeat))
		if err := rk.renewLocked(ctx, seen); err == nil {
			st.proven, st.fresh = true, true
		}
	}
	for _, w := range repeat {
		switch {
		case ctx.Err() != nil:
			after = append(after, func() { w.fail(Cancelled, "") })
		case rk.lost:
			why := rk.lostWhy
			after = append(after, func() { w.fail(Lost, why) })
		default:
			after = append(after, w.repeat(ctx, st))
		}
	}
	rk.mu.Unlock()
	rk.solo.Unlock()
}

// repeatLocked repeats a request with no other request of the role in
// flight (rk.solo held for writing, rk.mu held) and decides whether its
// URL ends sessions. st says what is known of the session, and is kept
// up to date for the next repeat.
//
// A URL is session-ending only when the request was sent on a fresh
// session (signed in within this section, nothing else sent since) and
// the check right after it failed: a session that ends after N requests
// or T seconds must not get an innocent URL blamed. A repeat on a session
// that is not fresh and ends is tried once more on a fresh one.
func repeatLocked[T any](ctx context.Context, k *Keeper, rk *roleKeeper, ep model.Endpoint, st *soloState, send Send[T]) Result[T] {
	if rk.lost {
		return Result[T]{Outcome: Lost, Why: rk.lostWhy}
	}
	for attempt := 0; ; attempt++ {
		if attempt == 3 { // tokens expiring faster than a request and a check
			return Result[T]{Outcome: CheckError, Why: "the session changed during every repeat: its tokens expire faster than a request and a check take"}
		}
		if !st.proven {
			// Prove the session live now: other requests may have run
			// since it was renewed.
			n := rk.started.Add(1)
			res := rk.sess.Check(ctx)
			switch {
			case ctx.Err() != nil:
				return Result[T]{Outcome: Cancelled}
			case res.Err != nil:
				return Result[T]{Outcome: CheckError, Why: rk.checkErr(res.Err)}
			case res.Live:
				rk.lastPass = n
				st.proven = true
			default:
				if err := rk.renewLocked(ctx, res.Seen); err != nil {
					return renewFailed[T](ctx, rk)
				}
				st.proven, st.fresh = true, true
			}
		}
		fresh := st.fresh
		sendSeq := rk.started.Load()
		sent := rk.sess.Generation()
		v, _, ok := send(ctx)
		st.proven, st.fresh = false, false
		if !ok {
			return Result[T]{Outcome: Cancelled}
		}
		if k.cookieEnded(rk, ep) {
			return Result[T]{Outcome: Ending}
		}
		n := rk.started.Add(1)
		res := rk.sess.Check(ctx)
		switch {
		case ctx.Err() != nil:
			return Result[T]{Outcome: Cancelled}
		case res.Err != nil:
			return Result[T]{Val: v, Outcome: CheckError, Why: rk.checkErr(res.Err)}
		case rk.sess.Generation() != sent:
			// A token was refreshed on the way: the check proves nothing
			// of the request. Repeat on the new token.
			continue
		case res.Live:
			rk.lastPass = n
			st.proven = true
			return Result[T]{Val: v, Session: model.SessionRenewed, SendSeq: sendSeq, Generation: sent}
		}
		if !fresh { // it may have ended on its own: try on a fresh session
			if err := rk.renewLocked(ctx, res.Seen); err != nil {
				return renewFailed[T](ctx, rk)
			}
			st.proven, st.fresh = true, true
			continue
		}
		// Fresh before, ended right after, nothing else in flight.
		k.markEnding(ep, rk, "the check of role "+rk.sess.Name()+" failed right after it")
		if rk.renewLocked(ctx, res.Seen) == nil { // a failure marks the session lost
			st.proven, st.fresh = true, true
		}
		return Result[T]{Outcome: Ending}
	}
}

// renewFailed is the outcome of a renewal that failed: the session is
// lost, or the run was cancelled.
func renewFailed[T any](ctx context.Context, rk *roleKeeper) Result[T] {
	if ctx.Err() != nil {
		return Result[T]{Outcome: Cancelled}
	}
	return Result[T]{Outcome: Lost, Why: rk.lostWhy}
}

// wait sets w aside until a check confirms it; it returns how many of the
// role's answers wait now.
func (rk *roleKeeper) wait(w waiting) int {
	rk.wm.Lock()
	defer rk.wm.Unlock()
	rk.waiting = append(rk.waiting, w)
	return len(rk.waiting)
}

// take removes and returns the answers waiting that arrived before check
// number n started.
func (rk *roleKeeper) take(n uint64) []waiting {
	rk.wm.Lock()
	defer rk.wm.Unlock()
	var out, keep []waiting
	for _, w := range rk.waiting {
		if w.answerSeq < n {
			out = append(out, w)
		} else {
			keep = append(keep, w)
		}
	}
	rk.waiting = keep
	return out
}

func (rk *roleKeeper) waitingCount() int {
	rk.wm.Lock()
	defer rk.wm.Unlock()
	return len(rk.waiting)
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
	rk.lostSet.Store(true)
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
	if !rk.lostSet.Load() {
		return false, ""
	}
	rk.mu.Lock()
	defer rk.mu.Unlock()
	return rk.lost, rk.lostWhy
}

// lostSince reports whether a request sent when sendSeq checks had
// started falls after the last passing check of a lost
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

// LostSince reports whether a request of role sent when sendSeq checks
// had started (Result.SendSeq) falls after the last passing check of a
// session since lost, and why it was lost.
func (k *Keeper) LostSince(role string, sendSeq uint64) (bool, string) {
	if rk := k.roles[role]; rk != nil {
		return rk.lostSince(sendSeq)
	}
	return false, ""
}

// CountLost counts one more observation of role recorded as lost.
func (k *Keeper) CountLost(role string) {
	if rk := k.roles[role]; rk != nil {
		rk.countLost()
	}
}
