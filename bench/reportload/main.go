// Command reportload opens an HTML report in headless Chromium and prints,
// in milliseconds, how long the page took to load (the load event), to
// show its matrix (the first row drawn) and to apply three filters: the
// "leak" verdict filter (from the click to the second frame after it), a
// path filter (from typing to the status line saying what is shown, the
// page's typing pause included where filtering is slow enough to need
// one) and clearing the filters (from the click to the second frame). It
// also prints how many matrix rows are in the page, and the CPU time of
// the page's main thread for opening and for each filter
// (Performance.getMetrics TaskDuration), which a busy machine does not
// inflate as it does the wall-clock figures. bench/scale.sh's report
// figures (issue 12).
//
// Usage:
//
//	reportload FILE.html
//	reportload -gen N [-leak-every K] FILE.html
//
// With -gen, it first writes FILE.html from a generated run shaped like
// bench/scale.sh's (N endpoints /e/{id} x 5 roles, one template, a body
// excerpt per cell, one leak per K endpoints, 1,000 unless told), so that
// the report's figures can be measured without auditing a target.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/report"
)

func main() {
	gen := flag.Int("gen", 0, "write FILE.html first, from a generated run of `N` endpoints x 5 roles")
	leakEvery := flag.Int("leak-every", 1000, "with -gen, the auditor role leaks one endpoint in `K` (of those it may not read)")
	flag.Parse()
	if flag.NArg() != 1 {
		log.Fatal("usage: reportload [-gen N] FILE.html")
	}
	abs, err := filepath.Abs(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	if *gen > 0 {
		start := time.Now()
		if err := writeGenerated(abs, *gen, *leakEvery); err != nil {
			log.Fatal(err)
		}
		st, _ := os.Stat(abs)
		log.Printf("wrote %s (%d endpoints x 5 roles, %.1f MB) in %s", abs, *gen, float64(st.Size())/1e6, time.Since(start).Round(time.Millisecond))
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.NoSandbox, chromedp.Flag("disable-gpu", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // start the browser before timing
		log.Fatal(err)
	}
	// The main thread's CPU time, which other processes on a busy
	// machine do not inflate as they do the wall-clock figures.
	if _, err := chromedp.Call(ctx, performance.Enable, performance.EnableParams{TimeDomain: performance.EnableTimeDomainThreadTicks}); err != nil {
		log.Fatal(err)
	}
	cpu := func() float64 {
		m, err := chromedp.Call(ctx, performance.GetMetrics, cdp.Empty{})
		if err != nil {
			log.Fatal(err)
		}
		for _, x := range m.Metrics {
			if x.Name == "TaskDuration" {
				return x.Value * 1000
			}
		}
		log.Fatal("no TaskDuration metric")
		return 0
	}
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+abs)); err != nil {
		log.Fatal(err)
	}
	loaded := time.Since(start)
	// The matrix shows at the first frame after report.js drew it (its
	// mark "pa-matrix-drawn"), in the page's clock from navigation start;
	// chromedp's WaitVisible would fetch the whole DOM, evidence
	// included, and time that instead.
	marks, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`new Promise(res => requestAnimationFrame(() => requestAnimationFrame(() => {
		const m = name => { const e = performance.getEntriesByName(name)[0]; return e ? e.startTime : -1 };
		const row = document.querySelector('#matrix tr.row');
		res([row && row.getBoundingClientRect().height > 0 ? performance.now() : -1, m('pa-script'), m('pa-matrix-drawn'),
			performance.getEntriesByType('navigation')[0].loadEventStart]) })))`, chromedp.EvalAwaitPromise))
	if err != nil {
		log.Fatal(err)
	}
	if marks[0] < 0 {
		log.Fatal("the matrix shows no row")
	}
	shown := time.Duration(marks[0] * float64(time.Millisecond))
	c0 := cpu()
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#matrix tr.row').length`))
	if err != nil {
		log.Fatal(err)
	}
	// clickTime is the time from clicking sel to the second frame after.
	clickTime := func(sel string) float64 {
		ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf(`(async () => {
			const t0 = performance.now();
			document.querySelector(%q).click();
			await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
			return performance.now() - t0; })()`, sel), chromedp.EvalAwaitPromise))
		if err != nil {
			log.Fatal(err)
		}
		return ms
	}
	filter := clickTime(`#filters button[data-verdict="leak"]`)
	c1 := cpu()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`(async () => { document.getElementById('f-clear').click();
			await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
			const status = document.getElementById('f-status'), input = document.getElementById('f-text');
			const t0 = performance.now();
			input.value = '/e/12'; input.dispatchEvent(new Event('input'));
			await new Promise(r => new MutationObserver((_, o) => { o.disconnect(); r(); }).observe(status, { childList: true, characterData: true, subtree: true }));
			await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
			return performance.now() - t0; })()`, chromedp.EvalAwaitPromise))
	if err != nil {
		log.Fatal(err)
	}
	c2 := cpu()
	clear := clickTime(`#f-clear`)
	c3 := cpu()
	fmt.Printf("load_ms=%d matrix_ms=%d filter_ms=%.0f text_filter_ms=%.0f clear_ms=%.0f rows_in_page=%d open_cpu_ms=%.0f filter_cpu_ms=%.0f text_filter_cpu_ms=%.0f clear_cpu_ms=%.0f script_start_ms=%.0f matrix_drawn_ms=%.0f load_event_ms=%.0f\n",
		loaded.Milliseconds(), shown.Milliseconds(), filter, text, clear, rows, c0, c1-c0, c2-c1, c3-c2, marks[1], marks[2], marks[3])
}

