package roles

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/permaudit/permaudit/internal/yamlwalk"
	"github.com/permaudit/permaudit/model"
)

func load(path string, opts LoadOptions) (*Config, error) {
	data, err := yamlwalk.ReadFile(path, "configuration")
	if ye := (*yamlwalk.Error)(nil); errors.As(err, &ye) {
		return nil, ConfigErrors{(*ConfigError)(ye)}
	}
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return parse(path, data, opts)
}

func parse(file string, data []byte, opts LoadOptions) (*Config, error) {
	env := opts.Env
	if env == nil {
		env = os.LookupEnv
	}
	w := &walker{Walker: yamlwalk.Walker{File: file}, env: env, secrets: NewRedactor(), secret: map[string]bool{},
		fieldSecrets: map[string][]string{}, credential: map[string]bool{}, envVals: map[string][]string{}}
	w.Text = w.expandText
	c := w.config(data)
	if len(w.Errs) > 0 {
		return nil, w.configErrors()
	}
	c.File = file
	// The fingerprint renders every value taken from the environment as
	// its field's name, secret or not, so that it does not change with
	// the environment.
	fp := w.secrets.Clone()
	fromEnv := maps.Clone(w.secret)
	for path, vals := range w.envVals {
		fromEnv[path] = true
		for _, v := range vals {
			fp.Add(path, v)
		}
	}
	c.Secrets = fp
	c.fingerprint = fingerprint(c, fromEnv)
	c.Secrets = w.secrets
	return c, nil
}

// walker decodes a configuration from its yaml.Node tree with the shared
// yamlwalk.Walker, collecting every problem with its position, and every
// secret value with its name.
type walker struct {
	yamlwalk.Walker
	env     func(string) (string, bool)
	secrets *Redactor
	secret  map[string]bool // field paths whose value is secret
	// fieldSecrets are the secret values of each field path.
	fieldSecrets map[string][]string
	// credential marks the paths of credentials, whose values no message
	// quotes.
	credential map[string]bool
	// target is the validated target ("" when invalid), for sign-in and
	// check URLs, which must be on its origin.
	target string
	// checks are the roles' checks, judged by checkSafety once the
	// scope is read.
	checks []pendingCheck
	// envVals are the values expanded from ${ENV} at each field path,
	// secret or not: the fingerprint renders those fields as their names.
	envVals map[string][]string
}

// configErrors returns the problems found, sorted by position. A message
// quotes at most the value of its own field, and never that of a
// credential: each is redacted of its field's secrets only, so that a
// short secret cannot garble unrelated words.
func (w *walker) configErrors() ConfigErrors {
	yamlwalk.SortErrors(w.Errs)
	out := make(ConfigErrors, len(w.Errs))
	for i, e := range w.Errs {
		if vals := w.fieldSecrets[e.Field]; len(vals) > 0 && !w.credential[e.Field] {
			r := NewRedactor()
			for _, v := range vals {
				r.Add(e.Field, v)
			}
			e.Msg = r.Redact(e.Msg)
		}
		out[i] = (*ConfigError)(e)
	}
	return out
}

// addCredential registers a credential value under the name of its field.
func (w *walker) addCredential(path, value string) {
	w.credential[path] = true
	w.addSecret(path, value)
}

// addSecret registers a secret value under the name of its field.
func (w *walker) addSecret(path, value string) {
	if value == "" {
		return
	}
	w.secret[path] = true
	w.secrets.Add(path, value)
	w.fieldSecrets[path] = append(w.fieldSecrets[path], value)
}

// expandText is the walker's yamlwalk.Walker.Text: it expands ${NAME} in
// the text of every string read. A value expanded from the environment
// is a secret named path when path is a credential field
// (credentialField), or when written ${secret:NAME}; one used in a URL,
// an id, a username or a variable is not (env_secret.go).
func (w *walker) expandText(n *yaml.Node, path, text string) (string, bool) {
	s, vals, marked, err := expand(text, w.env)
	secret := marked || credentialField(path)
	if len(vals) > 0 {
		w.envVals[path] = append(w.envVals[path], vals...)
	}
	for _, v := range vals {
		if secret {
			w.addSecret(path, v)
		} else {
			// Not a secret, but a message about this field does not
			// quote it either (configErrors): errors may reach logs
			// that a configuration's environment does not.
			w.fieldSecrets[path] = append(w.fieldSecrets[path], v)
		}
	}
	if err != nil {
		w.Errorf(n, path, "%v", err)
		return "", false
	}
	if len(vals) > 0 && secret {
		w.addSecret(path, s)
	}
	return s, true
}

// join is yamlwalk.Join, the field paths of every message and of the
// fingerprint.
func join(path, key string) string { return yamlwalk.Join(path, key) }

