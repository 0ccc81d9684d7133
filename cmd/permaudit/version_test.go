package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
)

func TestResolveVersion(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	cases := []struct {
		name   string
		linked string
		info   *debug.BuildInfo
		want   string
	}{
		{"linked wins", "v1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "v0.9.0"}}, "v1.2.3"},
		{"no build info", "", nil, "devel"},
		{"go install of a tag", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{"pseudo-version of a dirty checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261204154809-bcb6dd7814f5+dirty"}}, "v0.0.0-20261204154809-bcb6dd7814f5+dirty"},
		{"revision, clean", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "false")}, "devel+0123456789ab"},
		{"revision, dirty", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true")}, "devel+0123456789ab.dirty"},
		{"nothing known", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := resolveVersion(tc.linked, tc.info); got != tc.want {
				t.Errorf("resolveVersion = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestVersionCommandAndFlag: `permaudit version` and `permaudit --version`
// say the same three facts.
func TestVersionCommandAndFlag(t *testing.T) {
	code, cmdOut, stderr := runCLI(t, nil, "version")
	if code != exitOK {
		t.Fatalf("version: exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"permaudit " + version + "\n", model.SchemaVersion, runtime.Version()} {
		if !strings.Contains(cmdOut, want) {
			t.Errorf("version printed %q, want it to contain %q", cmdOut, want)
		}
	}
	code, flagOut, stderr := runCLI(t, nil, "--version")
	if code != exitOK || flagOut != cmdOut {
		t.Errorf("--version: exit %d, stdout %q, stderr %q; want exit 0 and %q", code, flagOut, stderr, cmdOut)
	}
}

// buildIn builds the command from the module checked out at dir with the
// extra build flags, and returns the binary's path.
func buildIn(t *testing.T, dir string, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "permaudit")
	args := append(append([]string{"build"}, flags...), "-o", bin, "./cmd/permaudit")
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
	return bin
}

func firstLine(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return line
}

// TestVersionFromLinkerFlag builds the binary as a release does and checks
// that both the version command and the run it writes carry the version.
func TestVersionFromLinkerFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildIn(t, "../..", "-ldflags", "-X main.version=v7.8.9-test")
	if got := firstLine(t, bin, "--version"); got != "permaudit v7.8.9-test" {
		t.Errorf("--version: %q, want %q", got, "permaudit v7.8.9-test")
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, "demo", "--bugs", "none", "--dir", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "permaudit-run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Tool struct{ Name, Version string } `json:"tool"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Tool.Version != "v7.8.9-test" {
		t.Errorf("the run records tool.version %q, want v7.8.9-test", r.Tool.Version)
	}
}

// TestVersionFromVCS builds a git repository of its own, holding the
// module's files as they are in the work tree, with -buildvcs=true (the
// environment and .ci/run may set -buildvcs=false): committed and then
// with a change. The version must name the commit, then the change too.
// A repository of its own, because the go command stamps nothing in a git
// worktree (.git is a file there) nor in an export without .git, and the
// test must see the code as it is, not as last committed.
func TestVersionFromVCS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	files, err := exec.Command("git", "-C", "../..", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skip("not a git checkout")
	}
	src := filepath.Join(t.TempDir(), "src")
	for _, name := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join("../..", name))
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet in the index
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@permaudit.invalid", "-C", src}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "test")
	rev := git("rev-parse", "HEAD")

	clean := firstLine(t, buildIn(t, src, "-buildvcs=true"), "version")
	if want := regexp.MustCompile(`^permaudit v\S+-` + rev[:12] + `$`); !want.MatchString(clean) {
		t.Errorf("clean checkout: %q, want a match of %s", clean, want)
	}
	if err := os.WriteFile(filepath.Join(src, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dirty := firstLine(t, buildIn(t, src, "-buildvcs=true"), "version")
	if want := regexp.MustCompile(`^permaudit v\S+-` + rev[:12] + `\+dirty$`); !want.MatchString(dirty) {
		t.Errorf("changed checkout: %q, want a match of %s", dirty, want)
	}
}
