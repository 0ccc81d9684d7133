package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestTuneCollectorLimit: after a collection, the memory limit is the
// live heap plus a quarter and 24 MiB, and it does not fall when the heap
// does.
func TestTuneCollectorLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	stop := tuneCollector(false, true)
	defer func() {
		stop()
		debug.SetMemoryLimit(before)
	}()
	held := make([]byte, 256<<20)
	for i := range held {
		held[i] = byte(i)
	}
	limit := waitLimit(t, func(l int64) bool { return l >= 256<<20+256<<20/headroomDiv+headroomMore })
	if max := int64(2 * (256<<20 + headroomMore)); limit > max {
		t.Errorf("limit %d MiB holding 256 MiB; want at most %d MiB", limit>>20, max>>20)
	}
	runtime.KeepAlive(held)
	held = nil
	runtime.GC()
	runtime.GC()
	time.Sleep(50 * time.Millisecond) // the finalizer runs after the collection
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("limit went from %d MiB to %d MiB when the heap shrank; want it kept", limit>>20, got>>20)
	}
	stop()
	debug.SetMemoryLimit(math.MaxInt64)
	runtime.GC()
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("limit set to %d MiB after stop", got>>20)
	}
}

// TestTuneCollectorPercent: on a small heap the collector's percent is
// raised so that it collects no more often than every minGCWork; on a
// large one it is gcPercent; without percent it is left alone.
func TestTuneCollectorPercent(t *testing.T) {
	for _, tt := range []struct {
		live uint64
		want int
	}{{0, 400}, {1 << 20, 400}, {4 << 20, 200}, {7 << 20, 125}, {12 << 20, 75}, {16 << 20, 50}, {1 << 30, 50}} {
		if got := percentFor(tt.live); got != tt.want {
			t.Errorf("percentFor(%d MiB) = %d, want %d", tt.live>>20, got, tt.want)
		}
	}
	before := debug.SetGCPercent(gcPercent)
	defer debug.SetGCPercent(before)
	stop := tuneCollector(true, false)
	runtime.GC()
	time.Sleep(50 * time.Millisecond) // the finalizer runs after the collection
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	small := debug.SetGCPercent(-1)
	debug.SetGCPercent(small)
	held := make([]byte, 64<<20)
	for i := range held {
		held[i] = byte(i)
	}
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	large := debug.SetGCPercent(-1)
	debug.SetGCPercent(large)
	runtime.KeepAlive(held)
	stop()
	if small <= gcPercent || large != gcPercent {
		t.Errorf("percent %d on the test's small heap, %d holding 64 MiB; want more than %d, then %d", small, large, gcPercent, gcPercent)
	}
}

// waitLimit collects until the memory limit satisfies ok, for at most
// five seconds, and returns it.
func waitLimit(t *testing.T, ok func(int64) bool) int64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		l := debug.SetMemoryLimit(-1)
		if ok(l) {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("memory limit %d MiB after 5 s of collections", l>>20)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
