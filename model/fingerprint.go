package model

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Fingerprint is the stable identity of a finding (docs/design.md,
// "Findings"): it hashes verdict, method, the template's path (id-like
// segments folded to "{id}") and its sorted query keys, and role. The
// template may be "GET /orders/{id}?page={id}" (as Template gives),
// a bare path, or an absolute URL: a leading method token, the scheme,
// host, port and every query value are dropped, so the fingerprint is the
// same across hosts, ports and ids.
func Fingerprint(v Verdict, method, template, role string) string {
	return hashParts(string(v), method, TemplateKey(method, template), role)
}

// TemplateKey reduces a template to "path?key1&key2".
func TemplateKey(method, t string) string {
	if m, rest, ok := strings.Cut(t, " "); ok && (m == method || IsMethodToken(m)) {
		t = rest
	}
	path, rawQuery := t, ""
	if u, err := url.Parse(t); err == nil {
		path, rawQuery = u.Path, u.RawQuery
	} else if p, q, ok := strings.Cut(t, "?"); ok {
		path, rawQuery = p, q
	}
	if path == "" {
		path = "/"
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if IsID(s) {
			segs[i] = "{id}"
		}
	}
	path = strings.Join(segs, "/")

	seen := map[string]bool{}
	var keys []string
	for _, pair := range strings.FieldsFunc(rawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
		k, _, _ := strings.Cut(pair, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return path
	}
	sort.Strings(keys)
	return path + "?" + strings.Join(keys, "&")
}

// IsMethodToken reports whether s is an upper-case method name ("GET").
func IsMethodToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// hashParts returns the hex of the first 16 bytes of the SHA-256 of parts,
// each length-prefixed so that no two lists collide.
func hashParts(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// DeadRuleFingerprint is the identity of the note that a matrix rule
// matched nothing: the rule's patterns, in order.
func DeadRuleFingerprint(patterns []string) string {
	return hashParts(string(DeadRule), strings.Join(patterns, "\n"))
}
