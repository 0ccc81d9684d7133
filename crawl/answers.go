package crawl

import (
	"net/http"
	"sync"
	"time"

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
	mu    sync.Mutex
	m     map[answerKey]seenAnswer
	texts texts // the strings the answers hold
	left  int   // answers release dropped untaken
}

// answerKey is a cell discovery saw: a GET of url as role.
type answerKey struct {
	url  string
	role string
}

// seenAnswer is an observation made during discovery, with what the
// session keeper said of it. It is held compactly, 88 bytes rather than
// an Observation's 304 and more (an answer waits for 40% of a large run's
// cells until probing begins, where the audit's memory peaks): it holds
// the fields a discovery observation can have, each text that answers
// repeat (the class, why, content type, location, excerpt, session) as
// its index in Answers.texts, and put keeps no answer with others (a
// chain, an error, body checks, a comparison with canaries), which the
// probe then requests afresh.
type seenAnswer struct {
	digest  string // the body's SHA-256, most often one of a kind
	size    int64
	latency time.Duration
	sendSeq uint64 // Result.SendSeq
	gen     uint64 // Result.Generation
	// Indexes into Answers.texts; session is the keeper's (Result.Session).
	class, why, contentType, location, excerpt, digestWithoutIDs, session uint32
	status                                                                int32 // an HTTP status: three digits
	wwwAuth, truncated                                                    bool
}

// texts holds each text the answers hold once; an answer holds its
// index, 4 bytes rather than a string's 16. Index 0 is "".
type texts struct {
	list []string
	at   map[string]uint32
}

func (t *texts) index(s string) uint32 {
	if s == "" {
		return 0
	}
	if i, ok := t.at[s]; ok {
		return i
	}
	if t.at == nil {
		t.at, t.list = map[string]uint32{}, []string{""}
	}
	i := uint32(len(t.list))
	t.list = append(t.list, s)
	t.at[s] = i
	return i
}

func (t *texts) text(i uint32) string {
	if i == 0 {
		return ""
	}
	return t.list[i]
}

// compact is obs as a seenAnswer, its texts kept in t; false when obs
// holds what a seenAnswer does not.
func (t *texts) compact(obs model.Observation) (seenAnswer, bool) {
	if obs.Method != http.MethodGet || obs.Chain != nil || obs.Err != "" || obs.Missing != nil || obs.CanaryOf != "" || obs.BodyChecks != nil {
		return seenAnswer{}, false
	}
	return seenAnswer{
		class: t.index(string(obs.Class)), why: t.index(obs.Why), contentType: t.index(obs.ContentType), location: t.index(obs.Location),
		digest: obs.BodySHA256, digestWithoutIDs: t.index(obs.BodySHA256WithoutIDs), excerpt: t.index(obs.Excerpt), session: t.index(obs.Session),
		size: obs.Size, latency: obs.Latency, status: int32(obs.Status), wwwAuth: obs.WWWAuth, truncated: obs.Truncated,
	}, true
}

// observation is the observation s was made from, of k.
func (t *texts) observation(s seenAnswer, k answerKey) model.Observation {
	return model.Observation{
		Endpoint: model.Endpoint{Method: http.MethodGet, URL: k.url}, Role: k.role,
		Status: int(s.status), Location: t.text(s.location), Class: model.Class(t.text(s.class)), Why: t.text(s.why), ContentType: t.text(s.contentType),
		Size: s.size, Truncated: s.truncated, BodySHA256: s.digest, Excerpt: t.text(s.excerpt), WWWAuth: s.wwwAuth,
		Latency: s.latency, Session: t.text(s.session), BodySHA256WithoutIDs: t.text(s.digestWithoutIDs),
	}
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

// Unused is how many answers Probe did not take: those waiting, and those
// it released untaken.
func (a *Answers) Unused() int {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.m) + a.left
}

func (a *Answers) put(role string, obs model.Observation, res session.Result[*page]) {
	if a == nil {
		return
	}
	obs.Session = res.Session
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.texts.compact(obs)
	if !ok {
		return // the probe requests it
	}
	s.sendSeq, s.gen = res.SendSeq, res.Generation
	a.m[answerKey{url: obs.URL, role: role}] = s
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
	a.left += len(a.m)
	a.m, a.texts = map[answerKey]seenAnswer{}, texts{}
}

// take removes and returns the observation role got for ep, with its
// place among the role's checks and its session's generation, if any.
func (a *Answers) take(ep model.Endpoint, role string) (obs model.Observation, sendSeq, gen uint64, ok bool) {
	if a == nil || ep.Method != http.MethodGet {
		return model.Observation{}, 0, 0, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	k := answerKey{url: ep.URL, role: role}
	s, ok := a.m[k]
	if !ok {
		return model.Observation{}, 0, 0, false
	}
	delete(a.m, k)
	return a.texts.observation(s, k), s.sendSeq, s.gen, true
}
