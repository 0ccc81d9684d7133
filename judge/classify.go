package judge

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/net/html"

	"github.com/permaudit/permaudit/internal/htmldoc"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// reLoginPath recognises a sign-in page when the configuration names none.
var reLoginPath = regexp.MustCompile(`(?i)(log-?in|sign-?in)`)

// Classifier reads answers into answer classes.
type Classifier struct {
	cfg        *roles.Config
	loginURL   *url.URL
	loginQuery url.Values // the login URL's query that names the page (loginRoute)
}

// NewClassifier returns the classifier of cfg (its login URL and denial
// signatures).
func NewClassifier(cfg *roles.Config) *Classifier {
	if cfg == nil {
		cfg = &roles.Config{}
	}
	c := &Classifier{cfg: cfg}
	if cfg.LoginURL != "" {
		base, _ := url.Parse(cfg.Target) // validated by roles; nil base is fine below
		if u, err := resolve(base, cfg.LoginURL); err == nil {
			c.loginURL = u
			c.loginQuery = loginRoute(u.Query())
		}
	}
	return c
}

// resolve is Normalize with a path-only fallback when base is unusable,
// so that a login URL given as a path is still recognised.
func resolve(base *url.URL, ref string) (*url.URL, error) {
	if base != nil && base.Scheme != "" && base.Host != "" {
		return model.Normalize(base, ref)
	}
	return model.Normalize(&url.URL{Scheme: "http", Host: "target.invalid"}, ref)
}

// Signature reports whether one of the configured denial signatures
// recognises the answer: the application speaking (a denial served as a
// 500), not failing. The transport never retries such an answer and never
// counts it toward a host's pause.
func (c *Classifier) Signature(status int, h http.Header, body []byte) bool {
	return c.SignatureAt(status, h, body, nil)
}

// SignatureAt is Signature for an answer of at, the URL requested, which
// a relative Location resolves against (the target when nil). The probe
// asks it before following a redirect: a redirect a signature recognises
// is the denial, and the page it leads to is not the answer.
func (c *Classifier) SignatureAt(status int, h http.Header, body []byte, at *url.URL) bool {
	doc := &denialDoc{h: h, body: body, at: c.base(at)}
	for _, d := range c.cfg.Denials {
		if denialMatches(d, status, h, body, doc) {
			return true
		}
	}
	return false
}

// Classify returns the answer class of one final answer and why.
func (c *Classifier) Classify(status int, h http.Header, body []byte, final *url.URL) (model.Class, string) {
	var doc *denialDoc // the body read as JSON and as a page, once
	for i, d := range c.cfg.Denials {
		if doc == nil {
			doc = &denialDoc{h: h, body: body, at: c.base(final)}
		}
		if denialMatches(d, status, h, body, doc) {
			class := denialClass(d)
			return class, fmt.Sprintf("denial signature %d (%s)", i+1, class)
		}
	}
	code := status
	if http.StatusText(code) == "" {
		code = code / 100 * 100 // an unknown code reads as the x00 of its class
	}
	why := fmt.Sprintf("status %d", status)
	switch {
	case code == http.StatusUnauthorized:
		return model.Unauthenticated, why
	case code >= 300 && code < 400:
		if loc := h.Get("Location"); loc != "" {
			if u, err := resolve(c.base(final), loc); err == nil && c.IsLogin(u) {
				return model.Unauthenticated, "redirect to login " + u.EscapedPath()
			}
		}
		return model.Other, why
	case code >= 200 && code < 300:
		if form := c.loginPage(h, body, final); form != "" {
			return model.Unauthenticated, "login page served in place (" + form + ")"
		}
		return model.Allowed, why
	case code == http.StatusForbidden:
		return model.Forbidden, why
	case code == http.StatusNotFound, code == http.StatusGone:
		return model.Hidden, why
	case code == http.StatusTooManyRequests:
		return model.Error, "rate limited (status 429)"
	case code == http.StatusServiceUnavailable:
		return model.Error, fmt.Sprintf("unavailable (status %d)", status)
	case code >= 500 && code < 600:
		return model.Error, why
	}
	return model.Other, why
}

