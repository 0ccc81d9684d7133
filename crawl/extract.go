package crawl

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// Sources of an endpoint (Entry.Sources).
const (
	sourceStart    = "start"
	sourceLink     = "link"
	sourceForm     = "form"
	sourceRedirect = "redirect"
)

// link is one URL an HTML page points to.
type link struct {
	Method string   // GET, or a form's method upper-cased
	URL    *url.URL // normalised, http or https, any origin
	Source string   // sourceLink or sourceForm
}

// linkAttr is the attribute a link is read from in element tag, or "".
func linkAttr(tag string) string {
	switch tag {
	case "a", "area", "link":
		return "href"
	case "iframe", "frame":
		return "src"
	}
	return ""
}

// extractLinks returns the links of an HTML body served at page: a[href],
// area[href], link[href], iframe[src], frame[src], and form actions (the
// page itself without an action) with their method. A <base href> before
// them changes what they resolve against. Links that do not normalise
// (javascript:, mailto:, "#top" resolves to the page) are dropped; the
// result may hold other origins, in document order, without duplicates.
func extractLinks(page *url.URL, body []byte) []link {
	var out []link
	seen := map[string]bool{}
	base := page
	baseSet := false
	add := func(method, ref, source string) {
		u, err := Normalize(base, ref)
		if err != nil {
			return
		}
		k := method + " " + u.String()
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, link{Method: method, URL: u, Source: source})
	}
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		tag := string(name)
		if tag == "form" {
			attrs := map[string]string{}
			if hasAttr {
				attrs = tagAttrs(z)
			}
			method := formMethod(attrs["method"])
			if method == "" {
				continue
			}
			action := attrs["action"]
			if strings.TrimSpace(action) == "" {
				action = page.String() // absolute: <base> does not apply
			}
			add(method, action, sourceForm)
			continue
		}
		if !hasAttr {
			continue
		}
		switch tag {
		case "base":
			if baseSet {
				continue
			}
			if href, ok := tagAttrs(z)["href"]; ok {
				if u, err := Normalize(page, href); err == nil {
					base, baseSet = u, true
				}
			}
		default:
			attr := linkAttr(tag)
			if attr == "" {
				continue
			}
			if ref, ok := tagAttrs(z)[attr]; ok && strings.TrimSpace(ref) != "" {
				add(http.MethodGet, ref, sourceLink)
			}
		}
	}
}

// formMethod is the method a form submits with: POST, GET for a missing
// or invalid value (as in HTML), or "" for method="dialog", which sends
// nothing.
func formMethod(m string) string {
	switch strings.ToUpper(strings.TrimSpace(m)) {
	case http.MethodPost:
		return http.MethodPost
	case "DIALOG":
		return ""
	}
	return http.MethodGet
}
