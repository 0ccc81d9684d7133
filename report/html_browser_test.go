package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/permaudit/permaudit/internal/browsertest"
	"github.com/permaudit/permaudit/model"
)

// writeReport renders r as HTML into a temporary file and returns its
// file:// URL and size.
func writeReport(tb testing.TB, r *model.Run) (string, int) {
	tb.Helper()
	var b bytes.Buffer
	if err := (htmlWriter{}).Write(&b, r); err != nil {
		tb.Fatalf("write html: %v", err)
	}
	path := filepath.Join(tb.TempDir(), "report.html")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return fileURL(path), b.Len()
}

// openReport renders r and loads it in a new tab of br.
func openReport(tb testing.TB, br *browsertest.Browser, r *model.Run) (*browsertest.Page, string) {
	tb.Helper()
	u, _ := writeReport(tb, r)
	page := br.NewPage(tb)
	ctx, cancel := context.WithTimeout(page.Ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		tb.Fatalf("open %s: %v", u, err)
	}
	return page, u
}

// eval evaluates a JavaScript expression in the page (awaiting a promise).
func eval[T any](tb testing.TB, page *browsertest.Page, expr string) T {
	tb.Helper()
	ctx, cancel := context.WithTimeout(page.Ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// click clicks the element sel with the mouse, as a person would, after
// scrolling it to the middle of the window (away from the sticky filter
// bar).
func click(tb testing.TB, page *browsertest.Page, sel string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(page.Ctx, 30*time.Second)
	defer cancel()
	// Wait two frames after scrolling: a section with content-visibility
	// takes its real size once on screen, which moves what is below.
	center := fmt.Sprintf(`new Promise(res => { const e = document.querySelector(%q); if (!e) { res(false); return }
		e.scrollIntoView({block: 'center', inline: 'nearest'});
		requestAnimationFrame(() => requestAnimationFrame(() => { e.scrollIntoView({block: 'center', inline: 'nearest'}); res(true) })) })`, sel)
	found, err := chromedp.Run(ctx, chromedp.Evaluate[bool](center, chromedp.EvalAwaitPromise))
	if err != nil || !found {
		tb.Fatalf("click %s: no such element (%v)", sel, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		tb.Fatalf("click %s: %v", sel, err)
	}
}

// openEvidence clicks sel and waits until the evidence of cell i shows
// (the evidence is decoded asynchronously on the first click).
func openEvidence(tb testing.TB, page *browsertest.Page, sel string, i int) {
	tb.Helper()
	click(tb, page, sel)
	ok := eval[bool](tb, page, fmt.Sprintf(`new Promise(res => { const t0 = performance.now(); (function poll() {
		const p = document.getElementById('evidence');
		if (!p.hidden && p.getAttribute('data-cell') === '%d') { res(true) }
		else if (performance.now() - t0 > 10000) { res(false) } else { setTimeout(poll, 10) } })() })`, i))
	if !ok {
		tb.Fatalf("clicking %s did not show the evidence of cell %d", sel, i)
	}
}

// cellSel marks the matrix cell of observation i, found from the layout
// the server rendered, and returns a selector for it. A click on it must
// then show the evidence of i: the page maps cells to observations by
// its own index.
func cellSel(tb testing.TB, page *browsertest.Page, r *model.Run, i int) string {
	tb.Helper()
	m := buildMatrix(r, matrixRoles(r))
	k := 0
	for _, g := range m.Groups {
		for _, t := range g.Templates {
			for _, row := range t.Rows {
				for j, c := range row.Cells {
					if c.Index == i {
						eval[bool](tb, page, fmt.Sprintf(`(() => {
							document.querySelectorAll('[data-test-cell]').forEach(e => e.removeAttribute('data-test-cell'));
							document.querySelectorAll('#matrix tr.row')[%d].cells[%d].setAttribute('data-test-cell', '');
							return true })()`, k, j+1))
						return `#matrix td[data-test-cell]`
					}
				}
				k++
			}
		}
	}
	tb.Fatalf("observation %d is in no matrix cell", i)
	return ""
}

// visibleRows are the endpoint cells of the matrix rows shown.
const visibleRows = `Array.from(document.querySelectorAll('#matrix tr.row'))
	.filter(tr => tr.closest('[hidden]') === null)
	.map(tr => tr.cells[0].textContent)`

// visibleListed are the verdicts of the findings and notes rows shown.
const visibleListed = `Array.from(document.querySelectorAll('tr.frow'))
	.filter(tr => !tr.hidden).map(tr => tr.dataset.verdict)`

// checkClean fails when the page sent any request but the report's own,
// or logged any error.
func checkClean(t *testing.T, page *browsertest.Page, u string) {
	t.Helper()
	for _, req := range page.Requests() {
		if req != u && !strings.HasPrefix(req, "data:") {
			t.Errorf("the report sent a request to %q; it must load nothing", req)
		}
	}
	if errs := page.Errors(); len(errs) > 0 {
		t.Errorf("the report logged errors:\n%s", strings.Join(errs, "\n"))
	}
}

func sortedKeys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestHTMLReportInChromium drives the report in a real headless Chromium
// (one browser for every subtest; skipped without one unless CI=true).
func TestHTMLReportInChromium(t *testing.T) {
	br := browsertest.Start(t)
	t.Run("rich", func(t *testing.T) { testRichReport(t, br) })
	t.Run("hostile", func(t *testing.T) { testHostileReport(t, br) })
	// The same with the findings and notes as data drawn by window, as
	// a list longer than listRowsMax is: filters, sorting, evidence and
	// print work alike, and target strings stay text.
	t.Run("rich, lists as data", func(t *testing.T) { withListRowsMax(t, 0); testRichReport(t, br) })
	t.Run("hostile, lists as data", func(t *testing.T) { withListRowsMax(t, 0); testHostileReport(t, br) })
	t.Run("body checks and baseline", func(t *testing.T) { testBaselinedReport(t, br) })
	t.Run("role headers and keyboard", func(t *testing.T) { testMatrixHeadersAndKeyboard(t, br) })
	t.Run("large matrix drawn by window", func(t *testing.T) { testLargeMatrix(t, br) })
	t.Run("long lists drawn by window", func(t *testing.T) { testLongLists(t, br) })
}

// withListRowsMax sets listRowsMax to n for the rest of the test.
func withListRowsMax(t *testing.T, n int) {
	old := listRowsMax
	listRowsMax = n
	t.Cleanup(func() { listRowsMax = old })
}

// testLongLists: findings sent as data put only a window of their rows
// in the page; scrolling the list draws the others; sorting orders them
// all; printing draws every one.
func testLongLists(t *testing.T, br *browsertest.Browser) {
	withListRowsMax(t, 0)
	r := bigRun(5000, 5)
	n := len(r.Findings)
	page, _ := openReport(t, br, r)
	const listed = `Array.from(document.querySelectorAll('#findings tr.frow')).map(tr => tr.cells[2].textContent + ' ' + tr.cells[3].textContent)`
	first := eval[[]string](t, page, listed)
	if len(first) == 0 || len(first) >= n || len(first) > 400 {
		t.Fatalf("%d findings rows in the page, want a window of at most 400 of the %d", len(first), n)
	}
	want := func(f model.Finding) string { return f.Method + " " + f.Path + " " + f.Role }
	if first[0] != want(r.Findings[0]) {
		t.Errorf("first finding drawn %q, want %q", first[0], want(r.Findings[0]))
	}
	// The first finding's evidence is opened; its row keeps the outline
	// when the window is drawn again, scrolled away and back.
	click(t, page, `#findings-rows tr.frow[data-k="0"]`)
	scroll := func(to string) {
		eval[bool](t, page, `new Promise(res => { const s = document.getElementById('findings-scroll'); s.scrollTop = `+to+`;
		requestAnimationFrame(() => requestAnimationFrame(() => res(true))) })`)
	}
	scroll("s.scrollHeight")
	if got := eval[[]string](t, page, listed); len(got) == 0 || got[len(got)-1] != want(r.Findings[n-1]) || slices.Contains(got, first[0]) {
		t.Errorf("scrolled to the end: %d findings drawn, the last %q; want the last %q and not the first", len(got), got[len(got)-1], want(r.Findings[n-1]))
	}
	scroll("0")
	const outlined = `Array.from(document.querySelectorAll('#findings tr.sel')).map(tr => tr.getAttribute('data-k'))`
	if got := eval[[]string](t, page, outlined); !slices.Equal(got, []string{"0"}) {
		t.Errorf("scrolled away and back: rows outlined %q, want the first finding's (data-k 0) alone", got)
	}
	// The keyboard reaches the last finding and back, drawing each
	// window; Page Down moves about a window's worth of rows, and the row
	// it reaches is on screen.
	eval[bool](t, page, `(() => { document.querySelector('#findings-rows tr.frow[data-k="0"]').focus(); return true })()`)
	ctx, cancel := context.WithTimeout(page.Ctx, 20*time.Second)
	defer cancel()
	const focused = `(() => { const a = document.activeElement; return a && a.classList.contains('frow') ? a.cells[2].textContent + ' ' + a.cells[3].textContent : '' })()`
	for _, step := range []struct {
		key  string
		want int
	}{{kb.End, n - 1}, {kb.ArrowUp, n - 2}, {kb.Home, 0}, {kb.ArrowDown, 1}} {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(step.key)); err != nil {
			t.Fatal(err)
		}
		if got := eval[string](t, page, focused); got != want(r.Findings[step.want]) {
			t.Fatalf("after %s the focus is on %q, want finding %d, %q", keyName[step.key], got, step.want, want(r.Findings[step.want]))
		}
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.PageDown)); err != nil {
		t.Fatal(err)
	}
	k := eval[int](t, page, `+document.activeElement.getAttribute('data-k')`)
	onScreen := eval[bool](t, page, `(() => { const s = document.getElementById('findings-scroll').getBoundingClientRect(), b = document.activeElement.getBoundingClientRect();
		return b.height > 0 && b.top >= s.top && b.bottom <= s.bottom + 1 })()`)
	if k < 10 || k > 400 || !onScreen {
		t.Errorf("Page Down from finding 1 reached finding %d (on screen: %v), want one about a window further, on screen", k, onScreen)
	}
	scroll("0")
	// Sorted by role, descending: the window, back at the top, shows the
	// last roles first.
	click(t, page, `#findings-table th:nth-child(4)`)
	click(t, page, `#findings-table th:nth-child(4)`)
	roles := eval[[]string](t, page, `Array.from(document.querySelectorAll('#findings tr.frow')).map(tr => tr.cells[3].textContent)`)
	maxRole := ""
	for _, f := range r.Findings {
		maxRole = max(maxRole, f.Role)
	}
	if len(roles) == 0 || roles[0] != maxRole || !slices.IsSortedFunc(roles, func(a, b string) int { return strings.Compare(b, a) }) {
		t.Errorf("sorted by role, descending: %q, want them from %q down", roles, maxRole)
	}
	eval[bool](t, page, `window.dispatchEvent(new Event('beforeprint'))`)
	if got := eval[int](t, page, `document.querySelectorAll('#findings tr.frow').length`); got != n {
		t.Errorf("printing: %d findings rows drawn, want all %d", got, n)
	}
	eval[bool](t, page, `window.dispatchEvent(new Event('afterprint'))`)
	if got := eval[int](t, page, `document.querySelectorAll('#findings tr.frow').length`); got >= n {
		t.Errorf("after printing: %d findings rows drawn, want a window again", got)
	}
}

// keyName names the keys the keyboard tests press, for their messages.
var keyName = map[string]string{kb.ArrowDown: "ArrowDown", kb.ArrowUp: "ArrowUp", kb.PageDown: "PageDown", kb.PageUp: "PageUp", kb.Home: "Home", kb.End: "End"}

// testRowKeys: in list (findings or notes), from its first row, the
// arrow keys, End and Home move the focus over the rows shown that open
// evidence, in the order shown.
func testRowKeys(t *testing.T, page *browsertest.Page, list string) {
	t.Helper()
	const text = `tr => Array.from(tr.cells).map(c => c.textContent).join(' | ')`
	rows := eval[[]string](t, page, `Array.from(document.querySelectorAll('#`+list+` tbody tr.frow')).filter(tr => !tr.hidden && tr.tabIndex >= 0).map(`+text+`)`)
	if len(rows) < 3 {
		t.Fatalf("%d %s rows open evidence, want at least 3 to move over", len(rows), list)
	}
	eval[bool](t, page, `(() => { document.querySelector('#`+list+` tbody tr.frow[tabindex="0"]:not([hidden])').focus(); return true })()`)
	ctx, cancel := context.WithTimeout(page.Ctx, 10*time.Second)
	defer cancel()
	last := len(rows) - 1
	for _, step := range []struct {
		key  string
		want int
	}{{kb.ArrowDown, 1}, {kb.End, last}, {kb.ArrowDown, last}, {kb.ArrowUp, last - 1}, {kb.Home, 0}, {kb.ArrowUp, 0}, {kb.PageDown, last}} {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(step.key)); err != nil {
			t.Fatal(err)
		}
		got := eval[string](t, page, `(() => { const a = document.activeElement; return a && a.classList.contains('frow') ? (`+text+`)(a) : '' })()`)
		if got != rows[step.want] {
			t.Fatalf("%s: after %s the focus is on row %d %q, want row %d of %d, %q", list, keyName[step.key], slices.Index(rows, got), got, step.want, len(rows), rows[step.want])
		}
	}
}

