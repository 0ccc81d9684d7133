package crawl

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/permaudit/permaudit/internal/htmldoc"
	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

var (
	// reVarRef is a role variable reference in a start URL: {role.var}.
	reVarRef = regexp.MustCompile(`\{([^{}./]+)\.([^{}./]+)\}`)
	// rePlaceholder is any "{...}" left after expansion.
	rePlaceholder = regexp.MustCompile(`\{[^{}/]*\}`)
)

func discover(ctx context.Context, opts Options) (*model.Inventory, error) {
	opts, lim, err := prepare(opts)
	if err != nil {
		return nil, fmt.Errorf("discover: %w", err)
	}
	srcs, err := loadSources(ctx, opts, lim, opts.Logger.With("phase", "discover"))
	if err != nil {
		return nil, fmt.Errorf("discover: %w", err)
	}
	prog := &progressCounter{fn: opts.Progress, phase: "discover"}
	// One slot per request in flight, shared by every role: discovery is
	// as polite as the probe phase.
	sem := make(chan struct{}, lim.concurrency)
	cls := judge.NewClassifier(opts.Config)
	// Reads the answers Probe may take as observations (answers.go).
	var obsv *prober
	if opts.Answers != nil {
		obsv = &prober{cfg: opts.Config, secrets: opts.Secrets, scope: opts.Scope, lim: lim, classifier: cls,
			vars: opts.Config.VarsWith(session.CapturedBy(opts.Sessions))}
	}
	urls := &urlTable{m: map[string]string{}}
	crawls := make([]*roleCrawl, len(opts.Sessions))
	var wg sync.WaitGroup
	for i, sess := range opts.Sessions {
		rc := &roleCrawl{
			opts: &opts, lim: lim, sess: sess, sem: sem, prog: prog, srcs: srcs, cls: cls, obsv: obsv,
			log:         opts.Logger.With("phase", "discover", "role", sess.Name()),
			found:       map[model.Endpoint]sourceBits{},
			urls:        urls,
			skipped:     map[model.Skip]bool{},
			metaQueued:  map[fetchItem]bool{},
			values:      map[string]map[string]bool{},
			tokens:      map[string]bool{},
			secretURLs:  map[string]map[string]bool{},
			perTemplate: map[string]int{},
			cutTemplate: map[model.Endpoint]bool{},
			cutLoop:     map[model.Endpoint]bool{},
			fetched:     map[string]bool{},
			notFetched:  map[string]string{},
			variants:    newVariants(lim.maxQueryVariants),
		}
		rc.col = rc.newCollector(ctx, opts.Clients[sess.Name()])
		crawls[i] = rc
		wg.Go(func() { rc.run(ctx) })
	}
	wg.Wait()
	warnSecretURLs(opts.Logger.With("phase", "discover"), crawls)
	return mergeInventory(crawls, lim), ctx.Err()
}

// newCollector returns the discovery collector of rc's role. colly makes
// every discovery request and its callbacks read the answers: OnResponse
// (and OnError, for an answer colly calls an error) records the status,
// asks whether the keeper must confirm the answer, and extracts what the
// answer points to (read), so that the body is dropped as soon as it is
// parsed instead of being held until its whole depth is fetched.
//
// The collector is synchronous (driven by the crawl's own workers), uses
// the role's client (its scoped transport and jar) with redirects never
// followed, hands every status to OnResponse, and has no visited set
// (the crawl deduplicates), no cache, no robots.txt, no HEAD before GET,
// no headers of its own and no OnHTML (goquery would parse every page a
// second time; extract.go reads HTML with x/net/html). See doc.go for
// why the crawl keeps its own workers, caps and deduplication.
//
// colly.NewCollector applies COLLY_* environment variables after its
// options, so every setting they can reach is assigned again here, after
// construction: the environment has no effect.
func (rc *roleCrawl) newCollector(ctx context.Context, client *http.Client) *colly.Collector {
	c := colly.NewCollector(colly.StdlibContext(ctx))
	c.UserAgent = rc.lim.userAgent
	c.Headers = nil
	c.MaxDepth = 0    // enforced by roleCrawl
	c.MaxRequests = 0 // enforced by roleCrawl
	c.AllowedDomains = nil
	c.DisallowedDomains = nil
	c.URLFilters = nil
	c.DisallowedURLFilters = nil
	c.AllowURLRevisit = true
	// colly cuts a body at MaxBodySize without a word. One byte over the
	// cap makes the cut visible: the run's Transport, which cuts at the
	// cap itself, is asked for the byte past it and counts the cut
	// (Stats.Truncated), and a body longer than the cap, from a transport
	// that does not cut, is cut and logged by read.
	c.MaxBodySize = int(rc.lim.maxBody) + 1
	c.CacheDir = ""
	c.CacheExpiration = 0
	c.IgnoreRobotsTxt = true
	c.Async = false
	c.ParseHTTPErrorResponse = true
	c.DetectCharset = false
	c.CheckHead = false
	c.TraceHTTP = false
	c.Context = ctx
	// A copy: SetRedirectHandler writes CheckRedirect into the client it
	// is given, and the role's client is shared with the probe phase.
	cl := *client
	cl.Timeout = 0 // the client's Transport times each attempt (transport.go); a deadline here would cut its retries and pauses
	c.SetClient(&cl)
	c.SetRedirectHandler(func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse })

	c.OnResponse(func(r *colly.Response) {
		if p, ok := r.Ctx.GetAny(pageKey).(*page); ok {
			rc.read(p, r)
		}
	})
	c.OnError(func(r *colly.Response, err error) {
		if r == nil || r.Ctx == nil {
			return
		}
		p, ok := r.Ctx.GetAny(pageKey).(*page)
		if !ok {
			return
		}
		p.err = err
		p.free()
		// With ParseHTTPErrorResponse every answer goes to OnResponse;
		// an error with a status would be an answer colly failed to
		// process after reading it, and is still read.
		if r.StatusCode != 0 && r.Headers != nil && p.status == 0 {
			rc.read(p, r)
		}
	})
	return c
}

