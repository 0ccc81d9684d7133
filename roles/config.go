package roles

import (
	"sync/atomic"
	"time"

	"github.com/permaudit/permaudit/internal/yamlwalk"
)

// Config is a loaded and validated audit configuration. Load builds it from
// YAML; every field below has been checked, ${ENV} references are expanded,
// and every secret value is known to Secrets.
type Config struct {
	// File is the path the configuration was read from ("" when built in code).
	File string

	// Target is the base URL of the application under audit, such as
	// "http://127.0.0.1:8080". It is absolute, http or https, and has no
	// query or fragment. --target overrides it (see SetTarget).
	Target string

	// LoginURL is the application's sign-in page, as a path ("/login") or an
	// absolute in-scope URL. A redirect to it, or a page served in place that
	// holds its form (or a sign-in form posting back in place), is read as
	// "unauthenticated". Empty when not configured.
	LoginURL string

	Scope   ScopeConfig
	Crawl   CrawlConfig
	Sources SourcesConfig
	Roles   []*Role // config order; "anonymous" always first
	Denials []Denial
	Matrix  Matrix

	// Outputs are "FORMAT=PATH" specifications, as taken by --out.
	Outputs []string
	// FailOn lists the verdicts that fail the gate; nil means the default.
	FailOn []string

	// AllowPlainHTTP lets credentials go over plain HTTP to a host that is
	// not loopback; without it such a configuration is refused.
	AllowPlainHTTP bool
	// TLS says how the target's certificate is verified.
	TLS TLSConfig
	// Proxy is an http, https or socks5 proxy URL every request goes
	// through (--proxy); empty: HTTPS_PROXY, HTTP_PROXY and NO_PROXY.
	Proxy string

	// Secrets knows every secret value the configuration holds (credentials
	// and every value expanded from ${ENV}), by name.
	Secrets *Redactor

	// matrix is Matrix.Rules compiled for lookups (compiled.go), at the
	// first.
	matrix atomic.Pointer[matrixIndex]

	// fingerprint is computed by Load from the configuration with secret
	// values replaced by their names.
	fingerprint string
}

// ScopeConfig says what may be requested beyond the target's origin.
type ScopeConfig struct {
	// Exclude lists patterns (method optional) never requested by any role,
	// added to the exclusion words.
	Exclude []Pattern
	// ExcludeWords are matched case-insensitively as substrings of the path
	// and query of every endpoint; a match is never requested. Nil means
	// DefaultExcludeWords; an empty, non-nil slice disables them.
	ExcludeWords []string
	// AllowMethods opts in to methods other than GET and HEAD, per
	// pattern; each names its method. Such a method is sent only to
	// endpoints declared (config, OpenAPI, HAR), never to crawled ones.
	AllowMethods []Pattern
}

// DefaultExcludeWords are the session-ending and destructive words that no
// endpoint may contain to be requested (docs/design.md, "Safety").
var DefaultExcludeWords = []string{
	"logout", "log-out", "signout", "sign-out", "logoff",
	"delete", "destroy", "remove", "revoke", "trash",
}

// CrawlConfig bounds discovery and probing.
type CrawlConfig struct {
	Start       []string      // paths or in-scope URLs; default ["/"]
	MaxDepth    int           // link depth from a start URL; default 6
	MaxRequests int           // discovery requests per role; default 2000
	Concurrency int           // requests in flight at once, every role and phase; default 8
	Timeout     time.Duration // per request; default 10s
	MaxBody     int64         // bytes read of a body; default 1 MiB
	UserAgent   string        // default "permaudit/<version> (+authorised permission audit)": Load leaves it "" and the caller, who knows the version, fills it in

	// Politeness (docs/config.md). Rates are requests per second: 0 is
	// "not configured" (the default for the target applies), Unlimited
	// (+Inf) is no limit.
	Rate          float64       // every request of the run
	HostRate      float64       // each host
	Retries       int           // of a GET or HEAD after a transient failure, 0..3; default 3
	MaxRetryAfter time.Duration // longest Retry-After honoured; default 30s
	MaxDuration   time.Duration // of the whole run; 0: none
	MaxProbes     int           // probes of a run; default 100000
	RunIDHeader   string        // header carrying the run id; default DefaultRunIDHeader; "": none

	// MaxPerTemplate is how many concrete URLs of one template the
	// inventory keeps (DefaultMaxPerTemplate); 0 in a configuration built
	// in code means the default.
	MaxPerTemplate int
	// MaxQueryVariants is how many query variants of one path (method and
	// path, ids folded: sort, filter, page, dates, return-to URLs) the
	// inventory keeps, besides the first URL of each new set of query
	// keys (DefaultMaxQueryVariants); 0 in a configuration built in code
	// means the default.
	MaxQueryVariants int
}