// testLargeMatrix: a matrix of 5,000 endpoints x 5 roles puts only a
// window of its rows in the page; scrolling draws the others; filters
// work over every row, not only those drawn (a leak far down is found);
// the keyboard reaches the last row; a cell far down opens its own
// evidence.
func testLargeMatrix(t *testing.T, br *browsertest.Browser) {
	const endpoints = 5000
	r := bigRun(endpoints, 5)
	m := buildHTMLMatrix(r, matrixRoles(r))
	rowText := func(k int) string { return m.rows[k].method + " " + m.rows[k].path }
	page, u := openReport(t, br, r)

	drawn := `Array.from(document.querySelectorAll('#matrix tr.row')).map(tr => tr.cells[0].textContent)`
	rows := eval[[]string](t, page, drawn)
	if len(rows) == 0 || len(rows) > 400 {
		t.Fatalf("%d rows in the page at first, want a window of at most 400 of the %d", len(rows), endpoints)
	}
	if rows[0] != rowText(0) {
		t.Errorf("first row drawn: %q, want %q", rows[0], rowText(0))
	}
	if h := eval[float64](t, page, `document.getElementById('matrix-groups').scrollHeight`); h < endpoints*15 {
		t.Errorf("the matrix scrolls over %.0f pixels, want the height of all %d rows", h, endpoints)
	}

	// Scrolled to the end, the last rows are drawn and the first are not.
	scrollEnd := `new Promise(res => { const s = document.getElementById('matrix-groups'); s.scrollTop = s.scrollHeight;
		requestAnimationFrame(() => requestAnimationFrame(() => res(true))) })`
	eval[bool](t, page, scrollEnd)
	rows = eval[[]string](t, page, drawn)
	if len(rows) == 0 || len(rows) > 400 || rows[len(rows)-1] != rowText(len(m.rows)-1) || slices.Contains(rows, rowText(0)) {
		t.Errorf("scrolled to the end: %d rows drawn, last %q; want at most 400, the last %q, not the first", len(rows), rows[len(rows)-1], rowText(len(m.rows)-1))
	}
	shown := eval[bool](t, page, `(() => { const s = document.getElementById('matrix-groups').getBoundingClientRect();
		const rows = document.querySelectorAll('#matrix tr.row'); const b = rows[rows.length - 1].getBoundingClientRect();
		return b.height > 0 && b.bottom <= s.bottom + 1 && b.top >= s.top })()`)
	if !shown {
		t.Error("scrolled to the end, the last row is not on screen")
	}

	// A leak far down: the last row holding one.
	far, farCell := -1, -1
	for k := len(m.rows) - 1; k >= 0 && far < 0; k-- {
		for j, ci := range m.rows[k].cells {
			if ci >= 0 && r.Observations.At(int(ci)).Verdict == model.Leak {
				far, farCell = k, j
				break
			}
		}
	}
	if far < len(m.rows)/2 {
		t.Fatalf("no leak in the second half of the fixture (row %d)", far)
	}
	eval[bool](t, page, `new Promise(res => { const s = document.getElementById('matrix-groups'); s.scrollTop = 0;
		requestAnimationFrame(() => requestAnimationFrame(() => res(true))) })`)
	if slices.Contains(eval[[]string](t, page, drawn), rowText(far)) {
		t.Fatalf("row %d (%s) is drawn at the top of the matrix: the fixture is too small", far, rowText(far))
	}
	// The path filter finds it.
	eval[bool](t, page, fmt.Sprintf(`new Promise(res => { const i = document.getElementById('f-text'); i.value = %q; i.dispatchEvent(new Event('input'));
		setTimeout(() => requestAnimationFrame(() => res(true)), 300) })`, m.rows[far].path))
	if got := eval[[]string](t, page, drawn); !slices.Contains(got, rowText(far)) {
		t.Errorf("filtered by the path %q: rows %q, want %q among them", m.rows[far].path, got, rowText(far))
	}
	click(t, page, `#f-clear`)
	// Where filtering is slow (here the CPU throttled until clearing the
	// filters again costs over 60ms, 20 times or more), the path filter
	// waits for a 120ms pause in typing instead of filtering at each
	// key: nothing is filtered between two keys 30ms apart, and the
	// rows shown follow the second key at least 120ms after it.
	for rate := 20.0; ; rate *= 2 {
		if _, err := chromedp.Call(page.Ctx, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: rate}); err != nil {
			t.Fatal(err)
		}
		cost := eval[float64](t, page, `(() => { const t0 = performance.now(); document.getElementById('f-clear').click(); return performance.now() - t0 })()`)
		if cost >= 60 {
			break
		}
		if rate >= 160 {
			t.Fatalf("clearing the filters takes %.0fms with the CPU throttled %.0f times: too fast to test a slow filter", cost, rate)
		}
	}
	typed := eval[[]float64](t, page, fmt.Sprintf(`new Promise(res => {
		const status = document.getElementById('f-status'), input = document.getElementById('f-text'), seen = [];
		new MutationObserver(() => seen.push(performance.now())).observe(status, { childList: true, characterData: true, subtree: true });
		input.value = '/'; input.dispatchEvent(new Event('input'));
		setTimeout(() => {
			const before = seen.length;
			input.value = %q; input.dispatchEvent(new Event('input'));
			const t1 = performance.now();
			const wait = () => seen.length > before ? res([before, seen[before] - t1]) : setTimeout(wait, 10);
			wait();
		}, 30) })`, m.rows[far].path))
	if _, err := chromedp.Call(page.Ctx, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: 1}); err != nil {
		t.Fatal(err)
	}
	if typed[0] != 0 || typed[1] < 115 {
		t.Errorf("slow filtering: %v filters between two keys 30ms apart, rows shown %.0fms after the second; want 0 and at least 120ms", typed[0], typed[1])
	}
	if got := eval[[]string](t, page, drawn); !slices.Contains(got, rowText(far)) {
		t.Errorf("slow filtering, by the path %q: rows %q, want %q among them", m.rows[far].path, got, rowText(far))
	}
	click(t, page, `#f-clear`)

	// The leak filter keeps every row with a leak, counted over all rows.
	leakRows := 0
	for _, row := range m.rows {
		for _, ci := range row.cells {
			if ci >= 0 && r.Observations.At(int(ci)).Verdict == model.Leak {
				leakRows++
				break
			}
		}
	}
	click(t, page, `#filters button[data-verdict="leak"]`)
	if got, want := eval[string](t, page, `document.getElementById('f-status').textContent`), fmt.Sprintf("%d of %d endpoints", leakRows, endpoints); !strings.HasPrefix(got, want) {
		t.Errorf("leak filter status: %q, want it to start %q", got, want)
	}
	eval[bool](t, page, scrollEnd)
	rows = eval[[]string](t, page, drawn)
	if len(rows) == 0 || rows[len(rows)-1] != rowText(far) {
		t.Errorf("leak filter, scrolled to the end: last row drawn %q, want %q", rows, rowText(far))
	}
	// The far leak's cell opens its own evidence.
	i := int(m.rows[far].cells[farCell])
	eval[bool](t, page, fmt.Sprintf(`(() => { document.querySelectorAll('[data-test-cell]').forEach(e => e.removeAttribute('data-test-cell'));
		const rows = document.querySelectorAll('#matrix tr.row'); rows[rows.length - 1].cells[%d].setAttribute('data-test-cell', ''); return true })()`, farCell+1))
	openEvidence(t, page, `#matrix td[data-test-cell]`, i)
	if got, want := eval[string](t, page, `document.querySelector('#evidence .ev-title').textContent`), "✖ leak: "+rowText(far)+" as "+r.Observations.At(i).Role; got != want {
		t.Errorf("evidence of the far leak: %q, want %q", got, want)
	}
	click(t, page, `#evidence [data-close]`)
	click(t, page, `#f-clear`)

	// The keyboard: Ctrl+End from the first cell reaches the last row,
	// which is then drawn and focused; Page Up moves back a screen.
	ctx, cancel := context.WithTimeout(page.Ctx, 30*time.Second)
	defer cancel()
	const active = `(() => { const a = document.activeElement; const td = a && a.closest && a.closest('#matrix tr.row > td');
		return td ? td.closest('tr').cells[0].textContent : '' })()`
	eval[bool](t, page, `(() => { document.querySelector('#matrix td[tabindex="0"]').focus(); return true })()`)
	if got := eval[string](t, page, active); got != rowText(0) {
		t.Fatalf("the tab stop is on %q, want the first row %q", got, rowText(0))
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.End, chromedp.KeyModifiers(chromedp.ModifierCtrl))); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, page, active); got != rowText(len(m.rows)-1) {
		t.Errorf("after Ctrl+End: focus on %q, want the last row %q", got, rowText(len(m.rows)-1))
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.PageUp)); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](t, page, active); got == "" || got == rowText(len(m.rows)-1) {
		t.Errorf("after Page Up: focus on %q, want a row a screen above the last", got)
	}
	if n := eval[int](t, page, `document.querySelectorAll('#matrix-groups td[tabindex="0"]').length`); n != 1 {
		t.Errorf("%d tab stops in the matrix, want 1", n)
	}
	checkClean(t, page, u)
}