// pageKey holds a *page in the colly context of a discovery request.
const pageKey = "permaudit.page"

// page is the answer to one discovery request, as the collector's
// callbacks read it; its body is not kept.
type page struct {
	url     *url.URL
	kind    fetchKind
	status  int  // 0: no HTTP answer
	size    int  // body bytes read
	atCap   bool // the body reached crawl.max_body: it may have been cut
	err     error
	confirm bool   // the keeper must confirm the answer (keep.go)
	finds   finds  // what the answer points to
	release func() // gives the request's slot back (free)
	start   time.Time
	// obs is the answer read as a probe reads its final answer, when a
	// probe would have recorded just that (answers.go); nil otherwise.
	obs *model.Observation
}

// free gives the request's slot back, once: as soon as the answer is
// read off the network, before it is parsed, or when the request ended
// without an answer.
func (p *page) free() {
	if p.release != nil {
		p.release()
		p.release = nil
	}
}

// finds is what one answer points to, read in the collector's callback
// on a worker's goroutine; roleCrawl.merge adds it to the crawl, page by
// page in the order of the depth's sorted URLs.
type finds struct {
	links    []candidate         // endpoints, normalised, in the order read
	sitemaps []string            // sitemaps in the origin named by robots.txt or a sitemap index
	values   map[string][]string // paramKey -> values, from a JSON answer
	tokens   []string            // one-time tokens the page issued (extractPage)
}

func (f *finds) offer(base *url.URL, ref, method, source string) {
	if u, err := model.Normalize(base, ref); err == nil {
		f.links = append(f.links, candidate{method: method, u: u, source: source})
	}
}

// read takes in one answer from the collector's callback: its status,
// whether the keeper must confirm it, and what it points to. It runs on
// the goroutine of the worker that asked for the page, concurrently with
// the other workers: it reads rc's settings, never its maps.
func (rc *roleCrawl) read(p *page, r *colly.Response) {
	p.free()
	var h http.Header
	if r.Headers != nil {
		h = *r.Headers
	}
	body := r.Body
	if int64(len(body)) > rc.lim.maxBody && !collyConverted(h) {
		// Read past the cap (see MaxBodySize): cut as the Transport cuts.
		body = body[:rc.lim.maxBody]
	}
	p.status, p.size = r.StatusCode, len(body)
	p.atCap = int64(len(body)) >= rc.lim.maxBody
	if rc.opts.Keeper != nil {
		c, _ := rc.cls.Classify(p.status, h, body, p.url)
		c, _ = judge.LoggedOut(loggedOutMarker(rc.sess), body, c, "")
		p.confirm = judge.NeedsConfirm(c)
	}
	p.obs = rc.observe(p, r, h, body)
	if p.obs != nil && rc.opts.Keeper != nil {
		p.confirm = p.confirm || judge.NeedsConfirm(p.obs.Class)
	}
	p.finds = rc.extract(p, h, body)
}