// base is what relative locations and form actions resolve against.
func (c *Classifier) base(final *url.URL) *url.URL {
	if final != nil && final.Scheme != "" && final.Host != "" {
		return final
	}
	u, _ := url.Parse(c.cfg.Target)
	return u
}

// IsLogin reports whether u is the sign-in page: the configured login
// URL's path (trailing slash tolerated) holding the query that names the
// page there (loginRoute; other keys may be added) or, when none is
// configured, a path naming log-in or sign-in.
func (c *Classifier) IsLogin(u *url.URL) bool {
	if u == nil {
		return false
	}
	if c.loginURL != nil {
		return samePath(u, c.loginURL) && holdsQuery(u, c.loginQuery)
	}
	return reLoginPath.MatchString(u.Path)
}

// returnKeys are query keys that say where to go after signing in, or
// why the sign-in page is shown, not which page it is (lower case): a
// login URL copied from a browser often holds one, and the application
// fills it differently each time.
var returnKeys = map[string]bool{
	"next": true, "return": true, "returnto": true, "return_to": true, "returnurl": true, "return_url": true,
	"returnquery": true, "returntoquery": true, "redirect": true, "redirect_to": true, "redirect_uri": true,
	"redirecturl": true, "redirect_url": true, "continue": true, "came_from": true, "from": true, "goto": true,
	"dest": true, "destination": true, "back": true, "back_url": true, "backurl": true, "ref": true,
	"referer": true, "referrer": true, "url": true, "callback": true, "service": true,
	"state": true, "warning": true,
}

// loginRoute is the part of a login URL's query that names the sign-in
// page, where a front controller serves every page at one path
// (/index.php?title=Special:UserLogin, /doku.php?do=login,
// /index.php?route=account/login): the login URL's keys and values but
// the return keys (returnKeys), the empty values, and the values that
// are a location (namesLocation: next=/admin). A URL is the login page
// only when it holds them; without them, every page of the front
// controller would read as the login page, and every search form
// posting to it as a sign-in form.
func loginRoute(q url.Values) url.Values {
	route := url.Values{}
	for k, vs := range q {
		if returnKeys[strings.ToLower(k)] {
			continue
		}
		for _, v := range vs {
			if v != "" && !namesLocation(v) {
				route.Add(k, v)
			}
		}
	}
	return route
}

// holdsQuery reports whether u's query holds every key and value of q.
func holdsQuery(u *url.URL, q url.Values) bool {
	if len(q) == 0 {
		return true
	}
	have := u.Query()
	for k, vs := range q {
		for _, v := range vs {
			if !slices.Contains(have[k], v) {
				return false
			}
		}
	}
	return true
}

func samePath(a, b *url.URL) bool {
	pa, pb := strings.TrimSuffix(a.EscapedPath(), "/"), strings.TrimSuffix(b.EscapedPath(), "/")
	return pa == pb
}

// loginPage says why an HTML body is a login page ("login form",
// "password field"), or "". The login page itself, requested at its own
// URL, is not a login page served in place.
//
// The signature is the configured login URL's form (a form whose action
// resolves to it), or the password field of a sign-in form: a form
// holding exactly one password input, not marked
// autocomplete="new-password". A form with two or more (change password,
// registration, confirmation) is not a sign-in form. With a login URL
// configured, such a form counts only when it posts back in place
// (action missing, empty, "#", or the page's own path); a form setting a
// password elsewhere (a new user's, on an admin page full of data) is
// part of an answer, and reading it as a login page would turn a leak
// into a pass. Password inputs outside any form count as one form
// without an action. An input's form="ID" attribute puts it in the form
// with that id, or, when the page has none, outside any form.
func (c *Classifier) loginPage(h http.Header, body []byte, final *url.URL) string {
	if final != nil && c.IsLogin(final) {
		return ""
	}
	if !htmldoc.Is(h, body) || !containsFold(body, "<form") && !containsFold(body, "password") {
		return "" // no form and no password input: nothing to tokenize
	}
	base := c.base(final)
	for _, f := range pageForms(body) {
		if c.loginURL != nil && strings.TrimSpace(f.action) != "" {
			if u, err := resolve(base, f.action); err == nil && c.IsLogin(u) {
				return "login form"
			}
		}
		if f.passwords == 1 && f.newPasswords == 0 && (c.loginURL == nil || postsInPlace(f, base)) {
			return "password field"
		}
	}
	return ""
}

