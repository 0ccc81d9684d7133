package roles

// The roles section: role names, inheritance and static credentials
// (docs/config.md). Sign-in flows are in signin_load.go.

import (
	"encoding/base64"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/permaudit/permaudit/internal/yamlwalk"
)

var roleNameRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

func (w *walker) roles(n *yaml.Node) []*Role {
	anon := &Role{Name: "anonymous", Vars: map[string]string{}}
	all := []*Role{anon}
	type decl struct {
		r        *Role
		key      *yaml.Node
		inherits []yamlwalk.Item
	}
	var decls []decl
	for _, e := range w.Entries(n, "roles") {
		path := join("roles", e.Name)
		switch {
		case !roleNameRE.MatchString(e.Name):
			w.Errorf(e.Key, path, "invalid role name: lower-case letters, digits, '_' and '-' only")
			continue
		case e.Name == "self":
			w.Errorf(e.Key, path, "\"self\" is reserved: {self.var} names the role being probed")
			continue
		}
		f := w.Fields(e.Val, path, "login", "vars", "inherits", "check")
		r := anon
		if e.Name != "anonymous" {
			r = &Role{Name: e.Name, Vars: map[string]string{}}
			all = append(all, r)
		}
		d := decl{r: r, key: e.Key}
		if ln := f["login"]; ln != nil {
			if e.Name == "anonymous" {
				w.Errorf(ln, join(path, "login"), "anonymous has no credentials")
			} else {
				r.Login = w.login(ln, join(path, "login"))
			}
		}
		if cn := f["check"]; cn != nil {
			if e.Name == "anonymous" {
				w.Errorf(cn, join(path, "check"), "anonymous has no session to check")
			} else {
				r.Check = w.check(cn, join(path, "check"))
			}
		}
		if vn := f["vars"]; vn != nil {
			for _, ve := range w.Entries(vn, join(path, "vars")) {
				vp := join(join(path, "vars"), ve.Name)
				if !isIdent(ve.Name) {
					w.Errorf(ve.Key, vp, "invalid variable name: letters, digits, '_' and '-' only")
					continue
				}
				if s, ok := w.Str(ve.Val, vp); ok {
					r.Vars[ve.Name] = s
				}
			}
		}
		if e.Name != "anonymous" {
			w.credentialVars(e.Val, path, r)
		}
		if in := f["inherits"]; in != nil {
			if e.Name == "anonymous" {
				w.Errorf(in, join(path, "inherits"), "anonymous inherits from no role")
			} else {
				d.inherits = w.List(in, join(path, "inherits"))
			}
		}
		decls = append(decls, d)
	}
	byName := map[string]*Role{}
	for _, r := range all {
		byName[r.Name] = r
	}
	for _, d := range decls {
		for _, it := range d.inherits {
			s, ok := w.Str(it.N, it.Path)
			if !ok {
				continue
			}
			switch {
			case s == d.r.Name:
				w.Errorf(it.N, it.Path, "role %s inherits from itself", s)
			case byName[s] == nil:
				w.Errorf(it.N, it.Path, "unknown role %q (roles: %s)", s, strings.Join(roleNames(all), ", "))
			case slices.Contains(d.r.Inherits, s):
				w.Errorf(it.N, it.Path, "role %s is listed twice", s)
			default:
				d.r.Inherits = append(d.r.Inherits, s)
			}
		}
	}
	// Cycles: report each once, at the first role of the cycle in config order.
	reported := map[string]bool{}
	for _, d := range decls {
		if reported[d.r.Name] {
			continue
		}
		if cyc := findCycle(d.r.Name, byName); cyc != nil {
			for _, x := range cyc {
				reported[x] = true
			}
			w.Errorf(d.key, join(join("roles", d.r.Name), "inherits"), "inheritance cycle: %s", strings.Join(cyc, " -> "))
		}
	}
	return all
}

