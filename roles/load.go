package roles

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
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

var roleNameRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

func (w *walker) roles(n *yaml.Node) []*Role {
	anon := &Role{Name: "anonymous", Vars: map[string]string{}}
	all := []*Role{anon}
	type decl struct {
		r        *Role
		key      *yaml.Node
		inherits []item
	}
	var decls []decl
	for _, e := range w.entries(n, "roles") {
		path := join("roles", e.name)
		switch {
		case !roleNameRE.MatchString(e.name):
			w.errorf(e.key, path, "invalid role name: lower-case letters, digits, '_' and '-' only")
			continue
		case e.name == "self":
			w.errorf(e.key, path, "\"self\" is reserved: {self.var} names the role being probed")
			continue
		}
		f := w.fields(e.val, path, "login", "vars", "inherits", "check")
		r := anon
		if e.name != "anonymous" {
			r = &Role{Name: e.name, Vars: map[string]string{}}
			all = append(all, r)
		}
		d := decl{r: r, key: e.key}
		if ln := f["login"]; ln != nil {
			if e.name == "anonymous" {
				w.errorf(ln, join(path, "login"), "anonymous has no credentials")
			} else {
				r.Login = w.login(ln, join(path, "login"))
			}
		}
		if cn := f["check"]; cn != nil {
			if e.name == "anonymous" {
				w.errorf(cn, join(path, "check"), "anonymous has no session to check")
			} else {
				r.Check = w.check(cn, join(path, "check"))
			}
		}
		if vn := f["vars"]; vn != nil {
			for _, ve := range w.entries(vn, join(path, "vars")) {
				vp := join(join(path, "vars"), ve.name)
				if !isIdent(ve.name) {
					w.errorf(ve.key, vp, "invalid variable name: letters, digits, '_' and '-' only")
					continue
				}
				v := deref(ve.val)
				if v == nil || v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
					w.errorf(ve.val, vp, "must be a string")
					continue
				}
				if s, ok := w.str(v, vp); ok {
					r.Vars[ve.name] = s
				}
			}
		}
		if in := f["inherits"]; in != nil {
			if e.name == "anonymous" {
				w.errorf(in, join(path, "inherits"), "anonymous inherits from no role")
			} else {
				d.inherits = w.list(in, join(path, "inherits"))
			}
		}
		decls = append(decls, d)
	}
	byName := map[string]*Role{}
	for _, r := range all {
		byName[r.Name] = r
	}
	for _, d := range decls {
		for _, it := range d.inherits {
			s, ok := w.str(it.n, it.path)
			if !ok {
				continue
			}
			switch {
			case s == d.r.Name:
				w.errorf(it.n, it.path, "role %s inherits from itself", s)
			case byName[s] == nil:
				w.errorf(it.n, it.path, "unknown role %q (roles: %s)", s, strings.Join(roleNames(all), ", "))
			case slices.Contains(d.r.Inherits, s):
				w.errorf(it.n, it.path, "role %s is listed twice", s)
			default:
				d.r.Inherits = append(d.r.Inherits, s)
			}
		}
	}
	// Cycles: report each once, at the first role of the cycle in config order.
	reported := map[string]bool{}
	for _, d := range decls {
		if reported[d.r.Name] {
			continue
		}
		if cyc := findCycle(d.r.Name, byName); cyc != nil {
			for _, x := range cyc {
				reported[x] = true
			}
			w.errorf(d.key, join(join("roles", d.r.Name), "inherits"), "inheritance cycle: %s", strings.Join(cyc, " -> "))
		}
	}
	return all
}

