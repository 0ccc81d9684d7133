package crawl

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

// apiOp is one operation of an API document.
type apiOp struct {
	method string
	path   string     // the server's base path joined with the path template: "/api/v1/orders/{orderId}"
	params []apiParam // path parameters, then required query parameters, in document order
}

// apiParam is a parameter an operation's URL needs.
type apiParam struct {
	name     string
	query    bool     // in the query, not the path
	examples []string // values the document gives, best first
}

// parseAPIDoc reads an OpenAPI 3 or Swagger 2 document (JSON or YAML) and
// returns its operations sorted by path then method. References inside
// the document are resolved; references to other files or URLs are
// refused, so reading a document never sends a request.
func parseAPIDoc(data []byte) ([]apiOp, error) {
	var head struct {
		Swagger string `yaml:"swagger"`
		OpenAPI string `yaml:"openapi"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("not JSON or YAML: %v", err)
	}
	var doc *openapi3.T
	switch {
	case strings.HasPrefix(head.Swagger, "2"):
		var d2 openapi2.T
		if err := openapi2.UnmarshalFromData(data, &d2); err != nil {
			return nil, fmt.Errorf("swagger 2 document: %w", err)
		}
		d3, err := openapi2conv.ToV3(&d2)
		if err != nil {
			return nil, fmt.Errorf("swagger 2 document: %w", err)
		}
		doc = d3
	case strings.HasPrefix(head.OpenAPI, "3"):
		loader := openapi3.NewLoader()
		loader.IsExternalRefsAllowed = false
		d, err := loader.LoadFromData(data)
		if err != nil {
			return nil, fmt.Errorf("openapi 3 document: %w", err)
		}
		doc = d
	default:
		return nil, errors.New(`neither an OpenAPI 3 document ("openapi: 3.x") nor a Swagger 2 one ("swagger: \"2.0\"")`)
	}
	base := serverBase(doc.Servers)
	var ops []apiOp
	paths := doc.Paths.Map()
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, p := range keys {
		item := paths[p]
		if item == nil {
			continue
		}
		methods := item.Operations()
		names := make([]string, 0, len(methods))
		for m := range methods {
			names = append(names, m)
		}
		sort.Strings(names)
		for _, m := range names {
			op := methods[m]
			if op == nil {
				continue
			}
			a := apiOp{method: strings.ToUpper(m), path: joinPath(base, p)}
			a.params = opParams(item.Parameters, op.Parameters)
			ops = append(ops, a)
		}
	}
	return ops, nil
}

// serverBase is the path of the first server (its variables at their
// defaults), without a trailing slash: the API is audited on the target,
// wherever the document says it is served.
func serverBase(servers openapi3.Servers) string {
	if len(servers) == 0 || servers[0] == nil {
		return ""
	}
	s := servers[0]
	raw := s.URL
	for name, v := range s.Variables {
		if v != nil {
			raw = strings.ReplaceAll(raw, "{"+name+"}", v.Default)
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	p := u.Path
	if u.Host == "" && u.Scheme == "" && !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return strings.TrimRight(p, "/")
}

func joinPath(base, p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return base + p
}

// opParams merges the path item's parameters with the operation's (the
// operation's win) and keeps those the URL needs: path parameters, and
// required query parameters.
func opParams(itemParams, opParamRefs openapi3.Parameters) []apiParam {
	type key struct{ in, name string }
	byKey := map[key]*openapi3.Parameter{}
	var order []key
	for _, list := range []openapi3.Parameters{itemParams, opParamRefs} {
		for _, ref := range list {
			if ref == nil || ref.Value == nil {
				continue
			}
			p := ref.Value
			k := key{p.In, p.Name}
			if _, ok := byKey[k]; !ok {
				order = append(order, k)
			}
			byKey[k] = p
		}
	}
	var path, query []apiParam
	for _, k := range order {
		p := byKey[k]
		switch {
		case p.In == openapi3.ParameterInPath:
			path = append(path, apiParam{name: p.Name, examples: paramExamples(p)})
		case p.In == openapi3.ParameterInQuery && p.Required:
			query = append(query, apiParam{name: p.Name, query: true, examples: paramExamples(p)})
		}
	}
	return append(path, query...)
}

// paramExamples lists the values the document gives for a parameter:
// its example, its examples (by name), Swagger's x-example, then its
// schema's example, examples, default and enum.
func paramExamples(p *openapi3.Parameter) []string {
	var out []string
	add := func(v any) {
		if s, ok := scalarString(v); ok && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(p.Example)
	names := make([]string, 0, len(p.Examples))
	for n := range p.Examples {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if ex := p.Examples[n]; ex != nil && ex.Value != nil {
			add(ex.Value.Value)
		}
	}
	add(p.Extensions["x-example"])
	if p.Schema != nil && p.Schema.Value != nil {
		s := p.Schema.Value
		add(s.Example)
		for _, v := range s.Examples {
			add(v)
		}
		add(s.Default)
		for _, v := range s.Enum {
			add(v)
		}
	}
	return out
}

// scalarString renders a string, number or boolean example; other values
// (objects, lists, null) cannot fill a URL.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, x != ""
	case bool:
		return fmt.Sprint(x), true
	case int, int64, int32, uint64, uint32, uint:
		return fmt.Sprint(x), true
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprint(int64(x)), true
		}
		return fmt.Sprint(x), true
	case float32:
		return scalarString(float64(x))
	case interface{ String() string }: // json.Number
		s := x.String()
		return s, s != ""
	}
	return "", false
}

// fill builds the URL of op with a value for each parameter from value,
// which returns "" when it knows none. It returns the raw URL, or the
// name of the first parameter without a value.
func (op apiOp) fill(value func(apiParam) string) (string, string) {
	path := op.path
	var q []string
	for _, p := range op.params {
		v := value(p)
		if v == "" {
			return "", p.name
		}
		if p.query {
			q = append(q, url.QueryEscape(p.name)+"="+url.QueryEscape(v))
			continue
		}
		path = strings.ReplaceAll(path, "{"+p.name+"}", url.PathEscape(v))
	}
	if len(q) > 0 {
		path += "?" + strings.Join(q, "&")
	}
	return path, ""
}

// capture matches a URL path against op's path template and returns the
// values of its path parameters, or nil.
func (op apiOp) capture(u *url.URL) map[string]string {
	tsegs := strings.Split(op.path, "/")
	usegs := strings.Split(u.EscapedPath(), "/")
	if len(tsegs) != len(usegs) {
		return nil
	}
	got := map[string]string{}
	for i, t := range tsegs {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") && len(t) > 2 {
			v, err := url.PathUnescape(usegs[i])
			if err != nil || v == "" {
				return nil
			}
			got[t[1:len(t)-1]] = v
			continue
		}
		if t != usegs[i] {
			return nil
		}
	}
	return got
}
