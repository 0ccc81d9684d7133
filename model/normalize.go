package model

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Normalize resolves ref against base (nil: ref must be absolute) and
// returns it in the one form used for endpoints, so that two spellings of
// the same resource compare equal:
//
//   - ASCII tabs and newlines are removed and surrounding spaces trimmed,
//     as browsers do with attribute values;
//   - the scheme must be http or https (javascript:, mailto:, data: and
//     the like are errors); scheme and host are lower-cased, the default
//     port is dropped and user information is removed;
//   - the fragment is dropped;
//   - dot segments are removed ("/a/./b/../c" is "/a/c"), a trailing slash
//     is kept and an empty path becomes "/"; empty segments ("//") are kept;
//   - percent-escapes are upper-cased, escaped unreserved characters
//     decoded ("%7E" is "~") and characters that need escaping escaped;
//   - query parameters are sorted by key, keeping the order of the values
//     of a repeated key; empty parameters and a lone "?" are dropped.
//
// Normalize(nil, Normalize(base, ref).String()) returns the same URL.
func Normalize(base *url.URL, ref string) (*url.URL, error) {
	ref = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, ref)
	ref = strings.Trim(ref, " \f\x00")
	r, err := url.Parse(escapeStrayPercent(ref))
	if err != nil {
		return nil, fmt.Errorf("normalize %q: %w", ref, err)
	}
	u := r
	if base != nil {
		u = base.ResolveReference(r)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch u.Scheme {
	case "http", "https":
	case "":
		return nil, fmt.Errorf("normalize %q: not an absolute URL", ref)
	default:
		return nil, fmt.Errorf("normalize %q: unsupported scheme %q", ref, u.Scheme)
	}
	if u.Opaque != "" {
		return nil, fmt.Errorf("normalize %q: no host", ref)
	}
	host, err := normHost(u.Scheme, u)
	if err != nil {
		return nil, fmt.Errorf("normalize %q: %w", ref, err)
	}
	u.Host = host
	u.User = nil
	u.Fragment, u.RawFragment = "", ""

	p := removeDotSegments(escapeNorm(u.EscapedPath(), pathAllowed))
	dec, err := url.PathUnescape(p)
	if err != nil { // escapeNorm leaves only valid escapes
		return nil, fmt.Errorf("normalize %q: path: %w", ref, err)
	}
	u.Path, u.RawPath = dec, p
	if u.EscapedPath() != p {
		return nil, fmt.Errorf("normalize %q: path %q does not round-trip", ref, p)
	}
	u.RawQuery = normQuery(u.RawQuery)
	u.ForceQuery = false
	return u, nil
}

// escapeStrayPercent escapes every '%' that starts no valid escape, which
// browsers let through and url.Parse refuses.
func escapeStrayPercent(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && !(i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2])) {
			b.WriteString("%25")
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// normHost returns the host of u lower-cased, with a canonical port and
// without the scheme's default port.
func normHost(scheme string, u *url.URL) (string, error) {
	h := strings.ToLower(u.Hostname())
	if h == "" {
		return "", errors.New("no host")
	}
	if strings.ContainsAny(h, "/?#@ \\") {
		return "", fmt.Errorf("invalid host %q", h)
	}
	port := u.Port()
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 0 || n > 65535 {
			return "", fmt.Errorf("invalid port %q", port)
		}
		port = strconv.Itoa(n)
		if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
			port = ""
		}
	}
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if port != "" {
		h += ":" + port
	}
	// What url.Parse will not read back is no host.
	if chk, err := url.Parse(scheme + "://" + h + "/"); err != nil || chk.Host != h {
		return "", fmt.Errorf("invalid host %q", u.Host)
	}
	return h, nil
}

const (
	pathAllowed  = "!$&'()*+,;=:@/"
	queryAllowed = "!$'()*+,;=:@/?"
)

// escapeNorm upper-cases percent-escapes, decodes escaped unreserved
// characters, escapes a '%' that starts no valid escape and escapes every
// byte that is neither unreserved nor in allowed.
func escapeNorm(s, allowed string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			v := unhex(s[i+1])<<4 | unhex(s[i+2])
			if isUnreserved(v) {
				b.WriteByte(v)
			} else {
				b.WriteByte('%')
				b.WriteByte(hex[v>>4])
				b.WriteByte(hex[v&15])
			}
			i += 2
		case isUnreserved(c) || (c < 0x80 && strings.IndexByte(allowed, c) >= 0):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// removeDotSegments removes "." and ".." segments from an escaped absolute
// path (RFC 3986, section 5.2.4), keeping a trailing slash and empty
// segments. The result starts with "/".
func removeDotSegments(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
			continue
		}
		if last {
			out = append(out, "")
		}
	}
	return "/" + strings.Join(out, "/")
}

// normQuery normalises the escapes of every parameter of a raw query,
// drops empty parameters and sorts them by key, stably.
func normQuery(raw string) string {
	if raw == "" {
		return ""
	}
	var params []string
	for _, p := range strings.Split(raw, "&") {
		if p != "" {
			params = append(params, escapeNorm(p, queryAllowed))
		}
	}
	key := func(p string) string {
		k, _, _ := strings.Cut(p, "=")
		return k
	}
	sort.SliceStable(params, func(i, j int) bool { return key(params[i]) < key(params[j]) })
	return strings.Join(params, "&")
}
