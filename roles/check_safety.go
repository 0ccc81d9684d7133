package roles

// A session check is sent after every sign-in and on every confirmation of
// a denial, so it obeys the same safety rules as every other request
// (docs/design.md, "Safety"): it is GET or HEAD, or POST where
// scope.allow_methods names it (a GraphQL "me" query), and its URL holds
// no exclusion word and matches no exclusion pattern.

import (
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"
)

// pendingCheck is a role's check as read, with the nodes its messages
// point at; it is judged once the scope section is read.
type pendingCheck struct {
	c          *Check
	path       string
	methodNode *yaml.Node // nil when the method is the default GET
	urlNode    *yaml.Node
}

// checkSafety refuses every check that would be unsafe to send.
func (w *walker) checkSafety(c *Config) {
	words := c.ExclusionWords()
	noVars := Bindings{Vars: func(string, string) (string, bool) { return "", false }}
	for _, pc := range w.checks {
		u, err := url.Parse(pc.c.URL)
		if err != nil {
			continue // requiredInScope has said why
		}
		mp := join(pc.path, "method")
		switch m := pc.c.Method; m {
		case "GET", "HEAD":
		case "POST":
			allowed := false
			for _, p := range c.Scope.AllowMethods {
				if p.Match(m, u, noVars) {
					allowed = true
					break
				}
			}
			if !allowed {
				w.Errorf(pc.methodNode, mp, "a check is sent after every sign-in and every confirmation, so it is GET or HEAD, or POST where scope.allow_methods names it: add \"POST %s\" to scope.allow_methods if this request only reads (a GraphQL query), or check with GET", u.Path)
			}
		default:
			w.Errorf(pc.methodNode, mp, "a check may not use %s: it is sent after every sign-in and every confirmation, and %s may change or destroy data; check with GET or HEAD (or POST where scope.allow_methods names it) on a page only a signed-in role sees, such as /api/me", m, m)
		}
		up := join(pc.path, "url")
		if word := ExcludedWord(words, u); word != "" {
			w.Errorf(pc.urlNode, up, "%q holds the exclusion word %q: no request may hold it, so the check would never be sent, and such a URL may end the session or destroy data; check a page only a signed-in role sees, such as /api/me", pc.c.URL, word)
			continue
		}
		for _, p := range c.Scope.Exclude {
			if p.Match(pc.c.Method, u, noVars) {
				w.Errorf(pc.urlNode, up, "%s %s is excluded by scope.exclude pattern %q: no request may match it; check another page", pc.c.Method, pc.c.URL, p.Raw)
				break
			}
		}
	}
}

// ExclusionWords returns the configuration's exclusion words
// (scope.exclude_words, else DefaultExcludeWords) lower-cased and
// trimmed, empty ones dropped: what ExcludedWord looks for.
func (c *Config) ExclusionWords() []string {
	words := c.Scope.ExcludeWords
	if words == nil {
		words = DefaultExcludeWords
	}
	var out []string
	for _, w := range words {
		if w = strings.ToLower(strings.TrimSpace(w)); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// ExcludedWord returns the first of words (as ExclusionWords gives them)
// found in u's path and query, escaped or not, ignoring case; "" if none.
// crawl's scope and the check rule of validate read a URL the same way
// through it.
func ExcludedWord(words []string, u *url.URL) string {
	if len(words) == 0 {
		return ""
	}
	forms := []string{u.EscapedPath() + "?" + u.RawQuery, u.Path}
	if q, err := url.QueryUnescape(u.RawQuery); err == nil {
		forms = append(forms, q)
	}
	for i, f := range forms {
		forms[i] = strings.ToLower(f)
	}
	for _, w := range words {
		for _, f := range forms {
			if strings.Contains(f, w) {
				return w
			}
		}
	}
	return ""
}
