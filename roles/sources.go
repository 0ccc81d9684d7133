package roles

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/permaudit/permaudit/internal/yamlwalk"
)

// DefaultMaxPerTemplate is how many concrete URLs of one template the
// inventory keeps unless crawl.max_per_template says otherwise.
const DefaultMaxPerTemplate = 20

// DefaultMaxQueryVariants is how many query variants of one path (one
// method and path, ids folded) the inventory keeps unless
// crawl.max_query_variants says otherwise.
const DefaultMaxQueryVariants = 20

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
	f := w.Fields(n, "sources", "robots", "sitemap", "openapi", "har", "list", "list_file", "json")
	if n := f["robots"]; n != nil {
		if v, ok := w.Bool(n, "sources.robots"); ok {
			s.Robots = v
		}
	}
	if n := f["sitemap"]; n != nil {
		if v, ok := w.Bool(n, "sources.sitemap"); ok {
			s.Sitemap = v
		}
	}
	if on := f["openapi"]; on != nil {
		var items []yamlwalk.Item
		if on.Kind == yaml.MappingNode {
			items = []yamlwalk.Item{{N: on, Path: "sources.openapi"}}
		} else {
			items = w.List(on, "sources.openapi")
		}
		for _, it := range items {
			if it.N.Kind != yaml.MappingNode {
				w.Errorf(it.N, it.Path, "want {file: PATH} or {url: /openapi.json}")
				continue
			}
			sf := w.Fields(it.N, it.Path, "file", "url")
			var spec SpecSource
			switch {
			case sf["file"] != nil && sf["url"] != nil:
				w.Errorf(it.N, it.Path, "give file or url, not both")
				continue
			case sf["file"] != nil:
				p, ok := w.filePath(sf["file"], join(it.Path, "file"))
				if !ok {
					continue
				}
				spec.File = p
			case sf["url"] != nil:
				u, ok := w.Str(sf["url"], join(it.Path, "url"))
				if !ok {
					continue
				}
				if err := checkInScope(u, c.Target); err != nil {
					w.Errorf(sf["url"], join(it.Path, "url"), "%v; a document elsewhere must be downloaded and given as file", err)
					continue
				}
				spec.URL = u
			default:
				w.Errorf(it.N, it.Path, "want {file: PATH} or {url: /openapi.json}")
				continue
			}
			s.OpenAPI = append(s.OpenAPI, spec)
		}
	}
	if hn := f["har"]; hn != nil {
		for _, it := range w.List(hn, "sources.har") {
			if p, ok := w.filePath(it.N, it.Path); ok {
				s.HAR = append(s.HAR, p)
			}
		}
	}
	if ln := f["list"]; ln != nil {
		for _, it := range w.List(ln, "sources.list") {
			v, ok := w.Str(it.N, it.Path)
			if !ok {
				continue
			}
			e, err := parseListLine(v, c.Target)
			if err != nil {
				w.Errorf(it.N, it.Path, "%v", err)
				continue
			}
			e.Where = fmt.Sprintf("%s:%d", w.File, it.N.Line)
			s.List = append(s.List, e)
		}
	}
	if lf := f["list_file"]; lf != nil {
		for _, it := range w.List(lf, "sources.list_file") {
			p, ok := w.filePath(it.N, it.Path)
			if !ok {
				continue
			}
			s.List = append(s.List, w.listFile(p, it.Path, c.Target)...)
		}
	}
	if jn := f["json"]; jn != nil {
		for _, it := range w.List(jn, "sources.json") {
			if e, ok := w.expansion(it, c); ok {
				s.JSON = append(s.JSON, e)
			}
		}
	}
	return s
}

// filePath reads a file path, resolves it against the configuration file's
// directory and checks that it can be read.
func (w *walker) filePath(n *yaml.Node, path string) (string, bool) {
	s, ok := w.Str(n, path)
	if !ok {
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		w.Errorf(n, path, "empty file name")
		return "", false
	}
	p := s
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(w.File), p)
	}
	st, err := os.Stat(p)
	switch {
	case err != nil:
		w.Errorf(n, path, "%q: %v", s, unwrapPathError(err))
		return "", false
	case st.IsDir():
		w.Errorf(n, path, "%q is a directory, not a file", s)
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
		w.Errs = append(w.Errs, &yamlwalk.Error{File: p, Line: 1, Col: 1, Field: field, Msg: fmt.Sprintf("read: %v", unwrapPathError(err))})
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
			w.Errs = append(w.Errs, &yamlwalk.Error{File: p, Line: line, Col: 1, Field: field, Msg: err.Error()})
			continue
		}
		e.Where = fmt.Sprintf("%s:%d", p, line)
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		w.Errs = append(w.Errs, &yamlwalk.Error{File: p, Line: 1, Col: 1, Field: field, Msg: fmt.Sprintf("read: %v", err)})
	}
	return out
}

// parseListLine reads "METHOD URL" or "URL".
func parseListLine(s, target string) (ListEntry, error) {
	fields := strings.Fields(s)
	var e ListEntry
	switch len(fields) {
	case 1:
		e = ListEntry{Method: "GET", URL: fields[0]}
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

func (w *walker) expansion(it yamlwalk.Item, c *Config) (JSONExpansion, bool) {
	var e JSONExpansion
	if it.N.Kind != yaml.MappingNode {
		w.Errorf(it.N, it.Path, "want a mapping with match, values and url")
		return e, false
	}
	f := w.Fields(it.N, it.Path, "match", "values", "url")
	ok := true
	for _, k := range []string{"match", "values", "url"} {
		if f[k] == nil {
			w.Errorf(it.N, join(it.Path, k), "required")
			ok = false
		}
	}
	if !ok {
		return e, false
	}
	p, good := w.pattern(yamlwalk.Item{N: f["match"], Path: join(it.Path, "match")}, c)
	if !good {
		return e, false
	}
	e.Match = p
	e.Values, good = w.Str(f["values"], join(it.Path, "values"))
	if !good {
		return e, false
	}
	steps, err := ParseJSONPath(e.Values)
	if err != nil {
		w.Errorf(f["values"], join(it.Path, "values"), "%v", err)
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
	up := join(it.Path, "url")
	e.URL, good = w.Str(f["url"], up)
	if !good {
		return e, false
	}
	if err := checkInScope(reTemplateVar.ReplaceAllString(e.URL, "x"), c.Target); err != nil {
		w.Errorf(f["url"], up, "%v", err)
		return e, false
	}
	captures := p.Names()
	if slices.Contains(captures, e.Name) && e.Name != "value" {
		w.Errorf(f["values"], join(it.Path, "values"), "the value's placeholder {%s} is also a name in match: rename one of them", e.Name)
		return e, false
	}
	for _, m := range reTemplateVar.FindAllStringSubmatch(e.URL, -1) {
		name := m[1]
		if name != e.Name && name != "value" && !slices.Contains(captures, name) {
			w.Errorf(f["url"], up, "unknown placeholder {%s}: use {%s} for the value or a {name} of match", name, e.Name)
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
	if n := c.Crawl.MaxQueryVariants; n != 0 && n != DefaultMaxQueryVariants {
		// Only when set otherwise: the fingerprints of configurations
		// written before it stay the same.
		val("crawl.max_query_variants", strconv.Itoa(n))
	}
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
