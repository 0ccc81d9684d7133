package roles

import (
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadSources(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"rec.har":   `{"log":{"entries":[]}}`,
		"api.yaml":  "openapi: 3.0.0\n",
		"list.txt":  "# endpoints\nGET /a\n\n/b\npost http://127.0.0.1:8080/c\n",
		"other.txt": "/d\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfgPath := filepath.Join(dir, "permaudit.yaml")
	yaml := `target: http://127.0.0.1:8080
sources:
  robots: false
  openapi: [{file: api.yaml}, {url: /openapi.json}]
  har: rec.har
  list: ["GET /x/{self.id}", "/y"]
  list_file: [list.txt, other.txt]
  json:
    - match: "GET /api/{c}/records"
      values: "$.items[*].id"
      url: "/api/{c}/records/{id}"
    - match: "GET /api/ids"
      values: "[*]"
      url: "/api/ids/{value}"
roles:
  user: {vars: {id: "1"}}
`
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(cfgPath, envOf(nil))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	s := c.Sources
	if s.Robots || !s.Sitemap {
		t.Errorf("robots %v, sitemap %v; want false, true", s.Robots, s.Sitemap)
	}
	wantSpecs := []SpecSource{{File: filepath.Join(dir, "api.yaml")}, {URL: "/openapi.json"}}
	if !reflect.DeepEqual(s.OpenAPI, wantSpecs) {
		t.Errorf("openapi %+v, want %+v", s.OpenAPI, wantSpecs)
	}
	if !reflect.DeepEqual(s.HAR, []string{filepath.Join(dir, "rec.har")}) {
		t.Errorf("har %q", s.HAR)
	}
	var list []string
	for _, e := range s.List {
		list = append(list, e.Method+" "+e.URL)
	}
	if want := []string{"GET /x/{self.id}", "GET /y", "GET /a", "GET /b", "POST http://127.0.0.1:8080/c", "GET /d"}; !reflect.DeepEqual(list, want) {
		t.Errorf("list %q, want %q", list, want)
	}
	if w := s.List[3].Where; w != filepath.Join(dir, "list.txt")+":4" {
		t.Errorf("where %q", w)
	}
	if len(s.JSON) != 2 || s.JSON[0].Name != "id" || s.JSON[1].Name != "value" || len(s.JSON[0].Path) != 3 {
		t.Errorf("json %+v", s.JSON)
	}
	if c.Crawl.MaxPerTemplate != DefaultMaxPerTemplate {
		t.Errorf("max_per_template %d", c.Crawl.MaxPerTemplate)
	}

	// The defaults, and the fingerprint follows the section.
	d := parseTest(t, "target: http://h\n", nil)
	if !d.Sources.Robots || !d.Sources.Sitemap || d.Sources.OpenAPI != nil {
		t.Errorf("default sources %+v", d.Sources)
	}
	e := parseTest(t, "target: http://h\nsources: {robots: false}\n", nil)
	f := parseTest(t, "target: http://h\ncrawl: {max_per_template: 3}\n", nil)
	if d.Fingerprint() == e.Fingerprint() || d.Fingerprint() == f.Fingerprint() {
		t.Errorf("the fingerprint ignores sources or max_per_template")
	}
	// max_query_variants counts only when set otherwise than the default,
	// so that configurations written before it keep their fingerprint.
	if g := parseTest(t, "target: http://h\ncrawl: {max_query_variants: 20}\n", nil); g.Fingerprint() != d.Fingerprint() {
		t.Errorf("max_query_variants at its default changes the fingerprint")
	}
	if g := parseTest(t, "target: http://h\ncrawl: {max_query_variants: 5}\n", nil); g.Fingerprint() == d.Fingerprint() {
		t.Errorf("the fingerprint ignores max_query_variants")
	}
}

func TestLoadSourcesErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("GET /ok\nGET /a /b\nBR@KEN /x\nhttp://elsewhere.example/y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := `target: http://127.0.0.1:8080
crawl: {max_per_template: 0, max_query_variants: -1}
sources:
  robots: "yes"
  openapi:
    - {file: api.yaml, url: /x}
    - {url: "http://other.example/openapi.json"}
    - {nope: 1}
  har: [missing.har, "` + dir + `"]
  list: ["GET /ok", "GET"]
  list_file: "` + bad + `"
  json:
    - {match: "GET /api/{c}", values: "items[", url: "/api/{c}/{id}"}
    - {match: "GET /api/{c}", values: "items[*].id", url: "/api/{c}/{oops}"}
    - {match: "GET /api/{id}", values: "items[*].id", url: "/api/{id}"}
    - {match: "GET /api", values: "x"}
    - {match: "GET /api", values: "x", url: "http://other.example/{x}"}
`
	errs := parseErrs(t, yaml, nil)
	got := errs.Error()
	for _, want := range []string{
		"test.yaml:2:", "crawl.max_per_template: 0 is out of range 1..1000000",
		"test.yaml:2:50: crawl.max_query_variants: -1 is out of range 1..1000000",
		"sources.robots: must be true or false",
		"sources.openapi[0]: give file or url, not both",
		`sources.openapi[1].url: "http://other.example/openapi.json" is not on the target's origin; a document elsewhere must be downloaded and given as file`,
		"sources.openapi[2].nope: unknown field",
		`sources.har[0]: "missing.har": no such file or directory`,
		"is a directory, not a file",
		`sources.list[1]: "GET": want a path starting with "/"`,
		bad + `:2:1: sources.list_file: "GET /a /b": want METHOD URL or URL`,
		bad + `:3:1: sources.list_file: "BR@KEN /x": invalid method`,
		bad + `:4:1: sources.list_file: "http://elsewhere.example/y" is not on the target's origin`,
		`sources.json[0].values: JSON path "items[": want [*] or [N] after a key`,
		"sources.json[1].url: unknown placeholder {oops}: use {id} for the value or a {name} of match",
		"sources.json[2].values: the value's placeholder {id} is also a name in match",
		"sources.json[3].url: required",
		"sources.json[4].url: \"http://other.example/x\" is not on the target's origin",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
}

func TestParseJSONPath(t *testing.T) {
	tests := []struct {
		in   string
		want []JSONStep
		err  bool
	}{
		{"items[*].id", []JSONStep{{Key: "items"}, {All: true}, {Key: "id"}}, false},
		{"$.data[0].links[*]", []JSONStep{{Key: "data"}, {Index: 0}, {Key: "links"}, {All: true}}, false},
		{"$[*].id", []JSONStep{{All: true}, {Key: "id"}}, false},
		{"total", []JSONStep{{Key: "total"}}, false},
		{"", nil, true},
		{"a..b", nil, true},
		{"a[x]", nil, true},
		{"a[-1]", nil, true},
		{"a]", nil, true},
		{"a[*]b", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseJSONPath(tt.in)
		if (err != nil) != tt.err || (!tt.err && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("ParseJSONPath(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestPatternCapture(t *testing.T) {
	tests := []struct {
		pattern, url string
		want         map[string]string // nil: no match
	}{
		{"GET /api/{c}/records", "http://h/api/notes/records", map[string]string{"c": "notes"}},
		{"GET /api/{c}/records", "http://h/api/notes/other", nil},
		{"POST /api/{c}/records", "http://h/api/notes/records", nil},
		{"/**/x/{id}/{id}", "http://h/a/b/x/1/2", map[string]string{"id": "1"}},
		{"/{a}/**/{b}", "http://h/1/2/3/4", map[string]string{"a": "1", "b": "4"}},
		{"/u/{self.id}/{n}", "http://h/u/7/z%20z", map[string]string{"n": "z z"}},
		{"/u/{self.id}/{n}", "http://h/u/8/z", nil},
	}
	b := Bindings{Self: "r", Vars: func(role, name string) (string, bool) { return "7", role == "r" && name == "id" }}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(tt.url)
		got, ok := p.Capture("GET", u, b)
		if ok != (tt.want != nil) || (ok && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("%s on %s: %v %v, want %v", tt.pattern, tt.url, got, ok, tt.want)
		}
	}
	p, _ := ParsePattern("/{a}/{self.x}/{b}/{a}")
	if got := p.Names(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Names = %q", got)
	}
}
