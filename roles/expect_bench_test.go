package roles

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// benchRoles are the roles of benchMatrix, anonymous included.
var benchRoles = []string{"anonymous", "viewer", "customer", "staff", "admin"}

// benchMatrix returns a configuration whose matrix is written the way
// learn writes one, an endpoint per rule (n rules, half of them with a
// HEAD pattern too: 1.5n patterns), between wildcard rules; and the n
// endpoint URLs it covers, plus a few the wildcard rules and the default
// decide.
func benchMatrix(n int) (yamlText string, urls []string) {
	var b strings.Builder
	b.WriteString("target: http://127.0.0.1:8080\nroles:\n")
	for _, r := range benchRoles[1:] {
		fmt.Fprintf(&b, "  %s:\n    login: {bearer: %s-token}\n    vars: {uid: \"u-%s\"}\n", r, r, r)
	}
	b.WriteString("matrix:\n  default: deny\n  rules:\n")
	b.WriteString("    - match: \"GET /admin/**\"\n      allow: [admin]\n")
	b.WriteString("    - match: \"GET /users/{self.uid}/profile\"\n      allow: [\"*\"]\n")
	for i := range n {
		path := fmt.Sprintf("/s%d/items/%d", i%40, i)
		if i%2 == 0 {
			fmt.Fprintf(&b, "    - match: [\"GET %s\", \"HEAD %s\"]\n", path, path)
		} else {
			fmt.Fprintf(&b, "    - match: \"GET %s\"\n", path)
		}
		fmt.Fprintf(&b, "      allow: [%s]\n", benchRoles[1+i%4])
		if i%3 == 0 {
			b.WriteString("      deny_as: 404\n")
		}
		urls = append(urls, "http://127.0.0.1:8080"+path)
	}
	b.WriteString("    - match: \"GET /static/*.css\"\n      allow: [\"*\"]\n")
	b.WriteString("    - match: \"GET /s*/items/{id}/edit?tab=*\"\n      allow: [staff]\n")
	b.WriteString("    - match: \"/api/**\"\n      allow: [customer]\n")
	urls = append(urls,
		"http://127.0.0.1:8080/admin/users",
		"http://127.0.0.1:8080/users/u-viewer/profile",
		"http://127.0.0.1:8080/static/site.css",
		"http://127.0.0.1:8080/s3/items/7/edit?tab=main",
		"http://127.0.0.1:8080/api/v1/orders",
		"http://127.0.0.1:8080/nowhere")
	return b.String(), urls
}

func benchConfig(b *testing.B, n int) (*Config, []*url.URL) {
	b.Helper()
	text, raw := benchMatrix(n)
	cfg, err := Parse("bench.yaml", []byte(text), LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	us := make([]*url.URL, len(raw))
	for i, r := range raw {
		if us[i], err = url.Parse(r); err != nil {
			b.Fatal(err)
		}
	}
	return cfg, us
}

// BenchmarkExpect looks up one cell (an endpoint as a role) of a
// per-endpoint matrix of n rules; ns/op is one lookup.
func BenchmarkExpect(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			cfg, us := benchConfig(b, n)
			vars := cfg.VarsWith(nil)
			cfg.Expect("GET", us[0], "admin", vars) // compiles the matrix
			b.ResetTimer()
			i := 0
			for b.Loop() {
				cfg.Expect("GET", us[i%len(us)], benchRoles[i%len(benchRoles)], vars)
				i++
			}
		})
	}
}

// BenchmarkExpectScan is BenchmarkExpect with the plain first-match scan
// (expectScan), the lookup before the matrix was compiled.
func BenchmarkExpectScan(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			cfg, us := benchConfig(b, n)
			vars := cfg.VarsWith(nil)
			b.ResetTimer()
			i := 0
			for b.Loop() {
				expectScan(cfg, "GET", us[i%len(us)], benchRoles[i%len(benchRoles)], vars)
				i++
			}
		})
	}
}

// BenchmarkCompileMatrix compiles a per-endpoint matrix of n rules, which
// the first lookup of a run does.
func BenchmarkCompileMatrix(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			cfg, _ := benchConfig(b, n)
			b.ResetTimer()
			for b.Loop() {
				compileMatrix(cfg.Matrix.Rules)
			}
		})
	}
}
