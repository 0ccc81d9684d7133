package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/internal/demoapp"
)

// TestIncompleteArtifactsAreNotGreen: an audit ended by --max-duration
// (exit 4) published JUnit with tests="0" failures="0", a markdown
// headline "✓ permaudit: passed" and an HTML "Gate ✓ passed". Every
// artifact of an incomplete run now says incomplete first.
func TestIncompleteArtifactsAreNotGreen(t *testing.T) {
	site := newSlowSite(40, 100*time.Millisecond)
	defer site.Close()
	cfg := writeFile(t, "c.yaml", "target: "+site.URL+"\ncrawl: {concurrency: 2, timeout: 20s, max_depth: 0}\nmatrix:\n  rules:\n    - {match: \"GET /**\", allow: [\"*\"]}\n")
	dir := t.TempDir()
	out := func(f string) string { return filepath.Join(dir, "out."+f) }
	code, _, stderr := runCLI(t, nil, "audit", "-c", cfg, "--max-duration", "500ms",
		"--out", "junit="+out("junit"), "--out", "markdown="+out("markdown"), "--out", "html="+out("html"), "--out", "sarif="+out("sarif"), "--out", "text=-")
	if code != exitIncomplete {
		t.Fatalf("exit %d, want %d\nstderr:\n%s", code, exitIncomplete, stderr)
	}
	read := func(f string) string {
		b, err := os.ReadFile(out(f))
		if err != nil {
			t.Fatalf("no %s output: %v", f, err)
		}
		return string(b)
	}
	junit := read("junit")
	if head := strings.SplitN(junit, "\n", 3)[1]; strings.Contains(head, `failures="0"`) ||
		!strings.Contains(junit, `<failure type="incomplete" message="the run is incomplete: max duration 500ms reached">`) {
		t.Errorf("junit: want a failing case for the incomplete run:\n%s", junit)
	}
	if md := read("markdown"); !strings.HasPrefix(md, "## ⚠ permaudit: INCOMPLETE \\(max duration 500ms reached\\)") {
		t.Errorf("markdown: headline %q", strings.SplitN(md, "\n", 2)[0])
	}
	if html := read("html"); strings.Contains(html, "✓ passed") || !strings.Contains(html, `<span class="bad gate">⚠ INCOMPLETE (max duration 500ms reached)`) {
		t.Errorf("html: the gate does not say incomplete")
	}
	if sarif := read("sarif"); !strings.Contains(sarif, `"executionSuccessful": false`) || !strings.Contains(sarif, `"exitCode": 4`) {
		t.Errorf("sarif: the invocation does not say unsuccessful with exit code 4")
	}
	if !strings.Contains(stderr, "gate not passed: the run is incomplete") {
		t.Errorf("stderr summary: want \"gate not passed: the run is incomplete\":\n%s", stderr)
	}
}

// TestSARIFPointsIntoTheRepository audits the demo with its configuration
// in a repository: every SARIF location is the configuration file,
// relative to the repository's top level, at the line of the finding's
// rule; --sarif-root moves the root, and report renders a saved run the
// same way.
func TestSARIFPointsIntoTheRepository(t *testing.T) {
	srv, demoCfg := startDemo(t, demoapp.Bugs{Leak: true})
	repo := t.TempDir()
	if err := os.MkdirAll(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(repo, "security"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(demoCfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(repo, "security", "permaudit.yaml")
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	sarif, runFile := filepath.Join(out, "a.sarif"), filepath.Join(out, "run.json")
	code, _, stderr := runCLI(t, demoapp.Env(), "audit", "-c", cfg, "--target", srv.URL(), "--out", "sarif="+sarif, "--out", "json="+runFile)
	if code != exitGate {
		t.Fatalf("exit %d, want 1\n%s", code, stderr)
	}
	run := readRun(t, runFile)
	lines := map[string]int{}
	for _, r := range run.Rules {
		lines[r.Name] = max(r.Line, 1)
	}
	check := func(path, wantURI string) {
		t.Helper()
		var log struct {
			Runs []struct {
				Results []struct {
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI, URIBaseID string } `json:"artifactLocation"`
							Region           struct {
								StartLine int `json:"startLine"`
							} `json:"region"`
						} `json:"physicalLocation"`
					} `json:"locations"`
					Properties struct {
						Rule string `json:"rule"`
						URL  string `json:"url"`
					} `json:"properties"`
				} `json:"results"`
			} `json:"runs"`
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &log); err != nil {
			t.Fatal(err)
		}
		results := log.Runs[0].Results
		if len(results) == 0 {
			t.Fatalf("%s: no result", path)
		}
		for _, res := range results {
			pl := res.Locations[0].PhysicalLocation
			if pl.ArtifactLocation.URI != wantURI || pl.ArtifactLocation.URIBaseID != "%SRCROOT%" {
				t.Errorf("%s: location %+v, want %s against %%SRCROOT%%", path, pl.ArtifactLocation, wantURI)
			}
			if want, ok := lines[res.Properties.Rule]; ok && pl.Region.StartLine != want {
				t.Errorf("%s: %s at line %d, want %d", path, res.Properties.Rule, pl.Region.StartLine, want)
			}
			if strings.Contains(string(b), `"uri": "http`) {
				t.Errorf("%s: an http:// location", path)
			}
		}
	}
	check(sarif, "security/permaudit.yaml")

	again := filepath.Join(out, "b.sarif")
	code, _, stderr = runCLI(t, nil, "report", runFile, "--out", "sarif="+again, "--sarif-root", filepath.Join(repo, "security"))
	if code != exitOK {
		t.Fatalf("report: exit %d\n%s", code, stderr)
	}
	check(again, "permaudit.yaml")

	code, _, stderr = runCLI(t, nil, "report", runFile, "--out", "sarif="+again, "--sarif-root", filepath.Join(repo, "nowhere"))
	if code != exitUsage || !strings.Contains(stderr, "--sarif-root") {
		t.Errorf("a --sarif-root that is no directory: exit %d, want 2 naming the flag\n%s", code, stderr)
	}
}
