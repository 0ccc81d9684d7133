package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Headroom of the memory the process may hold over its live heap (see
// followLiveHeap): a quarter of it, and 24 MiB more. Measured on the
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

// followLiveHeap holds the memory of the process to the largest heap
// live after a collection yet, plus headroom (docs/design.md, "Outputs
// at scale"), until stop is called. An audit's heap grows and shrinks by
// hundreds of megabytes between its phases: discovery's pages go, a
// million cells come. The collector's percent (gcPercent) bounds the heap
// between collections, but the runtime hands memory the heap no longer
// uses back to the system slowly: at a million cells the process held
// 780 MB for a live heap of 400 MB. A soft memory limit makes it hand
// that memory back at once, and at the run's largest collects somewhat
// before the percent would. It only rises: a limit that followed the
// heap down made the last phases, writing the outputs, collect five
// times a second (a third more CPU), where the largest one costs none
// measurable. On a small heap the percent mostly decides. The limit is set after collections, from a finalizer
// each runs.
func followLiveHeap() (stop func()) {
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var stopped atomic.Bool
	var most uint64 // the largest live heap yet; finalizers run one at a time
	var arm func()
	arm = func() {
		runtime.SetFinalizer(&gcTick{}, func(*gcTick) {
			if stopped.Load() {
				return
			}
			metrics.Read(live)
			if live[0].Value.Kind() == metrics.KindUint64 && live[0].Value.Uint64() > most {
				most = live[0].Value.Uint64()
				debug.SetMemoryLimit(int64(most + most/headroomDiv + headroomMore))
			}
			arm()
		})
	}
	arm()
	return func() { stopped.Store(true) }
}

// gcTick is what followLiveHeap's finalizer is set on: a value the next
// collection finds unreachable. It is larger than the runtime's tiny
// allocations, whose finalizers may never run.
type gcTick struct{ _ [32]byte }
