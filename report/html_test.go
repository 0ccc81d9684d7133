package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
	"golang.org/x/net/html"
)

// TestHTMLHostileStaysText parses the report of the hostile run as a
// browser would, without one: only the report's own elements may carry
// script, and no attribute may hold a handler or a javascript: URL.
func TestHTMLHostileStaysText(t *testing.T) {
	out := render(t, htmlWriter{}, hostileRun())
	z := html.NewTokenizer(bytes.NewReader(out))
	var scripts, data int
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				t.Fatalf("tokenize: %v", z.Err())
			}
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		switch tok.Data {
		case "script":
			scripts++
			if attr(tok, "class") == "pa-evidence" && attr(tok, "type") == "application/octet-stream" ||
				attr(tok, "id") == "pa-matrix" && attr(tok, "type") == "application/json" {
				data++
			}
		case "a": // the table of contents only
			if !strings.HasPrefix(attr(tok, "href"), "#") {
				t.Errorf("the report holds a link out: %v", tok.Attr)
			}
		case "form": // the filters only
			if attr(tok, "id") != "filters" {
				t.Errorf("the report holds a form: %v", tok.Attr)
			}
		case "img", "svg", "iframe", "object", "embed", "base", "link", "meta":
			if tok.Data == "link" && attr(tok, "href") == "data:," || tok.Data == "meta" {
				continue // the empty favicon; the report's own meta elements
			}
			t.Errorf("the report holds a <%s> element: %v", tok.Data, tok.Attr)
		}
		for _, a := range tok.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s> has an event handler attribute %s=%q", tok.Data, a.Key, a.Val)
			}
			if strings.Contains(strings.ToLower(a.Val), "javascript:") && a.Key != "content" {
				t.Errorf("<%s %s=%q> holds a javascript: URL", tok.Data, a.Key, a.Val)
			}
		}
	}
	if scripts != data+1 {
		t.Errorf("script elements: %d, want the report's script and its %d data elements", scripts, data)
	}
	// The hostile strings are there, as text.
	if !bytes.Contains(out, []byte(`/a/&lt;script&gt;window.__pwned=&#34;path&#34;&lt;/script&gt;`)) && !bytes.Contains(out, []byte(`/a/%3Cscript%3E`)) {
		t.Error("the hostile endpoint is not shown, escaped")
	}
}

func attr(tok html.Token, key string) string {
	for _, a := range tok.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// TestHTMLContentSecurityPolicy checks that the policy forbids every
// network request and allows exactly the inline style and script the
// report carries.
func TestHTMLContentSecurityPolicy(t *testing.T) {
	out := string(render(t, htmlWriter{}, fixtureRun(fixtureRoles, richEndpoints())))
	m := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]+)">`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no Content-Security-Policy meta element")
	}
	csp := html.UnescapeString(m[1])
	for _, want := range []string{"default-src 'none'", "base-uri 'none'", "form-action 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	style := between(t, out, "<style>", "</style>")
	script := between(t, out, "<script>", "</script>")
	if !strings.Contains(csp, "style-src "+hash(style)) {
		t.Errorf("CSP %q does not allow the inline style by its hash %s", csp, hash(style))
	}
	if !strings.Contains(csp, "script-src "+hash(script)) {
		t.Errorf("CSP %q does not allow the inline script by its hash %s", csp, hash(script))
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "http") {
		t.Errorf("CSP %q allows inline code or a network source", csp)
	}
}

func between(t *testing.T, s, start, end string) string {
	t.Helper()
	i := strings.Index(s, start)
	if i < 0 {
		t.Fatalf("no %s", start)
	}
	j := strings.Index(s[i+len(start):], end)
	if j < 0 {
		t.Fatalf("no %s after %s", end, start)
	}
	return s[i+len(start) : i+len(start)+j]
}

