package session

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
	"golang.org/x/net/html"
)

// form signs in through an HTML form: GET the page (following redirects
// on the origin), pick the form, carry every control the page filled in
// (hidden CSRF inputs included) with the page's cookies, fill the
// configured fields, submit it to its action with its method, and follow
// the redirects of the answer on the origin. The session is the cookie
// jar that results.
func (f *flow) form(ctx context.Context, fl *roles.FormLogin) (*credentials, error) {
	page, err := f.resolve(fl.URL)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, page.String(), nil)
	if err != nil {
		return nil, err
	}
	r, err := f.do(req)
	if err != nil {
		return nil, fmt.Errorf("form at %s: %w", fl.URL, err)
	}
	if r, err = f.followRedirects(ctx, r, http.MethodGet, nil, nil); err != nil {
		return nil, fmt.Errorf("form at %s: %w", fl.URL, err)
	}
	if r.status < 200 || r.status > 299 {
		return nil, fmt.Errorf("form at %s: the login page answered %s", fl.URL, f.seen(r))
	}
	forms := parseForms(r.body, r.url)
	var action *url.URL
	if fl.Action != "" {
		if action, err = f.resolve(fl.Action); err != nil {
			return nil, err
		}
	}
	hf, err := pickForm(forms, fl, action)
	if err != nil {
		return nil, fmt.Errorf("form at %s: %w", fl.URL, err)
	}
	// Hidden values are CSRF tokens and nonces more often than not.
	for _, c := range hf.controls {
		if f.hiddenSecret(c) {
			f.s.addSecret("form."+c.name, c.value)
		}
	}
	var names []string
	for _, c := range hf.controls {
		names = append(names, c.name)
	}
	for _, name := range fl.FieldOrder {
		if !slices.Contains(names, name) {
			return nil, fmt.Errorf("form at %s has no field %q (fields: %s)", fl.URL, name, strings.Join(uniq(names), ", "))
		}
	}
	// The submitted values: the page's, with the configured ones typed in.
	var vals [][2]string
	filled := map[string]bool{}
	for _, c := range hf.controls {
		if v, ok := fl.Fields[c.name]; ok {
			if filled[c.name] {
				continue
			}
			filled[c.name] = true
			vals = append(vals, [2]string{c.name, v})
			continue
		}
		vals = append(vals, [2]string{c.name, c.value})
	}
	var body []byte
	ctype := "application/x-www-form-urlencoded"
	if hf.multipart {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for _, kv := range vals {
			if err := mw.WriteField(kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
		body, ctype = buf.Bytes(), mw.FormDataContentType()
	} else {
		q := make([]string, len(vals))
		for i, kv := range vals {
			q[i] = url.QueryEscape(kv[0]) + "=" + url.QueryEscape(kv[1])
		}
		body = []byte(strings.Join(q, "&"))
	}
	target := *hf.action
	header := http.Header{}
	method := hf.method
	var rd io.Reader
	if method == http.MethodGet {
		target.RawQuery = string(body)
		body = nil
	} else {
		rd = bytes.NewReader(body)
		header.Set("Content-Type", ctype)
	}
	req, err = http.NewRequestWithContext(ctx, method, target.String(), rd)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	// Applications that check the origin of a form post see a browser's.
	req.Header.Set("Origin", f.base.Scheme+"://"+f.base.Host)
	req.Header.Set("Referer", r.url.String())
	sub, err := f.do(req)
	if err != nil {
		return nil, fmt.Errorf("form at %s: submitting to %s: %w", fl.URL, pathOf(&target), err)
	}
	final, err := f.followRedirects(ctx, sub, method, body, header)
	if err != nil {
		return nil, fmt.Errorf("form at %s: %w", fl.URL, err)
	}
	what := fmt.Sprintf("form at %s: %s %s answered %s", fl.URL, method, pathOf(hf.action), f.seen(sub))
	if final != sub {
		what += fmt.Sprintf(", then %s answered %s", pathOf(final.url), f.seen(final))
	}
	switch {
	case final.status >= 400:
		return nil, fmt.Errorf("%s: the sign-in was refused", what)
	case final.status >= 200 && final.status < 300 && holdsLoginForm(final.body, final.url, hf.action):
		return nil, fmt.Errorf("%s, which still holds the login form: the credentials were refused", what)
	}
	return &credentials{jar: f.jar, answer: &loginAnswer{header: final.header, body: final.body}}, nil
}

// hiddenSecret reports whether the value of a login form's control is
// taken for a secret: a hidden value of minObtainedSecret bytes or more
// (8: shorter values, "en", "1", "true", are common words, and redacting
// them would garble evidence), named like an anti-forgery field, or of 16
// bytes or more, not a URL of the target, and random-looking (tokenLike).
// A hidden redirect_to (http://host/admin/) or a path (/admin/) is where
// the form goes next, and a hidden title=Special:UserLogin (MediaWiki)
// names the page the form posts to: neither is a secret, and registering
// one would redact, and skip as "holding a role's secret", every URL
// holding it (every link to the login page, on every page).
func (f *flow) hiddenSecret(c control) bool {
	if !c.hidden || len(c.value) < minObtainedSecret {
		return false
	}
	if reCSRFName.MatchString(c.name) {
		return true
	}
	return len(c.value) >= 16 && !f.targetURL(c.value) && tokenLike(c.value)
}

// tokenLike reports whether v looks like a generated value rather than
// words: no white space, and letters mixed with digits (hex, base64 and
// most nonces), or, from 32 bytes, upper and lower case letters mixed
// (a base64 value that happens to hold no digit).
func tokenLike(v string) bool {
	var digit, lower, upper bool
	for _, r := range v {
		switch {
		case unicode.IsSpace(r):
			return false
		case r >= '0' && r <= '9':
			digit = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		}
	}
	return digit && (lower || upper) || len(v) >= 32 && lower && upper
}

// targetURL reports whether v is a URL of the target: a path from the
// root, or an absolute URL of the target's origin.
func (f *flow) targetURL(v string) bool {
	if strings.ContainsAny(v, " \t\r\n") {
		return false
	}
	u, err := url.Parse(v)
	if err != nil {
		return false
	}
	if u.Scheme == "" && u.Host == "" {
		return strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//")
	}
	return model.SameOrigin(u, f.base)
}

// reCSRFName recognises the names of anti-forgery fields.
var reCSRFName = regexp.MustCompile(`(?i)(csrf|xsrf|token|nonce|authenticity|verification|state)`)

func uniq(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// htmlForm is a form of a page with its successful controls (what a
// browser submits when the form's first submit button is pressed).
type htmlForm struct {
	action    *url.URL
	method    string
	multipart bool
	controls  []control
	password  bool // holds a password field
}

type control struct {
	name, value string
	hidden      bool
}

// parseForms returns the forms of an HTML page; page resolves actions
// (a <base href> is honoured).
func parseForms(body []byte, page *url.URL) []*htmlForm {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil
	}
	base := page
	var forms []*htmlForm
	var walk func(n *html.Node, cur *htmlForm, submitted *bool)
	walk = func(n *html.Node, cur *htmlForm, submitted *bool) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "base":
				if h, ok := attr(n, "href"); ok && base == page {
					if u, err := page.Parse(strings.TrimSpace(h)); err == nil {
						base = u
					}
				}
			case "form":
				if cur == nil {
					nf := &htmlForm{method: http.MethodGet, action: page}
					if a, ok := attr(n, "action"); ok && strings.TrimSpace(a) != "" {
						if u, err := base.Parse(strings.TrimSpace(a)); err == nil {
							nf.action = u
						}
					}
					nf.action = withoutFragment(nf.action)
					if m, _ := attr(n, "method"); strings.EqualFold(strings.TrimSpace(m), "post") {
						nf.method = http.MethodPost
					}
					if e, _ := attr(n, "enctype"); strings.EqualFold(strings.TrimSpace(e), "multipart/form-data") {
						nf.multipart = true
					}
					forms = append(forms, nf)
					done := false
					for c := n.FirstChild; c != nil; c = c.NextSibling {
						walk(c, nf, &done)
					}
					return
				}
			case "input":
				if cur != nil {
					addInput(cur, n, submitted)
				}
			case "button":
				if cur != nil {
					name, _ := attr(n, "name")
					typ, _ := attr(n, "type")
					typ = strings.ToLower(strings.TrimSpace(typ))
					if (typ == "" || typ == "submit") && !*submitted && !disabled(n) {
						*submitted = true
						if name != "" {
							v, _ := attr(n, "value")
							cur.controls = append(cur.controls, control{name: name, value: v})
						}
					}
				}
			case "select":
				if cur != nil && !disabled(n) {
					addSelect(cur, n)
				}
				return
			case "textarea":
				if cur != nil && !disabled(n) {
					if name, _ := attr(n, "name"); name != "" {
						cur.controls = append(cur.controls, control{name: name, value: textOf(n)})
					}
				}
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, cur, submitted)
		}
	}
	walk(doc, nil, new(bool))
	return forms
}

