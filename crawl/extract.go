package crawl

import (
	"bytes"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/permaudit/permaudit/internal/htmldoc"
	"github.com/permaudit/permaudit/model"
	"golang.org/x/net/html"
)

// Sources of an endpoint (Entry.Sources).
const (
	sourceStart    = "start"    // crawl.start
	sourceLink     = "link"     // a[href], area, link, iframe, frame, script[src]
	sourceForm     = "form"     // a form's action or a button's formaction
	sourceRedirect = "redirect" // a 3xx Location or a <meta http-equiv=refresh>
	sourceScript   = "script"   // a URL-looking string literal in a script (weaker)
	sourceJSON     = "json"     // a URL-looking string in a JSON answer, or a configured expansion
	sourceRobots   = "robots"   // an Allow or Disallow path of robots.txt
	sourceSitemap  = "sitemap"  // a <loc> of a sitemap
	// The declared sources, SourceOpenAPI, SourceHAR and SourceList, are
	// in safety.go: opted-in methods are sent only to their endpoints.
)

// sourceBits is the set of sources a role found an endpoint by, a bit
// each (allSources): a map of names per endpoint and role cost 250 bytes
// each, 100 MB of a discovery of 200,000 endpoints as 5 roles.
type sourceBits uint16

// allSources are every source, in the order of their bits.
var allSources = [...]string{sourceStart, sourceLink, sourceForm, sourceRedirect, sourceScript, sourceJSON,
	sourceRobots, sourceSitemap, SourceOpenAPI, SourceHAR, SourceList}

// with is s and source; a source allSources lacks is a bug.
func (s sourceBits) with(source string) sourceBits {
	i := slices.Index(allSources[:], source)
	if i < 0 {
		panic("crawl: unknown endpoint source " + strconv.Quote(source))
	}
	return s | 1<<i
}

// all yields the sources in s, in allSources order.
func (s sourceBits) all() iter.Seq[string] {
	return func(yield func(string) bool) {
		for i, name := range allSources {
			if s&(1<<i) != 0 && !yield(name) {
				return
			}
		}
	}
}

// link is one URL a page points to.
type link struct {
	Method string   // GET, or a form's method upper-cased
	URL    *url.URL // normalised, http or https, any origin
	Source string   // sourceLink, sourceForm, sourceRedirect or sourceScript
}

// linkAttr is the attribute a link is read from in element tag, or "".
func linkAttr(tag string) string {
	switch tag {
	case "a", "area", "link":
		return "href"
	case "iframe", "frame", "script":
		return "src"
	}
	return ""
}

// extractor collects the links of one HTML page.
type extractor struct {
	page    *url.URL
	base    *url.URL
	baseSet bool
	out     []link
	seen    map[string]bool
	form    *htmlForm // the form being read, or nil
	tokens  []string  // values of anti-forgery hidden inputs and meta tags (issuedTokens)
}

// htmlForm is a form being read: what a browser would submit without the
// user touching it.
type htmlForm struct {
	method  string // GET, POST, or "" (dialog)
	action  string // as written; "" submits to the page
	fields  [][2]string
	actions [][2]string // formaction and its method of the form's buttons
	sel     *htmlSelect
	area    *[2]string // the textarea being read
}

// htmlSelect is a <select> being read.
type htmlSelect struct {
	name     string
	multiple bool
	skip     bool      // disabled
	options  [][2]bool // selected flag per option, index-aligned with values
	values   []string
	pending  int // index of an option waiting for its text, or -1
}

