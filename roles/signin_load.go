package roles

import (
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// signIn reads the sign-in flow, capture and renew fields of a login
// mapping (docs/config.md, "Signing in"). It reports whether a flow is
// written, even one refused for its errors (an unset ${ENV}): what needs
// a flow is then not also refused for lacking one.
func (w *walker) signIn(f map[string]*yaml.Node, path string, l *Login) (flowWritten bool) {
	var flows []string
	for _, k := range []string{"form", "json", "oauth2", "command"} {
		if f[k] != nil {
			flows = append(flows, k)
		}
	}
	if len(flows) > 1 {
		w.Errorf(f[flows[1]], join(path, flows[1]), "a role signs in one way: %s is already set", flows[0])
	}
	if n := f["form"]; n != nil {
		l.Form = w.formLogin(n, join(path, "form"))
	}
	if n := f["json"]; n != nil {
		l.JSON = w.jsonLogin(n, join(path, "json"))
	}
	if n := f["oauth2"]; n != nil {
		l.OAuth2 = w.oauth2Login(n, join(path, "oauth2"))
	}
	if n := f["command"]; n != nil {
		l.Command = w.commandLogin(n, join(path, "command"))
	}
	if n := f["capture"]; n != nil {
		cp := join(path, "capture")
		if len(flows) == 0 {
			w.Errorf(n, cp, "capture needs a sign-in flow (form, json, oauth2 or command) to capture from")
		}
		for _, e := range w.Entries(n, cp) {
			p := join(cp, e.Name)
			if !isIdent(e.Name) {
				w.Errorf(e.Key, p, "invalid variable name: letters, digits, '_' and '-' only")
				continue
			}
			s, ok := w.Str(e.Val, p)
			if !ok {
				continue
			}
			if err := CheckCaptureFrom(s); err != nil {
				w.Errorf(e.Val, p, "%v", err)
				continue
			}
			l.Capture = append(l.Capture, Capture{Var: e.Name, From: s})
		}
	}
	if n := f["renew"]; n != nil {
		rp := join(path, "renew")
		rf := w.Fields(n, rp, "max", "backoff")
		if mn := rf["max"]; mn != nil {
			if v, ok := w.Int(mn, join(rp, "max"), 0, 100); ok {
				l.Renew.Max = int(v)
			}
		}
		if bn := rf["backoff"]; bn != nil {
			if d, ok := w.DurationIn(bn, join(rp, "backoff"), 0, 10*time.Minute); ok {
				l.Renew.Backoff = d
			}
		}
	}
	return len(flows) > 0
}

// CheckCaptureFrom validates where a variable is captured from.
func CheckCaptureFrom(s string) error {
	switch {
	case strings.HasPrefix(s, "header:"):
		if !isToken(strings.TrimSpace(strings.TrimPrefix(s, "header:"))) {
			return errorString("want header:Name with a valid header name")
		}
		return nil
	case strings.HasPrefix(s, "regex:"):
		re, err := regexp.Compile(strings.TrimPrefix(s, "regex:"))
		if err != nil {
			return errorString("invalid regular expression: " + err.Error())
		}
		if re.NumSubexp() > 1 {
			return errorString("the regular expression may have at most one group, whose match is captured")
		}
		return nil
	}
	return checkJSONPath(s)
}

type errorString string

func (e errorString) Error() string { return string(e) }

// checkJSONPath validates a path into a JSON document: names separated
// by dots, a number indexing a list ("items.0.id").
func checkJSONPath(s string) error {
	if s == "" {
		return errorString("empty path: want a path such as token or data.access_token")
	}
	for _, seg := range strings.Split(s, ".") {
		if seg == "" || hasCtl(seg) || strings.ContainsAny(seg, " \t") {
			return errorString("path " + strconv.Quote(s) + ": want names separated by dots, such as data.access_token")
		}
	}
	return nil
}

// inScope reads a path or in-scope URL.
func (w *walker) inScope(n *yaml.Node, path string) (string, bool) {
	s, ok := w.Str(n, path)
	if !ok {
		return "", false
	}
	if err := checkInScope(s, w.target); err != nil {
		w.Errorf(n, path, "%v", err)
		return "", false
	}
	return s, true
}

// requiredInScope reads the path or in-scope URL f[key] of the mapping n
// at path; when it is missing, the error says it is required, then hint.
func (w *walker) requiredInScope(f map[string]*yaml.Node, n *yaml.Node, path, key, hint string) (string, bool) {
	if un := f[key]; un != nil {
		return w.inScope(un, join(path, key))
	}
	w.Errorf(n, join(path, key), "required: %s", hint)
	return "", false
}

// cookieName reads the name of a cookie.
func (w *walker) cookieName(n *yaml.Node, path string) (string, bool) {
	s, ok := w.Str(n, path)
	switch {
	case !ok:
		return "", false
	case s == "":
		w.Errorf(n, path, "empty: want a cookie name")
		return "", false
	case !isToken(s):
		w.Errorf(n, path, "invalid cookie name %q", s)
		return "", false
	}
	return s, true
}

// sendHeader reads the name of the header that carries what ("the
// token"): a valid name, neither Cookie nor a header net/http owns.
func (w *walker) sendHeader(n *yaml.Node, path, what string) (string, bool) {
	s, ok := w.Str(n, path)
	if !ok {
		return "", false
	}
	ck := textproto.CanonicalMIMEHeaderKey(s)
	switch {
	case s == "":
		w.Errorf(n, path, "empty: want a header name")
	case !isToken(s):
		w.Errorf(n, path, "invalid header name %q", s)
	case ck == "Cookie" || ck == "Host" || ck == "Content-Length":
		w.Errorf(n, path, "%s cannot be sent in %s", what, ck)
	default:
		return s, true
	}
	return "", false
}

// method reads an HTTP method, upper-cased.
func (w *walker) method(n *yaml.Node, path string) (string, bool) {
	s, ok := w.Str(n, path)
	if !ok {
		return "", false
	}
	if !isToken(s) {
		w.Errorf(n, path, "%q is not an HTTP method", s)
		return "", false
	}
	return strings.ToUpper(s), true
}

// headerMap reads a mapping of header names to values; every value is a
// credential (a header of a sign-in or check request may carry one).
// With static set, it reads a role's static credential headers, which
// may not set Cookie (cookies has its own field) nor be empty.
func (w *walker) headerMap(n *yaml.Node, path string, static bool) map[string]string {
	out := map[string]string{}
	seen := map[string]bool{}
	for _, e := range w.Entries(n, path) {
		p := join(path, e.Name)
		s, ok := w.Str(e.Val, p)
		w.addCredential(p, s)
		ck := textproto.CanonicalMIMEHeaderKey(e.Name)
		switch {
		case !isToken(e.Name):
			w.Errorf(e.Key, p, "invalid header name")
			continue
		case seen[ck]:
			w.Errorf(e.Key, p, "duplicate header %s", ck)
			continue
		case static && ck == "Cookie":
			w.Errorf(e.Key, p, "header %s may not be set here (use cookies for cookies)", ck)
			continue
		case ck == "Host" || ck == "Content-Length":
			w.Errorf(e.Key, p, "header %s may not be set", ck)
			continue
		}
		seen[ck] = true
		if !ok {
			continue
		}
		if static && s == "" {
			w.Errorf(e.Val, p, "the value must be non-empty")
			continue
		}
		if hasCtl(s) {
			w.Errorf(e.Val, p, "the value must not hold control characters")
			continue
		}
		out[e.Name] = s
	}
	return out
}

// tokenUse reads the header and scheme fields that say how a token is
// sent. defScheme applies when scheme is absent; `scheme: ""` sends the
// bare token.
func (w *walker) tokenUse(f map[string]*yaml.Node, path, defScheme string) TokenUse {
	u := TokenUse{Header: "Authorization", Scheme: defScheme}
	if hn := f["header"]; hn != nil {
		if s, ok := w.sendHeader(hn, join(path, "header"), "the token"); ok {
			u.Header = s
		}
	}
	if sn := f["scheme"]; sn != nil {
		if s, ok := w.Str(sn, join(path, "scheme")); ok {
			if hasCtl(s) || strings.ContainsAny(s, " \t") {
				w.Errorf(sn, join(path, "scheme"), "want one word such as Bearer or Token, or \"\" for none")
			} else {
				u.Scheme = s
			}
		}
	}
	return u
}

func (w *walker) formLogin(n *yaml.Node, path string) *FormLogin {
	fl := &FormLogin{Fields: map[string]string{}}
	f := w.Fields(n, path, "url", "action", "fields")
	var ok bool
	fl.URL, ok = w.requiredInScope(f, n, path, "url", "the page holding the login form, such as /login")
	if an := f["action"]; an != nil {
		s, good := w.inScope(an, join(path, "action"))
		fl.Action, ok = s, ok && good
	}
	if fn := f["fields"]; fn != nil {
		fp := join(path, "fields")
		for _, e := range w.Entries(fn, fp) {
			p := join(fp, e.Name)
			s, good := w.Str(e.Val, p)
			if secretFieldName(e.Name) {
				w.addCredential(p, s)
			}
			if !good {
				ok = false
				continue
			}
			if e.Name == "" || hasCtl(e.Name) {
				w.Errorf(e.Key, p, "invalid field name")
				ok = false
				continue
			}
			fl.Fields[e.Name] = s
			fl.FieldOrder = append(fl.FieldOrder, e.Name)
		}
		if len(fl.Fields) == 0 && ok {
			w.Errorf(fn, fp, "empty: name the fields to fill, such as username and password")
			ok = false
		}
	} else {
		w.Errorf(n, join(path, "fields"), "required: the fields to fill, such as {username: alice, password: \"${ALICE_PASSWORD}\"}")
		ok = false
	}
	if !ok {
		return nil
	}
	return fl
}

func (w *walker) oauth2Login(n *yaml.Node, path string) *OAuth2Login {
	ol := &OAuth2Login{}
	f := w.Fields(n, path, "token_url", "client_id", "client_secret", "scopes", "params", "auth", "header", "scheme")
	var ok bool
	ol.TokenURL, ok = w.requiredInScope(f, n, path, "token_url", "the token endpoint, such as /oauth/token")
	if cn := f["client_id"]; cn != nil {
		s, good := w.Str(cn, join(path, "client_id"))
		if good && s == "" {
			w.Errorf(cn, join(path, "client_id"), "empty")
			good = false
		}
		ol.ClientID, ok = s, ok && good
	} else {
		w.Errorf(n, join(path, "client_id"), "required")
		ok = false
	}
	if sn := f["client_secret"]; sn != nil {
		s, good := w.Str(sn, join(path, "client_secret"))
		w.addCredential(join(path, "client_secret"), s)
		ol.ClientSecret, ok = s, ok && good
	} else {
		w.Errorf(n, join(path, "client_secret"), "required")
		ok = false
	}
	if sn := f["scopes"]; sn != nil {
		for _, it := range w.List(sn, join(path, "scopes")) {
			if s, good := w.Str(it.N, it.Path); good {
				if s == "" || strings.ContainsAny(s, " \t") || hasCtl(s) {
					w.Errorf(it.N, it.Path, "a scope is one non-empty word")
					ok = false
					continue
				}
				ol.Scopes = append(ol.Scopes, s)
			}
		}
	}
	if pn := f["params"]; pn != nil {
		ol.Params = map[string]string{}
		for _, e := range w.Entries(pn, join(path, "params")) {
			p := join(join(path, "params"), e.Name)
			if s, good := w.Str(e.Val, p); good {
				if secretFieldName(e.Name) {
					w.addCredential(p, s)
				}
				ol.Params[e.Name] = s
			}
		}
	}
	if an := f["auth"]; an != nil {
		if s, good := w.Str(an, join(path, "auth")); good && (s == "header" || s == "body") {
			ol.Auth = s
		} else if good {
			w.Errorf(an, join(path, "auth"), "%q: want header or body", s)
			ok = false
		}
	}
	ol.Use = w.tokenUse(f, path, "")
	if !ok {
		return nil
	}
	return ol
}

func (w *walker) commandLogin(n *yaml.Node, path string) *CommandLogin {
	cl := &CommandLogin{Timeout: DefaultCommandTimeout, Gives: "token"}
	f := w.Fields(n, path, "run", "timeout", "gives", "header", "scheme")
	ok := true
	if rn := f["run"]; rn != nil {
		if rn.Kind != yaml.SequenceNode {
			w.Errorf(rn, join(path, "run"), "must be a list: the program and its arguments, run without a shell")
			ok = false
		}
		for _, it := range w.List(rn, join(path, "run")) {
			s, good := w.Str(it.N, it.Path)
			if !good {
				ok = false
				continue
			}
			if len(cl.Argv) == 0 && strings.TrimSpace(s) == "" {
				w.Errorf(it.N, it.Path, "empty program name")
				ok = false
			}
			cl.Argv = append(cl.Argv, s)
		}
		if len(cl.Argv) == 0 && ok {
			w.Errorf(rn, join(path, "run"), "empty: give the program and its arguments")
			ok = false
		}
	} else {
		w.Errorf(n, join(path, "run"), "required: the program and its arguments, such as [\"./sso-token\", \"alice\"]")
		ok = false
	}
	if tn := f["timeout"]; tn != nil {
		d, good := w.DurationIn(tn, join(path, "timeout"), time.Millisecond, 10*time.Minute)
		if good {
			cl.Timeout = d
		}
		ok = ok && good
	}
	if gn := f["gives"]; gn != nil {
		if s, good := w.Str(gn, join(path, "gives")); good && (s == "token" || s == "cookie") {
			cl.Gives = s
		} else if good {
			w.Errorf(gn, join(path, "gives"), "%q: want token or cookie", s)
			ok = false
		}
	}
	cl.Use = w.tokenUse(f, path, "Bearer")
	if cl.Gives == "cookie" && (f["header"] != nil || f["scheme"] != nil) {
		w.Errorf(n, path, "header and scheme apply to a token, not to gives: cookie")
		ok = false
	}
	if !ok {
		return nil
	}
	return cl
}

// request reads the request fields a check and a logout share: url
// (required, in scope; hint says what it is), method (default GET), body
// and headers.
func (w *walker) request(f map[string]*yaml.Node, n *yaml.Node, path, hint string) (method, u, body string, headers map[string]string, ok bool) {
	method = "GET"
	u, ok = w.requiredInScope(f, n, path, "url", hint)
	if mn := f["method"]; mn != nil {
		m, good := w.method(mn, join(path, "method"))
		method, ok = m, ok && good
	}
	if bn := f["body"]; bn != nil {
		s, good := w.Str(bn, join(path, "body"))
		body, ok = s, ok && good
	}
	if hn := f["headers"]; hn != nil {
		headers = w.headerMap(hn, join(path, "headers"), false)
	}
	return method, u, body, headers, ok
}

// logout reads a role's logout request; hasFlow says the role signs in
// with a flow, without which there is no session of the audit's to end.
func (w *walker) logout(n *yaml.Node, path string, hasFlow bool) *Logout {
	l := &Logout{}
	f := w.Fields(n, path, "method", "url", "body", "headers")
	var ok bool
	l.Method, l.URL, l.Body, l.Headers, ok = w.request(f, n, path, "the request that ends the session, such as /logout")
	if !hasFlow {
		w.Errorf(n, path, "logout ends a session the audit signed in with a flow (form, json, oauth2 or command); a session given as static credentials is never ended: remove logout, or sign in with a flow")
		ok = false
	}
	if !ok {
		return nil
	}
	return l
}

func (w *walker) check(n *yaml.Node, path string) *Check {
	c := &Check{}
	f := w.Fields(n, path, "method", "url", "body", "headers", "status", "contains", "logged_out", "proves_session")
	var ok bool
	c.Method, c.URL, c.Body, c.Headers, ok = w.request(f, n, path, "a page only a signed-in role sees, such as /api/me")
	if sn := f["status"]; sn != nil {
		v, good := w.Int(sn, join(path, "status"), 100, 599)
		c.Status, ok = int(v), ok && good
	}
	for _, k := range []string{"contains", "logged_out"} {
		kn := f[k]
		if kn == nil {
			continue
		}
		s, good := w.Str(kn, join(path, k))
		if good && s == "" {
			w.Errorf(kn, join(path, k), "empty: it would match every body")
			good = false
		}
		ok = ok && good
		if k == "contains" {
			c.Contains = s
		} else {
			c.LoggedOut = s
		}
	}
	if pn := f["proves_session"]; pn != nil {
		b, good := w.Bool(pn, join(path, "proves_session"))
		c.Unproven, ok = good && !b, ok && good
	}
	if c.Contains != "" && c.Contains == c.LoggedOut {
		w.Errorf(f["logged_out"], join(path, "logged_out"), "the same text as contains: a live and a signed-out answer must differ")
		ok = false
	}
	if !ok {
		return nil
	}
	pc := pendingCheck{c: c, path: path, methodNode: f["method"], urlNode: f["url"]}
	if pc.methodNode == nil {
		pc.methodNode = n
	}
	w.checks = append(w.checks, pc)
	return c
}

// canonicalSignIn renders a role's sign-in flow, capture, renew and check
// for the fingerprint, with the helpers of canonical. A JSON body is
// rendered with every secret value replaced by its name.
func canonicalSignIn(c *Config, r *Role, rp string, val func(path, v string), list func(path string, vs []string), sortedMap func(path string, m map[string]string)) {
	lp := join(rp, "login")
	l := r.Login
	if fl := l.Form; fl != nil {
		p := join(lp, "form")
		val(join(p, "url"), fl.URL)
		val(join(p, "action"), fl.Action)
		sortedMap(join(p, "fields"), fl.Fields)
	}
	use := func(p string, u TokenUse) {
		val(join(p, "header"), u.Header)
		val(join(p, "scheme"), u.Scheme)
	}
	if jl := l.JSON; jl != nil {
		p := join(lp, "json")
		val(join(p, "url"), jl.URL)
		val(join(p, "method"), jl.Method)
		val(join(p, "encoding"), jl.Encoding)
		val(join(p, "body"), c.Secrets.Redact(string(jl.Body)))
		sortedMap(join(p, "headers"), jl.Headers)
		val(join(p, "token"), jl.Token)
		val(join(p, "token_cookie"), jl.TokenCookie)
		val(join(p, "expires_in"), jl.ExpiresIn)
		use(p, jl.Use)
		if x := jl.XSRF; x != nil {
			val(join(p, "xsrf.url"), x.URL)
			val(join(p, "xsrf.cookie"), x.Cookie)
			val(join(p, "xsrf.header"), x.Header)
		}
	}
	if ol := l.OAuth2; ol != nil {
		p := join(lp, "oauth2")
		val(join(p, "token_url"), ol.TokenURL)
		val(join(p, "client_id"), ol.ClientID)
		val(join(p, "client_secret"), ol.ClientSecret)
		list(join(p, "scopes"), ol.Scopes)
		sortedMap(join(p, "params"), ol.Params)
		val(join(p, "auth"), ol.Auth)
		use(p, ol.Use)
	}
	if cl := l.Command; cl != nil {
		p := join(lp, "command")
		list(join(p, "run"), cl.Argv)
		val(join(p, "timeout"), cl.Timeout.String())
		val(join(p, "gives"), cl.Gives)
		use(p, cl.Use)
	}
	caps := make([]string, len(l.Capture))
	for i, cp := range l.Capture {
		caps[i] = cp.Var + "=" + cp.From
	}
	list(join(lp, "capture"), caps)
	if lo := l.Logout; lo != nil {
		p := join(lp, "logout")
		val(join(p, "method"), lo.Method)
		val(join(p, "url"), lo.URL)
		val(join(p, "body"), lo.Body)
		sortedMap(join(p, "headers"), lo.Headers)
	}
	val(join(lp, "renew.max"), strconv.Itoa(l.Renew.Max))
	val(join(lp, "renew.backoff"), l.Renew.Backoff.String())
	if ck := r.Check; ck != nil {
		p := join(rp, "check")
		val(join(p, "method"), ck.Method)
		val(join(p, "url"), ck.URL)
		val(join(p, "body"), ck.Body)
		sortedMap(join(p, "headers"), ck.Headers)
		val(join(p, "status"), strconv.Itoa(ck.Status))
		val(join(p, "contains"), ck.Contains)
		val(join(p, "logged_out"), ck.LoggedOut)
		if ck.Unproven {
			val(join(p, "proves_session"), "false")
		}
	}
}