func withoutFragment(u *url.URL) *url.URL {
	c := *u
	c.Fragment, c.RawFragment = "", ""
	return &c
}

func addInput(f *htmlForm, n *html.Node, submitted *bool) {
	typ, _ := attr(n, "type")
	typ = strings.ToLower(strings.TrimSpace(typ))
	if typ == "password" {
		f.password = true
	}
	name, _ := attr(n, "name")
	if disabled(n) {
		return
	}
	value, hasValue := attr(n, "value")
	switch typ {
	case "checkbox", "radio":
		if _, checked := attr(n, "checked"); !checked || name == "" {
			return
		}
		if !hasValue {
			value = "on"
		}
	case "submit", "image":
		if *submitted {
			return
		}
		*submitted = true
		if name == "" || typ == "image" {
			return
		}
	case "button", "reset", "file":
		return
	}
	if name == "" {
		return
	}
	f.controls = append(f.controls, control{name: name, value: value, hidden: typ == "hidden"})
}

func addSelect(f *htmlForm, n *html.Node) {
	name, _ := attr(n, "name")
	if name == "" {
		return
	}
	_, multiple := attr(n, "multiple")
	var first *html.Node
	found := false
	var walk func(*html.Node)
	walk = func(c *html.Node) {
		if c.Type == html.ElementNode && c.Data == "option" && !disabled(c) {
			if first == nil {
				first = c
			}
			if _, sel := attr(c, "selected"); sel && (multiple || !found) {
				found = true
				f.controls = append(f.controls, control{name: name, value: optionValue(c)})
			}
		}
		for x := c.FirstChild; x != nil; x = x.NextSibling {
			walk(x)
		}
	}
	walk(n)
	if !found && !multiple && first != nil {
		f.controls = append(f.controls, control{name: name, value: optionValue(first)})
	}
}

