package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/internal/demoapp"
	"github.com/permaudit/permaudit/model"
)

// TestShardsMergeToTheUnshardedRun audits the demo with every planted bug
// once whole, and once as three shards of a saved inventory joined by
// report merge: the merged run has the same cells, findings, notes,
// canaries, counts, coverage and gate outcome as the unsharded run, and
// the same exit code; each shard exits 0 although it holds findings.
//
// The second configuration leaves part of the demo unmapped and holds a
// rule no endpoint matches, so the notes judged over the whole (dead
// rules) and per template (unmapped) are compared too.
func TestShardsMergeToTheUnshardedRun(t *testing.T) {
	notes := strings.Replace(string(demoapp.Config()), "  default: deny\n  rules:                         # first match wins\n",
		"  default: unmapped\n  rules:\n    - match: [\"GET /nowhere/**\"]\n      allow: [admin]\n", 1)
	notes = strings.Replace(notes, "        - \"GET /about\"\n", "", 1)
	if notes == string(demoapp.Config()) {
		t.Fatal("the demo configuration changed: update the test's edit")
	}
	for _, c := range []struct{ name, config string }{{"demo", string(demoapp.Config())}, {"notes", notes}} {
		t.Run(c.name, func(t *testing.T) { testShardsMerge(t, c.config) })
	}
}

