package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIncompleteArtifactsAreNotGreen: an audit ended by --max-duration
// (exit 4) published JUnit with tests="0" failures="0", a markdown
// headline "✓ permaudit: passed" and an HTML "Gate ✓ passed". Every
// artifact of an incomplete run now says incomplete first.
func TestIncompleteArtifactsAreNotGreen(t *testing.T) {
	site := newSlowSite(40, 100*time.Millisecond)
	defer site.Close()
	cfg := writeFile(t, "c.yaml", "target: "+site.URL+"\ncrawl: {concurrency: 2, timeout: 20s}\nmatrix:\n  rules:\n    - {match: \"GET /**\", allow: [\"*\"]}\n")
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