// TestHTMLEvidence decodes the evidence chunks of a report and checks
// each cell's record against its observation.
func TestHTMLEvidence(t *testing.T) {
	r := bigRun(30, 3)
	for i, c := range r.Observations.All() {
		c.Location = "/next?i=" + strings.Repeat("x", i%3)
		r.Observations.Set(i, c)
	}
	out := string(render(t, htmlWriter{}, r))
	if got, want := strings.Count(out, `class="pa-evidence"`), (r.Observations.Len()+evidenceChunk-1)/evidenceChunk; got != want {
		t.Fatalf("evidence chunks: got %d, want %d", got, want)
	}
	cells, strs := evidenceCells(t, out)
	if len(cells) != r.Observations.Len() {
		t.Fatalf("evidence cells: got %d, want %d", len(cells), r.Observations.Len())
	}
	for i, c := range r.Observations.All() {
		rec, s := cells[i], strs[i]
		str := func(field int) string { return s[int(rec[field].(float64))] }
		if len(rec) != evFields {
			t.Fatalf("cell %d: %d fields, want %d", i, len(rec), evFields)
		}
		for _, tt := range []struct {
			field int
			want  string
		}{
			{evVerdict, string(c.Verdict)}, {evRole, c.Role}, {evLocation, c.Location}, {evExcerpt, c.Excerpt},
			{evExpected, c.Expected}, {evRule, c.Rule}, {evRequest, requestLine(c.Method, c.URL)},
			{evCurl, curlCommand(c.Method, c.URL, c.Role, r.Roles[roleIndex(r, c.Role)].SignIn)},
		} {
			if got := str(tt.field); got != tt.want {
				t.Errorf("cell %d field %d: got %q, want %q", i, tt.field, got, tt.want)
			}
		}
		if got := int(rec[evStatus].(float64)); got != c.Status {
			t.Errorf("cell %d status: got %d, want %d", i, got, c.Status)
		}
	}
}

// evidenceCells decodes every evidence chunk of a report: the record of
// each cell in order, and the string table it indexes.
func evidenceCells(t *testing.T, out string) (cells [][]any, strs [][]string) {
	t.Helper()
	chunks := regexp.MustCompile(`<script type="application/octet-stream" class="pa-evidence" data-first="(\d+)">([^<]*)</script>`).FindAllStringSubmatch(out, -1)
	for _, c := range chunks {
		doc, err := decodeEvidence(c[2])
		if err != nil {
			t.Fatalf("chunk at %s: %v", c[1], err)
		}
		if doc.Version != evidenceVersion {
			t.Errorf("version %d, want %d", doc.Version, evidenceVersion)
		}
		for _, cell := range doc.Cells {
			cells = append(cells, cell)
			strs = append(strs, doc.Strings)
		}
	}
	return cells, strs
}

// matrixDoc is the pa-matrix document of a report, as report.js reads it.
type matrixDoc struct {
	Version   int               `json:"version"`
	Codes     map[string]string `json:"codes"`
	Symbols   map[string]string `json:"symbols"`
	Groups    [][]any           `json:"groups"`
	Templates [][]any           `json:"templates"`
	Tpl       []int             `json:"tpl"`
	M         []int             `json:"m"`
	P         []string          `json:"p"`
	V         string            `json:"v"`
	A         []int             `json:"a"`
	C         []int             `json:"c"`
	CX        [][]any           `json:"cx"`
	Methods   []string          `json:"methods"`
	Answers   []string          `json:"answers"`
}

// matrixData reads the pa-matrix element of a report: its raw text and
// the document it holds.
func matrixData(t *testing.T, out string) (string, *matrixDoc) {
	t.Helper()
	m := regexp.MustCompile(`<script type="application/json" id="pa-matrix">([^<]*)</script>`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no pa-matrix element (or a \"<\" inside it)")
	}
	var d matrixDoc
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatalf("pa-matrix: %v", err)
	}
	if d.Version != matrixDataVersion {
		t.Fatalf("pa-matrix version %d, want %d", d.Version, matrixDataVersion)
	}
	return m[1], &d
}

// matrixCells is every matrix cell of a report as report.js draws it,
// "class symbol answer", by "METHOD path as role".
func matrixCells(t *testing.T, out string) map[string]string {
	t.Helper()
	_, d := matrixData(t, out)
	roles := regexp.MustCompile(`<th scope="col" class="role" data-role="([^"]*)"`).FindAllStringSubmatch(out, -1)
	cells := map[string]string{}
	for k, p := range d.P {
		for j, role := range roles {
			code := string(d.V[k*len(roles)+j])
			cells[d.Methods[d.M[k]]+" "+p+" as "+html.UnescapeString(role[1])] = "v-" + d.Codes[code] + " " + d.Symbols[code] + " " + d.Answers[d.A[k*len(roles)+j]]
		}
	}
	return cells
}

func roleIndex(r *model.Run, name string) int {
	for i, ri := range r.Roles {
		if ri.Name == name {
			return i
		}
	}
	return -1
}

