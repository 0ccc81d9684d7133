package roles

// The json sign-in flow (docs/config.md, "Signing in"): its request, the
// body written as YAML and sent as JSON or a form, and its XSRF cookie.

import (
	"bytes"
	"encoding/json"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/permaudit/permaudit/internal/yamlwalk"
)

// jsonLogin reads login.json.
func (w *walker) jsonLogin(n *yaml.Node, path string) *JSONLogin {
	jl := &JSONLogin{Method: "POST", Encoding: "json"}
	f := w.Fields(n, path, "url", "method", "encoding", "body", "headers", "token", "token_cookie", "expires_in", "header", "scheme", "xsrf")
	var ok bool
	jl.URL, ok = w.requiredInScope(f, n, path, "url", "the login endpoint, such as /api/login")
	if mn := f["method"]; mn != nil {
		m, good := w.method(mn, join(path, "method"))
		jl.Method, ok = m, ok && good
	}
	if en := f["encoding"]; en != nil {
		if s, good := w.Str(en, join(path, "encoding")); good && (s == "json" || s == "form") {
			jl.Encoding = s
		} else {
			if good {
				w.Errorf(en, join(path, "encoding"), "%q: want json or form", s)
			}
			ok = false
		}
	}
	if bn := f["body"]; bn != nil {
		bp := join(path, "body")
		if bn.Kind != yaml.MappingNode {
			w.Errorf(bn, bp, "must be a mapping, not %s", yamlwalk.KindName(bn))
			ok = false
		} else if jl.Encoding == "form" {
			vals := url.Values{}
			for _, e := range w.Entries(bn, bp) {
				p := join(bp, e.Name)
				v := yamlwalk.Deref(e.Val)
				if v == nil || v.Kind != yaml.ScalarNode {
					w.Errorf(e.Val, p, "a form-encoded body holds strings only")
					ok = false
					continue
				}
				s, good := w.Str(v, p)
				if secretFieldName(e.Name) {
					w.addCredential(p, s)
				}
				ok = ok && good
				vals.Add(e.Name, s)
			}
			jl.Body = []byte(vals.Encode())
		} else {
			var buf bytes.Buffer
			ok = w.jsonValue(bn, bp, false, &buf, 0) && ok
			jl.Body = buf.Bytes()
		}
	}
	if hn := f["headers"]; hn != nil {
		jl.Headers = w.headerMap(hn, join(path, "headers"), false)
	}
	if tn := f["token"]; tn != nil {
		if s, good := w.Str(tn, join(path, "token")); good {
			if err := checkJSONPath(s); err != nil {
				w.Errorf(tn, join(path, "token"), "%v", err)
				ok = false
			}
			jl.Token = s
		}
	}
	if cn := f["token_cookie"]; cn != nil {
		s, good := w.cookieName(cn, join(path, "token_cookie"))
		jl.TokenCookie, ok = s, ok && good
		if f["token"] != nil {
			w.Errorf(cn, join(path, "token_cookie"), "give token or token_cookie, not both")
			ok = false
		}
	}
	if en := f["expires_in"]; en != nil {
		if s, good := w.Str(en, join(path, "expires_in")); good {
			if err := checkJSONPath(s); err != nil {
				w.Errorf(en, join(path, "expires_in"), "%v", err)
				ok = false
			}
			jl.ExpiresIn = s
		}
	}
	jl.Use = w.tokenUse(f, path, "Bearer")
	if xn := f["xsrf"]; xn != nil {
		x, good := w.xsrf(xn, join(path, "xsrf"))
		if good && jl.Headers != nil {
			for k := range jl.Headers {
				if textproto.CanonicalMIMEHeaderKey(k) == textproto.CanonicalMIMEHeaderKey(x.Header) {
					w.Errorf(xn, join(path, "xsrf"), "headers sets %s too: the XSRF token goes in it", k)
					good = false
				}
			}
		}
		jl.XSRF, ok = x, ok && good
	}
	if !ok {
		return nil
	}
	return jl
}

// xsrf reads json.xsrf: the page that sets the anti-forgery cookie, the
// cookie, and the header of the login request that echoes it.
func (w *walker) xsrf(n *yaml.Node, path string) (*XSRF, bool) {
	if n.Kind != yaml.MappingNode {
		w.Errorf(n, path, "must be a mapping such as {url: /sanctum/csrf-cookie}, not %s", yamlwalk.KindName(n))
		return nil, false
	}
	x := &XSRF{Cookie: DefaultXSRFCookie, Header: DefaultXSRFHeader}
	f := w.Fields(n, path, "url", "cookie", "header")
	var ok bool
	x.URL, ok = w.requiredInScope(f, n, path, "url", "the page that sets the cookie, requested (GET) before the login, such as /sanctum/csrf-cookie")
	if cn := f["cookie"]; cn != nil {
		s, good := w.cookieName(cn, join(path, "cookie"))
		x.Cookie, ok = s, ok && good
	}
	if hn := f["header"]; hn != nil {
		s, good := w.sendHeader(hn, join(path, "header"), "the XSRF token")
		x.Header, ok = s, ok && good
	}
	return x, ok
}

// jsonValue writes the JSON form of YAML node n to buf, keeping the order
// of mappings. Strings are expanded; a string under a key that names a
// secret is registered as a credential.
func (w *walker) jsonValue(n *yaml.Node, path string, secretKey bool, buf *bytes.Buffer, depth int) bool {
	n = yamlwalk.Deref(n)
	if depth > 32 {
		w.Errorf(n, path, "nested too deeply")
		return false
	}
	switch {
	case yamlwalk.IsNull(n):
		buf.WriteString("null")
		return true
	case n.Kind == yaml.MappingNode:
		buf.WriteByte('{')
		for i, e := range w.Entries(n, path) {
			if i > 0 {
				buf.WriteByte(',')
			}
			k, _ := json.Marshal(e.Name)
			buf.Write(k)
			buf.WriteByte(':')
			if !w.jsonValue(e.Val, join(path, e.Name), secretFieldName(e.Name), buf, depth+1) {
				return false
			}
		}
		buf.WriteByte('}')
		return true
	case n.Kind == yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if !w.jsonValue(c, yamlwalk.Index(path, i), secretKey, buf, depth+1) {
				return false
			}
		}
		buf.WriteByte(']')
		return true
	case n.Kind == yaml.ScalarNode:
		switch n.Tag {
		case "!!bool":
			b, err := strconv.ParseBool(strings.ToLower(n.Value))
			if err != nil {
				w.Errorf(n, path, "invalid boolean %q", n.Value)
				return false
			}
			buf.WriteString(strconv.FormatBool(b))
			return true
		case "!!int", "!!float":
			v, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
			if err != nil {
				if iv, ierr := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); ierr == nil {
					buf.WriteString(strconv.FormatInt(iv, 10))
					return true
				}
				w.Errorf(n, path, "invalid number %q: quote it for a string", n.Value)
				return false
			}
			b, err := json.Marshal(v)
			if err != nil {
				w.Errorf(n, path, "invalid number %q: quote it for a string", n.Value)
				return false
			}
			buf.Write(b)
			return true
		}
		s, ok := w.Str(n, path)
		if secretKey {
			w.addCredential(path, s)
		}
		if !ok {
			return false
		}
		b, _ := json.Marshal(s)
		buf.Write(b)
		return true
	}
	w.Errorf(n, path, "unsupported value")
	return false
}