func roleNames(rs []*Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

// findCycle returns a cycle through start ("a -> b -> a"), or nil.
func findCycle(start string, byName map[string]*Role) []string {
	var path []string
	onPath := map[string]bool{}
	done := map[string]bool{}
	var visit func(name string) []string
	visit = func(name string) []string {
		if name == start && len(path) > 0 {
			return append(slices.Clone(path), start)
		}
		if onPath[name] || done[name] {
			return nil
		}
		r := byName[name]
		if r == nil {
			return nil
		}
		onPath[name] = true
		path = append(path, name)
		for _, p := range r.Inherits {
			if c := visit(p); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		onPath[name] = false
		done[name] = true
		return nil
	}
	return visit(start)
}

func (w *walker) login(n *yaml.Node, path string) Login {
	l := Login{Renew: Renew{Max: DefaultMaxRenewals, Backoff: DefaultRenewBackoff}}
	f := w.Fields(n, path, "basic", "bearer", "headers", "cookies", "form", "json", "oauth2", "command", "capture", "renew", "logout")
	flow := w.signIn(f, path, &l)
	if ln := f["logout"]; ln != nil {
		l.Logout = w.logout(ln, join(path, "logout"), flow)
	}
	if bn := f["basic"]; bn != nil {
		bp := join(path, "basic")
		bf := w.Fields(bn, bp, "username", "password")
		var user, pass string
		okU, okP := true, true
		w.credential[join(bp, "username")] = true // no message quotes it
		if un := bf["username"]; un != nil {
			user, okU = w.Str(un, join(bp, "username"))
			if okU && (user == "" || strings.ContainsAny(user, ":") || hasCtl(user)) {
				w.Errorf(un, join(bp, "username"), "must be non-empty, without ':' or control characters")
				okU = false
			}
		} else {
			w.Errorf(bn, join(bp, "username"), "required")
			okU = false
		}
		if pn := bf["password"]; pn != nil {
			pass, okP = w.Str(pn, join(bp, "password"))
			w.addCredential(join(bp, "password"), pass)
			if okP && hasCtl(pass) {
				w.Errorf(pn, join(bp, "password"), "must not hold control characters")
				okP = false
			}
		} else {
			w.Errorf(bn, join(bp, "password"), "required")
			okP = false
		}
		if okU && okP {
			l.Basic = &BasicAuth{Username: user, Password: pass}
			full := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)) // RFC 7617, as net/http sends it
			w.addCredential(bp, full)
			w.addCredential(bp, strings.TrimPrefix(full, "Basic "))
		}
	}
	if bn := f["bearer"]; bn != nil {
		bp := join(path, "bearer")
		if s, ok := w.Str(bn, bp); ok {
			w.addCredential(bp, s)
			switch {
			case s == "":
				w.Errorf(bn, bp, "empty token")
			case hasCtl(s) || strings.ContainsAny(s, " \t"):
				w.Errorf(bn, bp, "the token must not hold blanks or control characters")
			default:
				l.Bearer = s
				w.addCredential(bp, "Bearer "+s)
			}
		}
	}
	if hn := f["headers"]; hn != nil {
		if h := w.headerMap(hn, join(path, "headers"), true); len(h) > 0 {
			l.Headers = h
		}
	}
	if cn := f["cookies"]; cn != nil {
		cp := join(path, "cookies")
		for _, e := range w.Entries(cn, cp) {
			p := join(cp, e.Name)
			s, ok := w.Str(e.Val, p)
			w.addCredential(p, s)
			if !isToken(e.Name) {
				w.Errorf(e.Key, p, "invalid cookie name")
				continue
			}
			if !ok {
				continue
			}
			if s == "" || !validCookieValue(s) {
				w.Errorf(e.Val, p, "the value must be non-empty, without blanks, quotes, ';', '\\' or control characters")
				continue
			}
			if l.Cookies == nil {
				l.Cookies = map[string]string{}
			}
			l.Cookies[e.Name] = s
		}
	}
	return l
}

func hasCtl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 && s[i] != '\t' || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// isToken reports whether s is an HTTP token (a header or cookie name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// validCookieValue accepts the bytes net/http sends unchanged (RFC 6265
// cookie-octets), so the cookie sent is the cookie configured.
func validCookieValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' || c == ',' {
			return false
		}
	}
	return true
}