func optionValue(n *html.Node) string {
	if v, ok := attr(n, "value"); ok {
		return v
	}
	return strings.TrimSpace(textOf(n))
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
		for x := c.FirstChild; x != nil; x = x.NextSibling {
			walk(x)
		}
	}
	walk(n)
	return b.String()
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func disabled(n *html.Node) bool {
	_, ok := attr(n, "disabled")
	return ok
}

// pickForm chooses the login form: the one whose action is action when
// given; otherwise the first holding a password field, or else the first
// holding every configured field.
func pickForm(forms []*htmlForm, fl *roles.FormLogin, action *url.URL) (*htmlForm, error) {
	if len(forms) == 0 {
		return nil, fmt.Errorf("the page holds no form")
	}
	if action != nil {
		for _, f := range forms {
			if samePathOf(f.action, action) {
				return f, nil
			}
		}
		return nil, fmt.Errorf("no form posts to %s", pathOf(action))
	}
	for _, f := range forms {
		if f.password {
			return f, nil
		}
	}
	for _, f := range forms {
		all := true
		for _, name := range fl.FieldOrder {
			has := false
			for _, c := range f.controls {
				has = has || c.name == name
			}
			all = all && has
		}
		if all {
			return f, nil
		}
	}
	return nil, fmt.Errorf("no form holds a password field or every configured field; name the form's action in action")
}

func samePathOf(a, b *url.URL) bool {
	return model.SameOrigin(a, b) && strings.TrimSuffix(a.EscapedPath(), "/") == strings.TrimSuffix(b.EscapedPath(), "/")
}

// holdsLoginForm reports whether a page still shows a login form: a
// form posting to the same action, with a password field.
func holdsLoginForm(body []byte, page, action *url.URL) bool {
	for _, f := range parseForms(body, page) {
		if f.password && samePathOf(f.action, action) {
			return true
		}
	}
	return false
}