// extractLinks returns the links of an HTML body served at page:
//
//   - a[href], area[href], link[href], iframe[src], frame[src] and
//     script[src];
//   - forms, as a browser submits them untouched: a GET form's action with
//     its query replaced by the default values of its fields (inputs,
//     checked boxes, selected options, textareas; buttons, files and
//     disabled fields left out), a POST form's action as written, and the
//     same for every formaction of its buttons (formmethod honoured); a
//     form without an action submits to the page itself;
//   - a link marked with another method keeps it (markedMethod:
//     data-method, data-turbo-method, data-inertia-method), as do
//     htmx's hx-post, hx-put, hx-patch and hx-delete, a button's
//     formmethod outside a form, and a POST form's _method field;
//   - <meta http-equiv="refresh" content="0; url=..."> (source redirect);
//   - URL-looking string literals in inline scripts ("/api/..." or an
//     absolute http(s) URL; source script, a weaker source).
//
// The first <base href> changes what the links after it resolve against.
// Links that do not normalise (javascript:, mailto:, "#top" resolves to
// the page) are dropped; the result may hold other origins, in document
// order, without duplicates.
func extractLinks(page *url.URL, body []byte) []link {
	links, _ := extractPage(page, body)
	return links
}

// extractPage returns the links of an HTML body (extractLinks) and the
// one-time tokens the page issues: the values of its hidden inputs and
// meta tags named like an anti-forgery token (tokenName), at least
// minTokenLen bytes long and not URLs. A GET URL that carries one of
// them performs an action and is never requested (token.go).
func extractPage(page *url.URL, body []byte) ([]link, []string) {
	e := &extractor{page: page, base: page, seen: map[string]bool{}}
	z := html.NewTokenizer(bytes.NewReader(body))
	inScript := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			e.endForm()
			return e.out, e.tokens
		case html.TextToken:
			text := string(z.Text())
			if inScript {
				for _, s := range scriptURLs(text) {
					e.add(http.MethodGet, s, sourceScript)
				}
				inScript = false
				continue
			}
			e.text(text)
		case html.EndTagToken:
			name, _ := z.TagName()
			e.endTag(string(name))
			inScript = false
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			attrs := map[string]string{}
			if hasAttr {
				attrs = htmldoc.Attrs(z)
			}
			_, hasSrc := attrs["src"]
			inScript = tag == "script" && !hasSrc && tt == html.StartTagToken
			e.startTag(tag, attrs)
		}
	}
}

// add records a link found in the page.
func (e *extractor) add(method, ref, source string) {
	e.addURL(method, e.base, ref, source)
}

func (e *extractor) addURL(method string, base *url.URL, ref, source string) {
	u, err := model.Normalize(base, ref)
	if err != nil {
		return
	}
	k := method + " " + u.String()
	if e.seen[k] {
		return
	}
	e.seen[k] = true
	e.out = append(e.out, link{Method: method, URL: u, Source: source})
}

func (e *extractor) startTag(tag string, attrs map[string]string) {
	switch tag {
	case "base":
		if e.baseSet {
			return
		}
		if href, ok := attrs["href"]; ok {
			if u, err := model.Normalize(e.page, href); err == nil {
				e.base, e.baseSet = u, true
			}
		}
		return
	case "meta":
		if n := attrs["name"]; tokenName(n) && !strings.HasSuffix(strings.ToLower(n), "param") {
			e.token(attrs["content"]) // <meta name="csrf-token" content="...">; csrf-param names the field
		}
		if strings.EqualFold(strings.TrimSpace(attrs["http-equiv"]), "refresh") {
			if ref, ok := refreshURL(attrs["content"]); ok {
				e.add(http.MethodGet, ref, sourceRedirect)
			}
		}
		return
	case "form":
		e.endForm() // forms do not nest
		e.form = &htmlForm{method: formMethod(attrs["method"]), action: attrs["action"]}
		return
	case "input", "button":
		e.control(tag, attrs)
		return
	case "select":
		if e.form != nil {
			_, multiple := attrs["multiple"]
			_, disabled := attrs["disabled"]
			e.form.sel = &htmlSelect{name: attrs["name"], multiple: multiple, skip: disabled || attrs["name"] == "", pending: -1}
		}
		return
	case "option":
		if e.form == nil || e.form.sel == nil {
			return
		}
		s := e.form.sel
		_, selected := attrs["selected"]
		_, disabled := attrs["disabled"]
		s.pending = -1
		v, hasValue := attrs["value"]
		s.values = append(s.values, v)
		s.options = append(s.options, [2]bool{selected, disabled})
		if !hasValue {
			s.pending = len(s.values) - 1
		}
		return
	case "textarea":
		if e.form != nil {
			if _, disabled := attrs["disabled"]; !disabled && attrs["name"] != "" {
				e.form.area = &[2]string{attrs["name"], ""}
			}
		}
		return
	}
	if attr := linkAttr(tag); attr != "" {
		if ref, ok := attrs[attr]; ok && strings.TrimSpace(ref) != "" {
			e.add(markedMethod(attrs), ref, sourceLink)
		}
	}
	for _, m := range []string{"post", "put", "patch", "delete"} {
		if ref, ok := attrs["hx-"+m]; ok && strings.TrimSpace(ref) != "" {
			e.add(strings.ToUpper(m), ref, sourceLink) // htmx sends this method
		}
	}
}

