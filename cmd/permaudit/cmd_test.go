package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/internal/demoapp"
	"github.com/permaudit/permaudit/model"
)

// runCLI runs a command line through run(), as main does.
func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	io := ioStreams{Out: &out, Err: &errb, Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code = run(ctx, args, io)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startDemo serves the demo app with bugs and writes its configuration to a
// file, so commands can audit it like any target.
func startDemo(t *testing.T, bugs demoapp.Bugs) (*demoapp.Server, string) {
	t.Helper()
	srv, err := demoapp.Start(demoapp.Options{Bugs: bugs, Log: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, writeFile(t, "demo.yaml", string(demoapp.Config()))
}

func TestValidateReportsEveryMistake(t *testing.T) {
	code, stdout, stderr := runCLI(t, map[string]string{"ADMIN_TOKEN": "x"}, "validate", "-c", "../../roles/testdata/bad.yaml")
	if code != exitUsage {
		t.Errorf("exit code = %d, want %d", code, exitUsage)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
	re := regexp.MustCompile(`(?m)^\.\./\.\./roles/testdata/bad\.yaml:(\d+):(\d+): `)
	lines := re.FindAllStringSubmatch(stderr, -1)
	var got []string
	for _, l := range lines {
		got = append(got, l[1])
	}
	if want := []string{"7", "14", "17"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("positioned errors on lines %v, want %v\nstderr:\n%s", got, want, stderr)
	}
	for _, field := range []string{"roles.admin.login.bearr", "matrix.rules[1].match", "custmer"} {
		if !strings.Contains(stderr, field) {
			t.Errorf("stderr does not name %q:\n%s", field, stderr)
		}
	}
}

func TestValidateGoodConfig(t *testing.T) {
	code, stdout, stderr := runCLI(t, demoapp.Env(), "validate", "-c", writeFile(t, "demo.yaml", string(demoapp.Config())))
	if code != exitOK || !strings.Contains(stdout, "valid") || stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0, 'valid' and nothing on stderr", code, stdout, stderr)
	}
	// A role with credentials and no check is valid, with a warning that
	// names it: its denials cannot be confirmed.
	yaml := strings.Replace(string(demoapp.Config()), "    check: {url: /api/profile}\n", "", 1)
	code, stdout, stderr = runCLI(t, demoapp.Env(), "validate", "-c", writeFile(t, "demo.yaml", yaml))
	if code != exitOK || !strings.Contains(stdout, "valid") || !strings.Contains(stderr, "warning: role support has no check") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0, 'valid' and a warning about support", code, stdout, stderr)
	}
}

func TestMissingSecretIsAConfigError(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "validate", "-c", writeFile(t, "demo.yaml", string(demoapp.Config())))
	if code != exitUsage {
		t.Errorf("exit code = %d, want %d", code, exitUsage)
	}
	if !strings.Contains(stderr, demoapp.EnvAdminPassword) {
		t.Errorf("stderr does not name the missing variable %s:\n%s", demoapp.EnvAdminPassword, stderr)
	}
}

func TestUnreachableTargetExits3(t *testing.T) {
	// A port that was just free: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := writeFile(t, "demo.yaml", string(demoapp.Config()))
	code, stdout, stderr := runCLI(t, demoapp.Env(), "audit", "-c", cfg, "--target", "http://"+addr)
	if code != exitUnreachable {
		t.Errorf("exit code = %d, want %d\nstderr:\n%s", code, exitUnreachable, stderr)
	}
	if !strings.Contains(stderr, addr) || stdout != "" {
		t.Errorf("want the address on stderr and nothing on stdout; stdout %q stderr %q", stdout, stderr)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	srv, cfg := startDemo(t, demoapp.Bugs{})
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"audit", "--nope"}, "unknown flag"},
		{"unknown role", []string{"audit", "-c", cfg, "--target", srv.URL(), "--role", "ghost"}, `"ghost": no such role`},
		{"bad pattern", []string{"audit", "-c", cfg, "--target", srv.URL(), "--only", "GET /a/{x"}, "--only"},
		{"bad output", []string{"audit", "-c", cfg, "--target", srv.URL(), "--out", "pdf=x.pdf"}, "pdf"},
		{"bad gate", []string{"audit", "-c", cfg, "--target", srv.URL(), "--fail-on", "leaks"}, "--fail-on"},
		{"bad target", []string{"audit", "-c", cfg, "--target", "ftp://x"}, "--target"},
		{"missing config", []string{"audit", "-c", filepath.Join(t.TempDir(), "none.yaml")}, "none.yaml"},
		{"bad bugs", []string{"demo", "--bugs", "everything"}, "--bugs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, demoapp.Env(), tc.args...)
			if code != exitUsage {
				t.Errorf("exit code = %d, want %d\nstderr:\n%s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, stderr)
			}
		})
	}
	if n := len(srv.App.Requests()); n != 0 {
		t.Errorf("usage errors sent %d requests to the target, want none", n)
	}
}

