package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/report"
)

// realAudit is one `permaudit audit` of a real application's fixture
// (PocketBase, DokuWiki), run through the command's entry point.
type realAudit struct {
	code    int
	run     *model.Run
	printed string   // everything the command printed
	outputs []string // printed, then every output file (for the secrets checks)
}

// auditFixture audits target with the configuration config, the
// environment env, every output format written (text to the terminal),
// within limit, and reads the saved run.
func auditFixture(t *testing.T, config, target string, env map[string]string, limit time.Duration) realAudit {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "run.json")
	args := []string{"audit", "-c", config, "--target", target, "--out", "json=" + path}
	for _, format := range report.Formats() {
		if format != "json" && format != "text" {
			args = append(args, "--out", format+"="+filepath.Join(dir, "run."+format))
		}
	}
	var out, errb bytes.Buffer
	tty := false
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	code := run(ctx, args, ioStreams{
		Out: &out, Err: &errb, TTY: &tty,
		Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	printed := out.String() + errb.String()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("audit exited %d without a run: %v\n%s", code, err, printed)
	}
	defer f.Close()
	r, err := model.ReadRun(f)
	if err != nil {
		t.Fatalf("read run: %v", err)
	}
	outputs := []string{printed}
	written, _ := filepath.Glob(filepath.Join(dir, "run.*"))
	if len(written) != len(report.Formats())-1 {
		t.Errorf("outputs written: %q, want one of each format but text", written)
	}
	for _, w := range written {
		data, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		outputs = append(outputs, string(data))
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("the audit took more than %v", limit)
	}
	return realAudit{code: code, run: r, printed: printed, outputs: outputs}
}

// waitAnswering waits until the application a test started (name) answers
// base+path with a 200 within limit, while its process runs (exited
// receives its end). It then returns base and stops the application at
// the test's cleanup; otherwise it stops it at once, and the error holds
// what it printed.
func waitAnswering(t *testing.T, name, base, path string, limit time.Duration, exited <-chan error, stop func(), logs *bytes.Buffer) (string, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(limit)
	for {
		select {
		case err := <-exited:
			return "", fmt.Errorf("%s exited: %v\n%s", name, err, logs.String())
		default:
		}
		resp, err := client.Get(base + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(stop)
				return base, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("%s does not answer %s after %v\n%s", name, path, limit, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
