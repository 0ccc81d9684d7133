package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestFollowLiveHeap: after a collection, the memory limit is the live
// heap plus a quarter and 32 MiB, and it does not fall when the heap does.
func TestFollowLiveHeap(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	stop := followLiveHeap()
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
