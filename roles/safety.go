package roles

import (
	"fmt"
	"math"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Defaults of the safety settings (docs/config.md).
const (
	// DefaultRunIDHeader names the header that carries the run id on
	// every request.
	DefaultRunIDHeader   = "X-Permaudit-Run"
	defaultRetries       = 3
	maxRetries           = 3
	defaultMaxRetryAfter = 30 * time.Second
	defaultMaxProbes     = 100_000
)

// TLSConfig says how the target's certificate is verified.
type TLSConfig struct {
	// CAFile is a PEM file of certificates trusted besides the system's,
	// as an absolute path (Load resolves it against the configuration's
	// directory). Empty: the system's only.
	CAFile string
	// Insecure turns certificate verification off (--insecure).
	Insecure bool
}

// Unlimited is the Rate of "rate: unlimited".
var Unlimited = math.Inf(1)

// ParseRate reads a request rate: "50/s", "600/m", "3600/h", a bare
// number of requests per second ("20", "0.5"), or "unlimited" (+Inf).
func ParseRate(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "unlimited") {
		return Unlimited, nil
	}
	num, unit, hasUnit := strings.Cut(s, "/")
	per := 1.0
	if hasUnit {
		switch strings.TrimSpace(unit) {
		case "s":
		case "m":
			per = 60
		case "h":
			per = 3600
		default:
			return 0, fmt.Errorf("rate %q: the unit after / must be s, m or h, as in 50/s", s)
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("rate %q: want requests per second or per unit, such as 50/s or 600/m, or unlimited", s)
	}
	if v <= 0 {
		return 0, fmt.Errorf("rate %q: must be more than 0; write unlimited for no limit", s)
	}
	if v/per == 0 {
		return 0, fmt.Errorf("rate %q: too small to represent; write at least 1/h", s)
	}
	return v / per, nil
}

// FormatRate renders a rate as ParseRate reads it.
func FormatRate(r float64) string {
	if r <= 0 || math.IsInf(r, 1) {
		return "unlimited"
	}
	return strconv.FormatFloat(r, 'f', -1, 64) + "/s"
}

// safety reads the top-level safety fields: allow_plain_http, tls, proxy.
func (w *walker) safety(f map[string]*yaml.Node, c *Config) {
	if n := f["allow_plain_http"]; n != nil {
		if v, ok := w.Bool(n, "allow_plain_http"); ok {
			c.AllowPlainHTTP = v
		}
	}
	if n := f["tls"]; n != nil {
		tf := w.Fields(n, "tls", "ca_file", "insecure")
		if cn := tf["ca_file"]; cn != nil {
			if s, ok := w.Str(cn, "tls.ca_file"); ok {
				p := s
				if !filepath.IsAbs(p) && w.File != "" {
					p = filepath.Join(filepath.Dir(w.File), p)
				}
				switch st, err := os.Stat(p); {
				case strings.TrimSpace(s) == "":
					w.Errorf(cn, "tls.ca_file", "empty: give a PEM file of CA certificates, or leave it out")
				case err != nil:
					w.Errorf(cn, "tls.ca_file", "cannot read %s: %v", p, unwrapPathError(err))
				case st.IsDir():
					w.Errorf(cn, "tls.ca_file", "%s is a directory: give a PEM file of CA certificates", p)
				default:
					c.TLS.CAFile = p
				}
			}
		}
		if in := tf["insecure"]; in != nil {
			if v, ok := w.Bool(in, "tls.insecure"); ok {
				c.TLS.Insecure = v
			}
		}
	}
	if n := f["proxy"]; n != nil {
		if s, ok := w.Str(n, "proxy"); ok {
			if err := CheckProxy(s); err != nil {
				w.Errorf(n, "proxy", "%v", err)
			} else {
				c.Proxy = s
			}
		}
	}
}

// CheckProxy validates a proxy URL: http, https or socks5, with a host.
func CheckProxy(s string) error {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("invalid proxy URL: %v", unwrapURLError(err))
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return fmt.Errorf("proxy %q: want an http, https or socks5 URL such as http://127.0.0.1:8081", s)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("proxy %q has no host", s)
	}
	return nil
}

// allowMethods reads scope.allow_methods: patterns that each name a method
// other than GET and HEAD.
func (w *walker) allowMethods(n *yaml.Node, c *Config) []Pattern {
	var out []Pattern
	for _, it := range w.List(n, "scope.allow_methods") {
		p, ok := w.pattern(it, c)
		if !ok {
			continue
		}
		switch p.Method {
		case "":
			w.Errorf(it.N, it.Path, "pattern %q names no method: write the method to allow, such as \"POST /api/search\"", p.Raw)
			continue
		case "GET", "HEAD":
			w.Errorf(it.N, it.Path, "pattern %q: GET and HEAD are always allowed; list other methods only", p.Raw)
			continue
		}
		out = append(out, p)
	}
	return out
}

// crawlSafety reads the politeness fields of the crawl section into cc.
func (w *walker) crawlSafety(f map[string]*yaml.Node, cc *CrawlConfig) {
	rate := func(key string, dst *float64) {
		n := f[key]
		if n == nil {
			return
		}
		s, ok := w.Str(n, "crawl."+key)
		if !ok {
			return
		}
		v, err := ParseRate(s)
		if err != nil {
			w.Errorf(n, "crawl."+key, "%v", err)
			return
		}
		*dst = v
	}
	rate("rate", &cc.Rate)
	rate("host_rate", &cc.HostRate)
	if v, ok := w.optInt(f, "retries", 0, maxRetries); ok {
		cc.Retries = int(v)
	}
	if v, ok := w.optInt(f, "max_probes", 1, 100_000_000); ok {
		cc.MaxProbes = int(v)
	}
	if n := f["max_retry_after"]; n != nil {
		if d, ok := w.DurationIn(n, "crawl.max_retry_after", 0, 10*time.Minute); ok {
			cc.MaxRetryAfter = d
		}
	}
	if n := f["max_duration"]; n != nil {
		if d, ok := w.DurationIn(n, "crawl.max_duration", time.Second, 30*24*time.Hour); ok {
			cc.MaxDuration = d
		}
	}
	if n := f["run_id_header"]; n != nil {
		if s, ok := w.Str(n, "crawl.run_id_header"); ok {
			ck := textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(s))
			switch {
			case s == "":
				cc.RunIDHeader = "" // turned off
			case !isToken(strings.TrimSpace(s)):
				w.Errorf(n, "crawl.run_id_header", "%q is not a valid header name; write \"\" to send no run id", s)
			case ck == "Host" || ck == "Cookie" || ck == "Authorization" || ck == "Content-Length" || ck == "User-Agent":
				w.Errorf(n, "crawl.run_id_header", "header %s may not carry the run id", ck)
			default:
				cc.RunIDHeader = ck
			}
		}
	}
}