// observe reads a page's answer into the observation a probe of it would
// record (prober.final), when a probe would record just that: a GET
// page, answered, its body whole (under the cap, not converted from
// another charset by colly: the probe hashes the bytes as sent), and not
// a redirect the probe would follow. nil otherwise, or when no Answers
// are kept.
func (rc *roleCrawl) observe(p *page, r *colly.Response, h http.Header, body []byte) *model.Observation {
	if rc.obsv == nil || p.kind != kindPage || r.StatusCode == 0 || p.err != nil ||
		int64(len(body)) >= rc.lim.maxBody || collyConverted(h) {
		return nil
	}
	a := &answer{status: r.StatusCode, header: h, body: body}
	next, why := rc.obsv.redirectTarget(http.MethodGet, p.url, a, 0)
	if next != nil {
		return nil
	}
	obs := &model.Observation{Endpoint: model.Endpoint{Method: http.MethodGet, URL: p.url.String()}, Role: rc.sess.Name()}
	rc.obsv.final(obs, probeJob{probeEndpoint: &probeEndpoint{obs.Endpoint, p.url}, sess: rc.sess, rule: noRule}, p.url, a, h.Get("Location"), why)
	obs.Latency = time.Since(p.start)
	return obs
}

// remember keeps a page the keeper kept as the observation of its cell
// (ep, as the crawl queued it, and the role), for Probe (answers.go),
// trimmed as the probe trims what it records (dropNonEvidence): the
// answers are held until the probe phase has begun, where the audit's
// memory peaks (bench/memprof "as probing begins": 990 to 923 bytes per
// cell at 100,000 cells).
func (rc *roleCrawl) remember(ep model.Endpoint, res session.Result[*page]) {
	if p := res.Val; p != nil && p.obs != nil && p.err == nil {
		obs := *p.obs
		obs.Endpoint = ep
		// p.url is ep's URL as fetch parsed it (fetchKept).
		dropNonEvidence(rc.opts.Config.Expect(ep.Method, p.url, rc.sess.Name(), rc.obsv.vars), false, &obs)
		rc.opts.Answers.put(rc.sess.Name(), obs, res)
		p.obs = nil
	}
}

// fetchKind says how an answer is read.
type fetchKind int

const (
	kindPage    fetchKind = iota // an endpoint: its links, by Content-Type
	kindRobots                   // robots.txt: not an endpoint
	kindSitemap                  // a sitemap or sitemap index: not an endpoint
)

// fetchItem is a URL to fetch and how to read its answer.
type fetchItem struct {
	url  string
	kind fetchKind
}

// collyConverted reports whether colly converted a body with header h to
// UTF-8 before the callbacks saw it (Response.fixCharset with
// DetectCharset off: a declared charset other than UTF-8, on a type
// other than image, video, audio and font). Its length then says
// nothing of the bytes read, so it is not cut: it is what colly made of
// at most MaxBodySize bytes, as before callbacks carried extraction.
func collyConverted(h http.Header) bool {
	ct := strings.ToLower(h.Get("Content-Type"))
	for _, t := range []string{"image/", "video/", "audio/", "font/"} {
		if strings.Contains(ct, t) {
			return false
		}
	}
	return strings.Contains(ct, "charset") && !strings.Contains(ct, "utf-8") && !strings.Contains(ct, "utf8")
}

// roleCrawl is the discovery of one role: breadth first, one link depth
// at a time, each depth's URLs fetched in sorted order by bounded
// workers, so that the caps keep the same URLs on every run.
//
// Only run's goroutine touches the maps and counters.
type roleCrawl struct {
	opts *Options
	lim  limits
	sess *session.Session
	col  *colly.Collector
	log  *slog.Logger
	sem  chan struct{}
	prog *progressCounter
	srcs *sourceSet
	cls  *judge.Classifier // reads answers for the keeper: does this one need confirming?
	obsv *prober           // reads answers into observations for Probe (answers.go); nil: none kept

	cands       []candidate                   // offered since the last flush
	found       map[model.Endpoint]sourceBits // endpoint -> sources
	urls        *urlTable                     // shared by every role's crawl
	order       []model.Endpoint              // found, in the order first found
	learned     int                           // order[:learned] were read for API parameter values
	skipped     map[model.Skip]bool
	metaQueued  map[fetchItem]bool // robots.txt and sitemaps fetched or to be fetched
	pages       int
	pending     []apiOp                    // API operations not resolved yet
	values      map[string]map[string]bool // paramKey -> values seen in JSON answers and URLs
	tokens      map[string]bool            // one-time tokens the role's pages issued
	secretURLs  map[string]map[string]bool // secret name -> discovered URLs holding it (redacted)
	perTemplate map[string]int             // template -> endpoints found
	cutTemplate map[model.Endpoint]bool    // left out: the template had its share
	cutLoop     map[model.Endpoint]bool    // left out: a crawl loop
	fetched     map[string]bool            // URLs requested
	notFetched  map[string]string          // URL -> why it was never requested (cutDepth, cutRequests, cutTime)
	variants    *variants                  // query variants kept per path (frontier.go)
}