// writeGenerated writes the HTML report of a generated run to path.
func writeGenerated(path string, n, leakEvery int) error {
	r := generatedRun(n, leakEvery)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	w, err := report.WriterFor("html")
	if err != nil {
		return err
	}
	if err := w.Write(bw, r); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// generatedRun is a run of n endpoints x 5 roles shaped like the one
// bench/scale.sh audits: reader and admin read everything, editor every
// other endpoint, auditor every third, anonymous nothing (401); auditor
// reads every leakEvery-th endpoint it should not (a leak, a finding).
func generatedRun(n, leakEvery int) *model.Run {
	const target = "http://127.0.0.1:8080"
	started := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	roles := []model.RoleInfo{{Name: "anonymous", SignIn: "none"}, {Name: "reader", SignIn: "bearer"},
		{Name: "editor", SignIn: "form"}, {Name: "auditor", SignIn: "bearer"}, {Name: "admin", SignIn: "bearer"}}
	r := &model.Run{
		Schema: model.SchemaVersion, Tool: model.Tool{Name: "permaudit", Version: "bench"}, RunID: "reportload-" + strconv.Itoa(n),
		Target: target, Started: started, Finished: started.Add(time.Minute), Duration: time.Minute,
		ConfigFile: "bench.yaml", ConfigFingerprint: "bench", Roles: roles, Gate: model.Gate{FailOn: model.DefaultFailOn},
		Complete: true, Inventory: model.Inventory{Pages: map[string]int{}}, Findings: []model.Finding{}, Notes: []model.Finding{},
		Counts: map[model.Verdict]int{},
	}
	r.Observations = model.NewCells(0)
	for i := 0; i < n; i++ {
		u := target + "/e/" + strconv.Itoa(i)
		r.Inventory.Entries = append(r.Inventory.Entries, model.Entry{Endpoint: model.Endpoint{Method: "GET", URL: u}, Template: "GET /e/{id}",
			FoundBy: []string{"admin"}, Sources: []string{"link"}})
		for _, ri := range roles {
			allow := ri.Name == "reader" || ri.Name == "admin" || ri.Name == "editor" && i%2 == 0 || ri.Name == "auditor" && i%3 == 0
			leak := ri.Name == "auditor" && !allow && i%leakEvery == 1%leakEvery
			c := model.Cell{
				Observation: model.Observation{Endpoint: model.Endpoint{Method: "GET", URL: u}, Role: ri.Name, Latency: 900 * time.Microsecond},
				Template:    "GET /e/{id}", Expected: "deny", Rule: fmt.Sprintf("rule %d (GET /e/%d)", i+2, i), Verdict: model.Pass,
			}
			switch {
			case allow || leak:
				c.Status, c.Class, c.Why = 200, model.Allowed, "status 200"
				c.Excerpt = fmt.Sprintf("<!doctype html><title>endpoint %d</title><h1>endpoint %d</h1><ul></ul>", i, i)
				c.ContentType, c.Size = "text/html; charset=utf-8", int64(len(c.Excerpt))
			case ri.Name == "anonymous":
				c.Status, c.Class, c.Why, c.Excerpt = 401, model.Unauthenticated, "status 401", "unauthorized"
			default:
				c.Status, c.Class, c.Why, c.Excerpt = 403, model.Forbidden, "status 403", "forbidden"
			}
			if allow {
				c.Expected = "allow"
			}
			if leak {
				c.Verdict = model.Leak
				r.Findings = append(r.Findings, model.Finding{Verdict: model.Leak, Severity: model.Leak.Severity(), Method: "GET", URL: u,
					Path: model.PathOf(u), Template: c.Template, Role: ri.Name, Expected: "deny", Observed: "200", Rule: c.Rule,
					Message: "GET " + model.PathOf(u) + " as " + ri.Name + ": expected deny, got 200", Cell: r.Observations.Len(),
					Fingerprint: model.Fingerprint(model.Leak, "GET", u, ri.Name)})
				r.Gate.Failing++
			}
			r.Counts[c.Verdict]++
			r.Observations.Append(c)
		}
	}
	r.Gate.Failed = r.Gate.Failing > 0
	return r
}