// testMatrixHeadersAndKeyboard: with eight roles in a 900-pixel window,
// the matrix cut every role header to about six characters
// ("subscriber" and "subscriber-rest" both read "subscr…"), and no cell
// could be reached with the keyboard. Each header now shows its whole
// name, Tab reaches the matrix, the arrow keys move between cells and
// Enter opens a cell's evidence, Escape closes it and focus returns.
func testMatrixHeadersAndKeyboard(t *testing.T, br *browsertest.Browser) {
	roles := append(slices.Clone(fixtureRoles),
		model.RoleInfo{Name: "subscriber", SignIn: "cookies"}, model.RoleInfo{Name: "subscriber-rest", SignIn: "bearer"},
		model.RoleInfo{Name: "billing-readonly", SignIn: "bearer"}, model.RoleInfo{Name: "auditor", SignIn: "basic"})
	r := fixtureRun(roles, richEndpoints())
	u, _ := writeReport(t, r)
	page := br.NewPage(t)
	ctx, cancel := context.WithTimeout(page.Ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 900, Height: 800, DeviceScaleFactor: 1}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		t.Fatal(err)
	}
	cut := eval[[]string](t, page, `Array.from(document.querySelectorAll('#matrix thead th[data-role]'))
		.filter(th => th.scrollWidth > th.clientWidth + 1 || th.getBoundingClientRect().width < 20).map(th => th.textContent)`)
	if len(cut) > 0 {
		t.Errorf("role headers cut at 900 pixels: %q", cut)
	}
	if got := eval[int](t, page, `document.querySelectorAll('#matrix thead th[data-role]').length`); got == 0 {
		t.Fatal("no role header in the matrix")
	}

	key := func(k string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.KeyEvent(k)); err != nil {
			t.Fatalf("key %q: %v", k, err)
		}
	}
	const active = `(() => { const a = document.activeElement; const td = a && a.closest && a.closest('#matrix tr.row > td');
		return td ? [td.closest('tr').cells[0].textContent, document.querySelectorAll('#matrix thead th')[td.cellIndex].textContent].join(' as ') : '' })()`
	eval[bool](t, page, `(() => { document.getElementById('f-clear').focus(); return true })()`)
	reached := ""
	for range 80 { // the filters, the table of contents, then the matrix
		key(kb.Tab)
		if reached = eval[string](t, page, active); reached != "" {
			break
		}
	}
	if reached != "GET / as anonymous" {
		t.Fatalf("Tab reached %q, want the first matrix cell, GET / as anonymous", reached)
	}
	key(kb.ArrowRight)
	key(kb.ArrowDown)
	if got := eval[string](t, page, active); got != "GET /account/ as customer" {
		t.Errorf("after → and ↓: focus on %q, want GET /account/ as customer", got)
	}
	if n := eval[int](t, page, `document.querySelectorAll('#matrix-groups td[tabindex="0"]').length`); n != 1 {
		t.Errorf("%d tab stops in the matrix, want 1 (roving tabindex)", n)
	}
	key(kb.Enter)
	i := cellIndex(t, r, "customer", "/account/")
	ok := eval[bool](t, page, fmt.Sprintf(`new Promise(res => { const t0 = performance.now(); (function poll() {
		const p = document.getElementById('evidence');
		if (!p.hidden && p.getAttribute('data-cell') === '%d') { res(true) }
		else if (performance.now() - t0 > 10000) { res(false) } else { setTimeout(poll, 10) } })() })`, i))
	if !ok {
		t.Fatal("Enter on a matrix cell did not show its evidence")
	}
	key(kb.Escape)
	if hidden := eval[bool](t, page, `document.getElementById('evidence').hidden`); !hidden {
		t.Error("Escape did not close the evidence")
	}
	if got := eval[string](t, page, active); got != "GET /account/ as customer" {
		t.Errorf("after Escape: focus on %q, want back on the cell", got)
	}
	// Filtered out, the tab stop's row gives it to the first row shown.
	click(t, page, `#filters button[data-verdict="leak"]`)
	if got := eval[string](t, page, `(() => { const td = document.querySelector('#matrix-groups td[tabindex="0"]');
		return td && td.closest('[hidden]') === null ? td.closest('tr').cells[0].textContent : '' })()`); got != "GET /admin/" {
		t.Errorf("with the leak filter, the tab stop is on %q, want the first row shown, GET /admin/", got)
	}
	click(t, page, `#f-clear`)
	checkClean(t, page, u)
}