// Denial is a denial signature: an answer that matches every condition
// given is classified as Class whatever its status. At least one of Body,
// Header, JSON, Title and Location is set.
type Denial struct {
	// Class is the answer class the signature means: "unauthenticated",
	// "forbidden" (the default) or "hidden".
	Class  string
	Body   string // substring of the body, case-sensitive; optional
	Header string // "Name" (present) or "Name: substring" (value contains); optional
	Status int    // 0: any status
	// JSON is a JSON path as written ("error.code"), JSONSteps it parsed
	// (ParseJSONPath): the body is one JSON document in which the path
	// selects a value; with Equals set, a selected value equals it.
	JSON      string
	JSONSteps []JSONStep
	Equals    *BodyValue // nil: the path selecting any value is enough
	// Title is a substring of the page's title: the text of the first
	// <title> element of an HTML answer, whitespace collapsed (compared
	// case-sensitively, Title itself collapsed too).
	Title string
	// Location is a path pattern as written ("/", "/home*"), LocationTo
	// it parsed: the answer is a redirect (3xx) whose Location, resolved
	// against the request, is on the target's origin and matches it.
	Location   string
	LocationTo *Pattern
}

// Denial classes, the answer classes a denial signature may mean.
const (
	DenialUnauthenticated = "unauthenticated"
	DenialForbidden       = "forbidden"
	DenialHidden          = "hidden"
)

// Role is a named identity. "anonymous" always exists and has no credentials.
type Role struct {
	Name     string
	Inherits []string          // direct parents, as written
	Vars     map[string]string // static variables; sign-in may add more
	Login    Login
	// Check proves the role's session is live; nil when not configured.
	Check *Check
}

// Login holds a role's static credentials. Any combination may be set; all
// are attached to every in-scope request of the role.
type Login struct {
	Basic   *BasicAuth
	Bearer  string            // sent as "Authorization: Bearer <token>"
	Headers map[string]string // header name to value
	Cookies map[string]string // cookie name to value

	// At most one sign-in flow (signin_config.go); its credentials are
	// obtained at run time and sent with the static ones.
	Form    *FormLogin
	JSON    *JSONLogin
	OAuth2  *OAuth2Login
	Command *CommandLogin
	// Capture takes role variables from the login answer.
	Capture []Capture
	// Logout, when set, ends the session the flow signed in, at the end
	// of the audit (signin_config.go); nil: the session is left to expire.
	Logout *Logout
	// Renew bounds renewals; Load applies the defaults.
	Renew Renew
}

// BasicAuth is HTTP Basic credentials.
type BasicAuth struct {
	Username string
	Password string
}

// Kind names how a role signs in, for reports: "none", "basic", "bearer",
// "headers", "cookies", "form", "json", "oauth2", "command", or several
// joined with "+". It never holds a secret.
func (l Login) Kind() string {
	var k []string
	if l.Basic != nil {
		k = append(k, "basic")
	}
	if l.Bearer != "" {
		k = append(k, "bearer")
	}
	if len(l.Headers) > 0 {
		k = append(k, "headers")
	}
	if len(l.Cookies) > 0 {
		k = append(k, "cookies")
	}
	if f := l.Flow(); f != "" {
		k = append(k, f)
	}
	if len(k) == 0 {
		return "none"
	}
	s := k[0]
	for _, x := range k[1:] {
		s += "+" + x
	}
	return s
}

// Fingerprint is a stable hash of the configuration with every secret value
// replaced by its name, so that two runs can be told to use the same config.
func (c *Config) Fingerprint() string { return c.fingerprint }

// Role returns the role named name, or nil.
func (c *Config) Role(name string) *Role {
	for _, r := range c.Roles {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// RoleNames returns the role names in config order, anonymous first.
func (c *Config) RoleNames() []string {
	names := make([]string, len(c.Roles))
	for i, r := range c.Roles {
		names[i] = r.Name
	}
	return names
}

// ConfigError is one problem in a configuration file, with its position.
// report.ParseBaseline reports a baseline's problems with it too.
type ConfigError struct {
	// The fields are those of yamlwalk.Error, which the loaders convert.
	File      string
	Line, Col int
	Field     string // dotted path such as "roles.admin.login.bearer"
	Msg       string
}

// Error is "file:line:col: field: message", or "file:line:col: message"
// for a problem of the whole file.
func (e *ConfigError) Error() string { return (*yamlwalk.Error)(e).Error() }

// ConfigErrors is every problem found in a configuration, in file order.
type ConfigErrors []*ConfigError

func (es ConfigErrors) Error() string {
	s := ""
	for i, e := range es {
		if i > 0 {
			s += "\n"
		}
		s += e.Error()
	}
	return s
}

// LoadOptions tune Load.
type LoadOptions struct {
	// Env looks up ${NAME} references; nil means os.LookupEnv.
	Env func(name string) (string, bool)
}

// Load reads, decodes and validates the configuration at path. On bad
// input it returns ConfigErrors holding every problem found, each naming
// file:line:col and the field.
func Load(path string, opts LoadOptions) (*Config, error) { return load(path, opts) }

// Parse is Load for configuration already in memory; file names it in errors.
func Parse(file string, data []byte, opts LoadOptions) (*Config, error) {
	return parse(file, data, opts)
}

// SetTarget replaces the target (the --target flag), validating it like
// the target field.
func (c *Config) SetTarget(target string) error { return setTarget(c, target) }
