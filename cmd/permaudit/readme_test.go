package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/internal/demoapp"
	"github.com/permaudit/permaudit/roles"
)

// TestReadmeExamples keeps the README's configurations from rotting: each
// YAML block it shows must be, byte for byte, a file that this test loads.
func TestReadmeExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"VIEWER_SESSION": "v-session", "ADMIN_TOKEN": "a-token", "ALICE_TOKEN": "alice-token",
		"EDITOR_PASSWORD": "e-pass", "API_PASSWORD": "a-pass", "REPORTING_SECRET": "r-secret"}
	for k, v := range demoapp.Env() {
		env[k] = v
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	examples := map[string][]byte{"demo": demoapp.Config()}
	files, _ := filepath.Glob("../../testdata/readme-*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata/readme-*.yaml")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		examples[f] = b
	}
	for name, b := range examples {
		if !strings.Contains(string(readme), "```yaml\n"+string(b)+"```\n") {
			t.Errorf("README.md does not show %s verbatim in a yaml block", name)
		}
		if _, err := roles.Parse(name, b, roles.LoadOptions{Env: lookup}); err != nil {
			t.Errorf("%s does not load: %v", name, err)
		}
	}
}