func (rc *roleCrawl) run(ctx context.Context) {
	origin := rc.opts.Scope.origin
	addSeed := func(s seed) {
		exp, ok := rc.expand(s.raw)
		if !ok {
			rc.log.Warn(s.source+" entry skipped: unresolved variable", "url", rc.redact(s.raw), "at", s.where)
			return
		}
		u, err := model.Normalize(origin, exp)
		if err != nil {
			rc.log.Warn(s.source+" entry skipped", "url", rc.redact(s.raw), "at", s.where, "error", rc.redact(err.Error()))
			return
		}
		rc.offerURL(s.method, u, s.source)
	}
	for _, s := range rc.lim.start {
		addSeed(seed{method: http.MethodGet, raw: s, source: sourceStart, where: "crawl.start"})
	}
	for _, s := range rc.srcs.seeds {
		addSeed(s)
	}
	frontier := rc.flush()
	rc.pending = append([]apiOp(nil), rc.srcs.api...)
	frontier = append(frontier, rc.resolveAPI()...)
	if rc.opts.Config.Sources.Robots {
		frontier = append(frontier, rc.meta(origin.String()+"/robots.txt", kindRobots)...)
	}
	if rc.opts.Config.Sources.Sitemap {
		frontier = append(frontier, rc.meta(origin.String()+"/sitemap.xml", kindSitemap)...)
	}
	for depth := 0; len(frontier) > 0 && ctx.Err() == nil; depth++ {
		if depth > rc.lim.maxDepth {
			rc.log.Info("max depth reached", "depth", rc.lim.maxDepth, "not_fetched", len(frontier))
			rc.notFetch(frontier, cutDepth)
			break
		}
		sort.Slice(frontier, func(i, j int) bool {
			if frontier[i].url != frontier[j].url {
				return frontier[i].url < frontier[j].url
			}
			return frontier[i].kind < frontier[j].kind
		})
		frontier = spread(frontier) // paths take turns (frontier.go)
		if left := max(rc.lim.maxRequests-rc.pages, 0); len(frontier) > left {
			rc.log.Warn("max requests reached", "max_requests", rc.lim.maxRequests, "not_fetched", len(frontier)-left)
			rc.notFetch(frontier[left:], cutRequests)
			frontier = frontier[:left]
		}
		var next []fetchItem
		for i, p := range rc.fetchAll(ctx, frontier) {
			if p != nil {
				next = append(next, rc.merge(p.finds)...)
			} else if ctx.Err() != nil {
				rc.notFetch(frontier[i:i+1], cutTime)
			}
		}
		next = append(next, rc.flush()...)
		next = append(next, rc.resolveAPI()...)
		frontier = next
	}
	if ctx.Err() != nil {
		rc.notFetch(frontier, cutTime)
	}
	rc.unresolved()
}

func (rc *roleCrawl) redact(s string) string { return rc.opts.Secrets.Redact(s) }

// notFetch records why the page URLs of items were never requested.
func (rc *roleCrawl) notFetch(items []fetchItem, why string) {
	for _, it := range items {
		if it.kind == kindPage {
			if _, ok := rc.notFetched[it.url]; !ok {
				rc.notFetched[it.url] = why
			}
		}
	}
}

// meta returns robots.txt or a sitemap to fetch, unless it was queued
// before, the scope excludes it, or the role read maxSitemaps sitemaps
// already.
func (rc *roleCrawl) meta(raw string, kind fetchKind) []fetchItem {
	it := fetchItem{url: raw, kind: kind}
	if rc.metaQueued[it] {
		return nil
	}
	if u, err := url.Parse(raw); err != nil {
		return nil
	} else if reason, skip := rc.opts.Scope.Skip(http.MethodGet, u); skip {
		rc.log.Info("not read: the scope excludes it", "url", rc.redact(raw), "reason", reason)
		return nil
	}
	if kind == kindSitemap {
		n := 0
		for q := range rc.metaQueued {
			if q.kind == kindSitemap {
				n++
			}
		}
		if n >= maxSitemaps {
			rc.log.Warn("sitemap skipped: too many sitemaps", "url", rc.redact(raw), "max", maxSitemaps)
			return nil
		}
	}
	rc.metaQueued[it] = true
	return []fetchItem{it}
}

