package session

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/roles"
)

// TestSessionSecretsRedacted checks that every credential a session sends
// is known to the configuration's redactor.
func TestSessionSecretsRedacted(t *testing.T) {
	// The secrets of roles/testdata/valid.yaml.
	testEnv := map[string]string{
		"CAROL_PASSWORD":  "carol-pw-Secret1",
		"CUSTOMER_KEY":    "cust-key-Secret2",
		"CUSTOMER_COOKIE": "cookie-Secret3",
		"ADMIN_TOKEN":     "admin-token-Secret4",
	}
	c, err := roles.Load(filepath.Join("..", "roles", "testdata", "valid.yaml"), roles.LoadOptions{Env: func(name string) (string, bool) {
		v, ok := testEnv[name]
		return v, ok
	}})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, r := range c.Roles {
		req, _ := http.NewRequest("GET", "http://127.0.0.1:8080/", nil)
		NewSession(r).Attach(req)
		for k, vs := range req.Header {
			for _, v := range vs {
				red := c.Secrets.Redact(v)
				for _, s := range testEnv {
					if strings.Contains(red, s) {
						t.Errorf("role %s header %s: %q redacts to %q, which holds a secret", r.Name, k, v, red)
					}
				}
				if k == "Authorization" && !strings.HasPrefix(red, "[REDACTED:") {
					t.Errorf("role %s: Authorization %q redacts to %q, want it whole", r.Name, v, red)
				}
			}
		}
	}
}