// testBaselinedReport: a cell whose rule checked the body shows the
// checks in its evidence, one item each; a cell without shows no such
// row; the Changes section follows the summary.
func testBaselinedReport(t *testing.T, br *browsertest.Browser) {
	r := baselinedRun()
	page, u := openReport(t, br, r)
	if got, want := eval[[]string](t, page, `Array.from(document.querySelectorAll('main > section')).map(s => s.id)`),
		[]string{"summary", "changes", "matrix", "findings", "notes", "coverage"}; !slices.Equal(got, want) {
		t.Errorf("sections: got %q, want %q", got, want)
	}
	const checks = `(() => { const dt = Array.from(document.querySelectorAll('#evidence dt')).find(e => e.textContent === 'Body checks');
		return dt ? Array.from(dt.nextElementSibling.querySelectorAll('ul > li')).map(li => li.textContent) : null })()`
	for _, tc := range []struct {
		role, path, answer string
		want               []string
	}{
		{"customer", "/api/notes", "✖ 200 b✖", []string{`pass: body contains "items"`, `fail: items[*].owner equals "{self.user_id}": items[1].owner is "u2", want "u1"`}},
		{"support", "/api/notes", "⚠ 200 b?", []string{`undecided: items[*].owner equals "{self.user_id}": the body was cut at the size cap before the check could decide; raise crawl.max_body`, `pass: body contains "items"`}},
		{"admin", "/api/notes", "✓ 200 b✓", []string{`pass: items[*].owner equals "{self.user_id}"`, `pass: body contains "items"`}},
		{"support", "/admin/", "✖ 200", nil},
	} {
		t.Run(tc.role+" "+tc.path, func(t *testing.T) {
			i := cellIndex(t, r, tc.role, tc.path)
			sel := cellSel(t, page, r, i)
			if got := eval[string](t, page, `document.querySelector('`+sel+`').textContent`); got != tc.answer {
				t.Errorf("cell text: got %q, want %q", got, tc.answer)
			}
			openEvidence(t, page, sel, i)
			got := eval[[]string](t, page, checks)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Body checks row: got %q, want %q", got, tc.want)
			}
			click(t, page, `#evidence [data-close]`)
		})
	}
	checkClean(t, page, u)
}

