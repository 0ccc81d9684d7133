package session

import (
	"net/url"
	"testing"
)

// TestHiddenSecret: a hidden value of a login form is taken for a secret
// when named like an anti-forgery field, or long, random-looking and not
// a URL of the target; a page's name (MediaWiki's title) or a return URL
// is not: registering one would skip every URL holding it.
func TestHiddenSecret(t *testing.T) {
	f := &flow{base: &url.URL{Scheme: "http", Host: "127.0.0.1:8080"}}
	tests := []struct {
		name, value string
		want        bool
	}{
		{"wpLoginToken", "4f9c0d6f1e2a3b4c5d6e7f8091a2b3c4+\\", true},
		{"csrf", "shortish", true},
		{"sid", "0123456789abcdef0123", true},
		{"state", "AbCdEfGhIjKlMnOp", true},
		{"nonce_b64", "qWeRtYuIoPaSdFgH", true},
		{"blob", "qWeRtYuIoPaSdFgHjKlZxCvBnMqWeRt", false},
		{"blob", "qWeRtYuIoPaSdFgHjKlZxCvBnMqWeRtY", true},
		{"title", "Special:UserLogin", false},
		{"page", "dashboard_overview_page", false},
		{"returnto", "Special:Preferences", false},
		{"redirect_to", "http://127.0.0.1:8080/admin/", false},
		{"back", "/admin/settings?tab=1", false},
		{"wpEditTime", "20261205071135000", false},
		{"note", "two words 123456 apart", false},
		{"lang", "en", false},
	}
	for _, tt := range tests {
		if got := f.hiddenSecret(control{name: tt.name, value: tt.value, hidden: true}); got != tt.want {
			t.Errorf("hiddenSecret(%s=%q) = %v, want %v", tt.name, tt.value, got, tt.want)
		}
	}
	if f.hiddenSecret(control{name: "csrf", value: "0123456789abcdef0123"}) {
		t.Error("a visible control is taken for a secret")
	}
}
