package roles

import "strings"

// Which ${ENV} values are secrets (docs/config.md, "Secrets"; docs/design.md,
// "Secrets"): a value used in a credential field is one; a value used in a
// URL, an id, a username or a variable is not, unless written
// ${secret:NAME}. A one-character value "5" in a URL must not redact every
// "5" of every output.

// credentialField reports whether an ${ENV} value read at the field path
// is a secret: the role's password, tokens, header and cookie values,
// client secret, a command's arguments, a check's or logout's headers and
// body, a sign-in form field or JSON body key not named like an identity,
// a proxy URL (it may hold a password), and a body check's text.
func credentialField(path string) bool {
	if path == "proxy" {
		return true
	}
	if strings.HasPrefix(path, "matrix.rules[") && strings.Contains(path, ".body[") {
		return true // a body check's text: a value that must not leak, shown by its name
	}
	rest, ok := strings.CutPrefix(path, "roles.")
	if !ok {
		return false
	}
	_, rest, ok = strings.Cut(rest, ".") // the role's name has no dot
	if !ok {
		return false
	}
	for _, p := range []string{"login.bearer", "login.basic.password", "login.oauth2.client_secret", "check.body", "login.logout.body"} {
		if rest == p {
			return true
		}
	}
	for _, p := range []string{"login.headers.", "login.cookies.", "login.json.headers.", "check.headers.", "login.logout.headers.", "login.command.run"} {
		if strings.HasPrefix(rest, p) {
			return true
		}
	}
	for _, p := range []string{"login.form.fields.", "login.json.body.", "login.oauth2.params."} {
		if key, ok := strings.CutPrefix(rest, p); ok {
			if i := strings.LastIndexAny(key, ".]"); i >= 0 && i+1 < len(key) {
				key = key[i+1:] // the innermost key of a JSON body
			}
			return secretFieldName(key) || !identityName(key) && key != "audience" && key != "resource"
		}
	}
	return false
}

// identityName reports whether a form field or JSON body key names who
// signs in (a username, an e-mail, an id) rather than a credential.
func identityName(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "log", "name", "id", "uid", "remember", "remember_me", "rememberme":
		return true
	}
	for _, w := range []string{"user", "login", "mail", "account", "_id", "tenant", "realm", "domain"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
