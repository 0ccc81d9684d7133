package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/permaudit/permaudit/internal/demoapp"
)

// actionFile is the GitHub Action at the repository's root.
const actionFile = "../../action.yml"

type actionStep struct {
	Name            string            `yaml:"name"`
	ID              string            `yaml:"id"`
	If              string            `yaml:"if"`
	Shell           string            `yaml:"shell"`
	Env             map[string]string `yaml:"env"`
	Run             string            `yaml:"run"`
	Uses            string            `yaml:"uses"`
	With            map[string]string `yaml:"with"`
	ContinueOnError bool              `yaml:"continue-on-error"`
}

type action struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Inputs      map[string]struct {
		Description string `yaml:"description"`
		Required    bool   `yaml:"required"`
		Default     string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

func readAction(t *testing.T) action {
	t.Helper()
	data, err := os.ReadFile(actionFile)
	if err != nil {
		t.Fatal(err)
	}
	var a action
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a
}

// The major versions of the actions that action.yml uses: the current
// ones (codeql-action v4 reads SARIF from Node 24).
var actionMajors = map[string]string{
	"actions/upload-artifact":           "v7",
	"github/codeql-action/upload-sarif": "v4",
}

// TestActionStructure checks what makes the action safe to adopt: a
// composite action whose scripts take inputs only through env: (an
// expression inside a script is an injection), current actions pinned to
// a major version, a SARIF upload that may fail (forks' pull requests
// lack security-events: write), and the job failed by the exit code only
// after every upload.
func TestActionStructure(t *testing.T) {
	a := readAction(t)
	if a.Runs.Using != "composite" {
		t.Errorf("runs.using %q, want composite", a.Runs.Using)
	}
	steps := a.Runs.Steps
	if len(steps) == 0 {
		t.Fatal("no steps")
	}
	expr := regexp.MustCompile(`\$\{\{\s*(inputs|steps|github|runner)\.`)
	lastUpload := -1
	for i, s := range steps {
		switch {
		case s.Run != "":
			if s.Shell != "bash" {
				t.Errorf("step %q: shell %q, want bash", s.Name, s.Shell)
			}
			if strings.Contains(s.Run, "${{") {
				t.Errorf("step %q: an expression inside run: pass it through env: instead", s.Name)
			}
			for k, v := range s.Env {
				if strings.Contains(v, "${{") && !expr.MatchString(v) {
					t.Errorf("step %q: env %s = %q: an unexpected expression", s.Name, k, v)
				}
			}
		case s.Uses != "":
			name, major, _ := strings.Cut(s.Uses, "@")
			if want, ok := actionMajors[name]; !ok || major != want {
				t.Errorf("step %q uses %s; want one of %v at its major version", s.Name, s.Uses, actionMajors)
			}
			if strings.Contains(s.Uses, "codeql-action") && !s.ContinueOnError {
				t.Errorf("step %q: the SARIF upload must not fail the job (forks lack security-events: write)", s.Name)
			}
			lastUpload = i
		default:
			t.Errorf("step %d has neither run nor uses", i)
		}
	}
	last := steps[len(steps)-1]
	if !strings.Contains(last.Run, `exit "$CODE"`) || !strings.Contains(last.Env["CODE"], "steps.audit.outputs.exit-code") {
		t.Errorf("the last step %q must fail the job by the audit's exit code", last.Name)
	}
	if lastUpload < 0 || lastUpload > len(steps)-2 {
		t.Errorf("the uploads must come before the step that fails the job")
	}
	for name, in := range a.Inputs {
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
	}
}

// fakeCurl stands for curl in TestActionRuns: it copies the file the URL
// names from $FAKE_RELEASE, and logs the URL.
const fakeCurl = `#!/bin/sh
out= url=
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    --retry) shift 2 ;;
    -*) shift ;;
    *) url=$1; shift ;;
  esac
done
echo "$url" >> "$FAKE_RELEASE/requests.log"
cp "$FAKE_RELEASE/${url##*/}" "$out"
`

// TestActionRuns runs action.yml's run: steps in order with bash, as the
// runner would: a fake release of a locally built binary (curl is a stand-
// in serving files from a folder), the demo application with a planted
// leak as the target, and GitHub's step files. The action must install the
// release after checking its checksum, audit, write every report and the
// job summary, and fail only in its last step, with exit 1.
func TestActionRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs an audit")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the action's scripts are bash")
	}
	for _, tool := range []string{"bash", "tar", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	a := readAction(t)
	bin := buildPermaudit(t)

	const version = "v0.0.0-test"
	release := t.TempDir()
	archive := "permaudit_" + strings.TrimPrefix(version, "v") + "_linux_amd64.tar.gz"
	writeTarGz(t, filepath.Join(release, archive), bin, "permaudit")
	sum, err := os.ReadFile(filepath.Join(release, archive))
	if err != nil {
		t.Fatal(err)
	}
	checksums := fmt.Sprintf("%x  %s\n%x  permaudit_other.zip\n", sha256.Sum256(sum), archive, sha256.Sum256(nil))
	writeFileAt(t, filepath.Join(release, "checksums.txt"), checksums)
	tools := t.TempDir()
	writeFileAt(t, filepath.Join(tools, "curl"), fakeCurl)
	if err := os.Chmod(filepath.Join(tools, "curl"), 0o755); err != nil {
		t.Fatal(err)
	}

	app, err := demoapp.Start(demoapp.Options{Bugs: demoapp.Bugs{}.With(demoapp.BugLeak)})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()

	work := t.TempDir()
	writeFileAt(t, filepath.Join(work, "permaudit.yaml"), string(demoapp.Config()))
	inputs := map[string]string{"version": version, "target": app.URL()}

	res := runAction(t, a, work, tools, release, inputs)
	if res.failedStep != len(a.Runs.Steps)-1 || res.exitCode != 1 {
		t.Errorf("step %d failed with exit %d; want the last step (%d) to fail with 1 (the planted leak)\n%s",
			res.failedStep, res.exitCode, len(a.Runs.Steps)-1, res.log)
	}
	if got := res.outputs["exit-code"]; got != "1" {
		t.Errorf("output exit-code %q, want 1", got)
	}
	for _, f := range []string{"permaudit-run.json", "permaudit-report.html", "permaudit-junit.xml", "permaudit.sarif", "permaudit-summary.md"} {
		if _, err := os.Stat(filepath.Join(work, "permaudit-results", f)); err != nil {
			t.Errorf("report %s: %v", f, err)
		}
	}
	if !strings.Contains(res.summary, "leak") {
		t.Errorf("job summary %q does not show the leak", res.summary)
	}
	if !strings.Contains(res.log, "permaudit ") {
		t.Errorf("the install step did not run the installed binary:\n%s", res.log)
	}
	requests, _ := os.ReadFile(filepath.Join(release, "requests.log"))
	if want := "https://github.com/permaudit/permaudit/releases/download/" + version + "/" + archive; !strings.Contains(string(requests), want) {
		t.Errorf("downloads %q, want %s", requests, want)
	}

	// A release whose archive does not match its checksum is not installed.
	writeFileAt(t, filepath.Join(release, "checksums.txt"), strings.Replace(checksums, fmt.Sprintf("%x", sha256.Sum256(sum))[:8], "00000000", 1))
	res = runAction(t, a, t.TempDir(), tools, release, inputs)
	if res.failedStep != 0 {
		t.Errorf("a bad checksum: step %d failed (exit %d), want the install step\n%s", res.failedStep, res.exitCode, res.log)
	}
}

