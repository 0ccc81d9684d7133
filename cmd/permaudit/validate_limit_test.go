//go:build linux && !race

// The race detector reserves terabytes of address space: these tests run
// without it.

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// memoryLimit is the address space a child validating a hostile
// configuration may use.
const memoryLimit = 512 << 20

// TestValidateLimitChild is the child of TestValidateUnderMemoryLimit:
// it limits its own address space, then validates the configuration its
// parent names, and exits with validate's exit code.
func TestValidateLimitChild(t *testing.T) {
	cfg := os.Getenv("PERMAUDIT_TEST_LIMIT_CONFIG")
	if cfg == "" {
		t.Skip("the child of TestValidateUnderMemoryLimit")
	}
	// Go's runtime reserves more than 512 MiB of address space as it
	// starts (page summaries, heap arena hints): no Go program starts
	// under RLIMIT_AS=512M. The child therefore allows what it holds as
	// loading begins plus 512 MiB, so that loading may map no more than
	// 512 MiB.
	held, err := vmSize()
	if err != nil {
		t.Fatal(err)
	}
	lim := &syscall.Rlimit{Cur: held + memoryLimit, Max: held + memoryLimit}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, lim); err != nil {
		t.Fatalf("setrlimit: %v", err)
	}
	os.Exit(run(context.Background(), []string{"validate", "-c", cfg}, ioStreams{Out: os.Stdout, Err: os.Stderr, Env: os.LookupEnv}))
}

// vmSize returns the address space the process holds, in bytes.
func vmSize() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmSize:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmSize in /proc/self/status")
}

// TestValidateUnderMemoryLimit validates hostile configurations in a
// child process that may map no more than 512 MiB of address space
// beyond what it holds when it starts (see TestValidateLimitChild): each is refused
// with exit code 2 and a message naming its place, and none exhausts
// memory. A configuration over 64 MiB is refused before it is read; an
// alias bomb of a few hundred bytes before it is expanded.
func TestValidateUnderMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// 65 MiB of a list of 34 million one-letter items: gigabytes of
	// nodes, if it were parsed.
	f.WriteString("target: http://127.0.0.1:1\nroles: {}\nmatrix: {default: deny}\nbig: [")
	pad := bytes.Repeat([]byte("x,"), 1<<19)
	for range 65 {
		f.Write(pad)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	bomb := filepath.Join(dir, "bomb.yaml")
	os.WriteFile(bomb, []byte(`target: http://127.0.0.1:1
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
roles: {admin: {login: {bearer: x}, vars: *i}}
`), 0o644)
	for _, tc := range []struct{ name, path, want string }{
		{"over 64 MiB", big, big + ":1:1: the configuration is larger than 64 MiB"},
		{"alias bomb", bomb, bomb + ":6:8: e[0]: aliases expand to more than 11120 nodes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestValidateLimitChild$")
			cmd.Env = append(os.Environ(), "PERMAUDIT_TEST_LIMIT_CONFIG="+tc.path)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitUsage {
				t.Fatalf("child: %v, want exit code %d\nstdout %s\nstderr %s", err, exitUsage, stdout.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, stderr.String())
			}
		})
	}
}
