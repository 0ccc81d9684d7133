// Command reportload opens an HTML report in headless Chromium and prints
// how long the page took to load (the load event) and to show its
// matrix, in milliseconds: bench/scale.sh's report figure (issue 12).
// Usage: reportload FILE.html
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: reportload FILE.html")
	}
	abs, err := filepath.Abs(os.Args[1])
	if err != nil {
		log.Fatal(err)
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
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+abs)); err != nil {
		log.Fatal(err)
	}
	loaded := time.Since(start)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("table"))); err != nil {
		log.Fatal(err)
	}
	shown := time.Since(start)
	fmt.Printf("load_ms=%d matrix_ms=%d\n", loaded.Milliseconds(), shown.Milliseconds())
}
