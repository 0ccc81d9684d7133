package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/permaudit/permaudit/internal/browsertest"
	"github.com/permaudit/permaudit/model"
)

// demoFiles runs the demo into a temporary directory and returns the
// paths of the run JSON and the HTML report it wrote.
func demoFiles(t *testing.T) (runPath, htmlPath string) {
	t.Helper()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	opts := &demoOptions{
		IO:    ioStreams{Out: &out, Err: &errb, Env: func(string) (string, bool) { return "", false }},
		Bugs:  "all",
		Dir:   dir,
		Now:   time.Now,
		RunID: func() string { return "report-test" },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if code := exitCode(runDemo(ctx, opts), &errb); code != exitOK {
		t.Fatalf("demo: exit %d, want %d (exactly its planted bugs found)\n%s", code, exitOK, errb.String())
	}
	runPath, htmlPath = filepath.Join(dir, demoRunFile), filepath.Join(dir, demoReportFile)
	for _, p := range []string{runPath, htmlPath} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("the demo did not write %s: %v\n%s", filepath.Base(p), err, errb.String())
		}
	}
	if !strings.Contains(errb.String(), "wrote "+htmlPath+" (html)") {
		t.Errorf("the demo does not say it wrote the report:\n%s", errb.String())
	}
	return runPath, htmlPath
}

func TestReportRendersASavedRun(t *testing.T) {
	runPath, _ := demoFiles(t)
	saved, err := os.ReadFile(runPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	htmlPath, junitPath, sarifPath := filepath.Join(dir, "a.html"), filepath.Join(dir, "b.xml"), filepath.Join(dir, "c.sarif")
	code, stdout, stderr := runCLI(t, nil, "report", runPath,
		"--out", "html="+htmlPath, "--out", "junit="+junitPath, "--out", "sarif="+sarifPath, "--out", "json=-")
	if code != exitOK {
		t.Fatalf("report: exit %d, want 0\n%s", code, stderr)
	}
	// Same run, same bytes: the JSON rendered again is the file read.
	if stdout != string(saved) {
		t.Errorf("report --out json=- did not give back the saved run byte for byte")
	}
	for _, p := range []string{htmlPath, junitPath, sarifPath} {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			t.Errorf("%s not written: %v", filepath.Base(p), err)
		}
	}
	saved2, err := model.ReadRun(bytes.NewReader(saved))
	if err != nil {
		t.Fatal(err)
	}
	var junit struct {
		Failures int `xml:"failures,attr"`
	}
	b, _ := os.ReadFile(junitPath)
	if err := xml.Unmarshal(b, &junit); err != nil {
		t.Fatalf("junit: %v", err)
	}
	if junit.Failures != saved2.Gate.Failing {
		t.Errorf("junit failures = %d, want the gate's failing findings (%d)", junit.Failures, saved2.Gate.Failing)
	}

	// Rendering twice gives the same bytes.
	again := filepath.Join(dir, "again.html")
	if code, _, stderr := runCLI(t, nil, "report", runPath, "--out", "html="+again); code != exitOK {
		t.Fatalf("report again: exit %d\n%s", code, stderr)
	}
	first, _ := os.ReadFile(htmlPath)
	second, _ := os.ReadFile(again)
	if !bytes.Equal(first, second) {
		t.Error("two renderings of the same run as HTML differ")
	}

	// Without --out, the text summary goes to stdout.
	code, stdout, _ = runCLI(t, nil, "report", runPath)
	if code != exitOK || !strings.Contains(stdout, "gate: FAILED") {
		t.Errorf("report without --out: exit %d, stdout:\n%s", code, stdout)
	}

	// From stdin.
	var out, errb bytes.Buffer
	io := ioStreams{In: bytes.NewReader(saved), Out: &out, Err: &errb}
	if code := run(context.Background(), []string{"report", "-", "--out", "markdown=-"}, io); code != exitOK || !strings.Contains(out.String(), "## ✖ permaudit: FAILED") {
		t.Errorf("report - from stdin: exit %d, stdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
}

func TestReportErrors(t *testing.T) {
	notRun := writeFile(t, "x.json", `{"hello": 1}`)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no such file", []string{"report", filepath.Join(t.TempDir(), "missing.json")}, "open the run"},
		{"not a run", []string{"report", notRun}, `no "schema" field`},
		{"unknown format", []string{"report", notRun, "--out", "pdf=x.pdf"}, `unknown output format "pdf"`},
		{"two outputs on stdout", []string{"report", notRun, "--out", "json=-", "--out", "csv=-"}, "only one output can go to stdout"},
		{"bad spec", []string{"report", notRun, "--out", "html"}, "want FORMAT=PATH"},
		{"no argument", []string{"report"}, "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, nil, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.want)
			}
		})
	}
}

// TestDemoReportInChromium opens the report `permaudit demo` writes in
// headless Chromium: it loads nothing, logs no error and shows a cell per
// probe. With PERMAUDIT_SCREENSHOT=1 it also writes docs/report.png, the
// screenshot in the README, with a leak's evidence open.
func TestDemoReportInChromium(t *testing.T) {
	br := browsertest.Start(t)
	runPath, htmlPath := demoFiles(t)
	f, err := os.Open(runPath)
	if err != nil {
		t.Fatal(err)
	}
	run, err := model.ReadRun(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	page := br.NewPage(t)
	u := "file://" + htmlPath
	ctx, cancel := context.WithTimeout(page.Ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#matrix tr.row td:not(.v-none)').length`))
	if err != nil {
		t.Fatal(err)
	}
	if n != run.Observations.Len() {
		t.Errorf("matrix cells with evidence: got %d, want one per probe (%d)", n, run.Observations.Len())
	}
	sel := `#matrix tr.row td.v-leak`
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { document.querySelector(%q).scrollIntoView({block: 'center'}); return true })()`, sel))); err != nil {
		t.Fatalf("the demo report shows no leak: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(sel)),
		chromedp.WaitVisible(chromedp.CSS(`#evidence pre.curl`)),
	); err != nil {
		t.Fatalf("open the evidence of the leak: %v", err)
	}
	title, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(`#evidence .ev-title`)))
	if err != nil || !strings.HasPrefix(title, "✖ leak: ") {
		t.Errorf("evidence of the leak cell: title %q (%v)", title, err)
	}
	for _, req := range page.Requests() {
		if req != u {
			t.Errorf("the demo report sent a request to %q", req)
		}
	}
	if errs := page.Errors(); len(errs) > 0 {
		t.Errorf("the demo report logged errors:\n%s", strings.Join(errs, "\n"))
	}
	if os.Getenv("PERMAUDIT_SCREENSHOT") == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "report.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Log("wrote docs/report.png")
}