func testShardsMerge(t *testing.T, config string) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	env := demoapp.Env()
	srv, _ := startDemo(t, demoapp.AllBugsOn())
	cfg := writeFile(t, "permaudit.yaml", config)

	code, _, stderr := runCLI(t, env, "audit", "-c", cfg, "--target", srv.URL(), "--fail-on", everyVerdict, "--out", "json="+at("whole.json"))
	if code != exitGate && code != exitOK {
		t.Fatalf("unsharded audit: exit %d\n%s", code, stderr)
	}
	wholeCode := code
	code, _, stderr = runCLI(t, env, "discover", "-c", cfg, "--target", srv.URL(), "--out", at("inventory.json"))
	if code != exitOK {
		t.Fatalf("discover: exit %d\n%s", code, stderr)
	}
	var shards []string
	for k := 1; k <= 3; k++ {
		out := at(fmt.Sprintf("shard-%d.json", k))
		shards = append(shards, out)
		code, _, stderr = runCLI(t, env, "audit", "-c", cfg, "--target", srv.URL(), "--fail-on", everyVerdict,
			"--inventory", at("inventory.json"), "--shard", fmt.Sprintf("%d/3", k), "--out", "json="+out)
		if code != exitOK {
			t.Fatalf("shard %d/3: exit %d, want 0 (a shard never gates)\n%s", k, code, stderr)
		}
		if !strings.Contains(stderr, "never gates on its own") {
			t.Errorf("shard %d/3 does not say it never gates:\n%s", k, stderr)
		}
	}
	code, _, stderr = runCLI(t, nil, append([]string{"report", "merge", "-o", at("merged.json")}, shards...)...)
	if code != wholeCode {
		t.Fatalf("merge: exit %d, want %d as the unsharded audit\n%s", code, wholeCode, stderr)
	}

	whole, merged := readRunJSON(t, at("whole.json")), readRunJSON(t, at("merged.json"))
	inv, err := os.ReadFile(at("inventory.json"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := model.ReadInventory(strings.NewReader(string(inv)))
	if err != nil {
		t.Fatal(err)
	}
	digest := model.InventoryDigest(&f.Inventory)
	sum := 0
	for k, path := range shards {
		s := readRunJSON(t, path)
		if s.Shard == nil || s.Shard.Index != k+1 || s.Shard.Count != 3 || s.InventoryDigest != digest || s.ConfigFingerprint != whole.ConfigFingerprint {
			t.Errorf("%s records shard %+v, inventory %s, config %s; want %d/3, %s, %s", path, s.Shard, s.InventoryDigest, s.ConfigFingerprint, k+1, digest, whole.ConfigFingerprint)
		}
		if s.Observations.Len() == 0 {
			t.Errorf("%s probed nothing: the slices are unbalanced", path)
		}
		sum += s.Observations.Len()
	}
	if sum != whole.Observations.Len() {
		t.Errorf("the shards probed %d cells, the unsharded audit %d", sum, whole.Observations.Len())
	}
	if len(merged.Merged) != 3 || merged.InventoryDigest != digest {
		t.Errorf("merged run records shards %+v and inventory %q", merged.Merged, merged.InventoryDigest)
	}

	cells := func(r *model.Run) []model.Cell {
		out := make([]model.Cell, r.Observations.Len())
		for i, c := range r.Observations.All() {
			c.Latency = 0
			out[i] = c
		}
		return out
	}
	canaries := func(r *model.Run) []model.Observation {
		out := make([]model.Observation, len(r.Canaries))
		for i, c := range r.Canaries {
			c.Latency = 0
			out[i] = c
		}
		return out
	}
	same := func(what string, a, b any) {
		t.Helper()
		if !reflect.DeepEqual(a, b) {
			ja, _ := json.MarshalIndent(a, "", " ")
			jb, _ := json.MarshalIndent(b, "", " ")
			t.Errorf("%s differ:\nunsharded: %s\nmerged:    %s", what, ja, jb)
		}
	}
	same("cells", cells(whole), cells(merged))
	same("findings", whole.Findings, merged.Findings)
	same("notes", whole.Notes, merged.Notes)
	same("canaries", canaries(whole), canaries(merged))
	same("counts", whole.Counts, merged.Counts)
	same("gate", whole.Gate, merged.Gate)
	same("coverage", whole.Coverage, merged.Coverage)
	same("completeness", [2]any{whole.Complete, whole.Incomplete}, [2]any{merged.Complete, merged.Incomplete})
	if len(whole.Findings) == 0 || len(whole.Canaries) == 0 {
		t.Errorf("the demo audit has %d findings and %d canaries: the test proves nothing", len(whole.Findings), len(whole.Canaries))
	}

	// merge refuses, naming the files.
	other := at("other.json")
	var o map[string]any
	data, _ := os.ReadFile(shards[2])
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatal(err)
	}
	o["config_fingerprint"] = "sha256:0000"
	data, _ = json.Marshal(o)
	if err := os.WriteFile(other, data, 0o644); err != nil {
		t.Fatal(err)
	}
	refusals := []struct {
		name  string
		args  []string
		wants []string
	}{
		{"missing shard", shards[:2], []string{"shard(s) 3/3 missing", shards[0], shards[1]}},
		{"duplicate shard", []string{shards[0], shards[1], shards[1]}, []string{"both shard 2/3", shards[1]}},
		{"other configuration", []string{shards[0], shards[1], other}, []string{"configuration fingerprint", shards[0], other}},
		{"not a shard", []string{shards[0], shards[1], at("whole.json")}, []string{at("whole.json") + " is not a shard run"}},
	}
	for _, r := range refusals {
		code, _, stderr := runCLI(t, nil, append([]string{"report", "merge", "-o", at("refused.json")}, r.args...)...)
		if code != exitUsage {
			t.Errorf("%s: exit %d, want %d\n%s", r.name, code, exitUsage, stderr)
		}
		for _, w := range r.wants {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: the error does not say %q:\n%s", r.name, w, stderr)
			}
		}
	}
	if _, err := os.Stat(at("refused.json")); err == nil {
		t.Error("a refused merge wrote its output")
	}

	// The inventory of a previous run serves as well: two shards of the
	// unsharded run's inventory merge to the same run again.
	var again []string
	for k := 1; k <= 2; k++ {
		out := at(fmt.Sprintf("again-%d.json", k))
		again = append(again, out)
		code, _, stderr = runCLI(t, env, "audit", "-c", cfg, "--target", srv.URL(), "--fail-on", everyVerdict,
			"--inventory", at("whole.json"), "--shard", fmt.Sprintf("%d/2", k), "--out", "json="+out)
		if code != exitOK {
			t.Fatalf("shard %d/2 of the run's inventory: exit %d\n%s", k, code, stderr)
		}
	}
	code, _, stderr = runCLI(t, nil, append([]string{"report", "merge", "-o", at("again.json")}, again...)...)
	if code != wholeCode {
		t.Fatalf("merge of the run's inventory: exit %d, want %d\n%s", code, wholeCode, stderr)
	}
	rerun := readRunJSON(t, at("again.json"))
	same("cells (run inventory)", cells(whole), cells(rerun))
	same("findings (run inventory)", whole.Findings, rerun.Findings)
	same("notes (run inventory)", whole.Notes, rerun.Notes)
	same("gate (run inventory)", whole.Gate, rerun.Gate)
}

