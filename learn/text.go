package learn

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The text of the draft's comments. plural and sanitize are private
// copies of report's (judge.go, sanitize.go): learn imports no report.

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// listPaths shortens a list of paths for a comment.
func listPaths(ps []string) string {
	const max = 4
	var uniq []string
	for _, p := range ps {
		uniq = appendUnique(uniq, p)
	}
	if len(uniq) > max {
		return strings.Join(uniq[:max], ", ") + fmt.Sprintf(" and %d more", len(uniq)-max)
	}
	return strings.Join(uniq, ", ")
}

// sanitize makes a string from the target safe to print on a terminal:
// every control character (C0, DEL, C1: which covers ESC and so every
// terminal escape sequence), every bidirectional formatting character and
// every invalid UTF-8 byte is replaced by a visible Go-style escape
// ("\x1b", "\u202e"). Tabs and newlines are escaped too, so that one value
// stays on one line and in its column.
func sanitize(s string) string {
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
