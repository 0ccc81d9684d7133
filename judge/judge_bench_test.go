package judge

import (
	"fmt"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

var benchRoles = []string{"anonymous", "viewer", "customer", "staff", "admin"}

// benchRun returns a configuration whose matrix has a rule per endpoint,
// the way learn writes one (plus wildcard rules), and cells/5
// endpoints' observations as each of the 5 roles.
func benchRun(b *testing.B, cells int) (*roles.Config, []model.Observation) {
	b.Helper()
	n := cells / len(benchRoles)
	var y strings.Builder
	y.WriteString("target: http://127.0.0.1:8080\nroles:\n")
	for _, r := range benchRoles[1:] {
		fmt.Fprintf(&y, "  %s:\n    login: {bearer: %s-token}\n    vars: {uid: \"u-%s\"}\n", r, r, r)
	}
	y.WriteString("matrix:\n  default: deny\n  rules:\n")
	y.WriteString("    - match: \"GET /admin/**\"\n      allow: [admin]\n")
	y.WriteString("    - match: \"GET /users/{self.uid}/profile\"\n      allow: [\"*\"]\n")
	var obs []model.Observation
	for i := range n {
		path := fmt.Sprintf("/s%d/items/%d", i%40, i)
		fmt.Fprintf(&y, "    - match: [\"GET %s\", \"HEAD %s\"]\n      allow: [%s]\n", path, path, benchRoles[1+i%4])
		for k, r := range benchRoles {
			o := model.Observation{Endpoint: model.Endpoint{Method: "GET", URL: "http://127.0.0.1:8080" + path}, Role: r,
				Status: 403, Class: model.Forbidden, Why: "status 403"}
			if k == 1+i%4 {
				o.Status, o.Class, o.Why = 200, model.Allowed, "status 200"
			}
			obs = append(obs, o)
		}
	}
	y.WriteString("    - match: \"GET /static/*.css\"\n      allow: [\"*\"]\n")
	y.WriteString("    - match: \"/api/**\"\n      allow: [customer]\n")
	cfg, err := roles.Parse("bench.yaml", []byte(y.String()), roles.LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return cfg, obs
}

// BenchmarkJudge judges a run of cells observations (cells/5 endpoints
// as 5 roles) against a per-endpoint matrix; ns/op is the whole run.
func BenchmarkJudge(b *testing.B) {
	for _, cells := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("cells=%d", cells), func(b *testing.B) {
			cfg, obs := benchRun(b, cells)
			b.ResetTimer()
			for b.Loop() {
				run := &model.Run{Gate: model.Gate{FailOn: model.DefaultFailOn}}
				Judge(run, cfg, obs)
			}
		})
	}
}