func roleNames(rs []*Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

// findCycle returns a cycle through start ("a -> b -> a"), or nil.
func findCycle(start string, byName map[string]*Role) []string {
	var path []string
	onPath := map[string]bool{}
	done := map[string]bool{}
	var visit func(name string) []string
	visit = func(name string) []string {
		if name == start && len(path) > 0 {
			return append(slices.Clone(path), start)
		}
		if onPath[name] || done[name] {
			return nil
		}
		r := byName[name]
		if r == nil {
			return nil
		}
		onPath[name] = true
		path = append(path, name)
		for _, p := range r.Inherits {
			if c := visit(p); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		onPath[name] = false
		done[name] = true
		return nil
	}
	return visit(start)
}

func (w *walker) login(n *yaml.Node, path string) Login {
	l := Login{Renew: Renew{Max: DefaultMaxRenewals, Backoff: DefaultRenewBackoff}}
	f := w.fields(n, path, "basic", "bearer", "headers", "cookies", "form", "json", "oauth2", "command", "capture", "renew")
	w.signIn(f, path, &l)
	if bn := f["basic"]; bn != nil {
		bp := join(path, "basic")
		bf := w.fields(bn, bp, "username", "password")
		var user, pass string
		okU, okP := true, true
		w.credential[join(bp, "username")] = true // no message quotes it
		if un := bf["username"]; un != nil {
			user, okU = w.str(un, join(bp, "username"))
			if okU && (user == "" || strings.ContainsAny(user, ":") || hasCtl(user)) {
				w.errorf(un, join(bp, "username"), "must be non-empty, without ':' or control characters")
				okU = false
			}
		} else {
			w.errorf(bn, join(bp, "username"), "required")
			okU = false
		}
		if pn := bf["password"]; pn != nil {
			pass, okP = w.str(pn, join(bp, "password"))
			w.addCredential(join(bp, "password"), pass)
			if okP && hasCtl(pass) {
				w.errorf(pn, join(bp, "password"), "must not hold control characters")
				okP = false
			}
		} else {
			w.errorf(bn, join(bp, "password"), "required")
			okP = false
		}
		if okU && okP {
			l.Basic = &BasicAuth{Username: user, Password: pass}
			req := &http.Request{Header: http.Header{}}
			req.SetBasicAuth(user, pass)
			full := req.Header.Get("Authorization")
			w.addCredential(bp, full)
			w.addCredential(bp, strings.TrimPrefix(full, "Basic "))
		}
	}
	if bn := f["bearer"]; bn != nil {
		bp := join(path, "bearer")
		if s, ok := w.str(bn, bp); ok {
			w.addCredential(bp, s)
			switch {
			case s == "":
				w.errorf(bn, bp, "empty token")
			case hasCtl(s) || strings.ContainsAny(s, " \t"):
				w.errorf(bn, bp, "the token must not hold blanks or control characters")
			default:
				l.Bearer = s
				w.addCredential(bp, "Bearer "+s)
			}
		}
	}
	if hn := f["headers"]; hn != nil {
		if h := w.headerMap(hn, join(path, "headers"), true); len(h) > 0 {
			l.Headers = h
		}
	}
	if cn := f["cookies"]; cn != nil {
		cp := join(path, "cookies")
		for _, e := range w.entries(cn, cp) {
			p := join(cp, e.name)
			s, ok := w.str(e.val, p)
			w.addCredential(p, s)
			if !isToken(e.name) {
				w.errorf(e.key, p, "invalid cookie name")
				continue
			}
			if !ok {
				continue
			}
			if s == "" || !validCookieValue(s) {
				w.errorf(e.val, p, "the value must be non-empty, without blanks, quotes, ';', '\\' or control characters")
				continue
			}
			if l.Cookies == nil {
				l.Cookies = map[string]string{}
			}
			l.Cookies[e.name] = s
		}
	}
	return l
}

func hasCtl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 && s[i] != '\t' || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// isToken reports whether s is an HTTP token (a header or cookie name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// validCookieValue accepts the bytes net/http sends unchanged (RFC 6265
// cookie-octets), so the cookie sent is the cookie configured.
func validCookieValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' || c == ',' {
			return false
		}
	}
	return true
}

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

func (w *walker) denials(n *yaml.Node) []Denial {
	var out []Denial
	if n == nil {
		return nil
	}
	for _, it := range w.list(n, "denials") {
		if it.n.Kind != yaml.MappingNode {
			w.errorf(it.n, it.path, "must be a mapping with body, header and/or status")
			continue
		}
		f := w.fields(it.n, it.path, "body", "header", "status")
		var d Denial
		ok := true
		if bn := f["body"]; bn != nil {
			var good bool
			d.Body, good = w.str(bn, join(it.path, "body"))
			if good && d.Body == "" {
				w.errorf(bn, join(it.path, "body"), "empty: it would match every body")
				good = false
			}
			ok = ok && good
		}
		if hn := f["header"]; hn != nil {
			var good bool
			d.Header, good = w.str(hn, join(it.path, "header"))
			if good {
				name, _, _ := strings.Cut(d.Header, ":")
				if !isToken(strings.TrimSpace(name)) {
					w.errorf(hn, join(it.path, "header"), "want \"Name\" or \"Name: value substring\"")
					good = false
				}
			}
			ok = ok && good
		}
		if sn := f["status"]; sn != nil {
			v, good := w.integer(sn, join(it.path, "status"), 100, 599)
			d.Status = int(v)
			ok = ok && good
		}
		if f["body"] == nil && f["header"] == nil {
			w.errorf(it.n, it.path, "a denial signature needs a body or a header")
			ok = false
		}
		if ok {
			out = append(out, d)
		}
	}
	return out
}

