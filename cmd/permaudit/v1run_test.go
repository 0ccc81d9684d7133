package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
)

// TestCommandsReadV1Runs: report, diff, baseline and learn take a run of
// the first schema version (kept in model/testdata) as they did; report
// writes it again as v2.
func TestCommandsReadV1Runs(t *testing.T) {
	v1 := filepath.Join("..", "..", "model", "testdata", "run-v1.json")
	dir := t.TempDir()
	out := func(name string) string { return filepath.Join(dir, name) }

	code, _, stderr := runCLI(t, nil, "report", v1, "--out", "text="+out("run.txt"), "--out", "json="+out("run.json"))
	if code != exitOK {
		t.Fatalf("report of a v1 run: exit %d\n%s", code, stderr)
	}
	text, _ := os.ReadFile(out("run.txt"))
	want, err := os.ReadFile(filepath.Join("..", "..", "report", "testdata", "run.text.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if string(text) != string(want) {
		t.Errorf("report of the v1 run: text differs from report/testdata/run.text.golden:\n%s", text)
	}
	f, err := os.Open(out("run.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if run, err := model.ReadRun(f); err != nil || run.Schema != model.SchemaVersion {
		t.Errorf("the v1 run written again: %v, want schema %s", err, model.SchemaVersion)
	}

	if code, stdout, stderr := runCLI(t, nil, "diff", v1, out("run.json")); code != exitOK || !strings.Contains(stdout, "new findings (0)") || !strings.Contains(stdout, "changed answers (0)") {
		t.Errorf("diff of the v1 run and itself as v2: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI(t, nil, "baseline", v1); code != exitOK || !strings.Contains(stdout, "fingerprint") {
		t.Errorf("baseline from a v1 run: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI(t, nil, "learn", v1); code != exitOK || !strings.Contains(stdout, "match:") {
		t.Errorf("learn from a v1 run: exit %d\n%s%s", code, stdout, stderr)
	}
}