// containsFold reports whether b holds lower (lower-case ASCII) in any
// case. A byte that only looks like a letter to the fold matches too:
// loginPage then tokenizes a page it need not have, never the reverse.
func containsFold(b []byte, lower string) bool {
	for i := 0; i+len(lower) <= len(b); i++ {
		j := 0
		for j < len(lower) && b[i+j]|0x20 == lower[j] {
			j++
		}
		if j == len(lower) {
			return true
		}
	}
	return false
}

// pwForm is what loginPage needs of one form of a page, or of the inputs
// outside any form (orphans).
type pwForm struct {
	id           string
	action       string // "" when missing
	passwords    int    // password inputs
	newPasswords int    // those marked autocomplete="new-password"
}

// pwInput is a password input naming its form with form="ID".
type pwInput struct {
	form  string
	newPw bool
}

// pageForms reads the forms of an HTML body in document order, counting
// their password inputs; the inputs outside any form make one more form
// (without an action) where the first of them appears. A form start tag
// inside an open form is ignored, as browsers do.
func pageForms(body []byte) []*pwForm {
	var (
		forms  []*pwForm
		cur    *pwForm // the open form
		orphan *pwForm
		owned  []pwInput // placed once every form's id is known
	)
	add := func(f *pwForm, newPw bool) {
		f.passwords++
		if newPw {
			f.newPasswords++
		}
	}
	addOrphan := func(newPw bool) {
		if orphan == nil {
			orphan = &pwForm{}
			forms = append(forms, orphan)
		}
		add(orphan, newPw)
	}
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			byID := map[string]*pwForm{}
			for _, f := range forms {
				if _, dup := byID[f.id]; f.id != "" && !dup {
					byID[f.id] = f
				}
			}
			for _, in := range owned {
				if f := byID[in.form]; f != nil {
					add(f, in.newPw)
				} else {
					addOrphan(in.newPw)
				}
			}
			return forms
		case html.EndTagToken:
			if name, _ := z.TagName(); string(name) == "form" {
				cur = nil
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			if tag != "form" && (tag != "input" || !hasAttr) {
				continue
			}
			var attrs map[string]string // nil reads as empty
			if hasAttr {
				attrs = htmldoc.Attrs(z)
			}
			if tag == "form" {
				if cur == nil {
					cur = &pwForm{id: attrs["id"], action: attrs["action"]}
					forms = append(forms, cur)
				}
				continue
			}
			if !strings.EqualFold(strings.TrimSpace(attrs["type"]), "password") {
				continue
			}
			newPw := slices.Contains(strings.Fields(strings.ToLower(attrs["autocomplete"])), "new-password")
			switch id, ok := attrs["form"]; {
			case ok:
				owned = append(owned, pwInput{form: id, newPw: newPw})
			case cur != nil:
				add(cur, newPw)
			default:
				addOrphan(newPw)
			}
		}
	}
}

// postsInPlace reports whether form f posts back to the page it is on,
// base: no action, an empty one, "#", or one resolving to the same path.
func postsInPlace(f *pwForm, base *url.URL) bool {
	a := strings.TrimSpace(f.action)
	if a == "" || strings.HasPrefix(a, "#") {
		return true
	}
	u, err := resolve(base, a)
	return err == nil && base != nil && samePath(u, base)
}

