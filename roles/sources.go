package roles

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultMaxPerTemplate is how many concrete URLs of one template the
// inventory keeps unless crawl.max_per_template says otherwise.
const DefaultMaxPerTemplate = 20

// SourcesConfig says where discovery looks for endpoints besides the
// links of every page it fetches. Every source is merged into one
// inventory; each endpoint records which sources found it.
type SourcesConfig struct {
	// Robots reads /robots.txt as every role: its Allow and Disallow paths
	// and its Sitemap lines. Load sets it true unless sources.robots is
	// false.
	Robots bool
	// Sitemap reads /sitemap.xml (and the sitemaps robots.txt names) as
	// every role, sitemap indexes and gzip included. Load sets it true
	// unless sources.sitemap is false.
	Sitemap bool
	// OpenAPI lists OpenAPI 3 or Swagger 2 documents.
	OpenAPI []SpecSource
	// HAR lists HAR files recorded in a browser, resolved against the
	// configuration file's directory.
	HAR []string
	// List holds the endpoints listed in sources.list and in the files of
	// sources.list_file, in that order.
	List []ListEntry
	// JSON lists expansions of JSON answers into URLs.
	JSON []JSONExpansion
}

// SpecSource is one API description: a file, or a URL on the target
// (fetched during discovery).
type SpecSource struct {
	File string // resolved against the configuration file's directory
	URL  string // a path ("/openapi.json") or an absolute URL on the target
}

// ListEntry is one explicitly listed endpoint.
type ListEntry struct {
	Method string // upper case; GET when the line names none
	URL    string // a path or an absolute URL on the target, as written
	// Where it was written, for messages: "file:line".
	Where string
}

// JSONExpansion turns values found in JSON answers into URLs: for each
// answer to a request that Match matches, each value at Values becomes
// URL with "{Name}" (and "{value}") replaced by the value and the other
// "{name}" placeholders by the segments Match captured.
type JSONExpansion struct {
	Match  Pattern
	Values string     // the path as written: "items[*].id"
	Path   []JSONStep // Values parsed
	Name   string     // the placeholder of a value: Values' last key, or "value"
	URL    string     // a path or an absolute URL on the target, with placeholders
}

// JSONStep is one step of a JSON path: a key of an object, an index of a
// list, or every element of a list (All).
type JSONStep struct {
	Key   string
	Index int // when Key is "" and All is false
	All   bool
}

// ParseJSONPath parses a JSON path: keys separated by dots, each followed
// by any number of "[*]" (every element) or "[N]" (one element), with an
// optional leading "$." ("items[*].id", "$.data[0].links[*]").
func ParseJSONPath(s string) ([]JSONStep, error) {
	p := strings.TrimSpace(s)
	p = strings.TrimPrefix(strings.TrimPrefix(p, "$"), ".")
	if p == "" {
		return nil, fmt.Errorf("empty JSON path: want keys and [*] such as items[*].id")
	}
	var steps []JSONStep
	for _, part := range strings.Split(p, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if rest != "" || strings.HasSuffix(part, "[") {
			rest = "[" + rest
		}
		if key == "" && rest == "" {
			return nil, fmt.Errorf("JSON path %q: empty key", s)
		}
		if strings.ContainsAny(key, "]*") {
			return nil, fmt.Errorf("JSON path %q: invalid key %q", s, key)
		}
		if key != "" {
			steps = append(steps, JSONStep{Key: key})
		}
		for rest != "" {
			end := strings.IndexByte(rest, ']')
			if !strings.HasPrefix(rest, "[") || end < 0 {
				return nil, fmt.Errorf("JSON path %q: want [*] or [N] after a key", s)
			}
			in := rest[1:end]
			rest = rest[end+1:]
			if in == "*" {
				steps = append(steps, JSONStep{All: true})
				continue
			}
			n, err := strconv.Atoi(in)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("JSON path %q: index %q: want * or a number", s, in)
			}
			steps = append(steps, JSONStep{Index: n})
		}
	}
	return steps, nil
}

// reTemplateVar is a "{name}" placeholder of an expansion URL.
var reTemplateVar = regexp.MustCompile(`\{([^{}]*)\}`)