// testRichReport: no console error, no request, the right number of
// cells, filters hide the right rows, a click shows a cell's evidence.
func testRichReport(t *testing.T, br *browsertest.Browser) {
	r := fixtureRun(fixtureRoles, richEndpoints())
	page, u := openReport(t, br, r)

	endpoints := len(richEndpoints())
	if got, want := eval[int](t, page, `document.querySelectorAll('#matrix tr.row td').length`), endpoints*len(fixtureRoles); got != want {
		t.Errorf("matrix cells: got %d, want %d (%d endpoints x %d roles)", got, want, endpoints, len(fixtureRoles))
	}
	if got, want := eval[int](t, page, `document.querySelectorAll('#matrix tr.row td:not(.v-none)').length`), r.Observations.Len(); got != want {
		t.Errorf("matrix cells with evidence: got %d, want %d (one per observation)", got, want)
	}
	if got, want := eval[[]string](t, page, `Array.from(document.querySelectorAll('main > section')).map(s => s.id)`),
		[]string{"summary", "matrix", "findings", "notes", "coverage"}; !slices.Equal(got, want) {
		t.Errorf("sections: got %q, want %q", got, want)
	}

	filters := []struct {
		name    string
		clicks  []string
		role    string
		rows    []string
		listed  []string
		cleared bool
	}{
		{
			name:   "leak",
			clicks: []string{`#filters button[data-verdict="leak"]`},
			rows:   sortedKeys(rowsWithVerdict(r, model.Leak)),
			listed: []string{"leak"},
		},
		{
			name:   "leak or existence-leak",
			clicks: []string{`#filters button[data-verdict="leak"]`, `#filters button[data-verdict="existence-leak"]`},
			rows:   sortedKeys(union(rowsWithVerdict(r, model.Leak), rowsWithVerdict(r, model.ExistenceLeak))),
			listed: []string{"leak", "existence-leak", "existence-leak"},
		},
		{
			name:   "error as admin",
			clicks: []string{`#filters button[data-verdict="error"]`},
			role:   "admin",
			rows:   []string{"GET /api/admin/stats"},
			listed: []string{"error"},
		},
		{
			name:   "existence-leak as admin shows nothing",
			clicks: []string{`#filters button[data-verdict="existence-leak"]`},
			role:   "admin",
			rows:   []string{},
			listed: []string{},
		},
	}
	allRows := eval[[]string](t, page, visibleRows)
	for _, f := range filters {
		t.Run(f.name, func(t *testing.T) {
			for _, c := range f.clicks {
				click(t, page, c)
			}
			if f.role != "" {
				eval[bool](t, page, fmt.Sprintf(`(() => { const s = document.getElementById('f-role'); s.value = %q; s.dispatchEvent(new Event('change')); return true })()`, f.role))
			}
			got := eval[[]string](t, page, visibleRows)
			sort.Strings(got)
			if !slices.Equal(got, f.rows) {
				t.Errorf("rows shown: got %q, want %q", got, f.rows)
			}
			listed := eval[[]string](t, page, visibleListed)
			if !slices.Equal(listed, f.listed) {
				t.Errorf("findings and notes shown: got %q, want %q", listed, f.listed)
			}
			click(t, page, `#f-clear`)
			if got := eval[[]string](t, page, visibleRows); len(got) != len(allRows) {
				t.Errorf("after Clear: %d rows shown, want all %d", len(got), len(allRows))
			}
		})
	}

	evidence := []struct {
		role, path string
		want       []string
	}{
		{"support", "/admin/", []string{
			"✖ leak: GET /admin/ as support",
			"GET /admin/ HTTP/1.1", "Host: 127.0.0.1:8080",
			"support (signs in with bearer)", "Status200", "Latency1.5ms",
			"Expecteddeny", "Rulerule 5 (GET /admin/**)",
			"<h1>Admin</h1><p>users: 3</p>",
			`curl -sS -i 'http://127.0.0.1:8080/admin/' -H "Authorization: Bearer $PERMAUDIT_SUPPORT_TOKEN"`,
			model.Fingerprint(model.Leak, "GET", "GET /admin/", "support"),
		}},
		{"anonymous", "/admin/", []string{"Status302", "Location/login", "unauthenticated (redirect to login /login)", "curl -sS -i 'http://127.0.0.1:8080/admin/'\n"}},
		{"customer", "/account/", []string{"Redirect chain", "301 http://127.0.0.1:8080/account → /account/", "200 http://127.0.0.1:8080/account/", `-b "$PERMAUDIT_CUSTOMER_COOKIE"`}},
		{"customer", "/", []string{"✓ pass: GET / as customer", `-b "$PERMAUDIT_CUSTOMER_COOKIE"`}},
		{"admin", "/", []string{"✓ pass: GET / as admin"}},
		{"admin", "/api/admin/stats", []string{"Statusno answer", "read tcp 127.0.0.1:8080: connection reset by peer", `-u "$PERMAUDIT_ADMIN_USERNAME:$PERMAUDIT_ADMIN_PASSWORD"`}},
	}
	for _, ev := range evidence {
		t.Run("evidence "+ev.role+" "+ev.path, func(t *testing.T) {
			i := cellIndex(t, r, ev.role, ev.path)
			openEvidence(t, page, cellSel(t, page, r, i), i)
			text := eval[string](t, page, `document.getElementById('evidence').innerText.replace(/\n\t/g, '').replace(/\t/g, '')`)
			flat := strings.ReplaceAll(text, "\n", "")
			for _, w := range ev.want {
				if !strings.Contains(text, w) && !strings.Contains(flat, strings.ReplaceAll(w, "\n", "")) {
					t.Errorf("evidence lacks %q; it shows:\n%s", w, text)
				}
			}
			click(t, page, `#evidence [data-close]`)
		})
	}

	// A finding's row opens the same evidence.
	openEvidence(t, page, `#findings tr.frow[data-verdict="leak"]`, cellIndex(t, r, "support", "/admin/"))
	if got := eval[string](t, page, `document.querySelector('#evidence .ev-title').textContent`); got != "✖ leak: GET /admin/ as support" {
		t.Errorf("evidence from the findings list: got title %q", got)
	}

	// Sorting the findings by role puts them in role name order.
	click(t, page, `#findings-table th:nth-child(4)`)
	roles := eval[[]string](t, page, `Array.from(document.querySelectorAll('#findings-table tbody tr.frow')).map(tr => tr.cells[3].textContent)`)
	if !slices.IsSorted(roles) || len(roles) != len(r.Findings) {
		t.Errorf("findings sorted by role: got %q, want all %d in order", roles, len(r.Findings))
	}
	if data := listRowsMax < len(r.Findings); eval[bool](t, page, `document.getElementById('pa-findings') !== null`) != data ||
		eval[bool](t, page, `document.querySelector('#findings-table.biglist') !== null`) != data {
		t.Errorf("findings as data: want %v (%d findings, at most %d as rows)", data, len(r.Findings), listRowsMax)
	}
	testRowKeys(t, page, "findings")
	// Printed, every section and every row shows, collapsed groups and
	// templates included, and the filters do not. The page draws every
	// row on beforeprint (a real print fires it; emulating print media
	// does not, so the test fires it).
	eval[bool](t, page, `(() => { document.querySelector('#matrix .group-toggle').click();
		document.querySelector('#matrix .tpl-toggle').click(); return true })()`)
	if got := eval[int](t, page, `document.querySelectorAll('#matrix tr.row').length`); got >= endpoints {
		t.Fatalf("with a prefix and a template closed, %d rows drawn, want fewer than %d", got, endpoints)
	}
	ctx, cancel := context.WithTimeout(page.Ctx, 10*time.Second)
	defer cancel()
	eval[bool](t, page, `window.dispatchEvent(new Event('beforeprint'))`)
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatalf("emulate print: %v", err)
	}
	for _, c := range []struct{ name, expr string }{
		{"every matrix row is printed", fmt.Sprintf(`document.querySelectorAll('#matrix tr.row').length === %d`, endpoints)},
		{"every matrix row has a height", `Array.from(document.querySelectorAll('#matrix tr.row')).every(tr => tr.checkVisibility() && tr.getBoundingClientRect().height > 0)`},
		{"every section has a height", `Array.from(document.querySelectorAll('main > section')).every(s => s.getBoundingClientRect().height > 0)`},
		{"every finding and note is printed", fmt.Sprintf(`document.querySelectorAll('#findings tr.frow').length === %d && document.querySelectorAll('#notes tr.frow').length === %d`, len(r.Findings), len(r.Notes))},
		{"the filters are not printed", `getComputedStyle(document.getElementById('filters')).display === 'none'`},
	} {
		if !eval[bool](t, page, c.expr) {
			t.Errorf("print: %s: %s is false", c.name, c.expr)
		}
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatalf("stop emulating print: %v", err)
	}
	eval[bool](t, page, `window.dispatchEvent(new Event('afterprint'))`)
	if got := eval[int](t, page, `document.querySelectorAll('#matrix tr.row').length`); got >= endpoints {
		t.Errorf("after printing, %d rows drawn, want the closed prefix and template closed again", got)
	}
	checkClean(t, page, u)
}

