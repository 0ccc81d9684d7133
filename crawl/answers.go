package crawl

import (
	"sync"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/session"
)

// Answers holds what discovery saw that is a probe's observation, so that
// probing does not request a cell again (docs/design.md, "One request per
// cell"). Discover fills it (Options.Answers) and Probe takes from it:
// each answer once, and only as the observation of the role that got it,
// on the session that got it.
//
// An answer is kept when a probe would have recorded the same thing from
// it: a GET page answered without error, its body read whole (under
// crawl.max_body, not converted from another charset by colly), and not a
// redirect the probe would follow. It is read into an observation when it
// arrives, the way a probe reads its final answer (status, class,
// Location, digests, excerpt, latency), and kept once the session keeper
// has kept the answer (confirmed it, where it needed confirming). Probe
// uses it only when the role's session has the generation it had when the
// request was sent (no sign-in since) and the cell has no body checks
// (they are made on the whole body, which discovery does not keep).
type Answers struct {
	mu sync.Mutex
	m  map[answerKey]seenAnswer
}

type answerKey struct {
	ep   model.Endpoint
	role string
}

// seenAnswer is an observation made during discovery, with what the
// session keeper said of it.
type seenAnswer struct {
	obs     model.Observation // Session is the keeper's (Result.Session)
	sendSeq uint64            // Result.SendSeq
	gen     uint64            // Result.Generation
}

// NewAnswers returns an empty store for one run's Discover and Probe.
func NewAnswers() *Answers { return &Answers{m: map[answerKey]seenAnswer{}} }

// Len is how many answers wait for Probe.
func (a *Answers) Len() int {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.m)
}

func (a *Answers) put(role string, obs model.Observation, res session.Result[*page]) {
	if a == nil {
		return
	}
	obs.Session = res.Session
	a.mu.Lock()
	defer a.mu.Unlock()
	a.m[answerKey{ep: obs.Endpoint, role: role}] = seenAnswer{obs: obs, sendSeq: res.SendSeq, gen: res.Generation}
}

// release drops every answer not taken. A map does not shrink as its
// entries are deleted: its table stays until the map itself goes
// (bench/memprof, nine tenths into probing 100,000 cells: 78 MB live
// before, 74 MB after).
func (a *Answers) release() {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.m = map[answerKey]seenAnswer{}
}

// take removes and returns the answer role got for ep, if any.
func (a *Answers) take(ep model.Endpoint, role string) (seenAnswer, bool) {
	if a == nil {
		return seenAnswer{}, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	k := answerKey{ep: ep, role: role}
	s, ok := a.m[k]
	if ok {
		delete(a.m, k)
	}
	return s, ok
}
