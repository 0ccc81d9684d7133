// Command hostileserver serves crawl/hostiletest's hostile application on
// 127.0.0.1 until it is interrupted, printing its URL on stdout: a target
// for measuring permaudit as a separate process (bench/hostile.sh).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/permaudit/permaudit/crawl/hostiletest"
)

func main() {
	srv := hostiletest.New(hostiletest.Options{})
	defer srv.Close()
	fmt.Println(srv.URL)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	<-ch
}
