package model

import (
	"net/url"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	base := "http://127.0.0.1:8080/dir/page?x=1"
	tests := []struct {
		name, base, ref, want string
	}{
		{"relative", base, "other", "http://127.0.0.1:8080/dir/other"},
		{"parent", base, "../up?q=1#frag", "http://127.0.0.1:8080/up?q=1"},
		{"fragment only", base, "#top", "http://127.0.0.1:8080/dir/page?x=1"},
		{"empty is the page", base, "", "http://127.0.0.1:8080/dir/page?x=1"},
		{"dot segments, trailing slash kept", base, "/a/./b/../c/", "http://127.0.0.1:8080/a/c/"},
		{"trailing dot-dot keeps slash", base, "/a/b/..", "http://127.0.0.1:8080/a/"},
		{"above root", base, "/../../x", "http://127.0.0.1:8080/x"},
		{"empty segments kept", base, "/a//b", "http://127.0.0.1:8080/a//b"},
		{"escaped dots are dots", base, "/a/%2e%2E/b", "http://127.0.0.1:8080/b"},
		{"upper-case scheme and host", "", "HTTP://Example.COM/Path", "http://example.com/Path"},
		{"default http port", "", "http://example.com:80/", "http://example.com/"},
		{"default https port", "", "https://example.com:443/x", "https://example.com/x"},
		{"non-default port kept", "", "https://example.com:80/x", "https://example.com:80/x"},
		{"leading zeros in port", "", "http://example.com:0080/", "http://example.com/"},
		{"empty port", "", "http://example.com:/a", "http://example.com/a"},
		{"empty path", "", "http://example.com", "http://example.com/"},
		{"user info dropped", "", "http://user:pw@example.com/a", "http://example.com/a"},
		{"query sorted", "", "http://h/p?b=2&a=1&a=0", "http://h/p?a=1&a=0&b=2"},
		{"lone question mark dropped", "", "http://h/p?", "http://h/p"},
		{"empty params dropped", "", "http://h/p?&a=1&&", "http://h/p?a=1"},
		{"escapes upper-cased, unreserved decoded", "", "http://h/%7euser/%2fx?q=%2f%41", "http://h/~user/%2Fx?q=%2FA"},
		{"space escaped", "", "http://h/a b?q=c d", "http://h/a%20b?q=c%20d"},
		{"stray percent escaped", "", "http://h/100%", "http://h/100%25"},
		{"invalid escape escaped", base, "%zz?a=%", "http://127.0.0.1:8080/dir/%25zz?a=%25"},
		{"whitespace and newlines", base, "  /a\n/b\t ", "http://127.0.0.1:8080/a/b"},
		{"scheme-relative", base, "//other.example:8080/x", "http://other.example:8080/x"},
		{"ipv6", "", "http://[::1]:80/", "http://[::1]/"},
		{"non-ascii path escaped", "", "http://h/é", "http://h/%C3%A9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b *url.URL
			if tt.base != "" {
				b = mustURL(t, tt.base)
			}
			got, err := Normalize(b, tt.ref)
			if err != nil {
				t.Fatalf("Normalize(%q, %q): %v", tt.base, tt.ref, err)
			}
			if got.String() != tt.want {
				t.Errorf("Normalize(%q, %q) = %q, want %q", tt.base, tt.ref, got, tt.want)
			}
			again, err := Normalize(nil, got.String())
			if err != nil || again.String() != got.String() {
				t.Errorf("Normalize(nil, %q) = %v, %v; want it unchanged", got, again, err)
			}
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	base := mustURL(t, "http://127.0.0.1:8080/dir/page")
	for _, ref := range []string{
		"javascript:void(0)", "JavaScript:alert(1)", "mailto:a@b.c", "data:text/html,<a>", "tel:123",
		"ftp://h/x", "http:opaque", "http://", "http://h:99999/", "http://h:x/", "file:///etc/passwd",
	} {
		if u, err := Normalize(base, ref); err == nil {
			t.Errorf("Normalize(%q) = %q, want an error", ref, u)
		}
	}
	if u, err := Normalize(nil, "/relative"); err == nil {
		t.Errorf("Normalize(nil, %q) = %q, want an error: no base", "/relative", u)
	}
}

// FuzzNormalize checks that normalising is idempotent, drops fragments,
// keeps http(s), and never moves a URL into the origin.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"/a/./b/../c/", "../up?q=1#frag", "#x", "", "//evil.example/x", "http://127.0.0.1:8080/x",
		"HTTP://127.0.0.1:8080/%7e?b=2&a=1", "javascript:x", "http://127.0.0.1:08080/", "http://[::1]:80/",
		"http://127.0.0.1:8080@evil/", "/%2e%2e/%2E/", "?a=%zz", "http://h/a b",
	} {
		f.Add(s)
	}
	base := mustURL(f, "http://127.0.0.1:8080/dir/page?x=1")
	origin := mustURL(f, "http://127.0.0.1:8080")
	f.Fuzz(func(t *testing.T, ref string) {
		u, err := Normalize(base, ref)
		if err != nil {
			return
		}
		s := u.String()
		if u.Fragment != "" || strings.Contains(s, "#") {
			t.Errorf("Normalize(%q) = %q: has a fragment", ref, s)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Errorf("Normalize(%q) = %q: scheme %q", ref, s, u.Scheme)
		}
		again, err := Normalize(nil, s)
		if err != nil {
			t.Fatalf("Normalize(nil, %q) (from %q): %v", s, ref, err)
		}
		if again.String() != s {
			t.Errorf("not idempotent: %q -> %q -> %q", ref, s, again)
		}
		// Where net/http itself would connect: the resolved reference,
		// unnormalised. Normalising must not bring it into the origin.
		raw, err := url.Parse(ref)
		if err != nil {
			return
		}
		r := base.ResolveReference(raw)
		rawIn := strings.EqualFold(r.Scheme, "http") && strings.EqualFold(r.Hostname(), "127.0.0.1") &&
			(r.Port() == "8080" || strings.TrimLeft(r.Port(), "0") == "8080")
		if SameOrigin(u, origin) && !rawIn {
			t.Errorf("Normalize(%q) = %q is in the origin, the reference (%q) is not", ref, s, r)
		}
		// The template of a normalised URL is stable.
		if Template("GET", s) != Template("GET", again.String()) {
			t.Errorf("template of %q changes when normalised again", s)
		}
	})
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return u
}
