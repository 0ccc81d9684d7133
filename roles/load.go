package roles

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

func load(path string, opts LoadOptions) (*Config, error) {
	data, err := os.ReadFile(path)
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
	w := &walker{file: file, env: env, secrets: NewRedactor(), secret: map[string]bool{},
		fieldSecrets: map[string][]string{}, credential: map[string]bool{}}
	c := w.config(data)
	// A message quotes at most the value of its own field, and never that
	// of a credential: redact the field's secrets only, so that a short
	// secret cannot garble unrelated words.
	for _, e := range w.errs {
		if vals := w.fieldSecrets[e.Field]; len(vals) > 0 && !w.credential[e.Field] {
			r := NewRedactor()
			for _, v := range vals {
				r.Add(e.Field, v)
			}
			e.Msg = r.Redact(e.Msg)
		}
	}
	if len(w.errs) > 0 {
		sort.SliceStable(w.errs, func(i, j int) bool {
			a, b := w.errs[i], w.errs[j]
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Col < b.Col
		})
		return nil, w.errs
	}
	c.File = file
	c.Secrets = w.secrets
	c.fingerprint = fingerprint(c, w.secret)
	return c, nil
}

// walker decodes a configuration from its yaml.Node tree, collecting
// every problem with its position, and every secret value with its name.
type walker struct {
	file    string
	env     func(string) (string, bool)
	errs    ConfigErrors
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
}

func (w *walker) errorf(n *yaml.Node, field, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	w.errs = append(w.errs, &ConfigError{File: w.file, Line: line, Col: col, Field: field, Msg: fmt.Sprintf(format, args...)})
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

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (w *walker) config(data []byte) *Config {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := decode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			w.errorf(nil, "", "empty configuration")
			return c
		}
		w.yamlError(err)
		return c
	}
	var extra yaml.Node
	if err := decode(dec, &extra); err == nil {
		w.errorf(&extra, "", "a second YAML document: the configuration is one document")
	} else if !errors.Is(err, io.EOF) {
		w.yamlError(err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			w.errorf(root, "", "empty configuration")
			return c
		}
		root = root.Content[0]
	}
	root = deref(root)
	if isNull(root) {
		w.errorf(root, "", "empty configuration")
		return c
	}
	if root.Kind != yaml.MappingNode {
		w.errorf(root, "", "the configuration must be a mapping of fields (target, roles, matrix, ...)")
		return c
	}
	f := w.fields(root, "", "target", "login_url", "scope", "crawl", "roles", "denials", "matrix", "outputs", "fail_on", "sources",
		"allow_plain_http", "tls", "proxy")

	if n := f["target"]; n != nil {
		if s, ok := w.str(n, "target"); ok {
			if err := checkTarget(s); err != nil {
				w.errorf(n, "target", "%v", err)
			} else {
				c.Target = s
			}
		}
	} else {
		w.errorf(root, "target", "required: the base URL of the application, such as http://127.0.0.1:8080")
	}
	if n := f["login_url"]; n != nil {
		if s, ok := w.str(n, "login_url"); ok {
			if err := checkInScope(s, c.Target); err != nil {
				w.errorf(n, "login_url", "%v", err)
			} else {
				c.LoginURL = s
			}
		}
	}
	// Roles come first: patterns and allow lists refer to them.
	w.target = c.Target
	c.Roles = w.roles(f["roles"])
	c.Scope = w.scope(f["scope"], c)
	c.Crawl = w.crawl(f["crawl"], c)
	w.safety(f, c)
	c.Sources = w.sources(f["sources"], c)
	c.Denials = w.denials(f["denials"])
	c.Matrix = w.matrix(f["matrix"], c)
	if n := f["outputs"]; n != nil {
		for _, it := range w.list(n, "outputs") {
			s, ok := w.str(it.n, it.path)
			if !ok {
				continue
			}
			format, path, found := strings.Cut(s, "=")
			if !found || strings.TrimSpace(format) == "" || strings.TrimSpace(path) == "" {
				w.errorf(it.n, it.path, "%q: want FORMAT=PATH, such as json=run.json", s)
				continue
			}
			c.Outputs = append(c.Outputs, s)
		}
	}
	if n := f["fail_on"]; n != nil {
		c.FailOn = []string{}
		for _, it := range w.list(n, "fail_on") {
			if s, ok := w.str(it.n, it.path); ok {
				c.FailOn = append(c.FailOn, s)
			}
		}
	}
	return c
}

// decode is dec.Decode, with a panic of the YAML library turned into an
// error: hostile input must never crash the tool.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}

func (w *walker) yamlError(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	w.errs = append(w.errs, &ConfigError{File: w.file, Line: max(line, 1), Col: 1, Msg: "invalid YAML: " + msg})
}