func TestCurlCommand(t *testing.T) {
	tests := []struct {
		method, url, role, signIn, want string
	}{
		{"GET", "http://h/a", "anonymous", "none", `curl -sS -i 'http://h/a'`},
		{"GET", "http://h/a?x=1&y=2", "support", "bearer", `curl -sS -i 'http://h/a?x=1&y=2' -H "Authorization: Bearer $PERMAUDIT_SUPPORT_TOKEN"`},
		{"GET", "http://h/a", "admin", "basic", `curl -sS -i 'http://h/a' -u "$PERMAUDIT_ADMIN_USERNAME:$PERMAUDIT_ADMIN_PASSWORD"`},
		{"GET", "http://h/a", "ops-team", "cookies+headers", `curl -sS -i 'http://h/a' -b "$PERMAUDIT_OPS_TEAM_COOKIE" -H "$PERMAUDIT_OPS_TEAM_HEADER"`},
		{"GET", "http://h/a", "viewer", "form", `curl -sS -i 'http://h/a' -b "$PERMAUDIT_VIEWER_COOKIE"`},
		{"HEAD", "http://h/it's", "x", "none", `curl -sS -I 'http://h/it'\''s'`}, // -X HEAD would wait for a body
		{"HEAD", "http://h/a", "admin", "basic", `curl -sS -I 'http://h/a' -u "$PERMAUDIT_ADMIN_USERNAME:$PERMAUDIT_ADMIN_PASSWORD"`},
		{"POST", "http://h/a", "x", "none", `curl -sS -i -X 'POST' 'http://h/a'`},
		{"GET", "http://h/$(rm -rf ~)`id`", "r", "none", "curl -sS -i 'http://h/$(rm -rf ~)`id`'"},
	}
	for _, tt := range tests {
		if got := curlCommand(tt.method, tt.url, tt.role, tt.signIn); got != tt.want {
			t.Errorf("curlCommand(%s %s as %s, %s):\n got %s\nwant %s", tt.method, tt.url, tt.role, tt.signIn, got, tt.want)
		}
	}
}

func TestAnswerOf(t *testing.T) {
	r := fixtureRun(fixtureRoles, richEndpoints())
	want := map[string]string{
		"/admin/ as anonymous":          "login",
		"/admin/ as support":            "200",
		"/account/ as customer":         "↪200",
		"/support/tickets as customer":  "denial",
		"/api/admin/stats as admin":     "error",
		"/api/orders/18 as anonymous":   "401",
		"/api/orders/17 as anonymous":   "404",
		"/search?q=x as customer":       "405",
		"/api/admin/stats as anonymous": "403",
	}
	for _, c := range r.Observations.All() {
		k := model.PathOf(c.URL) + " as " + c.Role
		if w, ok := want[k]; ok {
			if got := answerOf(c); got != w {
				t.Errorf("%s: answer %q, want %q", k, got, w)
			}
			delete(want, k)
		}
	}
	if len(want) > 0 {
		t.Errorf("cells not in the fixture: %v", want)
	}
}

