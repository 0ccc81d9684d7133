package crawl

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/permaudit/permaudit/roles"
)

const (
	// maxURLLen is the longest string read as a URL from a script or a
	// JSON answer.
	maxURLLen = 2048
	// maxStrings bounds the strings read from one script or JSON answer.
	maxStrings = 10000
	// maxJSONDepth bounds the nesting of a JSON answer that is walked.
	maxJSONDepth = 64
)

// reScriptString is a string literal in a script that looks like a URL:
// a path starting with "/" and a letter, digit or one of "_~.-", or an
// absolute http(s) URL, between matching quotes, without blanks,
// backslashes or template placeholders.
var reScriptString = regexp.MustCompile(
	`"((?:/[A-Za-z0-9_~.\-]|https?://)[^"\s\\{}<>` + "`" + `]*)"` +
		`|'((?:/[A-Za-z0-9_~.\-]|https?://)[^'\s\\{}<>` + "`" + `]*)'` +
		"|`((?:/[A-Za-z0-9_~.\\-]|https?://)[^`\\s\\\\{}<>$'\"]*)`")

// scriptURLs returns the URL-looking string literals of a script, in
// order, each once.
func scriptURLs(script string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range reScriptString.FindAllStringSubmatch(script, maxStrings) {
		s := m[1] + m[2] + m[3]
		if len(s) > maxURLLen || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// urlLike reports whether a JSON string reads as a URL: as scriptURLs
// would take it.
func urlLike(s string) bool {
	if len(s) < 2 || len(s) > maxURLLen || strings.ContainsAny(s, " \t\r\n\\{}<>`") {
		return false
	}
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return true
	}
	c := s[1]
	return s[0] == '/' && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_~.-", c) >= 0)
}

// isJSON reports whether an answer is JSON by its Content-Type.
func isJSON(h http.Header) bool {
	ct := strings.ToLower(h.Get("Content-Type"))
	return strings.Contains(ct, "json")
}

// isScript reports whether an answer is JavaScript by its Content-Type.
func isScript(h http.Header) bool {
	ct := strings.ToLower(h.Get("Content-Type"))
	return strings.Contains(ct, "javascript") || strings.Contains(ct, "ecmascript")
}

// decodeJSON decodes a JSON body, numbers kept as json.Number. It
// reports false for a body that is not one JSON value.
func decodeJSON(body []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false
	}
	return v, true
}

// jsonDoc is what discovery reads in one JSON answer.
type jsonDoc struct {
	urls []string            // URL-looking strings, in document order, each once
	keys map[string][]string // normalised key -> scalar values, in order, each once
}

// readJSON walks a decoded JSON value: object keys in sorted order
// (encoding/json maps), lists in order.
func readJSON(v any) jsonDoc {
	d := jsonDoc{keys: map[string][]string{}}
	seen := map[string]bool{}
	seenKV := map[string]bool{}
	n := 0
	var walk func(v any, key string, depth int)
	walk = func(v any, key string, depth int) {
		if depth > maxJSONDepth || n >= maxStrings {
			return
		}
		switch x := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				walk(x[k], k, depth+1)
			}
		case []any:
			for _, e := range x {
				walk(e, key, depth+1)
			}
		case string:
			n++
			if urlLike(x) && !seen[x] {
				seen[x] = true
				d.urls = append(d.urls, x)
			}
			d.addKey(key, x, seenKV)
		case json.Number:
			n++
			d.addKey(key, x.String(), seenKV)
		}
	}
	walk(v, "", 0)
	return d
}

func (d *jsonDoc) addKey(key, v string, seen map[string]bool) {
	if key == "" || v == "" || len(v) > 256 {
		return
	}
	k := paramKey(key)
	if seen[k+"\x00"+v] {
		return
	}
	seen[k+"\x00"+v] = true
	d.keys[k] = append(d.keys[k], v)
}

// paramKey normalises a parameter or key name so that order_id, orderId
// and order-id compare equal.
func paramKey(s string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jsonValues returns the scalar values (strings and numbers) at path in
// v, in document order.
func jsonValues(v any, path []roles.JSONStep) []string {
	cur := []any{v}
	for _, st := range path {
		var next []any
		for _, c := range cur {
			switch {
			case st.Key != "":
				if m, ok := c.(map[string]any); ok {
					if x, ok := m[st.Key]; ok {
						next = append(next, x)
					}
				}
			case st.All:
				if l, ok := c.([]any); ok {
					next = append(next, l...)
				}
			default:
				if l, ok := c.([]any); ok && st.Index < len(l) {
					next = append(next, l[st.Index])
				}
			}
		}
		if len(next) > maxStrings {
			next = next[:maxStrings]
		}
		cur = next
	}
	var out []string
	for _, c := range cur {
		switch x := c.(type) {
		case string:
			if x != "" {
				out = append(out, x)
			}
		case json.Number:
			out = append(out, x.String())
		}
	}
	return out
}

// expandURL fills the placeholders of an expansion's URL template: the
// value's name (and "{value}") with value, the other names with the
// segments the match captured. Each is escaped as a path segment.
func expandURL(e roles.JSONExpansion, captures map[string]string, value string) (string, bool) {
	ok := true
	out := rePlaceholder.ReplaceAllStringFunc(e.URL, func(m string) string {
		name := m[1 : len(m)-1]
		if name == e.Name || name == "value" {
			return url.PathEscape(value)
		}
		v, found := captures[name]
		if !found {
			ok = false
			return m
		}
		return url.PathEscape(v)
	})
	return out, ok
}
