package crawl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

const (
	// maxHops is how many in-scope redirects a probe follows.
	maxHops = 5
	// excerptLen is the most bytes of a body kept as an excerpt.
	excerptLen = 512
)

// probeJob is one endpoint requested as one role: what a worker is
// handed (jobTable.at). It keeps what the matrix says of the cell as the
// rule's index only (expect), and shares its endpoint with the
// endpoint's other roles.
type probeJob struct {
	*probeEndpoint
	sess *session.Session
	// rule is the index of the matrix rule that decides ep as the role
	// (roles.Expectation.RuleIdx; 0 the default), looked up once when the
	// job is made; noRule for an answer discovery reads (answers.go),
	// which has no expectation: no body checks, nothing compared.
	rule int32
	// canary is set for existence canaries only (canary.go).
	canary *canaryJob
}

// probeEndpoint is the endpoint a job requests, and its parsed URL while
// the jobs are made (nil after: parsed).
type probeEndpoint struct {
	ep model.Endpoint
	u  *url.URL
}

// parsed is the endpoint's URL, parsed. Once the jobs are made, probe
// drops the endpoints' parsed URLs, 30 MB held through probing at
// 200,000 endpoints, and each request parses its URL again (a
// microsecond), from the string that parsed once already.
func (e *probeEndpoint) parsed() *url.URL {
	if e.u != nil {
		return e.u
	}
	u, err := url.Parse(e.ep.URL)
	if err != nil { // it parsed when the job was made
		panic(fmt.Sprintf("crawl: endpoint URL no longer parses: %v", err))
	}
	return u
}

// noRule is the rule of a job without an expectation (probeJob.rule).
const noRule = -1

// canaryJob is what an existence canary's job holds besides its request.
type canaryJob struct {
	// of is the endpoint whose non-existent sibling the canary requests.
	of string
	// target is the value of of that the canary changes.
	target judge.Target
}

// expect is what the matrix expects of job's cell: its rule's
// expectation for the job's role (roles.Config.ExpectRule); the zero
// expectation for noRule.
func (job probeJob) expect(cfg *roles.Config) roles.Expectation {
	if job.rule == noRule {
		return roles.Expectation{}
	}
	return cfg.ExpectRule(int(job.rule), job.sess.Name())
}

// canaryOf is the endpoint a canary job is the sibling of; "" for any
// other job.
func (job probeJob) canaryOf() string {
	if job.canary == nil {
		return ""
	}
	return job.canary.of
}

// jobTable holds a Probe call's jobs. The cells' jobs are every endpoint
// probed as every role, in that order, so a cell's job is known from its
// index and only its rule is held: 4 bytes a cell, where a probeJob is 32
// (docs/design.md, "Outputs at scale"). The canaries' jobs follow the
// cells', whole.
type jobTable struct {
	eps      []probeEndpoint    // the endpoints probed: sorted (model.Endpoint.Less), each once
	sessions []*session.Session // the roles, in the order of an endpoint's jobs
	rules    []int32            // the rule of cell i: eps[i/len(sessions)] as sessions[i%len(sessions)]
	canaries []probeJob         // job cells()+k is canaries[k]
}

// cells is how many of the jobs are cells, not canaries.
func (t *jobTable) cells() int { return len(t.rules) }

func (t *jobTable) len() int { return len(t.rules) + len(t.canaries) }

// at is job i.
func (t *jobTable) at(i int) probeJob {
	if i >= len(t.rules) {
		return t.canaries[i-len(t.rules)]
	}
	n := len(t.sessions)
	return probeJob{probeEndpoint: &t.eps[i/n], sess: t.sessions[i%n], rule: t.rules[i]}
}

// cell is the index of the cell of ep as the role named role; false when
// it is not probed.
func (t *jobTable) cell(ep model.Endpoint, role string) (int, bool) {
	k, ok := t.endpoint(ep)
	if !ok {
		return 0, false
	}
	for r, s := range t.sessions {
		if s.Name() == role {
			return k*len(t.sessions) + r, true
		}
	}
	return 0, false
}

// endpoint is the index of ep in t.eps; false when it is not probed.
func (t *jobTable) endpoint(ep model.Endpoint) (int, bool) {
	k := sort.Search(len(t.eps), func(k int) bool { return !t.eps[k].ep.Less(ep) })
	return k, k < len(t.eps) && t.eps[k].ep == ep
}