func (w *walker) sources(n *yaml.Node, c *Config) SourcesConfig {
	s := SourcesConfig{Robots: true, Sitemap: true}
	if n == nil {
		return s
	}
	f := w.fields(n, "sources", "robots", "sitemap", "openapi", "har", "list", "list_file", "json")
	if v, ok := w.boolean(f["robots"], "sources.robots"); ok {
		s.Robots = v
	}
	if v, ok := w.boolean(f["sitemap"], "sources.sitemap"); ok {
		s.Sitemap = v
	}
	if on := f["openapi"]; on != nil {
		var items []item
		if deref(on).Kind == yaml.MappingNode {
			items = []item{{deref(on), "sources.openapi"}}
		} else {
			items = w.list(on, "sources.openapi")
		}
		for _, it := range items {
			if it.n.Kind != yaml.MappingNode {
				w.errorf(it.n, it.path, "want {file: PATH} or {url: /openapi.json}")
				continue
			}
			sf := w.fields(it.n, it.path, "file", "url")
			var spec SpecSource
			switch {
			case sf["file"] != nil && sf["url"] != nil:
				w.errorf(it.n, it.path, "give file or url, not both")
				continue
			case sf["file"] != nil:
				p, ok := w.filePath(sf["file"], join(it.path, "file"))
				if !ok {
					continue
				}
				spec.File = p
			case sf["url"] != nil:
				u, ok := w.str(sf["url"], join(it.path, "url"))
				if !ok {
					continue
				}
				if err := checkInScope(u, c.Target); err != nil {
					w.errorf(sf["url"], join(it.path, "url"), "%v; a document elsewhere must be downloaded and given as file", err)
					continue
				}
				spec.URL = u
			default:
				w.errorf(it.n, it.path, "want {file: PATH} or {url: /openapi.json}")
				continue
			}
			s.OpenAPI = append(s.OpenAPI, spec)
		}
	}
	if hn := f["har"]; hn != nil {
		for _, it := range w.list(hn, "sources.har") {
			if p, ok := w.filePath(it.n, it.path); ok {
				s.HAR = append(s.HAR, p)
			}
		}
	}
	if ln := f["list"]; ln != nil {
		for _, it := range w.list(ln, "sources.list") {
			v, ok := w.str(it.n, it.path)
			if !ok {
				continue
			}
			e, err := parseListLine(v, c.Target)
			if err != nil {
				w.errorf(it.n, it.path, "%v", err)
				continue
			}
			e.Where = fmt.Sprintf("%s:%d", w.file, it.n.Line)
			s.List = append(s.List, e)
		}
	}
	if lf := f["list_file"]; lf != nil {
		for _, it := range w.list(lf, "sources.list_file") {
			p, ok := w.filePath(it.n, it.path)
			if !ok {
				continue
			}
			s.List = append(s.List, w.listFile(p, it.path, c.Target)...)
		}
	}
	if jn := f["json"]; jn != nil {
		for _, it := range w.list(jn, "sources.json") {
			if e, ok := w.expansion(it, c); ok {
				s.JSON = append(s.JSON, e)
			}
		}
	}
	return s
}

// boolean reads an optional true or false.
func (w *walker) boolean(n *yaml.Node, path string) (bool, bool) {
	n = deref(n)
	if n == nil {
		return false, false
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var v bool
		if err := n.Decode(&v); err == nil {
			return v, true
		}
	}
	w.errorf(n, path, "must be true or false")
	return false, false
}

// filePath reads a file path, resolves it against the configuration file's
// directory and checks that it can be read.
func (w *walker) filePath(n *yaml.Node, path string) (string, bool) {
	s, ok := w.str(n, path)
	if !ok {
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		w.errorf(n, path, "empty file name")
		return "", false
	}
	p := s
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(w.file), p)
	}
	st, err := os.Stat(p)
	switch {
	case err != nil:
		w.errorf(n, path, "%q: %v", s, unwrapPathError(err))
		return "", false
	case st.IsDir():
		w.errorf(n, path, "%q is a directory, not a file", s)
		return "", false
	}
	return p, true
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// listFile reads an endpoint list: one "METHOD URL" or "URL" a line,
// blank lines and lines starting with "#" ignored. Problems are reported
// at the file's own lines.
func (w *walker) listFile(p, field, target string) []ListEntry {
	data, err := os.ReadFile(p)
	if err != nil {
		w.errs = append(w.errs, &ConfigError{File: p, Line: 1, Col: 1, Field: field, Msg: fmt.Sprintf("read: %v", unwrapPathError(err))})
		return nil
	}
	var out []ListEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		e, err := parseListLine(text, target)
		if err != nil {
			w.errs = append(w.errs, &ConfigError{File: p, Line: line, Col: 1, Field: field, Msg: err.Error()})
			continue
		}
		e.Where = fmt.Sprintf("%s:%d", p, line)
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		w.errs = append(w.errs, &ConfigError{File: p, Line: 1, Col: 1, Field: field, Msg: fmt.Sprintf("read: %v", err)})
	}
	return out
}

