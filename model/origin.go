package model

import (
	"errors"
	"net/url"
	"strings"
)

// Origin returns the origin of u, "scheme://host[:port]" (RFC 6454): the
// scheme and host lower-cased, the port without leading zeros and the
// scheme's default port dropped, so that "HTTP://Example.org:080" and
// "http://example.org" have one origin. It is the one comparison of
// origins in permaudit (docs/design.md, "Origins"): the scope, the
// configuration's in-scope checks and the credential guard all use it.
// Only http and https have origins here.
func Origin(u *url.URL) (string, error) {
	if u == nil || u.Opaque != "" {
		return "", errors.New("no origin")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", errors.New("scheme must be http or https")
	}
	host, err := normHost(scheme, u)
	if err != nil {
		return "", err
	}
	return scheme + "://" + host, nil
}

// SameOrigin reports whether a and b have one origin (Origin); it is
// false when either has none.
func SameOrigin(a, b *url.URL) bool {
	oa, err := Origin(a)
	if err != nil {
		return false
	}
	ob, err := Origin(b)
	return err == nil && oa == ob
}
