package judge

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// FuzzDenialSignature checks the title and JSON conditions of denial
// signatures on hostile bodies: matching never panics; a page's own
// title, as a title signature, matches it and only pages that have one;
// and a JSON signature never matches a body that is not JSON.
func FuzzDenialSignature(f *testing.F) {
	f.Add("<html><head><title> Login\n required </title></head></html>", "error.code")
	f.Add(`{"error":{"code":"readapidenied"}}`, "error.code")
	f.Add("<title>a<b>c</b></title><title>second</title>", "items[*].id")
	f.Add("<svg><title>x</title></svg>", "$[0]")
	f.Add("//other.example/denied", "a")
	f.Add("../../denied?x=1", "a")
	f.Fuzz(func(t *testing.T, body, path string) {
		h := http.Header{"Content-Type": {"text/html"}}
		doc := &denialDoc{h: h, body: []byte(body)}
		title, ok := doc.pageTitle()
		if ok && !strings.Contains(strings.ToLower(body), "<title") {
			t.Fatalf("title %q found in a body without <title", title)
		}
		if title != strings.Join(strings.Fields(title), " ") {
			t.Fatalf("title %q is not collapsed", title)
		}
		if ok && title != "" && !denialMatches(roles.Denial{Title: title}, 200, h, []byte(body), &denialDoc{h: h, body: []byte(body)}) {
			t.Fatalf("the page's own title %q does not match it", title)
		}
		// A location signature matches only a redirect whose Location, the
		// fuzzed text, resolves onto the requested origin.
		at, _ := url.Parse("http://127.0.0.1:8080/a/b")
		anyPath, _ := roles.ParsePattern("/**")
		ld := roles.Denial{Location: "/**", LocationTo: &anyPath}
		lh := http.Header{"Location": {body}}
		if denialMatches(ld, 200, lh, nil, &denialDoc{h: lh, at: at}) {
			t.Fatalf("location signature matched a 200 with Location %q", body)
		}
		if denialMatches(ld, 302, lh, nil, &denialDoc{h: lh, at: at}) {
			if u, err := model.Normalize(at, body); err != nil || !model.SameOrigin(u, at) {
				t.Fatalf("location signature matched Location %q, which leaves the origin", body)
			}
		}
		steps, err := roles.ParseJSONPath(path)
		if err != nil {
			return
		}
		d := roles.Denial{JSON: path, JSONSteps: steps}
		jdoc := &denialDoc{h: h, body: []byte(body)}
		if _, jerr := jdoc.decoded(); jerr != nil && denialMatches(d, 200, h, []byte(body), jdoc) {
			t.Fatalf("json signature %q matched a body that is not JSON: %q", path, body)
		}
	})
}
