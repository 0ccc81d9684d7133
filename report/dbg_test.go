package report

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"
	"github.com/permaudit/permaudit/internal/browsertest"
)

func TestDbgFilterCost(t *testing.T) {
	br := browsertest.Start(t)
	u, _ := writeReport(t, bigRun(5000, 8))
	page := br.NewPage(t)
	chromedp.Call(page.Ctx, performance.Enable, performance.EnableParams{TimeDomain: performance.EnableTimeDomainThreadTicks})
	get := func() map[string]float64 {
		m, _ := chromedp.Call(page.Ctx, performance.GetMetrics, cdp.Empty{})
		out := map[string]float64{}
		for _, x := range m.Metrics {
			out[x.Name] = x.Value * 1000
		}
		return out
	}
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithTimeout(page.Ctx, 60*time.Second)
		chromedp.Do(ctx, chromedp.Navigate(u))
		cancel()
		eval[float64](t, page, `new Promise(res => requestAnimationFrame(() => requestAnimationFrame(() => res(performance.now()))))`)
		a := get()
		f := eval[float64](t, page, `(async () => { const t0 = performance.now(); document.querySelector('#filters button[data-verdict="leak"]').click(); const t1 = performance.now(); window.__js = t1 - t0;
			await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))); return performance.now() - t0; })()`)
		b := get()
		t.Logf("wall %.0f js %.0f task %.0f script %.0f style %.0f layout %.0f", f, eval[float64](t, page, `window.__js`), b["TaskDuration"]-a["TaskDuration"], b["ScriptDuration"]-a["ScriptDuration"], b["RecalcStyleDuration"]-a["RecalcStyleDuration"], b["LayoutDuration"]-a["LayoutDuration"])
	}
}
