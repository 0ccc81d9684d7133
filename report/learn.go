package report

// The access-matrix drafter that lived here is package learn now. What
// remains is the one helper the baseline writer shared with it, kept in
// report because learn imports no report (and report no learn); learn
// has its own copy. One home for YAML scalar helpers (with yamlDQ) is for
// a later step.

// isPlainRole reports whether a role name can be written unquoted: a
// lower-case word that YAML reads as a string.
func isPlainRole(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	switch s {
	case "null", "true", "false", "yes", "no", "on", "off", "y", "n":
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