func TestAuditOutputsAndFilters(t *testing.T) {
	srv, cfg := startDemo(t, demoapp.Bugs{}.With(demoapp.BugLeak))
	dir := t.TempDir()
	runFile := filepath.Join(dir, "run.json")

	// JSON on stdout: stdout holds exactly one JSON document.
	code, stdout, stderr := runCLI(t, demoapp.Env(), "audit", "-c", cfg, "--target", srv.URL(),
		"--role", "support", "--only", "GET /api/admin/**", "--out", "json=-", "--out", "text="+filepath.Join(dir, "summary.txt"))
	if code != exitGate {
		t.Fatalf("exit code = %d, want %d (the leak)\nstderr:\n%s", code, exitGate, stderr)
	}
	run, err := model.ReadRun(strings.NewReader(stdout))
	if err != nil || !json.Valid([]byte(stdout)) {
		t.Fatalf("stdout is not the run JSON alone: %v\n%s", err, stdout)
	}
	for _, c := range run.Observations.All() {
		if c.Role != "support" || !strings.Contains(c.URL, "/api/admin/") {
			t.Errorf("observation outside the filters: %s as %s", c.URL, c.Role)
		}
	}
	if run.Observations.Len() == 0 || len(run.Findings) != 1 || run.Findings[0].Verdict != model.Leak {
		t.Errorf("want one leak among %d observations, got findings %+v", run.Observations.Len(), run.Findings)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "summary.txt")); err != nil || !strings.Contains(string(b), "leak") {
		t.Errorf("text output file: %v %q", err, b)
	}
	// --fail-on without leak lets the same run pass.
	code, _, stderr = runCLI(t, demoapp.Env(), "audit", "-c", cfg, "--target", srv.URL(), "--fail-on", "blocked", "--out", "json="+runFile)
	if code != exitOK {
		t.Errorf("--fail-on blocked: exit code = %d, want 0\nstderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "gate passed") {
		t.Errorf("no summary line on stderr:\n%s", stderr)
	}
	// One failing output does not lose the others.
	code, _, stderr = runCLI(t, demoapp.Env(), "audit", "-c", cfg, "--target", srv.URL(),
		"--out", "json="+filepath.Join(dir, "no-such-dir", "run.json"), "--out", "json="+runFile+".2")
	if code != exitUsage || !strings.Contains(stderr, "no-such-dir") {
		t.Errorf("unwritable output: exit %d, stderr %q; want 2 naming the path", code, stderr)
	}
	if _, err := os.Stat(runFile + ".2"); err != nil {
		t.Errorf("the other output was lost: %v", err)
	}
}

func TestCommandsHaveHelpAndCompletion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"audit", "--help"}, {"demo", "--help"}, {"validate", "--help"}, {"completion", "bash"}, {"version"}} {
		code, stdout, stderr := runCLI(t, nil, args...)
		if code != exitOK || stdout == "" {
			t.Errorf("%v: exit %d, %d bytes of stdout, stderr %q", args, code, len(stdout), stderr)
		}
	}
}

func TestProgressOnTerminalOnly(t *testing.T) {
	for _, tty := range []bool{true, false} {
		t.Run(fmt.Sprintf("tty=%v", tty), func(t *testing.T) {
			var out, errb bytes.Buffer
			opts := &demoOptions{
				IO:    ioStreams{Out: &out, Err: &errb, TTY: &tty},
				Bugs:  "none",
				Dir:   t.TempDir(),
				Now:   time.Now,
				RunID: newRunID,
			}
			if err := runDemo(context.Background(), opts); err != nil {
				t.Fatalf("demo: %v\n%s", err, errb.String())
			}
			bar := strings.Contains(errb.String(), "probing")
			if bar != tty {
				t.Errorf("progress bar shown = %v, want %v\nstderr:\n%s", bar, tty, errb.String())
			}
			if n := strings.Count(errb.String(), "permaudit: 4 roles"); n != 1 {
				t.Errorf("summary line printed %d times, want once\nstderr:\n%s", n, errb.String())
			}
			if strings.Contains(out.String(), "probing") {
				t.Errorf("progress reached stdout")
			}
		})
	}
}

// TestShortSecretKeepsOutputsReadable: a secret that reads like JSON
// ("true") is redacted in the strings that hold it, never in the
// structure of an output: the run JSON, SARIF and JUnit stay valid, and
// the saved run renders again.
func TestShortSecretKeepsOutputsReadable(t *testing.T) {
	srv, _ := startDemo(t, demoapp.Bugs{})
	yaml := regexp.MustCompile(`(?m)^roles:.*$`).ReplaceAllString(string(demoapp.Config()),
		"$0\n  keyed:\n    login:\n      headers: {X-Key: \"$${SHORT_KEY}\"}") // $$: a literal $ in a regexp template
	cfg := writeFile(t, "short.yaml", yaml)
	env := demoapp.Env()
	env["SHORT_KEY"] = "true"
	dir := t.TempDir()
	out := func(f string) string { return filepath.Join(dir, "out."+f) }
	code, _, stderr := runCLI(t, env, "audit", "-c", cfg, "--target", srv.URL(),
		"--out", "json="+out("json"), "--out", "sarif="+out("sarif"), "--out", "junit="+out("junit"), "--out", "html="+out("html"))
	if code != exitOK {
		t.Fatalf("exit %d, want 0\n%s", code, stderr)
	}
	for _, f := range []string{"json", "sarif"} {
		b, _ := os.ReadFile(out(f))
		if !json.Valid(b) {
			t.Errorf("%s output is not valid JSON", f)
		}
	}
	b, _ := os.ReadFile(out("junit"))
	for d := xml.NewDecoder(bytes.NewReader(b)); ; {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("junit output is not well-formed XML: %v", err)
		}
	}
	b, _ = os.ReadFile(out("json"))
	if run, err := model.ReadRun(bytes.NewReader(b)); err != nil || !run.Complete {
		t.Fatalf("run JSON: %v, complete %v", err, run != nil && run.Complete)
	}
	code, _, stderr = runCLI(t, env, "report", out("json"), "--out", "text="+out("txt"))
	if code != exitOK {
		t.Errorf("permaudit report on the saved run: exit %d\n%s", code, stderr)
	}
}
