package roles

import (
	"strings"
	"testing"
)

// TestOriginsCompareAsTheScopeDoes: a login URL is on the target's origin
// exactly when the scope would send it there (model.SameOrigin, the one
// comparison); "08080" and "8080" are one port.
func TestOriginsCompareAsTheScopeDoes(t *testing.T) {
	for _, tc := range []struct {
		login string
		ok    bool
	}{
		{"http://127.0.0.1:08080/login", true},
		{"HTTP://127.0.0.1:8080/login", true},
		{"http://127.0.0.1:8081/login", false},
		{"https://127.0.0.1:8080/login", false},
	} {
		cfg := "target: http://127.0.0.1:8080\nlogin_url: " + tc.login + "\n"
		_, err := Parse("test.yaml", []byte(cfg), LoadOptions{})
		if (err == nil) != tc.ok {
			t.Errorf("login_url %s: err = %v, want ok %v", tc.login, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "login_url") {
			t.Errorf("login_url %s: the error does not name the field: %v", tc.login, err)
		}
	}
}
