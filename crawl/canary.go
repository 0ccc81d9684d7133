package crawl

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// Existence canaries.
//
// For each group of URLs whose identifying value is the same kind of
// thing (judge.CanaryTarget: an id folded in the template, or a segment
// the matching rule names, "GET /projects/{project}"), the probe also
// asks, as each role the matrix denies some URL of that group, for two
// siblings that cannot exist: the group's first URL with that value
// replaced by one derived from the group (so every run asks for the same
// ones). Limits, counts, pages and namespaces are never changed
// (judge.CountKey). The canaries are asked first; each later denied
// answer of the group is compared with them as it arrives
// (judge.CompareMissing), so no body is kept beyond the canaries'.

// canariesPerTemplate is how many non-existent siblings are asked for:
// two, so that a body that changes on every request (a nonce, a time) is
// told apart from a body that tells a resource exists.
const canariesPerTemplate = 2

// maxCanaryTries bounds the derivations tried for one canary when a
// derived URL is excluded by the scope or collides with a real endpoint.
const maxCanaryTries = 8

// canaryJobs returns the canary probes for the endpoints of jobs' cells:
// for each group (judge.CanaryTarget), in group order, its canaries as every
// role of sessions that the matrix denies at least one of the group's
// URLs (the jobs' expectations say which; unmapped endpoints are not
// judged, so they need no canary). They come sorted by URL, then role
// order; each holds its expectation, looked up with vars.
func canaryJobs(cfg *roles.Config, vars roles.Vars, scope *Scope, jobs *jobTable) []probeJob {
	sessions := jobs.sessions
	type member struct {
		ep model.Endpoint
		t  judge.Target
	}
	groups := map[string][]member{}
	denied := map[string]map[string]bool{} // group to the roles denied one of its URLs
	real := make(map[string]bool, len(jobs.eps))
	n := len(sessions)
	for k := range jobs.eps {
		e := &jobs.eps[k]
		real[e.ep.URL] = true
		if e.ep.Method != http.MethodGet || n == 0 {
			continue
		}
		// An endpoint's target comes from its first role's rule; its
		// cells are jobs k*n to k*n+n-1.
		first := jobs.at(k * n)
		t, ok := judge.CanaryTarget(cfg, e.ep.Method, e.u, first.sess.Name(), vars, int(first.rule))
		if !ok {
			continue
		}
		groups[t.Group] = append(groups[t.Group], member{e.ep, t})
		for i := k * n; i < (k+1)*n; i++ {
			j := jobs.at(i)
			if exp := j.expect(cfg); !exp.Allow && !exp.Unmapped {
				if denied[t.Group] == nil {
					denied[t.Group] = map[string]bool{}
				}
				denied[t.Group][j.sess.Name()] = true
			}
		}
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	rank := map[string]int{}
	for i, s := range sessions {
		rank[s.Name()] = i
	}
	var out []probeJob
	for _, name := range names {
		g := groups[name]
		sort.Slice(g, func(i, j int) bool { return g[i].ep.URL < g[j].ep.URL })
		sample := g[0]
		var canaries []*url.URL
		for n := 1; len(canaries) < canariesPerTemplate && n <= canariesPerTemplate+maxCanaryTries; n++ {
			c, ok := canaryURL(sample.ep.URL, sample.t, name, n)
			if !ok {
				break
			}
			if _, skip := scope.Skip(http.MethodGet, c); skip || real[c.String()] {
				continue
			}
			canaries = append(canaries, c)
		}
		if len(canaries) < canariesPerTemplate {
			continue
		}
		for _, s := range sessions {
			if !denied[name][s.Name()] {
				continue
			}
			for _, c := range canaries {
				exp := cfg.Expect(http.MethodGet, c, s.Name(), vars)
				out = append(out, probeJob{probeEndpoint: &probeEndpoint{model.Endpoint{Method: http.MethodGet, URL: c.String()}, c}, sess: s, rule: int32(exp.RuleIdx), canary: &canaryJob{of: sample.ep.URL, target: sample.t}})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ep.URL != out[j].ep.URL {
			return out[i].ep.URL < out[j].ep.URL
		}
		return rank[out[i].sess.Name()] < rank[out[j].sess.Name()]
	})
	return out
}

// canaryURL returns raw with the value t names replaced: an id by
// canaryID(id, seed, n), a named value (a slug) by canarySlug.
func canaryURL(raw string, t judge.Target, seed string, n int) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || t.Group == "" {
		return nil, false
	}
	missing := canarySlug(t.Value, seed, n)
	if model.IsID(t.Value) {
		missing = canaryID(t.Value, seed, n)
	}
	c := *u
	if t.Seg >= 0 {
		segs := strings.Split(u.EscapedPath(), "/")
		if t.Seg >= len(segs) {
			return nil, false
		}
		segs[t.Seg] = url.PathEscape(missing)
		c.RawPath = strings.Join(segs, "/")
		c.Path, _ = url.PathUnescape(c.RawPath)
	} else {
		params := strings.Split(u.RawQuery, "&")
		if t.Param < 0 || t.Param >= len(params) {
			return nil, false
		}
		k, _, _ := strings.Cut(params[t.Param], "=")
		params[t.Param] = k + "=" + url.QueryEscape(missing)
		c.RawQuery = strings.Join(params, "&")
	}
	nu, err := model.Normalize(nil, c.String())
	return nu, err == nil
}

// canarySlug derives, from seed and n, a name that cannot exist beside
// slug: "alpha-permaudit-missing-3f9a1c0e".
func canarySlug(slug, seed string, n int) string {
	h := sha256.Sum256([]byte("permaudit missing slug\x00" + seed + "\x00" + strconv.Itoa(n)))
	return slug + "-permaudit-missing-" + hex.EncodeToString(h[:4])
}

// canaryID derives, from seed and n, an id of the same kind as id that an
// application is unlikely to hold:
//
//   - a number: 9 digits starting with 9 (900000000 and up, still an
//     int32) for shorter ids; as long as id, starting with 9 (or 1 from
//     19 digits on, to stay an int64), for longer ones;
//   - a UUID: a version-4 UUID, in id's case;
//   - hex: as many hex digits, in id's case;
//   - a letter-digit token: as many letters and digits, from the
//     alphabet id uses (lower, upper, or both).
//
// The result is an id for IsID too, so a canary has its sibling's
// template.
func canaryID(id, seed string, n int) string {
	h := sha256.Sum256([]byte("permaudit existence canary\x00" + seed + "\x00" + strconv.Itoa(n)))
	// As many pseudo-random bytes as the id needs, and a few more.
	stream := h[:]
	for block := h; len(stream) < len(id)+64; {
		block = sha256.Sum256(block[:])
		stream = append(stream, block[:]...)
	}
	pick := func(length int, alphabet string) []byte {
		b := make([]byte, length)
		for i := range b {
			b[i] = alphabet[int(stream[i])%len(alphabet)]
		}
		return b
	}
	lower, upper := strings.ToLower(id) == id, strings.ToUpper(id) == id
	switch model.IDKind(id) {
	case model.IDNumber:
		length := max(len(id), 9)
		b := pick(length, "0123456789")
		b[0] = '9'
		if length >= 19 {
			b[0] = '1'
		}
		return string(b)
	case model.IDUUID:
		x := hex.EncodeToString(h[:16])
		x = x[:12] + "4" + x[13:16] + string("89ab"[int(h[17])%4]) + x[17:]
		s := x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
		if upper && !lower {
			s = strings.ToUpper(s)
		}
		return s
	case model.IDHex:
		b := pick(len(id), "0123456789abcdef")
		b[0] = '9' // IsID wants a digit in hex
		if upper && !lower {
			return strings.ToUpper(string(b))
		}
		return string(b)
	}
	alphabet := "abcdefghijklmnopqrstuvwxyz"
	switch {
	case upper && !lower:
		alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	case !upper && !lower:
		alphabet += "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	}
	b := pick(max(len(id), 10), alphabet+"0123456789")
	// IsID wants a letter and a digit.
	b[0] = alphabet[int(stream[len(b)])%len(alphabet)]
	b[len(b)-1] = "0123456789"[int(stream[len(b)+1])%10]
	return string(b)
}

// siblingKey names the canaries of one group as one role.
type siblingKey struct{ group, role string }

// keepCanaryShape keeps the shape of a canary's body for the comparisons
// of its group (compareMissing); the last answer of a canary wins (a
// request repeated after a renewal).
func (p *prober) keepCanaryShape(job probeJob, obs model.Observation, body []byte) {
	ids := append(model.IDParts(obs.URL), targetValue(obs.URL, job.canary.target))
	shape := judge.ShapeOf(string(body), ids)
	key := shape.Key()
	p.canaryMu.Lock()
	// Most groups' missing siblings answer one page: keep one shape of it.
	if kept, ok := p.canaryKept[key]; ok {
		shape = kept
	} else {
		p.canaryKept[key] = shape
	}
	p.canaryShapes[obs.URL+"\x00"+obs.Role] = shape
	p.canaryMu.Unlock()
}

// targetValue is the value at t's place in rawURL, decoded.
func targetValue(rawURL string, t judge.Target) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	if t.Seg >= 0 {
		segs := strings.Split(u.EscapedPath(), "/")
		if t.Seg < len(segs) {
			v, _ := url.PathUnescape(segs[t.Seg])
			return v
		}
		return ""
	}
	params := strings.Split(u.RawQuery, "&")
	if t.Param >= 0 && t.Param < len(params) {
		_, v, _ := strings.Cut(params[t.Param], "=")
		d, _ := url.QueryUnescape(v)
		return d
	}
	return ""
}

// pairSiblings gathers, once the canaries are answered, the two shapes of
// each group and role whose canaries were both denied alike.
func (p *prober) pairSiblings(jobs *jobTable, results *model.Cells, finished []bool) {
	type pending struct {
		obs    []model.Observation
		shapes []*judge.Shape
	}
	byKey := map[siblingKey]*pending{}
	for k, j := range jobs.canaries {
		i := jobs.cells() + k
		if !finished[i] {
			continue
		}
		k := siblingKey{j.canary.target.Group, j.sess.Name()}
		pd := byKey[k]
		if pd == nil {
			pd = &pending{}
			byKey[k] = pd
		}
		c := results.At(i)
		pd.obs = append(pd.obs, c.Observation)
		pd.shapes = append(pd.shapes, p.canaryShapes[c.URL+"\x00"+c.Role])
	}
	p.siblings = map[siblingKey][2]*judge.Shape{}
	for k, pd := range byKey {
		if len(pd.obs) < 2 || pd.shapes[0] == nil || pd.shapes[1] == nil {
			continue
		}
		a, b := pd.obs[0], pd.obs[1]
		if !judge.IsDenial(a.Class) || a.Class != b.Class || a.Status != b.Status {
			continue
		}
		p.siblings[k] = [2]*judge.Shape{pd.shapes[0], pd.shapes[1]}
	}
	p.canaryShapes, p.canaryKept = nil, nil
}

// hasSiblings reports whether a denial of job is compared with missing
// siblings (compareMissing): its group has them for its role.
func (p *prober) hasSiblings(job probeJob) bool {
	_, _, ok := p.siblingsOf(job)
	return ok
}

// siblingsOf returns the canary target of job's cell and the shapes of
// its group's two missing siblings for its role, when the cell is one a
// denial of is compared with them: a cell the matrix denies, no canary,
// in a group whose canaries were both denied alike (pairSiblings).
func (p *prober) siblingsOf(job probeJob) (judge.Target, [2]*judge.Shape, bool) {
	if len(p.siblings) == 0 || job.canary != nil || job.rule == noRule {
		return judge.Target{}, [2]*judge.Shape{}, false
	}
	if exp := job.expect(p.cfg); exp.Allow || exp.Unmapped {
		return judge.Target{}, [2]*judge.Shape{}, false
	}
	t, ok := p.canaryTarget(job)
	if !ok {
		return judge.Target{}, [2]*judge.Shape{}, false
	}
	sib, ok := p.siblings[siblingKey{t.Group, job.sess.Name()}]
	return t, sib, ok
}

// compareMissing compares a denied answer's body with its group's two
// canaries, when they were denied alike (Observation.Missing); a
// canary's own answer is kept as its shape.
func (p *prober) compareMissing(job probeJob, obs *model.Observation, body []byte) {
	if job.canary != nil {
		p.keepCanaryShape(job, *obs, body)
		return
	}
	if !judge.IsDenial(obs.Class) {
		return
	}
	t, sib, ok := p.siblingsOf(job)
	if !ok {
		return
	}
	m := judge.CompareMissing(judge.ShapeOf(string(body), judge.MissingIDs(obs.URL, t)), sib[0], sib[1])
	if m != nil {
		m.Difference = p.secrets.Redact(m.Difference)
	}
	obs.Missing = m
}

// targetCache remembers judge.CanaryTarget for the endpoints probed last
// (direct-mapped, targetSlots slots): the cells of one endpoint, probed
// one after the other as every role, ask for the same target. Lookups
// from the probe's workers need no lock.
type targetCache struct {
	seed  maphash.Seed
	slots [targetSlots]atomic.Pointer[cachedTarget]
}

const targetSlots = 256

type cachedTarget struct {
	method, url string
	rule        int32
	t           judge.Target
	ok          bool
}

// canaryTarget is judge.CanaryTarget of job's cell. It is remembered
// (targetCache) when the cell's rule reads no role variable
// ({self.var}), the one way the target of a URL can differ by role.
func (p *prober) canaryTarget(job probeJob) (judge.Target, bool) {
	compute := func() (judge.Target, bool) {
		return judge.CanaryTarget(p.cfg, job.ep.Method, job.parsed(), job.sess.Name(), p.vars, int(job.rule))
	}
	if p.targets.seed == (maphash.Seed{}) { // a prober made without one (discovery's) compares no canaries
		return compute()
	}
	if r := int(job.rule); r > 0 && r <= len(p.cfg.Matrix.Rules) {
		for _, pat := range p.cfg.Matrix.Rules[r-1].Match {
			if len(pat.VarRefs()) > 0 {
				return compute()
			}
		}
	}
	slot := &p.targets.slots[maphash.String(p.targets.seed, job.ep.URL)%targetSlots]
	if c := slot.Load(); c != nil && c.url == job.ep.URL && c.method == job.ep.Method && c.rule == job.rule {
		return c.t, c.ok
	}
	t, ok := compute()
	slot.Store(&cachedTarget{method: job.ep.Method, url: job.ep.URL, rule: job.rule, t: t, ok: ok})
	return t, ok
}