// makeJobs returns the jobs of endpoints as every session, each
// endpoint once, sorted, without those out of scope or whose URL does not
// parse (logged), and with the canaries' jobs when opts asks for them.
func makeJobs(opts Options, endpoints []model.Endpoint, vars roles.Vars, log *slog.Logger) *jobTable {
	eps := append([]model.Endpoint(nil), endpoints...)
	sort.Slice(eps, func(i, j int) bool { return eps[i].Less(eps[j]) })
	t := &jobTable{eps: make([]probeEndpoint, 0, len(eps)), sessions: opts.Sessions}
	for i, ep := range eps {
		if i > 0 && ep == eps[i-1] {
			continue
		}
		u, err := url.Parse(ep.URL)
		if err != nil {
			log.Warn("endpoint not probed: bad URL", "endpoint", opts.Secrets.Redact(ep.String()), "error", err)
			continue
		}
		if reason, skip := opts.Scope.Skip(ep.Method, u); skip {
			log.Warn("endpoint not probed", "endpoint", opts.Secrets.Redact(ep.String()), "reason", reason)
			continue
		}
		t.eps = append(t.eps, probeEndpoint{ep, u})
	}
	if len(t.sessions) == 0 {
		t.eps = nil
	}
	t.rules = make([]int32, 0, len(t.eps)*len(t.sessions))
	for _, e := range t.eps {
		for _, s := range t.sessions {
			t.rules = append(t.rules, int32(opts.Config.Expect(e.ep.Method, e.u, s.Name(), vars).RuleIdx))
		}
	}
	if opts.Canaries {
		t.canaries = canaryJobs(opts.Config, vars, opts.Scope, t)
	}
	for k := range t.eps {
		t.eps[k].u = nil // parsed
	}
	return t
}

func probe(ctx context.Context, opts Options, endpoints []model.Endpoint) (*model.Cells, error) {
	opts, lim, err := prepare(opts)
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	log := opts.Logger.With("phase", "probe")
	log.Info("probe phase started", "endpoints", len(endpoints)) // bench/scale.sh times the phase by it
	vars := opts.Config.VarsWith(session.CapturedBy(opts.Sessions))
	jobs := makeJobs(opts, endpoints, vars, log)
	nCells := jobs.cells()

	p := &prober{
		cfg: opts.Config, secrets: opts.Secrets, scope: opts.Scope, lim: lim, classifier: judge.NewClassifier(opts.Config),
		clients: opts.Clients, vars: vars, canaryShapes: map[string]*judge.Shape{}, canaryKept: map[[32]byte]*judge.Shape{},
		targets: targetCache{seed: maphash.MakeSeed()},
		prog:    &progressCounter{fn: opts.Progress, phase: "probe", total: jobs.len()},
	}
	p.sessions = sessionsByName(opts.Sessions)
	p.keep = &probeRun{k: opts.Keeper, sendSeq: make([]uint64, jobs.len())}
	results := model.NewCells(jobs.len()) // the judge fills the rest of each cell
	finished := make([]bool, jobs.len())
	record := func(i int, obs model.Observation) {
		job := jobs.at(i)
		exp := job.expect(p.cfg)
		dropNonEvidence(exp, job.canary != nil, &obs) // evidence.go
		obs.CanaryOf = job.canaryOf()
		results.Set(i, model.Cell{Observation: obs})
		finished[i] = true
		p.prog.step(job.sess.Name(), provisionalFinding(job, exp, obs))
	}
	// pass probes the jobs idx yields, and confirms what waits for a
	// session check before it returns.
	pass := func(idx iter.Seq[int]) {
		next := make(chan int)
		var wg sync.WaitGroup
		for range lim.concurrency {
			wg.Go(func() {
				for i := range next {
					p.probeKept(ctx, i, jobs.at(i), record)
				}
			})
		}
	feed:
		for i := range idx {
			select {
			case next <- i:
			case <-ctx.Done():
				break feed
			}
		}
		close(next)
		wg.Wait()
		opts.Keeper.FlushAll(ctx) // answers waiting for a check are confirmed or repeated
	}
	// The canaries first (they follow the other jobs), so that every
	// denied answer of their group can be compared with them as it comes.
	if len(jobs.canaries) > 0 {
		pass(func(yield func(int) bool) {
			for i := nCells; i < jobs.len() && yield(i); i++ {
			}
		})
	}
	p.pairSiblings(jobs, results, finished)
	// Cells discovery already saw, on the same session, are not requested
	// again (answers.go); the others go in the caller's order (ProbeOrder:
	// frontier.go).
	reused := p.reuse(opts.Answers, jobs, record)
	order := feedOrder(endpoints, jobs)
	log.Info("probe phase: cells discovery saw are not requested again", "cells", jobs.len(), "from_discovery", reused, "to_request", nCells-reused)
	n := len(jobs.sessions)
	pass(func(yield func(int) bool) {
		for _, k := range order {
			for i := int(k) * n; i < int(k+1)*n; i++ {
				if !finished[i] && !yield(i) {
					return
				}
			}
		}
	})
	p.settle(results, finished)
	log.Info("probe phase done", "cells", jobs.len())

	results.Keep(func(i int) bool { return finished[i] })
	return results, ctx.Err()
}

