package roles

import (
	"fmt"
	"time"
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
	// holds its form, is read as "unauthenticated". Empty when not configured.
	LoginURL string

	Scope   ScopeConfig
	Crawl   CrawlConfig
	Roles   []*Role // config order; "anonymous" always first
	Denials []Denial
	Matrix  Matrix

	// Outputs are "FORMAT=PATH" specifications, as taken by --out.
	Outputs []string
	// FailOn lists the verdicts that fail the gate; nil means the default.
	FailOn []string

	// Secrets knows every secret value the configuration holds (credentials
	// and every value expanded from ${ENV}), by name.
	Secrets *Redactor

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
}

// DefaultExcludeWords are the session-ending and destructive words that no
// endpoint may contain to be requested (DESIGN.md).
var DefaultExcludeWords = []string{
	"logout", "log-out", "signout", "sign-out", "logoff",
	"delete", "destroy", "remove", "revoke", "trash",
}

// CrawlConfig bounds discovery and probing.
type CrawlConfig struct {
	Start       []string      // paths or in-scope URLs; default ["/"]
	MaxDepth    int           // link depth from a start URL; default 6
	MaxRequests int           // discovery requests per role; default 2000
	Concurrency int           // probe workers; default 8
	Timeout     time.Duration // per request; default 10s
	MaxBody     int64         // bytes read of a body; default 1 MiB
	UserAgent   string        // default "permaudit/<version> (+authorised permission audit)": Load leaves it "" and the caller, who knows the version, fills it in
}

// Denial is a denial signature: an answer that matches it is classified
// "forbidden" whatever its status.
type Denial struct {
	Body   string // substring of the body, case-sensitive; optional
	Header string // "Name" (present) or "Name: substring" (value contains); optional
	Status int    // 0: any status
}

// Role is a named identity. "anonymous" always exists and has no credentials.
type Role struct {
	Name     string
	Inherits []string          // direct parents, as written
	Vars     map[string]string // static variables; sign-in may add more
	Login    Login
}

// Login holds a role's static credentials. Any combination may be set; all
// are attached to every in-scope request of the role.
type Login struct {
	Basic   *BasicAuth
	Bearer  string            // sent as "Authorization: Bearer <token>"
	Headers map[string]string // header name to value
	Cookies map[string]string // cookie name to value
}

// BasicAuth is HTTP Basic credentials.
type BasicAuth struct {
	Username string
	Password string
}

// Kind names how a role signs in, for reports: "none", "basic", "bearer",
// "headers", "cookies", or several joined with "+". It never holds a secret.
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
type ConfigError struct {
	File      string
	Line, Col int
	Field     string // dotted path such as "roles.admin.login.bearer"
	Msg       string
}

func (e *ConfigError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Col, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

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
