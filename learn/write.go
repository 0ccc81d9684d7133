package learn

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/permaudit/permaudit/internal/textout"
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
		fmt.Fprintf(&b, "# %s\n", textout.Sanitize(h))
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
			fmt.Fprintf(&b, "    # %s\n", textout.Sanitize(c))
		}
		b.WriteString("    - match:\n")
		for _, m := range r.Match {
			fmt.Fprintf(&b, "        - %s\n", textout.Quote(m))
		}
		allow := make([]string, len(r.Allow))
		for i, a := range r.Allow {
			allow[i] = textout.Quote(a)
			if textout.Plain(a) {
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