// TestShardUsageErrors: what cannot make a sound shard is refused before
// anything is sent, with exit 2 and a message saying what to do.
func TestShardUsageErrors(t *testing.T) {
	srv, cfg := startDemo(t, demoapp.Bugs{})
	env := demoapp.Env()
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.json")
	if code, _, stderr := runCLI(t, env, "discover", "-c", cfg, "--target", srv.URL(), "--out", "json="+inv); code != exitOK {
		t.Fatalf("discover: exit %d\n%s", code, stderr)
	}
	other := writeFile(t, "other.json", `{"schema":"permaudit.inventory/v1","target":"https://elsewhere.test","complete":true,"inventory":{"endpoints":[]}}`)
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no inventory", env, []string{"--shard", "1/2"}, "--shard needs --inventory"},
		{"bad shard", env, []string{"--shard", "3/2", "--inventory", inv}, `--shard "3/2": K must be 1 to N (2)`},
		{"baseline", env, []string{"--shard", "1/2", "--inventory", inv, "--baseline", "b.yaml"}, "give it to permaudit report merge --baseline"},
		{"no such inventory", env, []string{"--inventory", filepath.Join(dir, "none.json")}, "write one with permaudit discover --out"},
		{"another target", env, []string{"--inventory", other}, "the inventory was discovered on https://elsewhere.test"},
		{"index without Kubernetes", env, []string{"--shard", "index/3", "--inventory", inv}, "JOB_COMPLETION_INDEX is \"\""},
	}
	for _, tc := range cases {
		args := append([]string{"audit", "-c", cfg, "--target", srv.URL()}, tc.args...)
		code, _, stderr := runCLI(t, tc.env, args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit %d saying %q", tc.name, code, stderr, exitUsage, tc.want)
		}
	}
	// index/N in an Indexed Job's pod: JOB_COMPLETION_INDEX 1 is shard 2/3.
	kenv := map[string]string{"JOB_COMPLETION_INDEX": "1"}
	for k, v := range env {
		kenv[k] = v
	}
	out := filepath.Join(dir, "shard.json")
	code, _, stderr := runCLI(t, kenv, "audit", "-c", cfg, "--target", srv.URL(), "--inventory", inv, "--shard", "index/3", "--rate", "600/s", "--out", "json="+out)
	if code != exitOK {
		t.Fatalf("--shard index/3: exit %d\n%s", code, stderr)
	}
	// A third of the rate and of the requests in flight (8 by default).
	if !strings.Contains(stderr, ": at most 200/s, 2 request(s) at once") {
		t.Errorf("shard 2/3 at --rate 600/s does not announce 200/s and 2 requests at once:\n%s", stderr)
	}
	if s := readRunJSON(t, out).Shard; s == nil || s.Index != 2 || s.Count != 3 {
		t.Errorf("--shard index/3 with JOB_COMPLETION_INDEX=1 ran shard %+v, want 2/3", s)
	}
}
