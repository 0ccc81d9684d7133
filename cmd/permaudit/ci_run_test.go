package main

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/permaudit/permaudit/internal/demoapp"
)

// TestCIExamplesRun runs every permaudit command line of each CI example,
// in order, in a directory holding the demo's configuration as
// permaudit.yaml and an empty baseline: first against the demo on
// 127.0.0.1 (the example's target replaced), where every command must exit
// 0 (the demo without bugs passes; a shard never gates; merge gates the
// whole); then every audit and discover line again as written, with
// --dry-run, which sends nothing but applies every check an audit makes
// before sending, the plain-HTTP guard included; shard lines read the
// inventory the first pass discovered, as if from the example's target.
// A line with a shard placeholder (${{ matrix.shard }}, index/N) runs once
// per shard; a word with * is expanded as the shell would.
func TestCIExamplesRun(t *testing.T) {
	srv, _ := startDemo(t, demoapp.Bugs{})
	local := srv.URL()
	for _, ex := range ciExamples {
		t.Run(filepath.Base(ex.file), func(t *testing.T) {
			data, err := os.ReadFile(ex.file)
			if err != nil {
				t.Fatal(err)
			}
			cmds := ciCommands(t, data)
			cmds = append(cmds, actionCommands(t, data)...)
			if len(cmds) == 0 {
				t.Fatal("no permaudit command")
			}
			dir := t.TempDir()
			t.Chdir(dir)
			if err := os.WriteFile("permaudit.yaml", demoapp.Config(), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile("permaudit-baseline.yaml", []byte("schema: permaudit.baseline/v1\nfindings: []\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			target := ""
			for _, args := range cmds {
				if i := slices.Index(args, "--target"); i >= 0 && i+1 < len(args) {
					target = args[i+1]
				}
			}
			if target == "" {
				t.Fatal("no --target in the example: the test cannot point it at the demo")
			}
			for pass, dry := range []bool{false, true} {
				if dry { // the inventory, as discovered on the example's target
					if inv, err := os.ReadFile("inventory.json"); err == nil {
						if err := os.WriteFile("inventory.json", []byte(strings.ReplaceAll(string(inv), local, target)), 0o644); err != nil {
							t.Fatal(err)
						}
					}
				}
				for _, args := range cmds {
					if dry && args[1] != "audit" && args[1] != "discover" {
						continue
					}
					for _, run := range expandShards(t, args) {
						// The files a Kubernetes pod mounts from its ConfigMap
						// are those of the working directory.
						words := replaceWords(run.args, "/etc/permaudit/", "")
						if dry {
							words = append(slices.Clone(words), "--dry-run")
						} else {
							words = replaceWords(words, target, local)
						}
						words = expandGlobs(t, words)
						env := maps.Clone(demoapp.Env())
						maps.Copy(env, run.env)
						code, stdout, stderr := runCLI(t, env, words[1:]...)
						if code != exitOK {
							t.Fatalf("pass %d: %q: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", pass+1, words, code, stdout, stderr)
						}
					}
				}
			}
		})
	}
}

// actionCommands returns the commands the permaudit action runs (action.yml)
// with the inputs of the example's step that uses it.
func actionCommands(t *testing.T, data []byte) [][]string {
	t.Helper()
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Uses string            `yaml:"uses"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		return nil // not a GitHub workflow
	}
	var out [][]string
	for _, j := range wf.Jobs {
		for _, s := range j.Steps {
			if !strings.HasPrefix(s.Uses, "permaudit/permaudit@") {
				continue
			}
			config := cmp(s.With["config"], "permaudit.yaml")
			out = append(out, []string{"permaudit", "validate", "-c", config})
			audit := []string{"permaudit", "audit", "-c", config}
			if v := s.With["target"]; v != "" {
				audit = append(audit, "--target", v)
			}
			if v := s.With["baseline"]; v != "" {
				audit = append(audit, "--baseline", v)
			}
			out = append(out, append(audit, strings.Fields(s.With["args"])...))
		}
	}
	return out
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

type shardRun struct {
	args []string
	env  map[string]string
}

var shardCount = regexp.MustCompile(`(?:\$\{\{matrix\.shard\}\}|index)/(\d+)`)

// expandShards returns args once per shard when it names one by a
// placeholder: ${{ matrix.shard }} (GitHub) is replaced by K, index/N and
// $(SHARD_INDEX) (Kubernetes) read the pod's completion index, K-1.
func expandShards(t *testing.T, args []string) []shardRun {
	t.Helper()
	n := 0
	for _, w := range args {
		if m := shardCount.FindStringSubmatch(w); m != nil {
			n, _ = strconv.Atoi(m[1])
		}
	}
	if n == 0 {
		return []shardRun{{args: args}}
	}
	var out []shardRun
	for k := 1; k <= n; k++ {
		var words []string
		for _, w := range args {
			w = strings.ReplaceAll(w, "${{matrix.shard}}", strconv.Itoa(k))
			w = strings.ReplaceAll(w, "$(SHARD_INDEX)", strconv.Itoa(k-1)) // the pod's completion index
			words = append(words, w)
		}
		out = append(out, shardRun{args: words, env: map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(k - 1)}})
	}
	return out
}

// replaceWords replaces old with new in every word.
func replaceWords(args []string, old, new string) []string {
	out := make([]string, len(args))
	for i, w := range args {
		out[i] = strings.ReplaceAll(w, old, new)
	}
	return out
}

// expandGlobs expands a word holding * as the shell would: the matching
// files, sorted; a word that matches nothing is an error here.
func expandGlobs(t *testing.T, args []string) []string {
	t.Helper()
	var out []string
	for _, w := range args {
		if !strings.Contains(w, "*") || strings.HasPrefix(w, "-") || strings.HasPrefix(w, "GET ") {
			out = append(out, w)
			continue
		}
		m, err := filepath.Glob(w)
		if err != nil || len(m) == 0 {
			t.Fatalf("%s matches no file (%v)", w, err)
		}
		out = append(out, m...)
	}
	return out
}
