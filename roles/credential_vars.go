package roles

// Role variables where credentials go (docs/config.md, "Signing in"):
// a {self.var} in a static header or cookie, or in the check's request,
// is replaced by the session's value at every sign-in; anywhere else in
// a login or a check it would be sent as written, and is refused.

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// CredentialVarFields names the fields of a role where role variables
// are substituted, for messages.
const CredentialVarFields = "login.headers, login.cookies, login.logout (url, body, headers) and check (url, body, headers)"

// substitutedField reports whether a role variable in the field at rel
// (the path under the role: "login.headers.X-Nonce") is substituted;
// skipped reports a field whose text is not sent (a capture's regular
// expression, a JSON path, a check's expected text).
func substitutedField(rel string) (substituted, skipped bool) {
	switch {
	case strings.HasPrefix(rel, "login.headers."), strings.HasPrefix(rel, "login.cookies."),
		rel == "check.url", rel == "check.body", strings.HasPrefix(rel, "check.headers."),
		rel == "login.logout.url", rel == "login.logout.body", strings.HasPrefix(rel, "login.logout.headers."):
		return true, false
	case strings.HasPrefix(rel, "login.capture."), strings.HasPrefix(rel, "login.renew."),
		rel == "check.contains", rel == "check.logged_out", rel == "check.status", rel == "check.proves_session",
		rel == "login.json.token", rel == "login.json.token_cookie", rel == "login.json.expires_in",
		strings.HasPrefix(rel, "login.logout.") && !strings.HasPrefix(rel, "login.logout.headers."):
		return false, true
	}
	return false, false
}

// HasVarRef reports whether s holds a role variable reference
// ("{self.nonce}").
func HasVarRef(s string) bool { return varRefRE.MatchString(s) }

// SubstituteVars replaces every {self.var} (or {role.var} naming role
// itself) of s by lookup(var). It returns the first reference lookup
// has no value for, or "" when every one was replaced.
func SubstituteVars(s, role string, lookup func(name string) (string, bool)) (string, string) {
	if !strings.Contains(s, "{") {
		return s, ""
	}
	missing := ""
	out := varRefRE.ReplaceAllStringFunc(s, func(ref string) string {
		m := varRefRE.FindStringSubmatch(ref)
		if m[1] == "self" || m[1] == role {
			if v, ok := lookup(m[2]); ok {
				return v
			}
		}
		if missing == "" {
			missing = ref
		}
		return ref
	})
	return out, missing
}

// credentialVars checks the role variables written in the login and
// check of role r (the mapping n at path): where they are substituted,
// each must be a variable of r (vars or a capture), and a capture sent
// in a header or cookie becomes a secret (Capture.Credential); anywhere
// else a reference would be sent literally, and is an error.
func (w *walker) credentialVars(n *yaml.Node, path string, r *Role) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if k == "login" || k == "check" {
			w.walkVarRefs(n.Content[i+1], path, k, r, 0)
		}
	}
}

func (w *walker) walkVarRefs(n *yaml.Node, rolePath, rel string, r *Role, depth int) {
	if n == nil || depth > 32 {
		return
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
		if n == nil {
			return
		}
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			w.walkVarRefs(n.Content[i+1], rolePath, rel+"."+n.Content[i].Value, r, depth+1)
		}
		return
	case yaml.SequenceNode:
		for i, c := range n.Content {
			w.walkVarRefs(c, rolePath, fmt.Sprintf("%s.%d", rel, i), r, depth+1)
		}
		return
	case yaml.ScalarNode:
	default:
		return
	}
	refs := varRefRE.FindAllStringSubmatch(n.Value, -1) // the text as written, before ${ENV}
	if len(refs) == 0 {
		return
	}
	subst, skipped := substitutedField(rel)
	if skipped {
		return
	}
	p := join(rolePath, rel)
	if !subst {
		w.Errorf(n, p, "%s would be sent as written: role variables are substituted only in %s; write the value itself here, or send it as a header (login.headers)", refs[0][0], CredentialVarFields)
		return
	}
	// The check's URL and body name ids ({self.user_id}); everything
	// else here (headers, cookies, the logout's token) is a credential.
	credential := rel != "check.url" && rel != "check.body"
	for _, m := range refs {
		role, name := m[1], m[2]
		if role != "self" && role != r.Name {
			w.Errorf(n, p, "%s: only the role's own variables are sent with its credentials; write {self.%s}", m[0], name)
			continue
		}
		_, configured := r.Vars[name]
		ci := slices.IndexFunc(r.Login.Capture, func(c Capture) bool { return c.Var == name })
		switch {
		case ci >= 0:
			if credential {
				r.Login.Capture[ci].Credential = true
			}
		case configured:
		default:
			w.Errorf(n, p, "%s: role %s has no variable %s: capture it at sign-in (login.capture: {%s: ...}) or declare it under vars", m[0], r.Name, name, name)
		}
	}
}
