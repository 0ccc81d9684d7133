package roles

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// fingerprint hashes the canonical rendering of c: one "field=value" line
// per value, in a fixed order, map keys sorted, defaults applied. A value
// whose field is in secret (a credential, or anything expanded from ${ENV})
// is rendered as its field's name, so that changing a secret or the
// environment keeps the fingerprint. File is left out: the same
// configuration at another path has the same fingerprint.
func fingerprint(c *Config, secret map[string]bool) string {
	sum := sha256.Sum256([]byte(canonical(c, secret)))
	return hex.EncodeToString(sum[:])
}

func canonical(c *Config, secret map[string]bool) string {
	var b strings.Builder
	valAs := func(path, v string, isSecret bool) {
		if isSecret {
			v = "<secret " + path + ">"
		} else {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, "%s=%s\n", path, v)
	}
	val := func(path, v string) { valAs(path, v, secret[path]) }
	// list renders a list whose items may have been written as a lone
	// scalar (then the secret mark is on path itself).
	list := func(path string, vs []string) {
		fmt.Fprintf(&b, "%s#=%d\n", path, len(vs))
		for i, v := range vs {
			p := fmt.Sprintf("%s[%d]", path, i)
			valAs(p, v, secret[p] || len(vs) == 1 && secret[path])
		}
	}
	nilList := func(path string, vs []string) {
		if vs == nil {
			fmt.Fprintf(&b, "%s=nil\n", path)
			return
		}
		list(path, vs)
	}
	sortedMap := func(path string, m map[string]string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "%s#=%d\n", path, len(keys))
		for _, k := range keys {
			val(join(path, k), m[k])
		}
	}

	val("target", c.Target)
	val("login_url", c.LoginURL)
	pats := func(ps []Pattern) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = p.Raw
		}
		return out
	}
	list("scope.exclude", pats(c.Scope.Exclude))
	nilList("scope.exclude_words", c.Scope.ExcludeWords)
	if len(c.Scope.AllowMethods) > 0 { // only when set: older fingerprints stay
		list("scope.allow_methods", pats(c.Scope.AllowMethods))
	}
	list("crawl.start", c.Crawl.Start)
	val("crawl.max_depth", strconv.Itoa(c.Crawl.MaxDepth))
	val("crawl.max_requests", strconv.Itoa(c.Crawl.MaxRequests))
	val("crawl.concurrency", strconv.Itoa(c.Crawl.Concurrency))
	val("crawl.timeout", c.Crawl.Timeout.String())
	val("crawl.max_body", strconv.FormatInt(c.Crawl.MaxBody, 10))
	val("crawl.user_agent", c.Crawl.UserAgent)
	sourcesCanonical(&b, c, val, list)
	for _, r := range c.Roles {
		p := join("roles", r.Name)
		fmt.Fprintf(&b, "%s\n", p)
		list(join(p, "inherits"), r.Inherits)
		sortedMap(join(p, "vars"), r.Vars)
		lp := join(p, "login")
		if r.Login.Basic != nil {
			val(join(lp, "basic.username"), r.Login.Basic.Username)
			val(join(lp, "basic.password"), r.Login.Basic.Password)
		}
		val(join(lp, "bearer"), r.Login.Bearer)
		sortedMap(join(lp, "headers"), r.Login.Headers)
		sortedMap(join(lp, "cookies"), r.Login.Cookies)
		canonicalSignIn(c, r, p, val, list, sortedMap)
	}
	for i, d := range c.Denials {
		p := fmt.Sprintf("denials[%d]", i)
		val(join(p, "body"), d.Body)
		val(join(p, "header"), d.Header)
		val(join(p, "status"), strconv.Itoa(d.Status))
		// Added with classes, JSON and titles: written only when set, so
		// that an older configuration keeps its fingerprint.
		if d.Class != DenialForbidden && d.Class != "" {
			val(join(p, "class"), d.Class)
		}
		if d.JSON != "" {
			val(join(p, "json"), d.JSON)
		}
		if d.Equals != nil {
			val(join(p, "equals"), string(d.Equals.Kind)+":"+d.Equals.Text)
		}
		if d.Title != "" {
			val(join(p, "title"), d.Title)
		}
		if d.Location != "" {
			val(join(p, "location"), d.Location)
		}
	}
	val("matrix.default", c.Matrix.Default)
	for i, r := range c.Matrix.Rules {
		p := fmt.Sprintf("matrix.rules[%d]", i)
		if r.Label != "" { // only when given: older configurations keep their fingerprint
			val(join(p, "name"), r.Label)
		}
		list(join(p, "match"), pats(r.Match))
		list(join(p, "allow"), r.Allow)
		list(join(p, "deny_as"), denyCanonical(r.DenyAs))
		// Per-role forms and redirects came later: written only when
		// used, so that an older configuration keeps its fingerprint.
		named := make([]string, 0, len(r.DenyAsRole))
		for role := range r.DenyAsRole {
			named = append(named, role)
		}
		sort.Strings(named)
		for _, role := range named {
			list(join(p, "deny_as."+role), denyCanonical(r.DenyAsRole[role]))
		}
		if len(r.Body) > 0 {
			bodyCanonical(&b, p, r.Body, val, list)
		}
	}
	nilList("outputs", c.Outputs)
	nilList("fail_on", c.FailOn)
	return b.String()
}

// denyCanonical spells denial forms for the fingerprint: class/status as
// they always were, a redirect form as it is written.
func denyCanonical(forms []DenyForm) []string {
	out := make([]string, len(forms))
	for i, f := range forms {
		if f.Redirect {
			out[i] = f.String()
			continue
		}
		out[i] = f.Class + "/" + strconv.Itoa(f.Status)
	}
	return out
}
