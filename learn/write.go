package learn

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteYAML writes the draft as a "matrix:" section with its comments,
// ready to replace the matrix section of a configuration.
func (d *Draft) WriteYAML(w io.Writer) error {
	var b bytes.Buffer
	for _, h := range d.Header {
		if h == "" {
			b.WriteString("#\n")
			continue
		}
		fmt.Fprintf(&b, "# %s\n", h)
	}
	b.WriteString("matrix:\n  default: deny\n")
	if len(d.Rules) == 0 {
		b.WriteString("  rules: []\n")
	} else {
		b.WriteString("  rules:                         # first match wins\n")
	}
	for i, r := range d.Rules {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, c := range r.Comments {
			fmt.Fprintf(&b, "    # %s\n", sanitize(c))
		}
		b.WriteString("    - match:\n")
		for _, m := range r.Match {
			fmt.Fprintf(&b, "        - %s\n", yamlDQ(m))
		}
		allow := make([]string, len(r.Allow))
		for i, a := range r.Allow {
			allow[i] = yamlDQ(a)
			if isPlainRole(a) {
				allow[i] = a
			}
		}
		fmt.Fprintf(&b, "      allow: [%s]\n", strings.Join(allow, ", "))
		if r.DenyAs != "" {
			fmt.Fprintf(&b, "      deny_as: %s\n", r.DenyAs)
		}
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write draft matrix: %w", err)
	}
	return nil
}

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

// yamlDQ writes s as a YAML double-quoted scalar. Go's escapes for
// valid UTF-8 (\n, \t, \", \\, \xNN below 0x80, \uNNNN, \UNNNNNNNN) are
// all YAML escapes with the same meaning. (A copy of report's.)
func yamlDQ(s string) string {
	return strconv.Quote(strings.ToValidUTF8(s, "\uFFFD"))
}