type prober struct {
	cfg        *roles.Config
	secrets    *roles.Redactor // the run's (Options.Secrets)
	scope      *Scope
	lim        limits
	classifier *judge.Classifier
	clients    map[string]*http.Client
	prog       *progressCounter
	sessions   map[string]*session.Session // by role name, for body checks' role variables
	keep       *probeRun                   // session confirmation (keep.go)
	vars       roles.Vars                  // the matrix's role variables, for canary targets

	// Existence canaries (canary.go): their bodies' shapes while they are
	// probed, then paired by group and role for the other jobs.
	canaryMu     sync.Mutex
	canaryShapes map[string]*judge.Shape   // by canary URL and role
	canaryKept   map[[32]byte]*judge.Shape // one shape per Shape.Key
	siblings     map[siblingKey][2]*judge.Shape
	targets      targetCache // judge.CanaryTarget of the cells probed last
}

// probe requests one endpoint as one role, following in-scope redirects
// that do not lead to the login page, and classifies the final answer.
// It reports false when the probe was cut short by ctx.
func (p *prober) probe(ctx context.Context, job probeJob) (model.Observation, bool) {
	secrets := p.secrets
	obs := model.Observation{Endpoint: job.ep, Role: job.sess.Name()}
	client := p.clients[job.sess.Name()]
	start := time.Now()

	cur := job.parsed()
	var chain []model.Hop
	for hop := 0; ; hop++ {
		a, err := p.request(ctx, client, job.ep.Method, cur)
		if err != nil && ctx.Err() != nil {
			return obs, false
		}
		if a == nil { // no HTTP answer
			obs.Class, obs.Why = model.Error, "transport error"
			obs.Err = secrets.Redact(err.Error())
			break
		}
		loc := a.header.Get("Location")
		chain = append(chain, model.Hop{URL: cur.String(), Status: a.status, Location: secrets.Redact(loc)})
		if err != nil { // the body could not be read
			obs.Class, obs.Why = model.Error, "reading body"
			obs.Err = secrets.Redact(err.Error())
			p.describe(&obs, a, loc)
			break
		}
		nextURL, why := p.redirectTarget(job.ep.Method, cur, a, hop)
		if nextURL != nil {
			cur = nextURL
			continue
		}
		p.final(&obs, job, cur, a, loc, why)
		break
	}
	if len(chain) > 1 {
		obs.Chain = chain
	}
	obs.Latency = time.Since(start)
	return obs, true
}

// final reads the answer a that ends a probe of job (at cur, not
// followed further, why says why when it is a redirect) into obs: its
// class and what the observation says of it. Discovery reads the answers
// it may hand to Probe with it too (answers.go), with a zero expectation:
// no body checks.
func (p *prober) final(obs *model.Observation, job probeJob, cur *url.URL, a *answer, loc, why string) {
	obs.Class, obs.Why = p.classifier.Classify(a.status, a.header, a.body, cur)
	obs.Class, obs.Why = judge.LoggedOut(loggedOutMarker(job.sess), a.body, obs.Class, obs.Why)
	obs.Class, obs.Why = judge.Unfollowed(obs.Class, obs.Why, why, why == whyTooManyHops)
	p.describe(obs, a, loc)
	p.compareMissing(job, obs, a.body)
	if obs.Class == model.Allowed {
		obs.BodyChecks = p.checkBody(job, job.expect(p.cfg), a)
	}
}

// answer is one HTTP answer, its body read up to the cap.
type answer struct {
	status    int
	header    http.Header
	body      []byte
	truncated bool
}

// request makes one request. With an HTTP answer whose body could not be
// read it returns both the answer and the error.
func (p *prober) request(ctx context.Context, client *http.Client, method string, u *url.URL) (*answer, error) {
	// The URL as parsed, not spelled and parsed again: the request
	// holds a copy (http.Client may not change the caller's).
	req, err := http.NewRequestWithContext(ctx, method, "", nil)
	if err != nil {
		return nil, err
	}
	cu := *u
	req.URL, req.Host = &cu, cu.Host
	// What discovery's collector sends (colly sets it when empty): an
	// answer discovery got is then the answer a probe gets (answers.go).
	req.Header.Set("Accept", "*/*")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	a := &answer{status: resp.StatusCode, header: resp.Header}
	a.body, err = io.ReadAll(io.LimitReader(resp.Body, p.lim.maxBody+1))
	a.truncated = BodyTruncated(resp) // cut by the run's Transport (transport.go)
	if int64(len(a.body)) > p.lim.maxBody {
		a.body, a.truncated = a.body[:p.lim.maxBody], true
	}
	return a, err
}