// BenchmarkHTMLWriter renders the report of 5,000 endpoints x 8 roles.
func BenchmarkHTMLWriter(b *testing.B) {
	r := bigRun(5000, 8)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := (htmlWriter{}).Write(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHTMLMatrixDataEscaped: the matrix's data is JSON inside a
// <script> element, where "</script>" would end the element and "<!--"
// would change how the browser finds its end. Every string the target
// controls (path, prefix, template, method, role) holding them stays
// inside the element, with no "<" at all, and reads back as written.
func TestHTMLMatrixDataEscaped(t *testing.T) {
	const evil = "</script><!--<script>window.__pwned=1</script>--></SCRIPT \u2028\u2029"
	ok := probe{role: "anonymous", status: 200, class: model.Allowed, why: "status 200", verdict: model.Pass}
	r := fixtureRun(fixtureRoles[:1], []fixtureEndpoint{
		{path: "/" + evil + "/1", template: "GET /" + evil + "/{id}", expected: "allow", rule: "rule 1", probes: []probe{ok}},
		{path: "/" + evil + "/2", template: "GET /" + evil + "/{id}", expected: "allow", rule: "rule 1", probes: []probe{ok}},
	})
	c := r.Observations.At(1)
	c.Method = "GET<!--" + evil
	r.Observations.Set(1, c)
	out := string(render(t, htmlWriter{}, r))
	raw, d := matrixData(t, out)
	for _, bad := range []string{"<", ">", "&", "\u2028", "\u2029"} {
		if strings.Contains(raw, bad) {
			t.Errorf("the matrix data holds %q: %s", bad, raw)
		}
	}
	// A browser's tokenizer finds the element whole.
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		if tt := z.Next(); tt == html.ErrorToken {
			t.Fatal("no pa-matrix element found by the tokenizer")
		} else if tt == html.StartTagToken {
			if tok := z.Token(); tok.Data == "script" && attr(tok, "id") == "pa-matrix" {
				if z.Next(); string(z.Text()) != raw {
					t.Fatalf("the tokenizer reads the pa-matrix element as %q, want it whole", z.Text())
				}
				break
			}
		}
	}
	m := buildHTMLMatrix(r, matrixRoles(r))
	var paths, methods []string
	for _, row := range m.rows {
		paths = append(paths, textout.Sanitize(row.path))
		methods = append(methods, textout.Sanitize(row.method))
	}
	var gotMethods []string
	for _, i := range d.M {
		gotMethods = append(gotMethods, d.Methods[i])
	}
	if !slices.Equal(d.P, paths) || !slices.Equal(gotMethods, methods) {
		t.Errorf("paths %q and methods %q read back, want %q and %q", d.P, gotMethods, paths, methods)
	}
	if len(d.Templates) == 0 || d.Templates[0][0] != textout.Sanitize(r.Observations.At(0).Template) {
		t.Errorf("templates %q, want the first %q", d.Templates, textout.Sanitize(r.Observations.At(0).Template))
	}
	if len(d.Groups) == 0 || d.Groups[0][0] != textout.Sanitize(pathPrefix(r.Observations.At(0).URL)) {
		t.Errorf("groups %q, want the first %q", d.Groups, textout.Sanitize(pathPrefix(r.Observations.At(0).URL)))
	}
}

// TestHTMLListDataEscaped: findings and notes sent as data (a list longer
// than listRowsMax) hold no character that could end their element, a
// browser's tokenizer reads each element whole, and the rows read back are
// the sanitised strings, in the list's order.
func TestHTMLListDataEscaped(t *testing.T) {
	old := listRowsMax
	listRowsMax = 0
	defer func() { listRowsMax = old }()
	r := hostileRun()
	r.Notes = append(r.Notes, model.Finding{Verdict: model.DeadRule, Severity: model.Info, Rule: "rule 9 </script><script>window.__pwned=1</script>",
		Cell: -1, Message: "never matched \u2028</SCRIPT>"})
	out := string(render(t, htmlWriter{}, r))
	for _, list := range []struct {
		id    string
		items []model.Finding
		text  func(f model.Finding) []string // what the row carries from the target
		at    []int                          // where, in each row
	}{
		{"pa-findings", r.Findings, func(f model.Finding) []string { return []string{f.Method, f.Path, f.Role, f.Rule} }, []int{5, 6, 7, 10}},
		{"pa-notes", r.Notes, func(f model.Finding) []string {
			if f.Method == "" {
				return []string{f.Rule, f.Role, f.Message}
			}
			return []string{f.Path, f.Role, f.Message}
		}, []int{5, 6, 7}},
	} {
		if len(list.items) == 0 {
			t.Fatalf("%s: the fixture has none", list.id)
		}
		raw := ""
		z := html.NewTokenizer(strings.NewReader(out))
		for raw == "" {
			if tt := z.Next(); tt == html.ErrorToken {
				t.Fatalf("no %s element found by the tokenizer", list.id)
			} else if tt == html.StartTagToken {
				if tok := z.Token(); tok.Data == "script" && attr(tok, "id") == list.id {
					z.Next()
					raw = string(z.Text())
				}
			}
		}
		for _, bad := range []string{"<", ">", "&", "\u2028", "\u2029"} {
			if strings.Contains(raw, bad) {
				t.Errorf("%s holds %q: %s", list.id, bad, raw)
			}
		}
		var d struct {
			Version int
			Rows    [][]any
		}
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			t.Fatalf("%s: %v", list.id, err)
		}
		if d.Version != listDataVersion || len(d.Rows) != len(list.items) {
			t.Fatalf("%s: version %d, %d rows; want %d, %d", list.id, d.Version, len(d.Rows), listDataVersion, len(list.items))
		}
		for i, f := range list.items {
			for j, want := range list.text(f) {
				if got := d.Rows[i][list.at[j]]; got != textout.Sanitize(want) {
					t.Errorf("%s row %d field %d: %q, want %q", list.id, i, list.at[j], got, textout.Sanitize(want))
				}
			}
			if got := d.Rows[i][0]; got != float64(f.Cell) {
				t.Errorf("%s row %d: cell %v, want %d", list.id, i, got, f.Cell)
			}
		}
	}
}