// parseListLine reads "METHOD URL" or "URL".
func parseListLine(s, target string) (ListEntry, error) {
	fields := strings.Fields(s)
	var e ListEntry
	switch len(fields) {
	case 1:
		e = ListEntry{Method: http.MethodGet, URL: fields[0]}
	case 2:
		if !isToken(fields[0]) {
			return e, fmt.Errorf("%q: invalid method %q", s, fields[0])
		}
		e = ListEntry{Method: strings.ToUpper(fields[0]), URL: fields[1]}
	default:
		return e, fmt.Errorf("%q: want METHOD URL or URL, such as \"GET /api/health\"", s)
	}
	if err := checkInScope(e.URL, target); err != nil {
		return e, err
	}
	return e, nil
}

func (w *walker) expansion(it item, c *Config) (JSONExpansion, bool) {
	var e JSONExpansion
	if it.n.Kind != yaml.MappingNode {
		w.errorf(it.n, it.path, "want a mapping with match, values and url")
		return e, false
	}
	f := w.fields(it.n, it.path, "match", "values", "url")
	ok := true
	for _, k := range []string{"match", "values", "url"} {
		if f[k] == nil {
			w.errorf(it.n, join(it.path, k), "required")
			ok = false
		}
	}
	if !ok {
		return e, false
	}
	p, good := w.pattern(item{f["match"], join(it.path, "match")}, c)
	if !good {
		return e, false
	}
	e.Match = p
	e.Values, good = w.str(f["values"], join(it.path, "values"))
	if !good {
		return e, false
	}
	steps, err := ParseJSONPath(e.Values)
	if err != nil {
		w.errorf(f["values"], join(it.path, "values"), "%v", err)
		return e, false
	}
	e.Path = steps
	e.Name = "value"
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i].Key != "" {
			e.Name = steps[i].Key
			break
		}
	}
	up := join(it.path, "url")
	e.URL, good = w.str(f["url"], up)
	if !good {
		return e, false
	}
	if err := checkInScope(reTemplateVar.ReplaceAllString(e.URL, "x"), c.Target); err != nil {
		w.errorf(f["url"], up, "%v", err)
		return e, false
	}
	captures := p.Names()
	if slices.Contains(captures, e.Name) && e.Name != "value" {
		w.errorf(f["values"], join(it.path, "values"), "the value's placeholder {%s} is also a name in match: rename one of them", e.Name)
		return e, false
	}
	for _, m := range reTemplateVar.FindAllStringSubmatch(e.URL, -1) {
		name := m[1]
		if name != e.Name && name != "value" && !slices.Contains(captures, name) {
			w.errorf(f["url"], up, "unknown placeholder {%s}: use {%s} for the value or a {name} of match", name, e.Name)
			ok = false
		}
	}
	return e, ok
}

// sourcesCanonical renders crawl.max_per_template and the sources section
// for the fingerprint. File paths are hashed as written after resolution;
// no source holds a secret of its own, but a value expanded from ${ENV}
// is still rendered by its field's name (val does that).
func sourcesCanonical(b *strings.Builder, c *Config, val func(path, v string), list func(path string, vs []string)) {
	val("crawl.max_per_template", strconv.Itoa(c.Crawl.MaxPerTemplate))
	s := c.Sources
	val("sources.robots", strconv.FormatBool(s.Robots))
	val("sources.sitemap", strconv.FormatBool(s.Sitemap))
	for i, o := range s.OpenAPI {
		p := fmt.Sprintf("sources.openapi[%d]", i)
		val(join(p, "file"), o.File)
		val(join(p, "url"), o.URL)
	}
	list("sources.har", s.HAR)
	entries := make([]string, len(s.List))
	for i, e := range s.List {
		entries[i] = e.Method + " " + e.URL
	}
	list("sources.list", entries)
	for i, e := range s.JSON {
		p := fmt.Sprintf("sources.json[%d]", i)
		val(join(p, "match"), e.Match.Raw)
		val(join(p, "values"), e.Values)
		val(join(p, "url"), e.URL)
	}
}