// redirectTarget returns where a redirect answer is followed to, or nil
// and, when a redirect is not followed, why.
func (p *prober) redirectTarget(method string, cur *url.URL, a *answer, hop int) (*url.URL, string) {
	switch a.status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		return nil, ""
	}
	loc := a.header.Get("Location")
	if loc == "" || p.classifier.SignatureAt(a.status, a.header, a.body, cur) {
		return nil, "" // a recognised redirect is the denial (denials: location)
	}
	u, err := model.Normalize(cur, loc)
	switch {
	case err != nil:
		return nil, "redirect to an unusable location"
	case !p.scope.InOrigin(u):
		return nil, "redirect off scope"
	case p.classifier.IsLogin(u):
		return nil, "" // classified as a redirect to login
	}
	if reason, skip := p.scope.Skip(method, u); skip {
		return nil, "redirect not followed: " + reason
	}
	if !safeRequestMethod(method) { // an opted-in method is sent once, never replayed
		return nil, "redirect not followed: method " + method
	}
	if hop >= maxHops {
		return nil, whyTooManyHops
	}
	return u, ""
}

// describe fills in what the observation says of the final answer.
func (p *prober) describe(obs *model.Observation, a *answer, loc string) {
	obs.Status = a.status
	obs.Location = p.secrets.Redact(loc)
	obs.ContentType = a.header.Get("Content-Type")
	obs.WWWAuth = len(a.header.Values("WWW-Authenticate")) > 0
	obs.Size = int64(len(a.body))
	obs.Truncated = a.truncated
	if len(a.body) > 0 {
		sum := sha256.Sum256(a.body)
		obs.BodySHA256 = hex.EncodeToString(sum[:])
	}
	obs.Excerpt = excerpt(a.body, p.secrets)
}

// excerpt returns the start of body, redacted, as valid UTF-8 of at most
// excerptLen bytes. It redacts a window longer than the excerpt by the
// longest secret, so that a secret crossing the cut is redacted whole
// rather than shown in part.
func excerpt(body []byte, secrets *roles.Redactor) string {
	if len(body) == 0 {
		return ""
	}
	window := excerptLen + secrets.Longest()
	s := string(body[:min(len(body), window)])
	s = secrets.Redact(s)
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= excerptLen {
		return s
	}
	cut := excerptLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// reuse records, as the observation of its cell, each answer discovery
// kept (answers.go) that is the one a probe would record now, and
// returns how many it recorded. An answer is one when its cell is probed
// as the same role, on a session of the same generation (no sign-in since
// the request was sent), without body checks (made on the whole body,
// which discovery did not keep), not a denial of a group with existence
// canaries (it is compared with their answers' bodies, which discovery
// did not keep), and not an endpoint found since to end sessions (the
// probe records nothing for it as a signed-in role); and when it is the
// cell's last answer (drain hands the last first): an older one is passed
// over whether or not the last was recorded. It keeps the answer's
// place among the role's checks, as probeKept does, so that a session
// lost later still turns it into an error (settle).
func (p *prober) reuse(a *Answers, jobs *jobTable, record func(int, model.Observation)) int {
	reused := 0
	looked := make([]uint64, (jobs.cells()+63)/64) // cells whose last answer was looked at: a bit each
	a.drain(func(seen model.Observation, sendSeq, gen uint64) bool {
		i, ok := jobs.cell(seen.Endpoint, seen.Role)
		if !ok {
			return false
		}
		if looked[i/64]&(1<<(i%64)) != 0 {
			return true // older news: the cell's last answer decided it
		}
		looked[i/64] |= 1 << (i % 64)
		job := jobs.at(i)
		if gen != job.sess.Generation() || seen.Class == model.Error {
			return true
		}
		if exp := job.expect(p.cfg); exp.Allow && len(exp.Body) > 0 ||
			p.keep.k.Ends(job.sess.Name(), job.ep) || judge.IsDenial(seen.Class) && p.hasSiblings(job) {
			return true
		}
		p.keep.sendSeq[i] = sendSeq
		seen.Endpoint = job.ep // the same, held once with the table's
		record(i, judge.MarkerContradicted(seen))
		reused++
		return true
	})
	return reused
}

// provisionalFinding reports whether obs, decided alone against its
// job's expectation, is a finding: for progress lines only (canaries are
// compared by the judge once the run is whole).
func provisionalFinding(job probeJob, exp roles.Expectation, obs model.Observation) bool {
	if job.canary != nil {
		return false
	}
	v, _ := judge.Decide(exp, obs)
	return v.IsFinding()
}
