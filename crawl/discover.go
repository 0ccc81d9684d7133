package crawl

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"sync"

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
	crawls := make([]*roleCrawl, len(opts.Sessions))
	var wg sync.WaitGroup
	for i, sess := range opts.Sessions {
		rc := &roleCrawl{
			opts: &opts, lim: lim, sess: sess, sem: sem, prog: prog, srcs: srcs, cls: cls,
			log:         opts.Logger.With("phase", "discover", "role", sess.Name()),
			found:       map[model.Endpoint]map[string]bool{},
			skipped:     map[model.Skip]bool{},
			queued:      map[string]bool{},
			metaQueued:  map[fetchItem]bool{},
			values:      map[string]map[string]bool{},
			perTemplate: map[string]int{},
			cutTemplate: map[model.Endpoint]bool{},
			cutLoop:     map[model.Endpoint]bool{},
			fetched:     map[string]bool{},
			notFetched:  map[string]string{},
		}
		rc.col = newCollector(ctx, opts.Clients[sess.Name()], lim)
		crawls[i] = rc
		wg.Go(func() { rc.run(ctx) })
	}
	wg.Wait()
	return mergeInventory(crawls, lim.maxPerTemplate), ctx.Err()
}

// newCollector returns the discovery collector of one role: synchronous
// (driven by the crawl's own workers), the role's client (its scoped
// transport and jar) with redirects never followed, every status handed
// to OnResponse, no visited set (the crawl deduplicates), no cache, no
// robots.txt, no HEAD before GET.
//
// colly.NewCollector applies COLLY_* environment variables after its
// options, so every setting they can reach is assigned again here, after
// construction: the environment has no effect.
func newCollector(ctx context.Context, client *http.Client, lim limits) *colly.Collector {
	c := colly.NewCollector(colly.StdlibContext(ctx))
	c.UserAgent = lim.userAgent
	c.Headers = nil
	c.MaxDepth = 0    // enforced by roleCrawl
	c.MaxRequests = 0 // enforced by roleCrawl
	c.AllowedDomains = nil
	c.DisallowedDomains = nil
	c.URLFilters = nil
	c.DisallowedURLFilters = nil
	c.AllowURLRevisit = true
	c.MaxBodySize = int(lim.maxBody)
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
			p.status, p.body = r.StatusCode, r.Body
			if r.Headers != nil {
				p.header = *r.Headers
			}
		}
	})
	c.OnError(func(r *colly.Response, err error) {
		if r == nil || r.Ctx == nil {
			return
		}
		if p, ok := r.Ctx.GetAny(pageKey).(*page); ok {
			p.err = err
			if r.StatusCode != 0 && r.Headers != nil {
				p.status, p.body, p.header = r.StatusCode, r.Body, *r.Headers
			}
		}
	})
	return c
}

// pageKey holds a *page in the colly context of a discovery request.
const pageKey = "permaudit.page"

// page is the answer to one discovery request.
type page struct {
	url    *url.URL
	status int // 0: no HTTP answer
	header http.Header
	body   []byte
	err    error
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
	cls  *judge.Classifier // reads answers for the keeper: does this one need confirming?
	prog *progressCounter
	srcs *sourceSet

	cands       []candidate                        // offered since the last flush
	found       map[model.Endpoint]map[string]bool // endpoint -> sources
	order       []model.Endpoint                   // found, in the order first found
	learned     int                                // order[:learned] were read for API parameter values
	skipped     map[model.Skip]bool
	queued      map[string]bool    // GET URLs fetched or to be fetched
	metaQueued  map[fetchItem]bool // robots.txt and sitemaps fetched or to be fetched
	pages       int
	pending     []apiOp                    // API operations not resolved yet
	values      map[string]map[string]bool // paramKey -> values seen in JSON answers and URLs
	perTemplate map[string]int             // template -> endpoints found
	cutTemplate map[model.Endpoint]bool    // left out: the template had its share
	cutLoop     map[model.Endpoint]bool    // left out: a crawl loop
	fetched     map[string]bool            // URLs requested
	notFetched  map[string]string          // URL -> why it was never requested (cutDepth, cutRequests)
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
		if left := max(rc.lim.maxRequests-rc.pages, 0); len(frontier) > left {
			rc.log.Warn("max requests reached", "max_requests", rc.lim.maxRequests, "not_fetched", len(frontier)-left)
			rc.notFetch(frontier[left:], cutRequests)
			frontier = frontier[:left]
		}
		urls := make([]string, len(frontier))
		for i, it := range frontier {
			urls[i] = it.url
		}
		var next []fetchItem
		for i, p := range rc.fetchAll(ctx, urls) {
			if p != nil {
				next = append(next, rc.follow(p, frontier[i].kind)...)
			}
		}
		next = append(next, rc.flush()...)
		next = append(next, rc.resolveAPI()...)
		frontier = next
	}
	rc.unresolved()
}