// expand replaces the {role.var} references of a start URL by the
// variables of that role ({self.var}: this role). It reports false when a
// reference or another placeholder is left.
func (rc *roleCrawl) expand(s string) (string, bool) {
	ok := true
	out := reVarRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := reVarRef.FindStringSubmatch(m)
		v, found := rc.variable(sub[1], sub[2])
		if !found {
			ok = false
			return m
		}
		return v
	})
	return out, ok && !rePlaceholder.MatchString(out)
}

func (rc *roleCrawl) variable(role, name string) (string, bool) {
	if role == "self" || role == rc.sess.Name() {
		return rc.sess.Var(name)
	}
	for _, s := range rc.opts.Sessions {
		if s.Name() == role {
			return s.Var(name)
		}
	}
	if r := rc.opts.Config.Role(role); r != nil {
		v, ok := r.Vars[name]
		return v, ok
	}
	return "", false
}

// urlTable holds one string for each URL discovery keeps, shared by the
// roles' crawls: each found the same URLs and spelled each its own way,
// 6 MB at 200,000 cells.
type urlTable struct {
	mu sync.Mutex
	m  map[string]string
}

func (t *urlTable) intern(s string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.m[s]; ok {
		return v
	}
	t.m[s] = s
	return s
}

// reasonSecret is why a discovered URL holding a known secret is skipped.
const reasonSecret = "holds a role's secret: never requested, so that no role sends another's credential"

// add records an endpoint found by source (raw is u spelled), or why it
// is left out, and returns the URL as every role's crawl spells it and
// whether it is a GET URL not queued before. An endpoint skipped
// only for its method (POST forms, API operations) is in the inventory
// and listed as skipped: it is never fetched while discovering. The
// first time an endpoint is found, loops and the per-template cap may
// leave it out (counted, see Cut).
func (rc *roleCrawl) add(method string, u *url.URL, raw, source string) (string, bool) {
	ep := model.Endpoint{Method: method, URL: raw}
	if !exemptFromCap(source) {
		// A URL that carries a one-time token performs an action (approve
		// a comment, save a setting): never requested, listed with the
		// token's value left out. A URL the user named is kept.
		issued := rc.issued(u)
		if p, ok := oneTimeToken(u, issued); ok {
			red := model.Endpoint{Method: method, URL: rc.redact(withoutTokens(u, issued))}
			rc.skipped[model.Skip{Endpoint: red, Reason: fmt.Sprintf(reasonToken, p), Role: rc.sess.Name()}] = true
			return "", false
		}
	}
	if red := rc.redact(ep.URL); red != ep.URL && !exemptFromCap(source) {
		// A discovered URL that holds a known secret (a token in a link,
		// a JSON string that is a token): probing it would send one
		// role's credential as every role, and its answers could not be
		// judged as any one role's. A URL the user named is kept. It is
		// listed with the secret's value left out of its parts, so that
		// it stays a URL, and counted for the warning (warnSecretURLs).
		ru := rc.redactURL(u)
		rc.skipped[model.Skip{Endpoint: model.Endpoint{Method: method, URL: ru}, Reason: reasonSecret, Role: rc.sess.Name()}] = true
		for _, m := range reRedacted.FindAllStringSubmatch(red, -1) {
			if rc.secretURLs[m[1]] == nil {
				rc.secretURLs[m[1]] = map[string]bool{}
			}
			rc.secretURLs[m[1]][ru] = true
		}
		return "", false
	}
	reason, skip := rc.opts.Scope.Skip(method, u)
	if skip && reason != reasonMethod {
		rc.skipped[model.Skip{Endpoint: ep, Reason: reason, Role: rc.sess.Name()}] = true
		return "", false
	}
	// Every role's crawl keys, lists and fetches an endpoint by the same
	// string (a map keeps the key it was last assigned with).
	ep.URL = rc.urls.intern(ep.URL)
	srcs, seen := rc.found[ep]
	if !seen {
		if isLoop(u) {
			rc.cutLoop[ep] = true
			return "", false
		}
		t := model.Template(method, ep.URL)
		if rc.perTemplate[t] >= rc.lim.maxPerTemplate && !exemptFromCap(source) {
			rc.cutTemplate[ep] = true
			return "", false
		}
		if !rc.variants.admit(ep, u, exemptFromCap(source)) { // frontier.go
			return "", false
		}
		rc.perTemplate[t]++
		rc.order = append(rc.order, ep)
		if skip {
			rc.skipped[model.Skip{Endpoint: ep, Reason: reason, Role: rc.sess.Name()}] = true
		}
	}
	rc.found[ep] = srcs.with(source)
	// A GET endpoint is queued when it is first found: one found before
	// is queued already.
	return ep.URL, method == http.MethodGet && !seen
}

