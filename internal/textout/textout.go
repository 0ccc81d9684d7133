// Package textout writes strings that came from the target, or from a
// configuration, where people and parsers read them: on a terminal or in
// a report's text (Sanitize), and in a YAML document (Quote, Plain). The
// renderers (package report) and the matrix drafter (package learn) share
// it.
package textout

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sanitize makes a string from the target safe to print on a terminal:
// every control character (C0, DEL, C1: which covers ESC and so every
// terminal escape sequence), every bidirectional formatting character and
// every invalid UTF-8 byte is replaced by a visible Go-style escape
// ("\x1b", "\u202e"). Tabs and newlines are escaped too, so that one value
// stays on one line and in its column.
func Sanitize(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case isUnsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func isClean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// isUnsafeRune reports C1 controls, bidirectional formatting characters
// (which can reorder what a terminal shows) and the line and paragraph
// separators.
func isUnsafeRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// Plain reports whether s can be written unquoted in YAML as a string: a
// lower-case word (a role name) that YAML reads as itself.
func Plain(s string) bool {
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

// Quote writes s as a YAML double-quoted scalar. Go's escapes for valid
// UTF-8 (\n, \t, \", \\, \xNN below 0x80, \uNNNN, \UNNNNNNNN) are all
// YAML escapes with the same meaning.
func Quote(s string) string {
	return strconv.Quote(strings.ToValidUTF8(s, "\uFFFD"))
}
