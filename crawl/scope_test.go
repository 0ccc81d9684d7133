package crawl

import (
	"testing"

	"github.com/permaudit/permaudit/roles"
)

func TestNewScope(t *testing.T) {
	tests := []struct {
		target, origin string
	}{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"HTTP://Example.COM:80/app/", "http://example.com"},
		{"https://example.com:443", "https://example.com"},
		{"https://example.com:8443/", "https://example.com:8443"},
	}
	for _, tt := range tests {
		cfg := parseConfig(t, tt.target, "")
		s, err := NewScope(cfg)
		if err != nil {
			t.Fatalf("NewScope(%q): %v", tt.target, err)
		}
		if got := s.Origin(); got != tt.origin {
			t.Errorf("NewScope(%q).Origin() = %q, want %q", tt.target, got, tt.origin)
		}
	}
}

func TestScopeInOrigin(t *testing.T) {
	s, err := NewScope(parseConfig(t, "http://127.0.0.1:8080", ""))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:8080/", true},
		{"HTTP://127.0.0.1:8080/x?y=1", true},
		{"http://127.0.0.1:08080/", true},
		{"http://127.0.0.1:8081/", false},
		{"http://127.0.0.1/", false},
		{"https://127.0.0.1:8080/", false},
		{"http://localhost:8080/", false},
		{"http://127.0.0.2:8080/", false},
		{"ftp://127.0.0.1:8080/", false},
		{"http://evil.example/?http://127.0.0.1:8080/", false},
		{"/relative", false},
	}
	for _, tt := range tests {
		if got := s.InOrigin(mustURL(t, tt.url)); got != tt.want {
			t.Errorf("InOrigin(%q) = %v, want %v", tt.url, got, tt.want)
		}
	}
	if s.InOrigin(nil) {
		t.Errorf("InOrigin(nil) = true, want false")
	}
	d, err := NewScope(parseConfig(t, "https://example.com", ""))
	if err != nil {
		t.Fatal(err)
	}
	for u, want := range map[string]bool{"https://example.com:443/": true, "https://EXAMPLE.com/": true, "http://example.com/": false} {
		if got := d.InOrigin(mustURL(t, u)); got != want {
			t.Errorf("InOrigin(%q) = %v, want %v", u, got, want)
		}
	}
}

func TestScopeSkip(t *testing.T) {
	const target = "http://127.0.0.1:8080"
	defaults := parseConfig(t, target, `scope: {exclude: ["/static/**", "POST /api/**", "GET /admin.php?page=audit-*"]}`)
	custom := parseConfig(t, target, `scope: {exclude_words: [Archive]}`)
	none := parseConfig(t, target, `scope: {exclude_words: []}`)
	tests := []struct {
		name   string
		scope  string // "defaults", "custom", "none"
		method string
		url    string
		want   string // "" = not skipped
	}{
		{"plain page", "defaults", "GET", target + "/account", ""},
		{"head", "defaults", "HEAD", target + "/account", ""},
		{"other port", "defaults", "GET", "http://127.0.0.1:8081/account", "out of scope"},
		{"other host", "defaults", "GET", "http://localhost:8080/account", "out of scope"},
		{"out of scope before method", "defaults", "POST", "http://evil.example/", "out of scope"},
		{"logout path", "defaults", "GET", target + "/account/logout", `excluded word "logout"`},
		{"case-insensitive", "defaults", "GET", target + "/Account/LogOut", `excluded word "logout"`},
		{"query value", "defaults", "GET", target + "/index.php?action=logout", `excluded word "logout"`},
		{"escaped", "defaults", "GET", target + "/log%6Fut", `excluded word "logout"`},
		{"escaped query", "defaults", "GET", target + "/x?do=sign%2Dout", `excluded word "sign-out"`},
		{"delete", "defaults", "GET", target + "/users/7/delete", `excluded word "delete"`},
		{"word before pattern", "defaults", "GET", target + "/static/logout.js", `excluded word "logout"`},
		{"pattern", "defaults", "GET", target + "/static/css/site.css", `excluded by pattern "/static/**"`},
		{"pattern method", "defaults", "POST", target + "/api/orders", `excluded by pattern "POST /api/**"`},
		{"pattern other method", "defaults", "GET", target + "/api/orders", ""},
		{"pattern query", "defaults", "GET", target + "/admin.php?page=audit-log&x=1", `excluded by pattern "GET /admin.php?page=audit-*"`},
		{"pattern query no match", "defaults", "GET", target + "/admin.php?page=users", ""},
		{"post", "defaults", "POST", target + "/account/settings", "method not probed"},
		{"put", "defaults", "put", target + "/account/settings", "method not probed"},
		{"custom words replace defaults", "custom", "GET", target + "/logout", ""},
		{"custom word", "custom", "GET", target + "/ARCHIVE/2020", `excluded word "archive"`},
		{"no words", "none", "GET", target + "/logout", ""},
	}
	scopes := map[string]*Scope{}
	for name, cfg := range map[string]*roles.Config{"defaults": defaults, "custom": custom, "none": none} {
		s, err := NewScope(cfg)
		if err != nil {
			t.Fatalf("NewScope(%s): %v", name, err)
		}
		scopes[name] = s
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, skip := scopes[tt.scope].Skip(tt.method, mustURL(t, tt.url))
			if skip != (tt.want != "") || reason != tt.want {
				t.Errorf("Skip(%s %s) = %q, %v; want %q", tt.method, tt.url, reason, skip, tt.want)
			}
		})
	}
}

func TestNewScopeRejects(t *testing.T) {
	for _, target := range []string{"", "ftp://127.0.0.1/", "/relative", "http://", "http://h:99999/"} {
		if s, err := NewScope(&roles.Config{Target: target}); err == nil {
			t.Errorf("NewScope(%q) = %v, want an error", target, s.Origin())
		}
	}
	if _, err := NewScope(nil); err == nil {
		t.Errorf("NewScope(nil): no error")
	}
}