// issued returns whether a value is a token issued to the role: by one
// of its pages (an anti-forgery field or meta tag), or a cookie its jar
// sends to u.
func (rc *roleCrawl) issued(u *url.URL) func(string) bool {
	var cookies []*http.Cookie
	read := false
	return func(v string) bool {
		if rc.tokens[v] {
			return true
		}
		if !read {
			read = true
			if jar := rc.sess.Jar(); jar != nil {
				cookies = jar.Cookies(u)
			}
		}
		for _, c := range cookies {
			if c.Value == v {
				return true
			}
		}
		return false
	}
}

// reRedacted finds the secret names of a redacted string.
var reRedacted = regexp.MustCompile(`\[REDACTED:([^\]]+)\]`)

// redactURL returns u with every secret left out of its parts: the path,
// and each query value on its own (decoded, then redacted), so that the
// result is still a URL of the same origin. A secret that spans parts
// (a whole URL) leaves the origin and "/[REDACTED]".
func (rc *roleCrawl) redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawPath = ""
	c.Path = rc.redact(u.Path)
	if c.RawQuery != "" {
		parts := strings.Split(c.RawQuery, "&")
		for i, kv := range parts {
			k, v, had := strings.Cut(kv, "=")
			dk, dv := k, v
			if x, err := url.QueryUnescape(k); err == nil {
				dk = x
			}
			if x, err := url.QueryUnescape(v); err == nil {
				dv = x
			}
			if rk := rc.redact(dk); rk != dk {
				k = rk
			}
			if rv := rc.redact(dv); rv != dv {
				v = rv
			}
			if had {
				parts[i] = k + "=" + v
			} else {
				parts[i] = k
			}
		}
		c.RawQuery = strings.Join(parts, "&")
	}
	out := c.String()
	if rc.redact(out) != out {
		return rc.opts.Scope.origin.String() + "/[REDACTED]"
	}
	return out
}

// warnSecretURLs says, once per secret, that discovered URLs hold it and
// were skipped: a secret that is no secret (a URL, a common value) would
// otherwise blind the audit without a word.
func warnSecretURLs(log *slog.Logger, crawls []*roleCrawl) {
	byName := map[string]map[string]bool{}
	for _, rc := range crawls {
		for name, urls := range rc.secretURLs {
			if byName[name] == nil {
				byName[name] = map[string]bool{}
			}
			for u := range urls {
				byName[name][u] = true
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		log.Warn("discovered URLs hold a secret: they are neither crawled nor probed (listed as skipped). If the value is no secret, stop marking it one (a configured value: write it without ${...}); if it is, the application puts a credential in its links: exclude those paths (scope.exclude)",
			"secret", n, "urls", len(byName[n]))
	}
}

// candidate is an endpoint offered during one step of the crawl.
type candidate struct {
	method string
	u      *url.URL
	source string
}

// offer normalises ref against base and offers it for the next flush.
func (rc *roleCrawl) offer(base *url.URL, ref, method, source string) {
	if u, err := model.Normalize(base, ref); err == nil {
		rc.offerURL(method, u, source)
	}
}

func (rc *roleCrawl) offerURL(method string, u *url.URL, source string) {
	rc.cands = append(rc.cands, candidate{method: method, u: u, source: source})
}

// flush adds what was offered since the last flush in URL, method, then
// source order, so that the per-template cap keeps the first URLs in
// sorted order whatever the order of the pages and links that named
// them. It returns the GET pages to fetch.
func (rc *roleCrawl) flush() []fetchItem {
	cands := rc.cands
	rc.cands = nil
	keys := make([]string, len(cands))
	for i, c := range cands {
		keys[i] = c.u.String()
	}
	idx := make([]int, len(cands))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		x, y := cands[idx[a]], cands[idx[b]]
		if keys[idx[a]] != keys[idx[b]] {
			return keys[idx[a]] < keys[idx[b]]
		}
		if x.method != y.method {
			return x.method < y.method
		}
		return x.source < y.source
	})
	var next []fetchItem
	for _, i := range idx {
		c := cands[i]
		if raw, queue := rc.add(c.method, c.u, keys[i], c.source); queue {
			next = append(next, fetchItem{url: raw})
		}
	}
	return next
}