func (rc *roleCrawl) redact(s string) string { return rc.opts.Config.Secrets.Redact(s) }

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

// reasonSecret is why a discovered URL holding a known secret is skipped.
const reasonSecret = "holds a role's secret: never requested, so that no role sends another's credential"

// add records an endpoint found by source, or why it is left out, and
// reports whether it is a GET URL not queued before. An endpoint skipped
// only for its method (POST forms, API operations) is in the inventory
// and listed as skipped: it is never fetched while discovering. The
// first time an endpoint is found, loops and the per-template cap may
// leave it out (counted, see Cut).
func (rc *roleCrawl) add(method string, u *url.URL, source string) bool {
	ep := model.Endpoint{Method: method, URL: u.String()}
	if red := rc.redact(ep.URL); red != ep.URL && !exemptFromCap(source) {
		// A discovered URL that holds a known secret (a token in a link,
		// a JSON string that is a token): probing it would send one
		// role's credential as every role, and its answers could not be
		// judged as any one role's. A URL the user named is kept.
		rc.skipped[model.Skip{Endpoint: model.Endpoint{Method: method, URL: red}, Reason: reasonSecret, Role: rc.sess.Name()}] = true
		return false
	}
	reason, skip := rc.opts.Scope.Skip(method, u)
	if skip && reason != reasonMethod {
		rc.skipped[model.Skip{Endpoint: ep, Reason: reason, Role: rc.sess.Name()}] = true
		return false
	}
	srcs := rc.found[ep]
	if srcs == nil {
		if isLoop(u) {
			rc.cutLoop[ep] = true
			return false
		}
		t := model.Template(method, ep.URL)
		if rc.perTemplate[t] >= rc.lim.maxPerTemplate && !exemptFromCap(source) {
			rc.cutTemplate[ep] = true
			return false
		}
		rc.perTemplate[t]++
		srcs = map[string]bool{}
		rc.found[ep] = srcs
		rc.order = append(rc.order, ep)
		if skip {
			rc.skipped[model.Skip{Endpoint: ep, Reason: reason, Role: rc.sess.Name()}] = true
		}
	}
	srcs[source] = true
	if method != http.MethodGet || rc.queued[ep.URL] {
		return false
	}
	rc.queued[ep.URL] = true
	return true
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
		if rc.add(c.method, c.u, c.source) {
			next = append(next, fetchItem{url: keys[i]})
		}
	}
	return next
}

