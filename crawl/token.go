package crawl

import (
	"net/url"
	"strings"
)

// minTokenLen is the shortest value taken for a token the application
// issued: anti-forgery tokens and nonces are 10 bytes or more (WordPress
// nonces are 10 hexadecimal digits, Rails and Django tokens far longer),
// while shorter values ("1", "en", "true", an id) are common query
// values, and matching them would skip harmless links.
const minTokenLen = 8

// tokenKey drops what paramKey drops: "_" and "-".
var tokenKey = strings.NewReplacer("_", "", "-", "")

// tokenName reports whether a parameter, hidden input or meta tag name
// reads as a one-time token's: it holds nonce, csrf or xsrf, or is one of
// the names frameworks use (_token, token, authenticity_token, sesskey,
// DokuWiki's sectok, __RequestVerificationToken, form_token...), ignoring case, "_" and "-".
func tokenName(name string) bool {
	if name == "" {
		return false
	}
	k := strings.ToLower(tokenKey.Replace(name)) // paramKey, without a Replacer per call
	if k == "" {
		return false
	}
	for _, w := range []string{"nonce", "csrf", "xsrf"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	switch k {
	case "token", "authenticitytoken", "sesskey", "sectok", "wpedittoken", "requestverificationtoken", "formtoken",
		"antiforgerytoken", "securitytoken", "formkey", "confirmtoken", "actiontoken":
		return true
	}
	return false
}

// issuedToken reports whether v, the value of a token field a page
// issued, is taken as a token: long enough (minTokenLen) and not a URL
// (a hidden redirect_to is not a token).
func issuedToken(v string) bool {
	v = strings.TrimSpace(v)
	return len(v) >= minTokenLen && !looksLikeURL(v)
}

// looksLikeURL reports whether v reads as a URL or a path: an absolute
// http(s) URL, or a path from the root.
func looksLikeURL(v string) bool {
	if strings.HasPrefix(v, "/") {
		return true
	}
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// reasonToken is why a URL that carries a one-time token is skipped.
const reasonToken = "carries a one-time token (parameter %q): a GET that performs an action; never requested"

// oneTimeToken returns the first query parameter of u (in its written
// order) that carries a one-time token: named like one (tokenName), or
// whose value is a token issued in this session (issued: a page's
// anti-forgery field or meta tag, a cookie of the role's jar).
func oneTimeToken(u *url.URL, issued func(string) bool) (string, bool) {
	if u.RawQuery == "" {
		return "", false
	}
	for _, kv := range strings.Split(u.RawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		if tokenName(k) && v != "" || len(v) >= minTokenLen && issued(v) {
			return k, true
		}
	}
	return "", false
}

// withoutTokens returns u as a string with the value of every parameter
// oneTimeToken would name replaced by "[token]": the URL stays
// parseable, and no token reaches the run.
func withoutTokens(u *url.URL, issued func(string) bool) string {
	c := *u
	parts := strings.Split(c.RawQuery, "&")
	for i, kv := range parts {
		k, v, _ := strings.Cut(kv, "=")
		dk, dv := k, v
		if x, err := url.QueryUnescape(k); err == nil {
			dk = x
		}
		if x, err := url.QueryUnescape(v); err == nil {
			dv = x
		}
		if tokenName(dk) && dv != "" || len(dv) >= minTokenLen && issued(dv) {
			parts[i] = k + "=[token]"
		}
	}
	c.RawQuery = strings.Join(parts, "&")
	return c.String()
}