// fetchAll requests the items with up to lim.concurrency workers, each
// holding a slot of the shared semaphore while its request runs (not
// while its answer is parsed). The pages come back in the order of items; nil for
// those not requested (cancelled) or not to be followed (fetchKept).
func (rc *roleCrawl) fetchAll(ctx context.Context, items []fetchItem) []*page {
	pages := make([]*page, len(items))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(rc.lim.concurrency, len(items)) {
		wg.Go(func() {
			for i := range next {
				// fetchKept takes a slot of rc.sem per request (keep.go).
				rc.fetchKept(ctx, items[i], func(p *page) {
					if pages[i] = p; p != nil {
						rc.prog.step(rc.sess.Name(), false)
					}
				})
			}
		})
	}
feed:
	for i := range items {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	// Pages whose answers wait for a check (session.Keep) are confirmed,
	// or repeated, before any is merged.
	rc.opts.Keeper.Flush(ctx, rc.sess)
	for i, p := range pages {
		if p != nil {
			rc.pages++
			rc.fetched[items[i].url] = true
		}
	}
	return pages
}

// fetch requests one URL with the role's collector, whose callbacks read
// the answer into the page (read). release gives back the slot the
// request holds; it is called once the answer is in, so that parsing
// holds no slot.
func (rc *roleCrawl) fetch(it fetchItem, release func()) *page {
	p := &page{kind: it.kind, release: release, start: time.Now()}
	p.url, _ = url.Parse(it.url) // it.url is normalised
	cctx := colly.NewContext()
	cctx.Put(pageKey, p)
	err := rc.col.Request(http.MethodGet, it.url, nil, cctx, nil)
	p.free() // no callback ran: colly refused the request, or failed after it
	if err != nil && p.err == nil {
		p.err = err
	}
	switch {
	case p.err != nil:
		rc.log.Debug("request failed", "url", rc.redact(it.url), "status", p.status, "error", rc.redact(p.err.Error()))
	case p.atCap:
		rc.log.Info("page read up to crawl.max_body: what it points to past the cap is not read", "url", rc.redact(it.url), "bytes", p.size)
	default:
		rc.log.Debug("page", "url", rc.redact(it.url), "status", p.status, "bytes", p.size)
	}
	return p
}

// extract returns what an answer points to: robots.txt and sitemaps
// their paths and sitemaps, a redirect its Location, other answers their
// links by Content-Type. It is pure (see read).
func (rc *roleCrawl) extract(p *page, h http.Header, body []byte) finds {
	var f finds
	switch p.kind {
	case kindRobots:
		rc.extractRobots(&f, p, body)
		return f
	case kindSitemap:
		rc.extractSitemap(&f, p, body)
		return f
	}
	if p.status >= 300 && p.status < 400 {
		if loc := h.Get("Location"); loc != "" {
			f.offer(p.url, loc, http.MethodGet, sourceRedirect)
		}
	}
	if len(body) == 0 {
		return f
	}
	switch {
	case isJSON(h):
		rc.extractJSON(&f, p, body)
	case isScript(h):
		for _, s := range scriptURLs(string(body)) {
			f.offer(p.url, s, http.MethodGet, sourceScript)
		}
	case htmldoc.Is(h, body):
		links, tokens := extractPage(p.url, body)
		f.tokens = tokens
		f.links = slices.Grow(f.links, len(links)) // after a redirect's Location
		for _, l := range links {
			f.links = append(f.links, candidate{method: l.Method, u: l.URL, source: l.Source})
		}
	}
	return f
}

// ok2xx reports whether a meta document was served.
func ok2xx(p *page) bool { return p.status >= 200 && p.status < 300 && p.err == nil }

func (rc *roleCrawl) extractRobots(f *finds, p *page, body []byte) {
	if !ok2xx(p) {
		return
	}
	r := parseRobots(body)
	if rc.opts.Config.Sources.Sitemap {
		for _, s := range r.sitemaps {
			if u, err := model.Normalize(p.url, s); err == nil && rc.opts.Scope.InOrigin(u) {
				f.sitemaps = append(f.sitemaps, u.String())
			}
		}
	}
	for _, path := range r.paths {
		f.offer(p.url, path, http.MethodGet, sourceRobots)
	}
}

func (rc *roleCrawl) extractSitemap(f *finds, p *page, body []byte) {
	if !ok2xx(p) {
		return
	}
	sm := parseSitemap(body, rc.lim.maxBody)
	for _, loc := range sm.locs {
		if !sm.index {
			f.offer(p.url, loc, http.MethodGet, sourceSitemap)
			continue
		}
		if u, err := model.Normalize(p.url, loc); err == nil && rc.opts.Scope.InOrigin(u) {
			f.sitemaps = append(f.sitemaps, u.String())
		}
	}
}

// extractJSON reads a JSON answer: its URL-looking strings, the
// configured expansions that apply to it, and the values of its keys (for
// API parameters).
func (rc *roleCrawl) extractJSON(f *finds, p *page, body []byte) {
	v, ok := decodeJSON(body)
	if !ok {
		return
	}
	d := readJSON(v)
	for _, s := range d.urls {
		f.offer(p.url, s, http.MethodGet, sourceJSON)
	}
	for k, vs := range d.keys {
		if isCredentialParam(k) {
			continue // a token in an answer never fills a URL
		}
		if f.values == nil {
			f.values = map[string][]string{}
		}
		f.values[k] = vs
	}
	b := roles.Bindings{Self: rc.sess.Name(), Vars: rc.variable}
	for _, e := range rc.opts.Config.Sources.JSON {
		caps, ok := e.Match.Capture(http.MethodGet, p.url, b)
		if !ok {
			continue
		}
		for _, val := range jsonValues(v, e.Path) {
			if raw, ok := expandURL(e, caps, val); ok {
				f.offer(rc.opts.Scope.origin, raw, http.MethodGet, sourceJSON)
			}
		}
	}
}

// merge adds what one page pointed to: its links to the next flush, its
// values to those learned, its sitemaps to the sitemaps to read, which
// it returns. Pages are merged in the order of their depth's sorted
// URLs, so that the caps on values and sitemaps keep the same ones on
// every run, whichever answer arrived first.
func (rc *roleCrawl) merge(f finds) []fetchItem {
	rc.cands = append(rc.cands, f.links...)
	for _, t := range f.tokens {
		if len(rc.tokens) < maxTokens {
			rc.tokens[t] = true
		}
	}
	for k, vs := range f.values {
		for _, x := range vs {
			rc.learn(k, x)
		}
	}
	var next []fetchItem
	for _, s := range f.sitemaps {
		next = append(next, rc.meta(s, kindSitemap)...)
	}
	return next
}

// maxTokens bounds the one-time tokens a role's crawl remembers.
const maxTokens = 100000

// maxValues bounds the values kept per parameter name.
const maxValues = 1000

// learn keeps a value seen for a parameter name (paramKey).
func (rc *roleCrawl) learn(key, v string) {
	m := rc.values[key]
	if m == nil {
		m = map[string]bool{}
		rc.values[key] = m
	}
	if len(m) < maxValues {
		m[v] = true
	}
}

// resolveAPI fills the parameters of the API operations still pending
// and adds those it can; it returns the GET pages to fetch.
func (rc *roleCrawl) resolveAPI() []fetchItem {
	if len(rc.pending) == 0 {
		return nil
	}
	// Values seen in the URLs found since the last time.
	for ; rc.learned < len(rc.order); rc.learned++ {
		ep := rc.order[rc.learned]
		u, err := url.Parse(ep.URL)
		if err != nil {
			continue
		}
		for _, op := range rc.pending {
			for k, v := range op.capture(u) {
				rc.learn(paramKey(k), v)
			}
		}
	}
	var still []apiOp
	for _, op := range rc.pending {
		raw, missing := op.fill(rc.paramValue)
		if missing != "" {
			still = append(still, op)
			continue
		}
		rc.offer(rc.opts.Scope.origin, raw, op.method, SourceOpenAPI)
	}
	rc.pending = still
	return rc.flush()
}

// paramValue is the value of an API parameter for this role: a role
// variable of that name (order_id fills orderId), else the document's
// first example, else the smallest value seen while crawling (shortest
// first), else "".
func (rc *roleCrawl) paramValue(p apiParam) string {
	if v, ok := rc.sess.Var(p.name); ok && v != "" {
		return v
	}
	k := paramKey(p.name)
	var names []string
	for n := range rc.sess.Role.Vars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if paramKey(n) == k {
			if v, ok := rc.sess.Var(n); ok && v != "" {
				return v
			}
		}
	}
	if len(p.examples) > 0 {
		return p.examples[0]
	}
	best := ""
	for v := range rc.values[k] {
		if best == "" || len(v) < len(best) || len(v) == len(best) && v < best {
			best = v
		}
	}
	return best
}

// unresolved lists the API operations no value could be found for as
// skipped, their URL holding the parameter's name.
func (rc *roleCrawl) unresolved() {
	for _, op := range rc.pending {
		_, missing := op.fill(rc.paramValue)
		u, err := model.Normalize(rc.opts.Scope.origin, op.path)
		if err != nil {
			continue
		}
		ep := model.Endpoint{Method: op.method, URL: u.String()}
		rc.skipped[model.Skip{Endpoint: ep, Reason: fmt.Sprintf("unresolved parameter %q", missing), Role: rc.sess.Name()}] = true
	}
	rc.pending = nil
}