func (w *walker) config(data []byte) *Config {
	c := &Config{}
	root, ok := w.Decode(data, "configuration")
	if !ok {
		return c
	}
	if yamlwalk.IsNull(root) {
		w.Errorf(root, "", "empty configuration")
		return c
	}
	if root.Kind != yaml.MappingNode {
		w.Errorf(root, "", "the configuration must be a mapping of fields (target, roles, matrix, ...)")
		return c
	}
	f := w.Fields(root, "", "target", "login_url", "scope", "crawl", "roles", "denials", "matrix", "outputs", "fail_on", "sources",
		"allow_plain_http", "tls", "proxy")

	if n := f["target"]; n != nil {
		if s, ok := w.Str(n, "target"); ok {
			if err := checkTarget(s); err != nil {
				w.Errorf(n, "target", "%v", err)
			} else {
				c.Target = s
			}
		}
	} else {
		w.Errorf(root, "target", "required: the base URL of the application, such as http://127.0.0.1:8080")
	}
	if n := f["login_url"]; n != nil {
		if s, ok := w.Str(n, "login_url"); ok {
			if err := checkInScope(s, c.Target); err != nil {
				w.Errorf(n, "login_url", "%v", err)
			} else {
				c.LoginURL = s
			}
		}
	}
	// Roles come first: patterns and allow lists refer to them.
	w.target = c.Target
	c.Roles = w.roles(f["roles"])
	for _, r := range c.Roles { // every output prints them: never redacted (Redactor.Public)
		w.secrets.Public(r.Name)
	}
	c.Scope = w.scope(f["scope"], c)
	w.checkSafety(c)
	c.Crawl = w.crawl(f["crawl"], c)
	w.safety(f, c)
	c.Sources = w.sources(f["sources"], c)
	c.Denials = w.denials(f["denials"])
	c.Matrix = w.matrix(f["matrix"], c)
	if n := f["outputs"]; n != nil {
		for _, it := range w.List(n, "outputs") {
			s, ok := w.Str(it.N, it.Path)
			if !ok {
				continue
			}
			format, path, found := strings.Cut(s, "=")
			if !found || strings.TrimSpace(format) == "" || strings.TrimSpace(path) == "" {
				w.Errorf(it.N, it.Path, "%q: want FORMAT=PATH, such as json=run.json", s)
				continue
			}
			c.Outputs = append(c.Outputs, s)
		}
	}
	if n := f["fail_on"]; n != nil {
		c.FailOn = []string{}
		for _, it := range w.List(n, "fail_on") {
			if s, ok := w.Str(it.N, it.Path); ok {
				c.FailOn = append(c.FailOn, s)
			}
		}
	}
	return c
}

// expand replaces ${NAME} (or ${secret:NAME}, a value marked secret) by
// the value of NAME; "$${" is a literal "${". It returns the values it
// substituted, and whether one was marked secret. A missing or empty
// variable is an error naming it, so that no credential is ever silently
// empty.
func expand(s string, env func(string) (string, bool)) (string, []string, bool, error) {
	if !strings.Contains(s, "${") {
		return s, nil, false, nil
	}
	var b strings.Builder
	var vals []string
	marked := false
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		if i > 0 && s[i-1] == '$' { // "$${": literal "${"
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", vals, marked, fmt.Errorf("unterminated \"${\": write \"$${\" for a literal \"${\"")
		}
		name := s[i+2 : i+end]
		if n, ok := strings.CutPrefix(name, "secret:"); ok {
			name, marked = n, true
		}
		if !validEnvName(name) {
			return "", vals, marked, fmt.Errorf("invalid environment variable name %q in \"${...}\"", name)
		}
		v, ok := env(name)
		if !ok {
			return "", vals, marked, fmt.Errorf("environment variable %s is not set", name)
		}
		if v == "" {
			return "", vals, marked, fmt.Errorf("environment variable %s is empty", name)
		}
		vals = append(vals, v)
		b.WriteString(v)
		s = s[i+end+1:]
	}
	return b.String(), vals, marked, nil
}

func validEnvName(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkTarget validates a target base URL.
func checkTarget(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL: %v", unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: want an absolute http or https URL such as http://127.0.0.1:8080", s)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return fmt.Errorf("%q has no host", s)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port %s is out of range 1..65535", s, p)
		}
	}
	if u.User != nil {
		return fmt.Errorf("the URL holds credentials: declare them under roles instead")
	}
	if u.RawQuery != "" || u.ForceQuery {
		return fmt.Errorf("%q has a query: the target is a base URL", s)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("%q has a fragment: the target is a base URL", s)
	}
	return nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// checkInScope validates a path ("/login") or an absolute URL on the
// origin of target. With an invalid target only the form is checked.
func checkInScope(s, target string) error {
	if s == "" {
		return fmt.Errorf("empty: want a path such as /login or a URL on the target")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid URL: %v", unwrapURLError(err))
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("%q has a fragment", s)
	}
	if u.Scheme == "" {
		if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") {
			return fmt.Errorf("%q: want a path starting with \"/\" or an absolute URL on the target", s)
		}
		return nil
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%q: want a path starting with \"/\" or an absolute http(s) URL on the target", s)
	}
	if target == "" {
		return nil
	}
	t, err := url.Parse(target)
	if err != nil {
		return nil
	}
	if !model.SameOrigin(u, t) {
		return fmt.Errorf("%q is not on the target's origin", s)
	}
	return nil
}

func setTarget(c *Config, target string) error {
	if err := checkTarget(target); err != nil {
		return err
	}
	t, _ := url.Parse(target)
	check := func(field, s string) error {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" {
			return nil
		}
		if !model.SameOrigin(u, t) {
			return fmt.Errorf("%s %q is not on the new target's origin: write it as a path", field, s)
		}
		return nil
	}
	if err := check("login_url", c.LoginURL); err != nil {
		return err
	}
	for _, s := range c.Crawl.Start {
		if err := check("crawl.start", s); err != nil {
			return err
		}
	}
	c.Target = target
	return nil
}