// fetchAll requests urls with up to lim.concurrency workers, each holding
// a slot of the shared semaphore while its request runs. The pages come
// back in the order of urls; nil for those not requested (cancelled).
func (rc *roleCrawl) fetchAll(ctx context.Context, urls []string) []*page {
	pages := make([]*page, len(urls))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(rc.lim.concurrency, len(urls)) {
		wg.Go(func() {
			for i := range next {
				// fetchKept takes a slot of rc.sem per request (session.go).
				if pages[i] = rc.fetchKept(ctx, urls[i]); pages[i] != nil {
					rc.prog.step(rc.sess.Name())
				}
			}
		})
	}
feed:
	for i := range urls {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	for i, p := range pages {
		if p != nil {
			rc.pages++
			rc.fetched[urls[i]] = true
		}
	}
	return pages
}

// fetch requests one URL with the role's collector.
func (rc *roleCrawl) fetch(raw string) *page {
	p := &page{}
	p.url, _ = url.Parse(raw) // raw is normalised
	cctx := colly.NewContext()
	cctx.Put(pageKey, p)
	if err := rc.col.Request(http.MethodGet, raw, nil, cctx, nil); err != nil && p.err == nil {
		p.err = err
	}
	if p.err != nil {
		rc.log.Debug("request failed", "url", rc.redact(raw), "status", p.status, "error", rc.redact(p.err.Error()))
	} else {
		rc.log.Debug("page", "url", rc.redact(raw), "status", p.status, "bytes", len(p.body))
	}
	return p
}

// follow records what an answer points to and returns what to fetch
// next.
func (rc *roleCrawl) follow(p *page, kind fetchKind) []fetchItem {
	if p.status == 0 {
		return nil
	}
	switch kind {
	case kindRobots:
		return rc.followRobots(p)
	case kindSitemap:
		return rc.followSitemap(p)
	}
	if p.status >= 300 && p.status < 400 {
		if loc := p.header.Get("Location"); loc != "" {
			rc.offer(p.url, loc, http.MethodGet, sourceRedirect)
		}
	}
	if len(p.body) == 0 {
		return nil
	}
	switch {
	case isJSON(p.header):
		rc.followJSON(p)
	case isScript(p.header):
		for _, s := range scriptURLs(string(p.body)) {
			rc.offer(p.url, s, http.MethodGet, sourceScript)
		}
	case htmldoc.Is(p.header, p.body):
		for _, l := range extractLinks(p.url, p.body) {
			rc.offerURL(l.Method, l.URL, l.Source)
		}
	}
	return nil
}

// ok2xx reports whether a meta document was served.
func ok2xx(p *page) bool { return p.status >= 200 && p.status < 300 && p.err == nil }

func (rc *roleCrawl) followRobots(p *page) []fetchItem {
	if !ok2xx(p) {
		return nil
	}
	r := parseRobots(p.body)
	var next []fetchItem
	if rc.opts.Config.Sources.Sitemap {
		for _, s := range r.sitemaps {
			if u, err := model.Normalize(p.url, s); err == nil && rc.opts.Scope.InOrigin(u) {
				next = append(next, rc.meta(u.String(), kindSitemap)...)
			}
		}
	}
	for _, path := range r.paths {
		rc.offer(p.url, path, http.MethodGet, sourceRobots)
	}
	return next
}

func (rc *roleCrawl) followSitemap(p *page) []fetchItem {
	if !ok2xx(p) {
		return nil
	}
	sm := parseSitemap(p.body, rc.lim.maxBody)
	var next []fetchItem
	for _, loc := range sm.locs {
		if !sm.index {
			rc.offer(p.url, loc, http.MethodGet, sourceSitemap)
			continue
		}
		if u, err := model.Normalize(p.url, loc); err == nil && rc.opts.Scope.InOrigin(u) {
			next = append(next, rc.meta(u.String(), kindSitemap)...)
		}
	}
	return next
}

// followJSON reads a JSON answer: its URL-looking strings, the
// configured expansions that apply to it, and the values of its keys (for
// API parameters).
func (rc *roleCrawl) followJSON(p *page) {
	v, ok := decodeJSON(p.body)
	if !ok {
		return
	}
	d := readJSON(v)
	for _, s := range d.urls {
		rc.offer(p.url, s, http.MethodGet, sourceJSON)
	}
	for k, vs := range d.keys {
		if isCredentialParam(k) {
			continue // a token in an answer never fills a URL
		}
		for _, x := range vs {
			rc.learn(k, x)
		}
	}
	b := roles.Bindings{Self: rc.sess.Name(), Vars: rc.variable}
	for _, e := range rc.opts.Config.Sources.JSON {
		caps, ok := e.Match.Capture(http.MethodGet, p.url, b)
		if !ok {
			continue
		}
		for _, val := range jsonValues(v, e.Path) {
			if raw, ok := expandURL(e, caps, val); ok {
				rc.offer(rc.opts.Scope.origin, raw, http.MethodGet, sourceJSON)
			}
		}
	}
}

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
