package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
	"golang.org/x/net/html"
)

// FuzzRenderers puts arbitrary text from the target (a path, a body, a
// Location, an error) and from the configuration (a role name) into a
// run and checks every CI output and the HTML report stay well formed:
// the JUnit XML parses, the SARIF is JSON, the CSV parses back with one
// column per role, the Markdown has no unescaped markup character and the
// HTML has no element or attribute the report did not write.
func FuzzRenderers(f *testing.F) {
	f.Add("/a/<script>x</script>", `</script><!--`, "javascript:alert(1)", "err\x00\x1b[2J", "cust\"'>")
	f.Add("/b/\u202e|*_`[x](y)", "line1\r\nline2\t\u2028", "//evil.example/", "\xff\xfe", "=SUM(A1)")
	f.Add("", "", "", "", "r")
	f.Fuzz(func(t *testing.T, path, body, location, errText, role string) {
		if role == "" {
			role = "r"
		}
		infos := []model.RoleInfo{{Name: "anonymous", SignIn: "none"}, {Name: role, SignIn: "cookies"}}
		r := fixtureRun(infos, []fixtureEndpoint{{path: "/" + path, template: "GET /" + path, expected: "deny " + body, rule: "rule 1 " + location,
			probes: []probe{
				{role: "anonymous", status: 200, class: "allowed", why: "status 200", verdict: model.Leak, excerpt: body, location: location,
					body: []model.BodyCheckResult{{Check: location, Result: model.BodyFail, Detail: errText}, {Check: body, Result: model.BodyOutcome(role)}}},
				{role: role, status: 0, class: "error", why: "transport", verdict: model.ErrorVerdict, err: errText},
			}}})

		var doc struct {
			XMLName xml.Name `xml:"testsuites"`
		}
		if err := xml.Unmarshal(render(t, junitWriter{}, r), &doc); err != nil {
			t.Fatalf("junit does not parse: %v", err)
		}
		if !json.Valid(render(t, sarifWriter{}, r)) {
			t.Fatal("sarif is not JSON")
		}
		recs, err := csv.NewReader(bytes.NewReader(render(t, csvWriter{}, r))).ReadAll()
		if err != nil {
			t.Fatalf("csv does not parse: %v", err)
		}
		for _, rec := range recs {
			if len(rec) != 3+len(matrixRoles(r)) {
				t.Fatalf("csv row of %d columns, want %d: %q", len(rec), 3+len(matrixRoles(r)), rec)
			}
			for _, cell := range rec {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Fatalf("csv cell %q starts like a formula", cell)
				}
			}
		}
		for _, s := range []string{path, body, location, errText, role} {
			m := markdownText(s)
			for i := 0; i < len(m); i++ {
				if strings.IndexByte("<>[]`|*_&@$!~#()", m[i]) >= 0 && (i == 0 || m[i-1] != '\\') {
					t.Fatalf("markdownText(%q) = %q: unescaped %q", s, m, m[i])
				}
				if m[i] == '\\' {
					i++ // an escape and what it escapes
				}
			}
		}
		out := render(t, htmlWriter{}, r)
		z := html.NewTokenizer(bytes.NewReader(out))
		scripts := 0
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				if z.Err() != io.EOF {
					t.Fatalf("html: %v", z.Err())
				}
				break
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			tok := z.Token()
			if tok.Data == "script" {
				scripts++
			}
			for _, a := range tok.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Fatalf("html: <%s %s=%q>", tok.Data, a.Key, a.Val)
				}
			}
			switch tok.Data {
			case "img", "svg", "iframe", "object", "embed", "base", "math", "template", "style", "textarea", "noscript":
				if tok.Data != "style" || scripts > 0 {
					t.Fatalf("html: an element <%s> the report does not write", tok.Data)
				}
			}
		}
		// The report's script, the matrix index and one evidence chunk.
		if scripts != 3 {
			t.Fatalf("html: %d script elements, want 3", scripts)
		}
	})
}