// markedMethod is the method a framework sends a link with: the value of
// data-method (Rails UJS), data-turbo-method (Turbo) or
// data-inertia-method, upper-cased, or GET. Such a link is an action (a
// DELETE, a POST): it is listed with its method, never fetched as GET.
func markedMethod(attrs map[string]string) string {
	for _, a := range []string{"data-method", "data-turbo-method", "data-inertia-method"} {
		if m := strings.ToUpper(strings.TrimSpace(attrs[a])); m != "" && isMethodName(m) {
			return m
		}
	}
	return http.MethodGet
}

// isMethodName reports whether m can be an HTTP method: letters only.
func isMethodName(m string) bool {
	for _, r := range m {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// token records the value of an anti-forgery field or meta tag.
func (e *extractor) token(v string) {
	if issuedToken(v) {
		e.tokens = append(e.tokens, v)
	}
}

// control reads an input or a button: a field of the form, or a
// formaction.
func (e *extractor) control(tag string, attrs map[string]string) {
	typ := strings.ToLower(strings.TrimSpace(attrs["type"]))
	if tag == "button" && typ == "" {
		typ = "submit"
	}
	_, disabled := attrs["disabled"]
	if typ == "submit" || typ == "image" {
		fa, ok := attrs["formaction"]
		if !ok || disabled {
			return
		}
		if e.form == nil {
			// A button outside a form submits nothing, but names a URL,
			// with the method it says (formmethod, or a framework's).
			if strings.TrimSpace(fa) != "" {
				method := markedMethod(attrs)
				if m, ok := attrs["formmethod"]; ok && formMethod(m) != "" {
					method = formMethod(m)
				}
				e.add(method, fa, sourceForm)
			}
			return
		}
		method := e.form.method
		if m, ok := attrs["formmethod"]; ok {
			method = formMethod(m)
		}
		e.form.actions = append(e.form.actions, [2]string{fa, method})
		return
	}
	if typ == "hidden" && tokenName(attrs["name"]) {
		e.token(attrs["value"]) // in a form or not: the page issued it
	}
	if tag == "button" || e.form == nil || disabled {
		return
	}
	name := attrs["name"]
	if name == "" {
		return
	}
	switch typ {
	case "reset", "button", "file":
		return
	case "checkbox", "radio":
		if _, checked := attrs["checked"]; !checked {
			return
		}
		v, ok := attrs["value"]
		if !ok {
			v = "on"
		}
		e.form.fields = append(e.form.fields, [2]string{name, v})
		return
	}
	e.form.fields = append(e.form.fields, [2]string{name, attrs["value"]})
}

// text reads the text of an option without a value, or of a textarea.
func (e *extractor) text(t string) {
	if e.form == nil {
		return
	}
	if a := e.form.area; a != nil {
		a[1] += t
		return
	}
	if s := e.form.sel; s != nil && s.pending >= 0 {
		s.values[s.pending] += t
	}
}

func (e *extractor) endTag(tag string) {
	if e.form == nil {
		return
	}
	switch tag {
	case "form":
		e.endForm()
	case "option":
		if s := e.form.sel; s != nil && s.pending >= 0 {
			s.values[s.pending] = strings.Join(strings.Fields(s.values[s.pending]), " ")
			s.pending = -1
		}
	case "textarea":
		if a := e.form.area; a != nil {
			e.form.fields = append(e.form.fields, [2]string{a[0], strings.TrimPrefix(a[1], "\n")})
			e.form.area = nil
		}
	case "select":
		e.endSelect()
	}
}

// endSelect adds the selected options of a select: those marked
// selected, or the first enabled one of a single select.
func (e *extractor) endSelect() {
	s := e.form.sel
	e.form.sel = nil
	if s == nil || s.skip {
		return
	}
	if s.pending >= 0 {
		s.values[s.pending] = strings.Join(strings.Fields(s.values[s.pending]), " ")
	}
	picked := false
	for i, o := range s.options {
		if o[0] && !o[1] {
			e.form.fields = append(e.form.fields, [2]string{s.name, s.values[i]})
			picked = true
			if !s.multiple {
				break
			}
		}
	}
	if picked || s.multiple {
		return
	}
	for i, o := range s.options {
		if !o[1] {
			e.form.fields = append(e.form.fields, [2]string{s.name, s.values[i]})
			return
		}
	}
}

// endForm adds the submissions of the form being read.
func (e *extractor) endForm() {
	f := e.form
	if f == nil {
		return
	}
	e.form = nil
	if f.sel != nil {
		e.form = f
		e.endSelect()
		e.form = nil
	}
	if f.area != nil {
		f.fields = append(f.fields, [2]string{f.area[0], f.area[1]})
	}
	e.submit(f, f.action, f.method)
	for _, a := range f.actions {
		e.submit(f, a[0], a[1])
	}
}

// submit adds what submitting f to action with method requests.
func (e *extractor) submit(f *htmlForm, action, method string) {
	if method == "" {
		return // method="dialog" sends nothing
	}
	base := e.base
	if strings.TrimSpace(action) == "" {
		action, base = e.page.String(), nil // the page itself: <base> does not apply
	}
	u, err := model.Normalize(base, action)
	if err != nil {
		return
	}
	if method == http.MethodPost {
		// Rails, Laravel and Symfony send a POST form with a _method
		// field as that method (DELETE, PUT, PATCH).
		for _, kv := range f.fields {
			if kv[0] == "_method" {
				if m := strings.ToUpper(strings.TrimSpace(kv[1])); m != "" && isMethodName(m) {
					method = m
				}
			}
		}
	}
	if method == http.MethodGet {
		var q []string
		for _, kv := range f.fields {
			q = append(q, url.QueryEscape(kv[0])+"="+url.QueryEscape(kv[1]))
		}
		u.RawQuery = strings.Join(q, "&")
	}
	e.addURL(method, nil, u.String(), sourceForm)
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

// refreshURL reads the URL of a meta refresh's content: "5; url=/next",
// "0;URL='/next'", "0, /next".
func refreshURL(content string) (string, bool) {
	s := strings.TrimSpace(content)
	i := strings.IndexAny(s, ";,")
	if i < 0 {
		return "", false // a plain reload
	}
	s = strings.TrimSpace(s[i+1:])
	if len(s) >= 3 && strings.EqualFold(s[:3], "url") {
		rest := strings.TrimLeft(s[3:], " \t")
		if strings.HasPrefix(rest, "=") {
			s = strings.TrimLeft(rest[1:], " \t")
		}
	}
	if len(s) > 0 && (s[0] == '\'' || s[0] == '"') {
		q := s[0]
		s = s[1:]
		if j := strings.IndexByte(s, q); j >= 0 {
			s = s[:j]
		}
	}
	s = strings.TrimSpace(s)
	return s, s != ""
}
