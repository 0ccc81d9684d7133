package roles

// The scope and crawl sections (docs/config.md), and the patterns and
// {role.var} references they are written with.

import (
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Defaults of the crawl section (docs/config.md). The User-Agent default
// holds the version, which roles does not know: Load leaves
// CrawlConfig.UserAgent empty and the caller fills it in.
const (
	defaultMaxDepth    = 6
	defaultMaxRequests = 2000
	defaultConcurrency = 8
	defaultTimeout     = 10 * time.Second
	defaultMaxBody     = 1 << 20
)

func (w *walker) scope(n *yaml.Node, c *Config) ScopeConfig {
	var s ScopeConfig
	if n == nil {
		return s
	}
	f := w.fields(n, "scope", "exclude", "exclude_words", "allow_methods")
	if an := f["allow_methods"]; an != nil {
		s.AllowMethods = w.allowMethods(an, c)
	}
	if en := f["exclude"]; en != nil {
		for _, it := range w.list(en, "scope.exclude") {
			if p, ok := w.pattern(it, c); ok {
				s.Exclude = append(s.Exclude, p)
			}
		}
	}
	if wn := f["exclude_words"]; wn != nil {
		s.ExcludeWords = []string{}
		for _, it := range w.list(wn, "scope.exclude_words") {
			v, ok := w.str(it.n, it.path)
			if !ok {
				continue
			}
			if strings.TrimSpace(v) == "" {
				w.errorf(it.n, it.path, "empty word")
				continue
			}
			s.ExcludeWords = append(s.ExcludeWords, v)
		}
	}
	return s
}

// pattern parses a pattern and checks its role variable references.
func (w *walker) pattern(it item, c *Config) (Pattern, bool) {
	s, ok := w.str(it.n, it.path)
	if !ok {
		return Pattern{}, false
	}
	p, err := parsePattern(s)
	if err != nil {
		w.errorf(it.n, it.path, "pattern %q: %v", s, err)
		return Pattern{}, false
	}
	return p, w.checkRefs(it, p.VarRefs(), c)
}

// checkRefs checks "role.var" references: the role must exist ("self" is
// every role) and declare the variable, in vars or in login.capture.
func (w *walker) checkRefs(it item, refs []string, c *Config) bool {
	ok := true
	for _, ref := range refs {
		role, name, _ := strings.Cut(ref, ".")
		if role == "self" {
			continue
		}
		r := c.Role(role)
		if r == nil {
			w.errorf(it.n, it.path, "{%s}: unknown role %q", ref, role)
			ok = false
			continue
		}
		if _, has := r.Vars[name]; !has && !r.Login.captures(name) {
			w.errorf(it.n, it.path, "{%s}: role %s declares no variable %s", ref, role, name)
			ok = false
		}
	}
	return ok
}

var varRefRE = regexp.MustCompile(`\{([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\}`)

func (w *walker) crawl(n *yaml.Node, c *Config) CrawlConfig {
	cc := CrawlConfig{
		Start:       []string{"/"},
		MaxDepth:    defaultMaxDepth,
		MaxRequests: defaultMaxRequests,
		Concurrency: defaultConcurrency,
		Timeout:     defaultTimeout,
		MaxBody:     defaultMaxBody,

		Retries:       defaultRetries,
		MaxRetryAfter: defaultMaxRetryAfter,
		MaxProbes:     defaultMaxProbes,
		RunIDHeader:   DefaultRunIDHeader,

		MaxPerTemplate: DefaultMaxPerTemplate,
	}
	if n == nil {
		return cc
	}
	f := w.fields(n, "crawl", "start", "max_depth", "max_requests", "concurrency", "timeout", "max_body", "user_agent", "max_per_template",
		"rate", "host_rate", "retries", "max_retry_after", "max_duration", "max_probes", "run_id_header")
	w.crawlSafety(f, &cc)
	if sn := f["start"]; sn != nil {
		var starts []string
		for _, it := range w.list(sn, "crawl.start") {
			s, ok := w.str(it.n, it.path)
			if !ok {
				continue
			}
			if err := checkInScope(s, c.Target); err != nil {
				w.errorf(it.n, it.path, "%v", err)
				continue
			}
			var refs []string
			for _, m := range varRefRE.FindAllStringSubmatch(s, -1) {
				refs = append(refs, m[1]+"."+m[2])
			}
			if w.checkRefs(it, refs, c) {
				starts = append(starts, s)
			}
		}
		if len(starts) == 0 && deref(sn).Kind == yaml.SequenceNode && len(deref(sn).Content) == 0 {
			w.errorf(sn, "crawl.start", "empty: give at least one start URL, or leave it out for [\"/\"]")
		}
		if len(starts) > 0 {
			cc.Start = starts
		}
	}
	if v, ok := w.optInt(f, "max_depth", 0, 1000); ok {
		cc.MaxDepth = int(v)
	}
	if v, ok := w.optInt(f, "max_requests", 1, 10_000_000); ok {
		cc.MaxRequests = int(v)
	}
	if v, ok := w.optInt(f, "concurrency", 1, 64); ok {
		cc.Concurrency = int(v)
	}
	if v, ok := w.optInt(f, "max_body", 1, 1<<30); ok {
		cc.MaxBody = v
	}
	if v, ok := w.optInt(f, "max_per_template", 1, 1_000_000); ok {
		cc.MaxPerTemplate = int(v)
	}
	if tn := f["timeout"]; tn != nil {
		if s, ok := w.str(tn, "crawl.timeout"); ok {
			d, err := time.ParseDuration(strings.TrimSpace(s))
			switch {
			case err != nil:
				w.errorf(tn, "crawl.timeout", "%q is not a Go duration such as 10s or 1m30s", s)
			case d <= 0 || d > time.Hour:
				w.errorf(tn, "crawl.timeout", "%v is out of range: more than 0, at most 1h", d)
			default:
				cc.Timeout = d
			}
		}
	}
	if un := f["user_agent"]; un != nil {
		if s, ok := w.str(un, "crawl.user_agent"); ok {
			if strings.TrimSpace(s) == "" || hasCtl(s) {
				w.errorf(un, "crawl.user_agent", "must be non-empty, without control characters")
			} else {
				cc.UserAgent = s
			}
		}
	}
	return cc
}

func (w *walker) optInt(f map[string]*yaml.Node, key string, lo, hi int64) (int64, bool) {
	n := f[key]
	if n == nil {
		return 0, false
	}
	return w.integer(n, "crawl."+key, lo, hi)
}