// deref follows aliases (anchors are always defined before use, so the
// chain is short and has no cycle).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// entry is one key and value of a mapping.
type entry struct {
	key, val *yaml.Node
	name     string
}

// entries returns the pairs of mapping n in order, reporting keys that are
// not strings, merge keys and duplicates. A null n is an empty mapping.
func (w *walker) entries(n *yaml.Node, path string) []entry {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		w.errorf(n, path, "must be a mapping, not %s", kindName(n))
		return nil
	}
	var out []entry
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			w.errorf(n.Content[i], path, "a key must be a string")
			continue
		}
		if k.Tag == "!!merge" {
			w.errorf(k, path, "merge keys (<<) are not supported")
			continue
		}
		if seen[k.Value] {
			w.errorf(k, join(path, k.Value), "duplicate field")
			continue
		}
		seen[k.Value] = true
		out = append(out, entry{key: k, val: v, name: k.Value})
	}
	return out
}

// fields returns the values of mapping n by key, reporting unknown keys.
// A null value is left out, as if the key were absent.
func (w *walker) fields(n *yaml.Node, path string, known ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	for _, e := range w.entries(n, path) {
		if !slices.Contains(known, e.name) {
			w.errorf(e.key, join(path, e.name), "unknown field (known: %s)", strings.Join(known, ", "))
			continue
		}
		if isNull(e.val) {
			continue
		}
		out[e.name] = deref(e.val)
	}
	return out
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a scalar"
	}
	return "empty"
}

// item is an element of a list (or a lone scalar written in its place).
type item struct {
	n    *yaml.Node
	path string
}

// list returns the items of a list; a scalar is a list of one.
func (w *walker) list(n *yaml.Node, path string) []item {
	n = deref(n)
	switch {
	case isNull(n):
		return nil
	case n.Kind == yaml.ScalarNode:
		return []item{{n, path}}
	case n.Kind != yaml.SequenceNode:
		w.errorf(n, path, "must be a list, not %s", kindName(n))
		return nil
	}
	out := make([]item, 0, len(n.Content))
	for i, c := range n.Content {
		out = append(out, item{deref(c), fmt.Sprintf("%s[%d]", path, i)})
	}
	return out
}

// str returns the text of scalar n with ${NAME} expanded. Every value
// expanded from the environment is registered as a secret named path.
func (w *walker) str(n *yaml.Node, path string) (string, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		what := "null"
		if n != nil && n.Kind != yaml.ScalarNode {
			what = kindName(n)
		}
		w.errorf(n, path, "must be a string, not %s", what)
		return "", false
	}
	s, vals, err := expand(n.Value, w.env)
	for _, v := range vals {
		w.addSecret(path, v)
	}
	if err != nil {
		w.errorf(n, path, "%v", err)
		return "", false
	}
	if len(vals) > 0 {
		w.addSecret(path, s)
	}
	return s, true
}

// expand replaces ${NAME} by the value of NAME; "$${" is a literal "${".
// It returns the values it substituted. A missing or empty variable is an
// error naming it, so that no credential is ever silently empty.
func expand(s string, env func(string) (string, bool)) (string, []string, error) {
	if !strings.Contains(s, "${") {
		return s, nil, nil
	}
	var b strings.Builder
	var vals []string
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
			return "", vals, fmt.Errorf("unterminated \"${\": write \"$${\" for a literal \"${\"")
		}
		name := s[i+2 : i+end]
		if !validEnvName(name) {
			return "", vals, fmt.Errorf("invalid environment variable name %q in \"${...}\"", name)
		}
		v, ok := env(name)
		if !ok {
			return "", vals, fmt.Errorf("environment variable %s is not set", name)
		}
		if v == "" {
			return "", vals, fmt.Errorf("environment variable %s is empty", name)
		}
		vals = append(vals, v)
		b.WriteString(v)
		s = s[i+end+1:]
	}
	return b.String(), vals, nil
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

// integer reads an integer in [lo, hi].
func (w *walker) integer(n *yaml.Node, path string, lo, hi int64) (int64, bool) {
	n = deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && (n.Tag == "!!float" || n.Tag == "!!bool") {
		w.errorf(n, path, "must be an integer")
		return 0, false
	}
	s, ok := w.str(n, path)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		w.errorf(n, path, "must be an integer")
		return 0, false
	}
	if v < lo || v > hi {
		w.errorf(n, path, "%d is out of range %d..%d", v, lo, hi)
		return 0, false
	}
	return v, true
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
	if !sameOrigin(u, t) {
		return fmt.Errorf("%q is not on the target's origin", s)
	}
	return nil
}

// sameOrigin compares scheme, host and port, with default ports made explicit.
func sameOrigin(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if strings.EqualFold(u.Scheme, "https") {
			return "443"
		}
		return "80"
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
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
		if !sameOrigin(u, t) {
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
