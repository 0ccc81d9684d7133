package crawl

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/net/html"

	"github.com/permaudit/permaudit/roles"
)

// reLoginPath recognises a sign-in page when the configuration names none.
var reLoginPath = regexp.MustCompile(`(?i)(log-?in|sign-?in)`)

func newClassifier(cfg *roles.Config) *Classifier {
	if cfg == nil {
		cfg = &roles.Config{}
	}
	c := &Classifier{cfg: cfg}
	if cfg.LoginURL != "" {
		base, _ := url.Parse(cfg.Target) // validated by roles; nil base is fine below
		if u, err := resolve(base, cfg.LoginURL); err == nil {
			c.loginURL = u
		}
	}
	return c
}

// resolve is Normalize with a path-only fallback when base is unusable,
// so that a login URL given as a path is still recognised.
func resolve(base *url.URL, ref string) (*url.URL, error) {
	if base != nil && base.Scheme != "" && base.Host != "" {
		return Normalize(base, ref)
	}
	return Normalize(&url.URL{Scheme: "http", Host: "target.invalid"}, ref)
}

func (c *Classifier) classify(status int, h http.Header, body []byte, final *url.URL) (Class, string) {
	for i, d := range c.cfg.Denials {
		if denialMatches(d, status, h, body) {
			return Forbidden, fmt.Sprintf("denial signature %d", i+1)
		}
	}
	code := status
	if http.StatusText(code) == "" {
		code = code / 100 * 100 // an unknown code reads as the x00 of its class
	}
	why := fmt.Sprintf("status %d", status)
	switch {
	case code == http.StatusUnauthorized:
		return Unauthenticated, why
	case code >= 300 && code < 400:
		if loc := h.Get("Location"); loc != "" {
			if u, err := resolve(c.base(final), loc); err == nil && c.isLogin(u) {
				return Unauthenticated, "redirect to login " + u.EscapedPath()
			}
		}
		return Other, why
	case code >= 200 && code < 300:
		if form := c.loginPage(h, body, final); form != "" {
			return Unauthenticated, "login page served in place (" + form + ")"
		}
		return Allowed, why
	case code == http.StatusForbidden:
		return Forbidden, why
	case code == http.StatusNotFound, code == http.StatusGone:
		return Hidden, why
	case code == http.StatusTooManyRequests:
		return Error, "rate limited (status 429)"
	case code == http.StatusServiceUnavailable:
		return Error, fmt.Sprintf("unavailable (status %d)", status)
	case code >= 500 && code < 600:
		return Error, why
	}
	return Other, why
}

// base is what relative locations and form actions resolve against.
func (c *Classifier) base(final *url.URL) *url.URL {
	if final != nil && final.Scheme != "" && final.Host != "" {
		return final
	}
	u, _ := url.Parse(c.cfg.Target)
	return u
}

// isLogin reports whether u is the sign-in page: the configured login
// URL's path (query ignored, trailing slash tolerated) or, when none is
// configured, a path naming log-in or sign-in.
func (c *Classifier) isLogin(u *url.URL) bool {
	if u == nil {
		return false
	}
	if c.loginURL != nil {
		return samePath(u, c.loginURL)
	}
	return reLoginPath.MatchString(u.Path)
}

func samePath(a, b *url.URL) bool {
	pa, pb := strings.TrimSuffix(a.EscapedPath(), "/"), strings.TrimSuffix(b.EscapedPath(), "/")
	return pa == pb
}

// loginPage says why an HTML body is a login page ("password field",
// "login form"), or "". The login page itself, requested at its own URL,
// is not a login page served in place.
func (c *Classifier) loginPage(h http.Header, body []byte, final *url.URL) string {
	if final != nil && c.isLogin(final) {
		return ""
	}
	if !isHTML(h, body) {
		return ""
	}
	base := c.base(final)
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if !hasAttr {
				continue
			}
			attrs := tagAttrs(z)
			switch string(name) {
			case "input":
				if strings.EqualFold(strings.TrimSpace(attrs["type"]), "password") {
					return "password field"
				}
			case "form":
				if c.loginURL == nil {
					continue
				}
				if a, ok := attrs["action"]; ok && strings.TrimSpace(a) != "" {
					if u, err := resolve(base, a); err == nil && samePath(u, c.loginURL) {
						return "login form"
					}
				}
			}
		}
	}
}

// tagAttrs returns the attributes of the current tag, names lower-cased
// (the tokenizer does that), first occurrence kept.
func tagAttrs(z *html.Tokenizer) map[string]string {
	attrs := map[string]string{}
	for {
		k, v, more := z.TagAttr()
		if _, dup := attrs[string(k)]; !dup {
			attrs[string(k)] = string(v)
		}
		if !more {
			return attrs
		}
	}
}

// isHTML reports whether the answer is an HTML document, by its
// Content-Type or, without one, by sniffing.
func isHTML(h http.Header, body []byte) bool {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = http.DetectContentType(body)
	}
	ct = strings.ToLower(ct)
	return strings.Contains(ct, "text/html") || strings.Contains(ct, "application/xhtml")
}

// denialMatches reports whether an answer matches a denial signature.
// Every condition given must hold; a signature with neither a body nor a
// header (which roles refuses to load) never matches.
func denialMatches(d roles.Denial, status int, h http.Header, body []byte) bool {
	if d.Body == "" && d.Header == "" {
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
	return true
}