func union(a, b map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func cellIndex(t *testing.T, r *model.Run, role, path string) int {
	t.Helper()
	for i, c := range r.Observations.All() {
		if c.Role == role && model.PathOf(c.URL) == path {
			return i
		}
	}
	t.Fatalf("no cell %s as %s in the fixture", path, role)
	return -1
}

// testHostileReport: endpoints, bodies, roles and messages holding
// markup, script, javascript: URLs and quotes run nothing and load
// nothing, whatever is clicked.
func testHostileReport(t *testing.T, br *browsertest.Browser) {
	r := hostileRun()
	page, u := openReport(t, br, r)

	// Open the evidence of every cell and every finding.
	for i := range r.Observations.Len() {
		openEvidence(t, page, cellSel(t, page, r, i), i)
	}
	for _, f := range r.Findings {
		openEvidence(t, page, fmt.Sprintf(`#findings tr.frow[data-i="%d"]`, f.Cell), f.Cell)
	}
	for _, n := range r.Notes {
		if n.Cell >= 0 {
			openEvidence(t, page, fmt.Sprintf(`#notes tr.frow[data-i="%d"]`, n.Cell), n.Cell)
		}
	}
	openEvidence(t, page, cellSel(t, page, r, 0), 0)
	if got := eval[string](t, page, `document.querySelector('#evidence pre.excerpt').textContent`); !strings.Contains(got, `</script><script>window.__pwned="excerpt"</script>`) {
		t.Errorf("the hostile excerpt is not shown as text: %q", got)
	}
	// Type a filter too: the path text is untrusted.
	eval[bool](t, page, `(() => { const i = document.getElementById('f-text'); i.value = '<script>'; i.dispatchEvent(new Event('input')); return true })()`)
	time.Sleep(300 * time.Millisecond)

	checks := []struct{ name, expr string }{
		{"no script ran", `typeof window.__pwned === 'undefined'`},
		{"only the report's script and data", `Array.from(document.scripts).filter(s => s.type === '').length === 1 && Array.from(document.scripts).every(s => s.type === '' ||
			(s.type === 'application/json' && ['pa-matrix', 'pa-findings', 'pa-notes'].includes(s.id)) || (s.type === 'application/octet-stream' && s.className === 'pa-evidence'))`},
		{"no event-handler attribute", `!Array.from(document.querySelectorAll('*')).some(e => Array.from(e.attributes).some(a => a.name.startsWith('on')))`},
		{"no injected element", `document.querySelectorAll('img, svg, iframe, object, embed, a[href^="javascript"], b[onmouseover]').length === 0`},
		{"title intact", `document.title.startsWith('permaudit report: ')`},
	}
	for _, c := range checks {
		if !eval[bool](t, page, c.expr) {
			t.Errorf("%s: %s is false", c.name, c.expr)
		}
	}
	checkClean(t, page, u)
}

// hostileRun is a run whose every target-controlled string is hostile.
func hostileRun() *model.Run {
	roles := append(append([]model.RoleInfo(nil), fixtureRoles[:1]...), model.RoleInfo{Name: `cust"'><img src=x onerror=window.__pwned=1>`, SignIn: `cookies<script>window.__pwned="signin"</script>`})
	r := fixtureRun(roles, hostileEndpoints())
	r.RunID = `<script>window.__pwned="runid"</script>`
	r.ConfigFile = `"><script>window.__pwned="cfg"</script>`
	r.Complete, r.Incomplete = false, `<img src=x onerror="window.__pwned='incomplete'">`
	r.Inventory.Skipped = append(r.Inventory.Skipped, model.Skip{
		Endpoint: model.Endpoint{Method: "GET", URL: `http://127.0.0.1:8080/x/<iframe src="javascript:window.__pwned=1">`},
		Reason:   `out of scope <script>window.__pwned="skip"</script>`,
	})
	return r
}

// BenchmarkHTMLReportInChromium opens a report of 5,000 endpoints x 8
// roles in headless Chromium and applies a verdict filter. It reports:
//
//   - open-ms: from navigation start to the first frame after the load
//     event (the matrix's first window drawn and painted), plus the
//     round trip of the measuring call;
//   - filter-ms: from the click on a verdict filter to the frame that
//     shows the result;
//   - evidence-ms: from the first click on a cell (which parses the
//     evidence JSON) to the frame showing it;
//   - MB: the size of the report;
//   - open-cpu-ms, filter-cpu-ms, evidence-cpu-ms: the CPU time of the
//     page's main thread for the same steps (Performance.getMetrics
//     TaskDuration in thread ticks), which a busy machine does not
//     inflate as it does the wall-clock figures.
//
// The median and the worst of b.N runs are reported; the first run is
// the cold one (the browser has just started). Run it with
//
//	go test ./report -run '^$' -bench HTMLReportInChromium -benchtime 5x
func BenchmarkHTMLReportInChromium(b *testing.B) {
	br := browsertest.Start(b)
	r := bigRun(5000, 8)
	u, size := writeReport(b, r)
	page := br.NewPage(b)
	// The main thread's CPU time, which other processes on the machine
	// do not inflate: Performance metrics in thread ticks.
	if _, err := chromedp.Call(page.Ctx, performance.Enable, performance.EnableParams{TimeDomain: performance.EnableTimeDomainThreadTicks}); err != nil {
		b.Fatalf("enable performance metrics: %v", err)
	}
	cpu := func() float64 {
		m, err := chromedp.Call(page.Ctx, performance.GetMetrics, cdp.Empty{})
		if err != nil {
			b.Fatalf("performance metrics: %v", err)
		}
		for _, x := range m.Metrics {
			if x.Name == "TaskDuration" {
				return x.Value * 1000
			}
		}
		b.Fatal("no TaskDuration metric")
		return 0
	}
	var open, filter, evidence, openCPU, filterCPU, evidenceCPU []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(page.Ctx, 60*time.Second)
		if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
			cancel()
			b.Fatalf("open: %v", err)
		}
		cancel()
		// performance.now() counts from navigation start; read after the
		// first frame that follows the load event, it also counts the
		// round trip of this evaluation, so it errs on the slow side.
		o := eval[float64](b, page, `new Promise(res => requestAnimationFrame(() => requestAnimationFrame(() => res(performance.now()))))`)
		c1 := cpu()
		f := eval[float64](b, page, `(async () => {
			const t0 = performance.now();
			document.querySelector('#filters button[data-verdict="leak"]').click();
			await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
			return performance.now() - t0; })()`)
		c2 := cpu()
		e := eval[float64](b, page, `(async () => {
			const t0 = performance.now();
			document.querySelector('#matrix tr.row td:not(.v-none)').click();
			await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
			while (!document.getElementById('evidence').hasAttribute('data-cell')) { await new Promise(r => setTimeout(r, 5)); }
			await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
			return performance.now() - t0; })()`)
		c3 := cpu()
		open, filter, evidence = append(open, o), append(filter, f), append(evidence, e)
		// The metrics start again with each document, so c1 is the
		// document's whole CPU time until it showed.
		openCPU, filterCPU, evidenceCPU = append(openCPU, c1), append(filterCPU, c2-c1), append(evidenceCPU, c3-c2)
		eval[bool](b, page, `(() => { document.getElementById('f-clear').click(); return true })()`)
	}
	b.StopTimer()
	if n := eval[int](b, page, `document.querySelectorAll('#matrix tr.row').length`); n == 0 || n > 400 {
		b.Fatalf("matrix rows in the page: got %d, want a window of at most 400 of the 5,000", n)
	}
	for _, m := range []struct {
		name string
		v    []float64
	}{{"open", open}, {"filter", filter}, {"evidence", evidence}, {"open-cpu", openCPU}, {"filter-cpu", filterCPU}, {"evidence-cpu", evidenceCPU}} {
		sort.Float64s(m.v)
		b.ReportMetric(m.v[len(m.v)/2], m.name+"-ms-median")
		b.ReportMetric(m.v[len(m.v)-1], m.name+"-ms-max")
	}
	b.ReportMetric(float64(size)/1e6, "MB")
}