func (w *walker) matrix(n *yaml.Node, c *Config) Matrix {
	m := Matrix{Default: "deny"}
	if n == nil {
		return m
	}
	f := w.fields(n, "matrix", "default", "rules")
	if dn := f["default"]; dn != nil {
		if s, ok := w.str(dn, "matrix.default"); ok {
			if s != "deny" && s != "unmapped" {
				w.errorf(dn, "matrix.default", "%q: want deny or unmapped", s)
			} else {
				m.Default = s
			}
		}
	}
	rn := f["rules"]
	if rn == nil {
		return m
	}
	if rn.Kind != yaml.SequenceNode {
		w.errorf(rn, "matrix.rules", "must be a list of rules")
		return m
	}
	for i, it := range w.list(rn, "matrix.rules") {
		if it.n.Kind != yaml.MappingNode {
			w.errorf(it.n, it.path, "a rule must be a mapping with match and allow")
			continue
		}
		r := Rule{Index: i + 1, Line: it.n.Line}
		rf := w.fields(it.n, it.path, "match", "allow", "deny_as", "body")
		ok := true
		if mn := rf["match"]; mn != nil {
			items := w.list(mn, join(it.path, "match"))
			if len(items) == 0 {
				w.errorf(mn, join(it.path, "match"), "empty: give at least one pattern")
				ok = false
			}
			for _, pit := range items {
				p, good := w.pattern(pit, c)
				ok = ok && good
				if good {
					r.Match = append(r.Match, p)
				}
			}
		} else {
			w.errorf(it.n, join(it.path, "match"), "required: a pattern such as \"GET /admin/**\", or a list of them")
			ok = false
		}
		if an := rf["allow"]; an != nil {
			r.Allow = []string{}
			for _, ait := range w.list(an, join(it.path, "allow")) {
				s, good := w.str(ait.n, ait.path)
				if !good {
					ok = false
					continue
				}
				if s != "*" && c.Role(s) == nil {
					w.errorf(ait.n, ait.path, "unknown role %q (roles: %s)", s, strings.Join(c.RoleNames(), ", "))
					ok = false
					continue
				}
				r.Allow = append(r.Allow, s)
			}
		} else {
			w.errorf(it.n, join(it.path, "allow"), "required: a list of roles, [\"*\"] for every role, or [] for none")
			ok = false
		}
		if dn := rf["deny_as"]; dn != nil {
			items := w.list(dn, join(it.path, "deny_as"))
			if len(items) == 0 {
				w.errorf(dn, join(it.path, "deny_as"), "empty: leave it out for the usual denial forms")
				ok = false
			}
			for _, dit := range items {
				s, good := w.str(dit.n, dit.path)
				if !good {
					ok = false
					continue
				}
				form, err := parseDenyForm(s)
				if err != nil {
					w.errorf(dit.n, dit.path, "%v", err)
					ok = false
					continue
				}
				r.DenyAs = append(r.DenyAs, form)
			}
		}
		if bn := rf["body"]; bn != nil && r.Allow != nil {
			ok = w.bodyChecks(bn, join(it.path, "body"), c, &r) && ok
		}
		if ok {
			m.Rules = append(m.Rules, r)
		}
	}
	return m
}

// parseDenyForm reads a deny_as spelling (see DenyForm).
func parseDenyForm(s string) (DenyForm, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "login", "unauthenticated":
		return DenyForm{Class: "unauthenticated"}, nil
	case "forbidden":
		return DenyForm{Class: "forbidden"}, nil
	case "hidden":
		return DenyForm{Class: "hidden"}, nil
	}
	code, err := strconv.Atoi(s)
	if err != nil || code < 100 || code > 599 {
		return DenyForm{}, fmt.Errorf("%q: want a status code (100..599) or one of login, unauthenticated, forbidden, hidden", s)
	}
	switch code {
	case 401:
		return DenyForm{Class: "unauthenticated", Status: 401}, nil
	case 403:
		return DenyForm{Class: "forbidden", Status: 403}, nil
	case 404, 410:
		return DenyForm{Class: "hidden", Status: code}, nil
	}
	return DenyForm{Status: code}, nil
}
