package crawl

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
)

var (
	reNumber = regexp.MustCompile(`^[0-9]+$`)
	reUUID   = regexp.MustCompile(`^(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	reHex    = regexp.MustCompile(`^(?i)[0-9a-f]{8,}$`)
	reMixed  = regexp.MustCompile(`^[A-Za-z0-9]{10,}$`)
	reLetter = regexp.MustCompile(`[A-Za-z]`)
	reDigit  = regexp.MustCompile(`[0-9]`)
)

// IsID reports whether a path segment or query value looks like an
// identifier: a number, a UUID, hex of 8+ characters, or a token of 10+
// letters and digits holding both (base36/base62 ids).
func IsID(s string) bool {
	switch {
	case s == "":
		return false
	case reNumber.MatchString(s), reUUID.MatchString(s):
		return true
	case reHex.MatchString(s) && reDigit.MatchString(s):
		return true
	case reMixed.MatchString(s) && reLetter.MatchString(s) && reDigit.MatchString(s):
		return true
	}
	return false
}

// Template folds the id-like parts of rawURL's path and query values into
// "{id}" and returns "METHOD /path?key={id}&other=value" with no scheme,
// host or port, query keys sorted. It is for grouping, reports and
// fingerprints, never for requesting.
func Template(method, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return method + " " + rawURL
	}
	segs := strings.Split(u.EscapedPath(), "/")
	for i, s := range segs {
		if dec, err := url.PathUnescape(s); err == nil && IsID(dec) {
			segs[i] = "{id}"
		}
	}
	p := strings.Join(segs, "/")
	if p == "" {
		p = "/"
	}
	q := u.Query()
	if len(q) > 0 {
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			for _, v := range q[k] {
				if IsID(v) {
					v = "{id}"
				}
				parts = append(parts, url.QueryEscape(k)+"="+strings.ReplaceAll(url.QueryEscape(v), "%7Bid%7D", "{id}"))
			}
		}
		p += "?" + strings.Join(parts, "&")
	}
	return method + " " + p
}
