// Command memprof audits a target as `permaudit audit` does and writes
// heap profiles where the run's memory is held: after the audit (the run
// judged, before any output) and after writing the outputs, with the peak
// heap and the run's size, and a CPU profile of the audit (cpu.pprof; with
// -cpu probe, of the probe phase only, from its first request). It
// is how docs/design.md's "Outputs at scale" figures were found; not part
// of .ci/run.
//
//	go run ./bench/memprof -c cfg.yaml -dir /tmp/prof -out json,sarif,csv,junit,text
//	go tool pprof -sample_index=inuse_space -top /tmp/prof/after-audit.pprof
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/permaudit/permaudit/audit"
	"github.com/permaudit/permaudit/crawl"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/report"
	"github.com/permaudit/permaudit/roles"
)

func main() {
	cfgPath := flag.String("c", "permaudit.yaml", "configuration")
	dir := flag.String("dir", ".", "directory for the profiles and outputs")
	outs := flag.String("out", "json", "formats to write, comma-separated")
	cpuFrom := flag.String("cpu", "audit", "what the CPU profile covers: audit, or probe (the probe phase, from its first request)")
	discoverAt := flag.Int("discover-at", 0, "also profile discovery once it has made this many requests (during-discovery.pprof); 0: do not")
	flag.Parse()
	if err := run(*cfgPath, *dir, strings.Split(*outs, ","), *cpuFrom == "probe", *discoverAt); err != nil {
		fmt.Fprintln(os.Stderr, "memprof:", err)
		os.Exit(1)
	}
}

func run(cfgPath, dir string, formats []string, probeOnly bool, discoverAt int) error {
	cfg, err := roles.Load(cfgPath, roles.LoadOptions{Env: os.LookupEnv})
	if err != nil {
		return err
	}
	cpu, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err != nil {
		return err
	}
	defer cpu.Close()
	if !probeOnly {
		if err := pprof.StartCPUProfile(cpu); err != nil {
			return err
		}
	}
	// Where the probe phase is nine tenths done, the heap holds what
	// probing holds at its largest: a profile of it (during-probe.pprof).
	var probed bool
	var profiling, begun, discovered bool
	progress := func(p crawl.Progress) {
		if !discovered && discoverAt > 0 && p.Phase == "discover" && p.Done >= discoverAt {
			discovered = true
			if err := profile(filepath.Join(dir, "during-discovery.pprof"), "during discovery", 0); err != nil {
				fmt.Fprintln(os.Stderr, "memprof:", err)
			}
		}
		if !begun && p.Phase == "probe" { // what discovery handed the probe, and the probe's cells
			begun = true
			if err := profile(filepath.Join(dir, "probe-begins.pprof"), "as probing begins", p.Total); err != nil {
				fmt.Fprintln(os.Stderr, "memprof:", err)
			}
		}
		if probeOnly && !profiling && p.Phase == "probe" {
			profiling = pprof.StartCPUProfile(cpu) == nil
		}
		if probed || p.Phase != "probe" || p.Total == 0 || p.Done < p.Total*9/10 {
			return
		}
		probed = true
		if err := profile(filepath.Join(dir, "during-probe.pprof"), "nine tenths into probing", p.Done); err != nil {
			fmt.Fprintln(os.Stderr, "memprof:", err)
		}
	}
	res, err := audit.Run(context.Background(), cfg, audit.Options{Tool: model.Tool{Name: "permaudit", Version: "memprof"}, RunID: "memprof", Progress: progress})
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	if err := profile(filepath.Join(dir, "after-audit.pprof"), "after the audit", res.Run.Observations.Len()); err != nil {
		return err
	}
	for _, f := range formats {
		w, err := report.WriterFor(f)
		if err != nil {
			return err
		}
		out, err := os.Create(filepath.Join(dir, "out."+f))
		if err != nil {
			return err
		}
		err = w.Write(out, res.Run)
		out.Close()
		if err != nil {
			return err
		}
		if err := profile(filepath.Join(dir, "after-"+f+".pprof"), "after writing "+f, res.Run.Observations.Len()); err != nil {
			return err
		}
	}
	runtime.KeepAlive(res)
	return nil
}

// profile writes a heap profile to file and prints the live heap.
func profile(file, when string, cells int) error {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	fmt.Fprintf(os.Stderr, "%s: live heap %d MB (%d bytes per cell of %d), heap obtained from the OS %d MB\n",
		when, m.HeapAlloc>>20, int(m.HeapAlloc)/max(cells, 1), cells, m.HeapSys>>20)
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("heap").WriteTo(io.Writer(f), 0)
}
