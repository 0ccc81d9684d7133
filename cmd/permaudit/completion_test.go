package main

import (
	"slices"
	"strings"
	"testing"
)

// TestCompletionOfFlagValues: the shell completed no flag value. Through
// cobra's __complete command (what the completion scripts call), --out
// offers the formats, --fail-on the verdicts not yet listed, --role the
// roles of the configuration -c names (its secrets unset), --bugs the
// planted bugs.
func TestCompletionOfFlagValues(t *testing.T) {
	cfg := writeFile(t, "c.yaml", `target: http://127.0.0.1:8080
roles:
  subscriber: {login: {bearer: "${SUB_TOKEN}"}}
  subscriber-rest: {login: {bearer: "${REST_TOKEN}"}}
matrix: {default: deny}
`)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"out formats", []string{"audit", "--out", ""}, []string{"csv=", "html=", "json=", "junit=", "markdown=", "sarif=", "text="}},
		{"report out formats", []string{"report", "run.json", "--out", "sa"}, []string{"csv=", "html=", "json=", "junit=", "markdown=", "sarif=", "text="}},
		{"fail-on after one", []string{"audit", "--fail-on", "leak,"}, []string{"leak,none", "leak,blocked", "leak,existence-leak", "leak,wrong-code", "leak,error", "leak,inconclusive", "leak,unmapped", "leak,dead-rule", "leak,missing-www-authenticate", "leak,existence-observable"}},
		{"roles from -c", []string{"audit", "-c", cfg, "--role", ""}, []string{"anonymous", "subscriber", "subscriber-rest"}},
		{"roles after one", []string{"audit", "-c", cfg, "--role", "subscriber,"}, []string{"subscriber,anonymous", "subscriber,subscriber-rest"}},
		{"bugs", []string{"demo", "--bugs", ""}, []string{"all", "none", "leak", "blocked", "wrong-code", "existence-leak"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, append([]string{"__complete"}, tt.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
				if !strings.HasPrefix(line, ":") { // the last line is cobra's directive
					got = append(got, strings.SplitN(line, "\t", 2)[0])
				}
			}
			// The shell filters by prefix; cobra returns what the function gives.
			if !slices.Equal(got, tt.want) {
				t.Errorf("__complete %q:\n got %q\nwant %q", tt.args, got, tt.want)
			}
		})
	}
}