type actionResult struct {
	failedStep int // -1: none
	exitCode   int
	outputs    map[string]string // the audit step's
	summary    string
	log        string
}

// runAction runs the run: steps of a in order in work, until one fails,
// resolving the expressions of their env: as the runner would for the
// given inputs. Steps that use other actions are skipped.
func runAction(t *testing.T, a action, work, tools, release string, inputs map[string]string) actionResult {
	t.Helper()
	temp := t.TempDir()
	files := map[string]string{}
	for _, name := range []string{"GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_STEP_SUMMARY"} {
		files[name] = filepath.Join(temp, name)
		writeFileAt(t, files[name], "")
	}
	outputs := map[string]map[string]string{}
	resolve := func(v string) string {
		return regexp.MustCompile(`\$\{\{\s*([\w.-]+)\s*\}\}`).ReplaceAllStringFunc(v, func(m string) string {
			key := strings.Trim(m, "${} ")
			switch {
			case strings.HasPrefix(key, "inputs."):
				name := strings.TrimPrefix(key, "inputs.")
				if v, ok := inputs[name]; ok {
					return v
				}
				in, ok := a.Inputs[name]
				if !ok {
					t.Errorf("no input %s", name)
				}
				return in.Default
			case strings.HasPrefix(key, "steps."):
				parts := strings.Split(key, ".")
				return outputs[parts[1]][parts[3]]
			case key == "github.action_ref":
				return ""
			case key == "runner.temp":
				return temp
			}
			t.Errorf("an expression the test cannot resolve: %s", m)
			return ""
		})
	}
	env := []string{"PATH=" + tools + ":" + os.Getenv("PATH"), "HOME=" + temp, "RUNNER_OS=Linux", "RUNNER_ARCH=X64", "FAKE_RELEASE=" + release}
	for k, v := range demoapp.Env() {
		env = append(env, k+"="+v)
	}
	var log strings.Builder
	res := actionResult{failedStep: -1}
	for i, s := range a.Runs.Steps {
		if s.Run == "" {
			continue
		}
		writeFileAt(t, files["GITHUB_OUTPUT"], "")
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", s.Run)
		cmd.Dir = work
		cmd.Env = slices.Clone(env)
		for name, path := range files {
			cmd.Env = append(cmd.Env, name+"="+path)
		}
		if added, _ := os.ReadFile(files["GITHUB_PATH"]); len(added) > 0 {
			cmd.Env[0] = "PATH=" + strings.Join(strings.Fields(string(added)), ":") + ":" + tools + ":" + os.Getenv("PATH")
		}
		for k, v := range s.Env {
			cmd.Env = append(cmd.Env, k+"="+resolve(v))
		}
		out, err := cmd.CombinedOutput()
		fmt.Fprintf(&log, "== %s\n%s", s.Name, out)
		got, _ := os.ReadFile(files["GITHUB_OUTPUT"])
		if s.ID != "" {
			outputs[s.ID] = map[string]string{}
			for _, line := range strings.Split(string(got), "\n") {
				if k, v, ok := strings.Cut(line, "="); ok {
					outputs[s.ID][k] = v
				}
			}
		}
		if err != nil {
			res.failedStep = i
			if ee, ok := err.(*exec.ExitError); ok {
				res.exitCode = ee.ExitCode()
			}
			break
		}
	}
	summary, _ := os.ReadFile(files["GITHUB_STEP_SUMMARY"])
	res.outputs, res.summary, res.log = outputs["audit"], string(summary), log.String()
	return res
}

func writeFileAt(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeTarGz(t *testing.T, path, src, name string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	for _, c := range []interface{ Close() error }{tw, zw, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
