// Package browsertest runs a real headless Chromium for tests, with
// chromedp, and records what each page does: every network request it
// sends and every console error, exception or browser log error.
//
// Start finds the browser ($PERMAUDIT_CHROME, or chromium, chromium-browser,
// google-chrome, google-chrome-stable or headless_shell on PATH). Without
// one the test is skipped with a message saying how to install it, except
// when the environment has CI=true, where a missing browser fails the test.
// The browser runs with a fresh profile directory, without a sandbox (CI
// runs as root), without GPU, QUIC, first-run pages, background
// networking, component updates or sync, so that it sends nothing on its
// own.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Install says how to get a browser for these tests.
const Install = "install Chromium (Debian: apt-get install -y chromium) or set PERMAUDIT_CHROME to a Chrome or Chromium binary"

// Find returns the browser to use and whether there is one.
func Find() (string, bool) {
	if p := os.Getenv("PERMAUDIT_CHROME"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
		return "", false
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// Browser is a running headless browser.
type Browser struct {
	ctx context.Context
}

// Start starts a browser for tb, stopped when tb ends; without a browser
// it skips tb (fails it when CI=true).
func Start(tb testing.TB) *Browser {
	tb.Helper()
	path, ok := Find()
	if !ok {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("no Chromium found and CI=true: %s", Install)
		}
		tb.Skipf("no Chromium found, so the browser test is skipped: %s", Install)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.DisableGPU,
		chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	tb.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first action starts the browser, which lives as long as the
	// context of that action: so no time-out here.
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start %s: %v", path, err)
	}
	return &Browser{ctx: ctx}
}

// Page is one tab of the browser whose requests and errors are recorded.
type Page struct {
	// Ctx runs chromedp actions in the tab.
	Ctx context.Context

	mu       sync.Mutex
	requests []string
	errors   []string
}

// NewPage opens a tab, closed when tb ends.
func (b *Browser) NewPage(tb testing.TB) *Page {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	tb.Cleanup(cancel)
	p := &Page{Ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("open a tab: %v", err)
	}
	if err := chromedp.Listen(ctx, p.record); err != nil {
		tb.Fatalf("listen to the tab: %v", err)
	}
	return p
}

func (p *Page) record(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Request != nil {
			p.requests = append(p.requests, ev.Request.URL)
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, string(a.Value))
				}
			}
			p.errors = append(p.errors, "console."+string(ev.Type)+": "+strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		if d := ev.ExceptionDetails; d != nil {
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			p.errors = append(p.errors, fmt.Sprintf("exception at %d:%d: %s", d.LineNumber, d.ColumnNumber, msg))
		}
	case *cdplog.EventEntryAdded:
		if e := ev.Entry; e != nil && e.Level == cdplog.EntryLevelError {
			p.errors = append(p.errors, "log "+string(e.Source)+": "+e.Text)
		}
	}
}

// Requests returns the URL of every request the tab sent, in order.
func (p *Page) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// Errors returns every console error, uncaught exception and error entry
// of the browser log (a refused Content-Security-Policy among them).
func (p *Page) Errors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}
