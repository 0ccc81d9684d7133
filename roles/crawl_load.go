package roles

// The scope and crawl sections (docs/config.md), and the patterns and
// {role.var} references they are written with.

import (
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/permaudit/permaudit/internal/yamlwalk"
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
	f := w.Fields(n, "scope", "exclude", "exclude_words", "allow_methods")
	if an := f["allow_methods"]; an != nil {
		s.AllowMethods = w.allowMethods(an, c)
	}
	if en := f["exclude"]; en != nil {
		for _, it := range w.List(en, "scope.exclude") {
			if p, ok := w.pattern(it, c); ok {
				s.Exclude = append(s.Exclude, p)
			}
		}
	}
	if wn := f["exclude_words"]; wn != nil {
		s.ExcludeWords = []string{}
		for _, it := range w.List(wn, "scope.exclude_words") {
			v, ok := w.Str(it.N, it.Path)
			if !ok {
				continue
			}
			if strings.TrimSpace(v) == "" {
				w.Errorf(it.N, it.Path, "empty word")
				continue
			}
			s.ExcludeWords = append(s.ExcludeWords, v)
		}
	}
	return s
}

// pattern parses a pattern and checks its role variable references.
func (w *walker) pattern(it yamlwalk.Item, c *Config) (Pattern, bool) {
	s, ok := w.Str(it.N, it.Path)
	if !ok {
		return Pattern{}, false
	}
	p, err := parsePattern(s)
	if err != nil {
		w.Errorf(it.N, it.Path, "pattern %q: %v", s, err)
		return Pattern{}, false
	}
	return p, w.checkRefs(it, p.VarRefs(), c)
}

// checkRefs checks "role.var" references: the role must exist ("self" is
// every role) and declare the variable, in vars or in login.capture.
func (w *walker) checkRefs(it yamlwalk.Item, refs []string, c *Config) bool {
	ok := true
	for _, ref := range refs {
		role, name, _ := strings.Cut(ref, ".")
		if who := secretCapture(c, role, name); who != "" {
			w.Errorf(it.N, it.Path, "{%s}: role %s captures %s as a secret (from a credential header, or named like a secret), so no rule or URL may use it: it would be redacted wherever it appears; capture the value under a name that is not secret-like, or from the body", ref, who, name)
			ok = false
			continue
		}
		if role == "self" {
			continue
		}
		r := c.Role(role)
		if r == nil {
			w.Errorf(it.N, it.Path, "{%s}: unknown role %q", ref, role)
			ok = false
			continue
		}
		if _, has := r.Vars[name]; !has && !r.Login.captures(name) {
			w.Errorf(it.N, it.Path, "{%s}: role %s declares no variable %s", ref, role, name)
			ok = false
		}
	}
	return ok
}

// secretCapture returns the role that captures the variable name as a
// secret (Capture.Secret): role itself, or any role for "self"; "" when
// none does.
func secretCapture(c *Config, role, name string) string {
	for _, r := range c.Roles {
		if role != "self" && r.Name != role {
			continue
		}
		for _, cp := range r.Login.Capture {
			if cp.Var == name && cp.Secret() {
				return r.Name
			}
		}
	}
	return ""
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

		MaxPerTemplate:   DefaultMaxPerTemplate,
		MaxQueryVariants: DefaultMaxQueryVariants,
	}
	if n == nil {
		return cc
	}
	f := w.Fields(n, "crawl", "start", "max_depth", "max_requests", "concurrency", "timeout", "max_body", "user_agent", "max_per_template", "max_query_variants",
		"rate", "host_rate", "retries", "max_retry_after", "max_duration", "max_probes", "run_id_header")
	w.crawlSafety(f, &cc)
	if sn := f["start"]; sn != nil {
		var starts []string
		for _, it := range w.List(sn, "crawl.start") {
			s, ok := w.Str(it.N, it.Path)
			if !ok {
				continue
			}
			if err := checkInScope(s, c.Target); err != nil {
				w.Errorf(it.N, it.Path, "%v", err)
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
		if len(starts) == 0 && sn.Kind == yaml.SequenceNode && len(sn.Content) == 0 {
			w.Errorf(sn, "crawl.start", "empty: give at least one start URL, or leave it out for [\"/\"]")
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
	if v, ok := w.optInt(f, "max_query_variants", 1, 1_000_000); ok {
		cc.MaxQueryVariants = int(v)
	}
	if tn := f["timeout"]; tn != nil {
		if d, ok := w.Duration(tn, "crawl.timeout"); ok {
			if d <= 0 || d > time.Hour {
				w.Errorf(tn, "crawl.timeout", "%v is out of range: more than 0, at most 1h", d)
			} else {
				cc.Timeout = d
			}
		}
	}
	if un := f["user_agent"]; un != nil {
		if s, ok := w.Str(un, "crawl.user_agent"); ok {
			if strings.TrimSpace(s) == "" || hasCtl(s) {
				w.Errorf(un, "crawl.user_agent", "must be non-empty, without control characters")
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
	return w.Int(n, "crawl."+key, lo, hi)
}