// denialClass is the answer class a signature means.
func denialClass(d roles.Denial) model.Class {
	switch d.Class {
	case roles.DenialUnauthenticated:
		return model.Unauthenticated
	case roles.DenialHidden:
		return model.Hidden
	}
	return model.Forbidden
}

// denialDoc reads an answer's body as JSON and as an HTML page at most
// once, however many signatures ask.
type denialDoc struct {
	h    http.Header
	body []byte
	at   *url.URL // what a relative Location resolves against; may be nil

	jsonDone, titleDone bool
	json                any
	jsonErr             error
	title               string
	hasTitle            bool
}

func (d *denialDoc) decoded() (any, error) {
	if !d.jsonDone {
		d.jsonDone = true
		d.json, d.jsonErr = decodeBodyJSON(d.body)
	}
	return d.json, d.jsonErr
}

func (d *denialDoc) pageTitle() (string, bool) {
	if !d.titleDone {
		d.titleDone = true
		if htmldoc.Is(d.h, d.body) {
			d.title, d.hasTitle = pageTitle(d.body)
		}
	}
	return d.title, d.hasTitle
}

// pageTitle returns the text of the first <title> element of an HTML
// body, whitespace collapsed, and whether there is one.
func pageTitle(body []byte) (string, bool) {
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return "", false
		case html.StartTagToken:
			if name, _ := z.TagName(); string(name) != "title" {
				continue
			}
			// The tokenizer reads a title's content as one raw text token.
			var text strings.Builder
			for {
				switch z.Next() {
				case html.TextToken:
					text.Write(z.Text())
					continue
				}
				return strings.Join(strings.Fields(text.String()), " "), true
			}
		}
	}
}

// denialMatches reports whether an answer matches a denial signature.
// Every condition given must hold; a signature with no body, header, JSON
// path or title (which roles refuses to load) never matches. doc reads
// the same body, for the JSON path and the title.
func denialMatches(d roles.Denial, status int, h http.Header, body []byte, doc *denialDoc) bool {
	if d.Body == "" && d.Header == "" && d.JSON == "" && d.Title == "" && d.LocationTo == nil {
		return false
	}
	if d.Status != 0 && d.Status != status {
		return false
	}
	if d.Body != "" && !bytes.Contains(body, []byte(d.Body)) {
		return false
	}
	if d.Header != "" {
		name, want, hasValue := strings.Cut(d.Header, ":")
		vals := h.Values(strings.TrimSpace(name))
		if len(vals) == 0 {
			return false
		}
		if want = strings.TrimSpace(want); hasValue && want != "" {
			found := false
			for _, v := range vals {
				if strings.Contains(v, want) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
	}
	if d.Title != "" {
		if t, ok := doc.pageTitle(); !ok || !strings.Contains(t, d.Title) {
			return false
		}
	}
	if d.JSON != "" && !jsonDenial(d, doc) {
		return false
	}
	if d.LocationTo != nil && !locationDenial(d.LocationTo, status, h, doc.at) {
		return false
	}
	return true
}

// locationDenial reports whether the answer is a redirect whose Location,
// resolved against at, is on at's origin and matches to.
func locationDenial(to *roles.Pattern, status int, h http.Header, at *url.URL) bool {
	loc := h.Get("Location")
	if status < 300 || status >= 400 || loc == "" || at == nil {
		return false
	}
	u, err := model.Normalize(at, loc)
	return err == nil && model.SameOrigin(u, at) && to.Match("", u, roles.Bindings{})
}

// jsonDenial reports whether the body is JSON in which d's path selects
// a value, equal to d.Equals when it is set (any of the values a "[*]"
// selects).
func jsonDenial(d roles.Denial, doc *denialDoc) bool {
	v, err := doc.decoded()
	if err != nil {
		return false
	}
	for _, s := range roles.SelectJSON(v, d.JSONSteps) {
		if s.Found && (d.Equals == nil || jsonEqual(s.Value, *d.Equals)) {
			return true
		}
	}
	return false
}
