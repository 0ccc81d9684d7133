package crawl

import (
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/permaudit/permaudit/roles"
)

// Defaults for a configuration built in code with zero crawl settings;
// roles.Load fills the same values in. A max_depth of zero is not unset:
// it fetches the start URLs and the declared sources and follows nothing.
const (
	defaultMaxRequests = 2000
	defaultConcurrency = 8
	defaultMaxBody     = 1 << 20
)

// limits are the crawl settings of a configuration with defaults applied.
type limits struct {
	maxDepth    int
	maxRequests int
	concurrency int
	timeout     time.Duration
	maxBody     int64
	userAgent   string
	start       []string
	// maxPerTemplate is the most concrete URLs of one template kept.
	maxPerTemplate int
	// maxQueryVariants is the most query variants of one path kept
	// (frontier.go).
	maxQueryVariants int
}

func limitsOf(cfg *roles.Config) limits {
	c := cfg.Crawl
	l := limits{
		maxDepth: c.MaxDepth, maxRequests: c.MaxRequests, concurrency: c.Concurrency,
		timeout: c.Timeout, maxBody: c.MaxBody, userAgent: c.UserAgent, start: c.Start,
	}
	if l.maxDepth < 0 {
		l.maxDepth = 0 // zero means zero (crawl.max_depth: 0)
	}
	if l.maxRequests <= 0 {
		l.maxRequests = defaultMaxRequests
	}
	if l.concurrency <= 0 {
		l.concurrency = defaultConcurrency
	}
	l.concurrency = min(l.concurrency, maxConcurrency)
	if l.timeout <= 0 {
		l.timeout = defaultTimeout
	}
	if l.maxBody <= 0 {
		l.maxBody = defaultMaxBody
	}
	if l.userAgent == "" {
		l.userAgent = defaultUserAgent
	}
	if len(l.start) == 0 {
		l.start = []string{"/"}
	}
	l.maxPerTemplate = c.MaxPerTemplate
	if l.maxPerTemplate <= 0 {
		l.maxPerTemplate = roles.DefaultMaxPerTemplate
	}
	l.maxQueryVariants = c.MaxQueryVariants
	if l.maxQueryVariants <= 0 {
		l.maxQueryVariants = roles.DefaultMaxQueryVariants
	}
	return l
}

// prepare checks opts and fills in what may be left out: the scope, the
// logger and the clients of roles without one.
func prepare(opts Options) (Options, limits, error) {
	if opts.Config == nil {
		return opts, limits{}, errors.New("no configuration")
	}
	if opts.Scope == nil {
		s, err := NewScope(opts.Config)
		if err != nil {
			return opts, limits{}, err
		}
		opts.Scope = s
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Secrets == nil {
		opts.Secrets = opts.Config.Secrets
	}
	lim := limitsOf(opts.Config)
	if opts.UserAgent != "" && opts.Config.Crawl.UserAgent == "" {
		lim.userAgent = opts.UserAgent
	}
	clients := make(map[string]*http.Client, len(opts.Sessions))
	var shared *Transport // for the roles without a client: the config's rules
	for _, s := range opts.Sessions {
		if s == nil || s.Role == nil {
			return opts, limits{}, errors.New("session without role")
		}
		c := opts.Clients[s.Name()]
		if c == nil {
			if shared == nil {
				t, err := NewTransport(TransportOptionsFor(opts.Config))
				if err != nil {
					return opts, limits{}, err
				}
				shared = t
			}
			c = NewClient(opts.Scope, s, ClientOptions{UserAgent: lim.userAgent, Transport: shared, AllowPlainHTTP: opts.Config.AllowPlainHTTP})
		}
		clients[s.Name()] = c
	}
	opts.Clients = clients
	return opts, lim, nil
}

// progressCounter counts the requests of one phase and reports each to
// the callback, one at a time so that Done never goes backwards.
type progressCounter struct {
	fn    func(Progress)
	phase string
	total int

	mu       sync.Mutex
	done     int
	findings int
}

func (p *progressCounter) step(role string, finding bool) {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if finding {
		p.findings++
	}
	p.fn(Progress{Phase: p.phase, Role: role, Done: p.done, Total: p.total, Findings: p.findings})
}
