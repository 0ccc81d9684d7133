package crawl

import (
	"encoding/hex"
	"math"
	"net/http"
	"slices"
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
	mu     sync.Mutex
	chunks [][]seenAnswer // in the order put; each of answerChunk answers but the last
	roles  []string       // role names, by seenAnswer.role
	texts  texts          // the strings the answers hold
	n      int            // answers held
	left   int            // answers drain found no cell for
}

// answerChunk is how many answers a chunk holds: drain drops each chunk
// once read, so the answers' memory goes as the cells fill.
const answerChunk = 4096

// seenAnswer is an observation made during discovery, with its cell and
// what the session keeper said of it. It is held compactly, 120 bytes in
// a list rather than an Observation's 304 and more in a map (an answer
// waits for 40% of a large run's cells until probing begins, where the
// audit's memory peaks): it holds the fields a discovery observation can
// have, the body's digest as its 32 bytes rather than 64 hex digits, each
// text that answers repeat (the class, why, content type, location,
// excerpt, session) as its index in Answers.texts, and put keeps no
// answer with others (a chain, an error, body checks, a comparison with
// canaries), which the probe then requests afresh.
type seenAnswer struct {
	url     string   // the cell's endpoint, a GET
	digest  [32]byte // the body's SHA-256 (Observation.BodySHA256 decoded)
	size    int64
	latency time.Duration
	sendSeq uint64 // Result.SendSeq
	gen     uint64 // Result.Generation
	// Indexes into Answers.texts; session is the keeper's (Result.Session).
	// digestText is the digest when it is not 64 hex digits (Observation
	// of a test); hasDigest says whether there is one at all.
	class, why, contentType, location, excerpt, digestWithoutIDs, session, digestText uint32
	status                                                                            int32 // an HTTP status: three digits
	role                                                                              uint8 // index into Answers.roles
	wwwAuth, truncated, hasDigest                                                     bool
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
// holds what a seenAnswer does not. The role is the caller's to set.
func (t *texts) compact(obs model.Observation) (seenAnswer, bool) {
	if obs.Method != http.MethodGet || obs.Chain != nil || obs.Err != "" || obs.Missing != nil || obs.CanaryOf != "" || obs.BodyChecks != nil {
		return seenAnswer{}, false
	}
	s := seenAnswer{
		url:   obs.URL,
		class: t.index(string(obs.Class)), why: t.index(obs.Why), contentType: t.index(obs.ContentType), location: t.index(obs.Location),
		digestWithoutIDs: t.index(obs.BodySHA256WithoutIDs), excerpt: t.index(obs.Excerpt), session: t.index(obs.Session),
		size: obs.Size, latency: obs.Latency, status: int32(obs.Status), wwwAuth: obs.WWWAuth, truncated: obs.Truncated,
	}
	if obs.BodySHA256 != "" {
		s.hasDigest = true
		if !lowerHex(obs.BodySHA256, len(s.digest)) {
			s.digestText = t.index(obs.BodySHA256)
		} else if _, err := hex.Decode(s.digest[:], []byte(obs.BodySHA256)); err != nil {
			panic("crawl: lower-case hex did not decode: " + err.Error())
		}
	}
	return s, true
}

// lowerHex reports whether s is n bytes in lower-case hex digits, as
// hex.EncodeToString writes them.
func lowerHex(s string, n int) bool {
	if len(s) != 2*n {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// observation is the observation s was made from, as role.
func (t *texts) observation(s *seenAnswer, role string) model.Observation {
	obs := model.Observation{
		Endpoint: model.Endpoint{Method: http.MethodGet, URL: s.url}, Role: role,
		Status: int(s.status), Location: t.text(s.location), Class: model.Class(t.text(s.class)), Why: t.text(s.why), ContentType: t.text(s.contentType),
		Size: s.size, Truncated: s.truncated, Excerpt: t.text(s.excerpt), WWWAuth: s.wwwAuth,
		Latency: s.latency, Session: t.text(s.session), BodySHA256WithoutIDs: t.text(s.digestWithoutIDs),
	}
	switch {
	case s.digestText != 0:
		obs.BodySHA256 = t.text(s.digestText)
	case s.hasDigest:
		obs.BodySHA256 = hex.EncodeToString(s.digest[:])
	}
	return obs
}

// NewAnswers returns an empty store for one run's Discover and Probe.
func NewAnswers() *Answers { return &Answers{} }

// Len is how many answers wait for Probe.
func (a *Answers) Len() int {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

// Unused is how many answers Probe did not look at: those waiting, and
// those whose cell it did not probe.
func (a *Answers) Unused() int {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n + a.left
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
	r := slices.Index(a.roles, role)
	if r < 0 {
		if len(a.roles) > math.MaxUint8 {
			return // more roles than an answer can name: the probe requests it
		}
		r = len(a.roles)
		a.roles = append(a.roles, role)
	}
	s.role, s.sendSeq, s.gen = uint8(r), res.SendSeq, res.Generation
	if n := len(a.chunks); n == 0 || len(a.chunks[n-1]) == answerChunk {
		a.chunks = append(a.chunks, make([]seenAnswer, 0, answerChunk))
	}
	last := &a.chunks[len(a.chunks)-1]
	*last = append(*last, s)
	a.n++
}

// drain hands every answer to take, the last put first, and drops each
// chunk of answers once handed; take reports whether the answer's cell
// is probed (looked at, whether or not the answer is its observation).
// An answer for a cell a later one already answered is older news: the
// caller looks at it and passes it over. Answers put after drain began
// are dropped with the rest.
func (a *Answers) drain(take func(obs model.Observation, sendSeq, gen uint64) bool) {
	if a == nil {
		return
	}
	a.mu.Lock()
	chunks, roles, tx := a.chunks, a.roles, a.texts
	a.chunks, a.texts, a.n = nil, texts{}, 0
	a.mu.Unlock()
	left := 0
	for c := len(chunks) - 1; c >= 0; c-- {
		ch := chunks[c]
		for k := len(ch) - 1; k >= 0; k-- {
			s := &ch[k]
			if !take(tx.observation(s, roles[s.role]), s.sendSeq, s.gen) {
				left++
			}
		}
		chunks[c] = nil
	}
	a.mu.Lock()
	a.left += left
	a.mu.Unlock()
}
