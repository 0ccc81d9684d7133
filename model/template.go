package model

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
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

// IDParts returns the id-like parts of a URL: its path segments and
// query values that IsID accepts, decoded, path first.
func IDParts(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var ids []string
	for _, s := range strings.Split(u.EscapedPath(), "/") {
		if d, err := url.PathUnescape(s); err == nil && IsID(d) {
			ids = append(ids, d)
		}
	}
	for _, kv := range strings.Split(u.RawQuery, "&") {
		_, v, _ := strings.Cut(kv, "=")
		if d, err := url.QueryUnescape(v); err == nil && IsID(d) {
			ids = append(ids, d)
		}
	}
	return ids
}

func HasID(raw string) bool { return len(IDParts(raw)) > 0 }

// StripIDs removes the id-like parts of rawURL (its path segments and
// query values that IsID accepts) from text, as whole tokens: an id
// preceded or followed by a letter or digit (of any script) is left
// alone, so that
// removing "17" keeps "2017" and "a17". Escaped slashes ("%2F") are read
// as "/" first, so that an id inside an escaped path is a token too.
// Matching ignores ASCII case. Comparing two answers with StripIDs
// applied tells whether they differ by more than the id each echoes.
func StripIDs(rawURL, text string) string {
	ids := IDParts(rawURL)
	if len(ids) == 0 || text == "" {
		return text
	}
	text = strings.NewReplacer("%2F", "/", "%2f", "/").Replace(text)
	sort.SliceStable(ids, func(i, j int) bool { return len(ids[i]) > len(ids[j]) })
	for _, id := range ids {
		text = removeToken(text, id)
	}
	return text
}

// removeToken removes the whole-token occurrences of tok in s (not
// preceded or followed by a letter or digit of any script), ignoring
// ASCII case.
func removeToken(s, tok string) string {
	if tok == "" {
		return s
	}
	ls, lt := asciiLower(s), asciiLower(tok)
	var b strings.Builder
	last := 0
	for i := 0; i+len(lt) <= len(ls); {
		j := strings.Index(ls[i:], lt)
		if j < 0 {
			break
		}
		at := i + j
		end := at + len(lt)
		before, _ := utf8.DecodeLastRuneInString(ls[:at])
		after, _ := utf8.DecodeRuneInString(ls[end:])
		if (at == 0 || !isWordRune(before)) && (end == len(ls) || !isWordRune(after)) {
			b.WriteString(s[last:at])
			last = end
			i = end
			continue
		}
		i = at + 1
	}
	b.WriteString(s[last:])
	return b.String()
}

// asciiLower lower-cases ASCII letters only, so that byte offsets stay
// those of s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// isWordRune reports whether r continues a word: a letter or a digit of
// any script.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// The shapes of id that IsID accepts, as IDKind names them.
const (
	IDNumber = "number"
	IDUUID   = "uuid"
	IDHex    = "hex"
	IDToken  = "token"
)

// IDKind names the shape of s as an id: IDNumber, IDUUID, IDHex or
// IDToken (letters and digits), in that order; "" when IsID is false.
func IDKind(s string) string {
	switch {
	case !IsID(s):
		return ""
	case reNumber.MatchString(s):
		return IDNumber
	case reUUID.MatchString(s):
		return IDUUID
	case reHex.MatchString(s):
		return IDHex
	}
	return IDToken
}
