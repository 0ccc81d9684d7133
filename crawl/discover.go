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

	"github.com/permaudit/permaudit/roles"
)

var (
	// reVarRef is a role variable reference in a start URL: {role.var}.
	reVarRef = regexp.MustCompile(`\{([^{}./]+)\.([^{}./]+)\}`)
	// rePlaceholder is any "{...}" left after expansion.
	rePlaceholder = regexp.MustCompile(`\{[^{}/]*\}`)
)

func discover(ctx context.Context, opts Options) (*Inventory, error) {
	opts, lim, err := prepare(opts)
	if err != nil {
		return nil, fmt.Errorf("discover: %w", err)
	}
	prog := &progressCounter{fn: opts.Progress, phase: "discover"}
	// One slot per request in flight, shared by every role: discovery is
	// as polite as the probe phase.
	sem := make(chan struct{}, lim.concurrency)
	crawls := make([]*roleCrawl, len(opts.Sessions))
	var wg sync.WaitGroup
	for i, sess := range opts.Sessions {
		rc := &roleCrawl{
			opts: &opts, lim: lim, sess: sess, sem: sem, prog: prog,
			log:     opts.Logger.With("phase", "discover", "role", sess.Name()),
			found:   map[Endpoint]map[string]bool{},
			skipped: map[Skip]bool{},
			queued:  map[string]bool{},
		}
		rc.col = newCollector(ctx, opts.Clients[sess.Name()], lim)
		crawls[i] = rc
		wg.Go(func() { rc.run(ctx) })
	}
	wg.Wait()
	return mergeInventory(crawls), ctx.Err()
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
	cl.Timeout = lim.timeout
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

// roleCrawl is the discovery of one role: breadth first, one link depth
// at a time, each depth's URLs fetched in sorted order by bounded
// workers, so that the caps keep the same URLs on every run.
//
// Only run's goroutine touches found, skipped, queued and pages.
type roleCrawl struct {
	opts *Options
	lim  limits
	sess *roles.Session
	col  *colly.Collector
	log  *slog.Logger
	sem  chan struct{}
	prog *progressCounter

	found   map[Endpoint]map[string]bool // endpoint -> sources
	skipped map[Skip]bool
	queued  map[string]bool // GET URLs fetched or to be fetched
	pages   int
}

func (rc *roleCrawl) run(ctx context.Context) {
	var frontier []string
	for _, s := range rc.lim.start {
		raw, ok := rc.expand(s)
		if !ok {
			rc.log.Warn("start URL skipped: unresolved variable", "start", s)
			continue
		}
		u, err := Normalize(rc.opts.Scope.origin, raw)
		if err != nil {
			rc.log.Warn("start URL skipped", "start", s, "error", err)
			continue
		}
		if rc.add(http.MethodGet, u, sourceStart) {
			frontier = append(frontier, u.String())
		}
	}
	for depth := 0; len(frontier) > 0 && ctx.Err() == nil; depth++ {
		if depth > rc.lim.maxDepth {
			rc.log.Info("max depth reached", "depth", rc.lim.maxDepth, "not_fetched", len(frontier))
			return
		}
		sort.Strings(frontier)
		if left := rc.lim.maxRequests - rc.pages; len(frontier) > left {
			rc.log.Warn("max requests reached", "max_requests", rc.lim.maxRequests, "not_fetched", len(frontier)-left)
			frontier = frontier[:left]
		}
		var next []string
		for _, p := range rc.fetchAll(ctx, frontier) {
			if p != nil {
				next = append(next, rc.follow(p)...)
			}
		}
		frontier = next
	}
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

// add records an endpoint found by source, or why it is skipped, and
// reports whether it is a GET URL not queued before.
func (rc *roleCrawl) add(method string, u *url.URL, source string) bool {
	ep := Endpoint{Method: method, URL: u.String()}
	if reason, skip := rc.opts.Scope.Skip(method, u); skip {
		rc.skipped[Skip{Endpoint: ep, Reason: reason, Role: rc.sess.Name()}] = true
		return false
	}
	srcs := rc.found[ep]
	if srcs == nil {
		srcs = map[string]bool{}
		rc.found[ep] = srcs
	}
	srcs[source] = true
	if method != http.MethodGet || rc.queued[ep.URL] {
		return false
	}
	rc.queued[ep.URL] = true
	return true
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
				select {
				case rc.sem <- struct{}{}:
				case <-ctx.Done():
					continue
				}
				pages[i] = rc.fetch(urls[i])
				<-rc.sem
				rc.prog.step(rc.sess.Name())
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
	for _, p := range pages {
		if p != nil {
			rc.pages++
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
	secrets := rc.opts.Config.Secrets
	if p.err != nil {
		rc.log.Debug("request failed", "url", secrets.Redact(raw), "status", p.status, "error", secrets.Redact(p.err.Error()))
	} else {
		rc.log.Debug("page", "url", secrets.Redact(raw), "status", p.status, "bytes", len(p.body))
	}
	return p
}

// follow records what a page points to and returns the GET URLs to fetch
// next: its in-scope redirect target and the links of an HTML body,
// whatever the status.
func (rc *roleCrawl) follow(p *page) []string {
	if p.status == 0 {
		return nil
	}
	var next []string
	if p.status >= 300 && p.status < 400 {
		if loc := p.header.Get("Location"); loc != "" {
			if u, err := Normalize(p.url, loc); err == nil && rc.add(http.MethodGet, u, sourceRedirect) {
				next = append(next, u.String())
			}
		}
	}
	if len(p.body) > 0 && isHTML(p.header, p.body) {
		for _, l := range extractLinks(p.url, p.body) {
			if rc.add(l.Method, l.URL, l.Source) {
				next = append(next, l.URL.String())
			}
		}
	}
	return next
}

// mergeInventory unites the findings of every role: entries by endpoint
// with their roles and sources, skips by endpoint and reason with the
// first role (in role order) that met them.
func mergeInventory(crawls []*roleCrawl) *Inventory {
	inv := &Inventory{Entries: []Entry{}, Skipped: []Skip{}, Pages: map[string]int{}}
	entries := map[Endpoint]*Entry{}
	type skipKey struct {
		ep     Endpoint
		reason string
	}
	skips := map[skipKey]bool{}
	for _, rc := range crawls {
		role := rc.sess.Name()
		inv.Pages[role] += rc.pages
		for ep, srcs := range rc.found {
			e := entries[ep]
			if e == nil {
				e = &Entry{Endpoint: ep, Template: Template(ep.Method, ep.URL)}
				entries[ep] = e
			}
			e.FoundBy = appendNew(e.FoundBy, role)
			for s := range srcs {
				e.Sources = appendNew(e.Sources, s)
			}
		}
		for s := range rc.skipped {
			k := skipKey{s.Endpoint, s.Reason}
			if !skips[k] {
				skips[k] = true
				inv.Skipped = append(inv.Skipped, s)
			}
		}
	}
	for _, e := range entries {
		sort.Strings(e.FoundBy)
		sort.Strings(e.Sources)
		inv.Entries = append(inv.Entries, *e)
	}
	sort.Slice(inv.Entries, func(i, j int) bool { return lessEndpoint(inv.Entries[i].Endpoint, inv.Entries[j].Endpoint) })
	sort.Slice(inv.Skipped, func(i, j int) bool {
		a, b := inv.Skipped[i], inv.Skipped[j]
		if a.Endpoint != b.Endpoint {
			return lessEndpoint(a.Endpoint, b.Endpoint)
		}
		return a.Reason < b.Reason
	})
	return inv
}

func lessEndpoint(a, b Endpoint) bool {
	if a.URL != b.URL {
		return a.URL < b.URL
	}
	return a.Method < b.Method
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
