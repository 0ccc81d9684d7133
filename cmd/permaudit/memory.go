package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Headroom of the memory the process may hold over its live heap (see
// tuneCollector): a quarter of it, and 24 MiB more. Measured on the
// benchmark target (bench/scale.sh): with 64 MiB, 180 MB of memory at
// 200,000 cells, with 32 MiB 156 MB, and the probe rate at 100,000 cells
// the same; an eighth and 16 MiB gave 132 MB, but probed 100,000 cells
// at 37% of wrk's rate instead of 41%. The limit binds, and makes the
// collector run sooner than GOGC would, only where half the live heap
// is more than a quarter and this: above 96 MiB live with 24 MiB (a
// third of a million cells), where 32 MiB would bind above 128. Below,
// it only sets how much freed memory the process keeps: with 24 MiB,
// 200,000 cells took 118,076 KB instead of 126,568, at the same probe
// rate (at 378fcf4).
const (
	headroomDiv  = 4
	headroomMore = 24 << 20
)

// minGCWork is the least the heap grows by between two collections:
// on a small heap the collector's percent is raised to it (tuneCollector).
// At gcPercent a small audit's heap of 8 MB was collected every 4 MB
// allocated, a hundred times in a one-second run of 2,000 endpoints;
// at 8 MiB, the probe phase ran 12% faster (bench/scale.sh 2000, three
// repetitions), for 3 MB more memory.
const minGCWork = 8 << 20

// tuneCollector tunes the collector after each collection, from a
// finalizer each runs, until stop is called (docs/design.md, "Outputs at
// scale"). With percent, it raises the collector's percent (gcPercent)
// where the heap is so small that the percent would collect more often
// than every minGCWork. With limit, it holds the memory of the process to
// the largest heap live after a collection yet, plus headroom. An
// audit's heap grows and shrinks by hundreds of megabytes between its
// phases: discovery's pages go, a million cells come. The collector's
// percent bounds the heap between collections, but the runtime hands
// memory the heap no longer uses back to the system slowly: at a million
// cells the process held 780 MB for a live heap of 400 MB. A soft memory
// limit makes it hand that memory back at once, and at the run's largest
// collects somewhat before the percent would. It only rises: a limit
// that followed the heap down made the last phases, writing the outputs,
// collect five times a second (a third more CPU), where the largest one
// costs none measurable. On a small heap the percent mostly decides.
func tuneCollector(percent, limit bool) (stop func()) {
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var stopped atomic.Bool
	// Finalizers run one at a time: these need no lock.
	var most uint64 // the largest live heap yet
	set := -1       // the percent set last
	var arm func()
	arm = func() {
		runtime.SetFinalizer(&gcTick{}, func(*gcTick) {
			if stopped.Load() {
				return
			}
			metrics.Read(live)
			if live[0].Value.Kind() != metrics.KindUint64 {
				return // not measured: tune nothing more
			}
			l := live[0].Value.Uint64()
			if limit && l > most {
				most = l
				debug.SetMemoryLimit(int64(most + most/headroomDiv + headroomMore))
			}
			if percent {
				if p := percentFor(l); p != set {
					debug.SetGCPercent(p)
					set = p
				}
			}
			arm()
		})
	}
	arm()
	return func() { stopped.Store(true) }
}

// percentFor is the collector's percent for a live heap of l bytes:
// gcPercent, or more on a heap so small that gcPercent of it is less
// than minGCWork, in steps of 25 up to 400.
func percentFor(l uint64) int {
	if l*gcPercent/100 >= minGCWork {
		return gcPercent
	}
	p := 400
	if l > 0 {
		p = min(400, int((minGCWork*100/l+24)/25*25))
	}
	return max(p, gcPercent)
}

// gcTick is what tuneCollector's finalizer is set on: a value the next
// collection finds unreachable. It is larger than the runtime's tiny
// allocations, whose finalizers may never run.
type gcTick struct{ _ [32]byte }
