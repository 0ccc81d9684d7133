package learn

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The text of the draft's comments; strings from the target pass through
// textout.Sanitize.

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
