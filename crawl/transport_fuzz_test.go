package crawl

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

// FuzzBody reads arbitrary bytes through a transport body, plain or
// marked gzip, with an arbitrary cap. Invariants: never more than the cap
// is handed up; a cut body hands up exactly the cap; a plain body hands
// up a prefix of what was sent; the slot is given back.
func FuzzBody(f *testing.F) {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(bytes.Repeat([]byte("a"), 5000))
	zw.Close()
	f.Add([]byte("hello"), true, uint16(3))
	f.Add(z.Bytes(), true, uint16(100))
	f.Add(z.Bytes()[:20], true, uint16(100))
	f.Add([]byte{0x1f, 0x8b}, true, uint16(1))
	f.Add([]byte{}, false, uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, gz bool, limit uint16) {
		tr := &Transport{opts: TransportOptions{Timeout: time.Second}, slots: make(chan struct{}, 1)}
		tr.slots <- struct{}{}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		released := false
		b := &body{raw: io.NopCloser(bytes.NewReader(data)), gz: gz, left: int64(limit), ctx: ctx, cancel: cancel, t: tr,
			release: func() {
				if !released {
					released = true
					<-tr.slots
				}
			}}
		if limit == 0 {
			b.left = -1
		}
		got, _ := io.ReadAll(io.LimitReader(b, 1<<20))
		b.Close()
		if limit > 0 && len(got) > int(limit) {
			t.Fatalf("handed up %d bytes over the cap %d", len(got), limit)
		}
		if b.Truncated() && len(got) != int(limit) {
			t.Fatalf("truncated after %d bytes, cap %d", len(got), limit)
		}
		if (!gz || !bytes.HasPrefix(data, []byte{0x1f, 0x8b})) && !bytes.HasPrefix(data, got) {
			t.Fatalf("a plain body changed: %q from %q", got, data)
		}
		if !released || len(tr.slots) != 0 {
			t.Fatalf("the slot was not given back")
		}
	})
}

// FuzzRetryAfter: any header value gives a wait in [0, 24h] or none.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "0", "-5", "120", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT", "soon", ""} {
		f.Add(s)
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := retryAfter(http.Header{"Retry-After": {v}}, now)
		if ok && (d < 0 || d > 24*time.Hour) {
			t.Fatalf("Retry-After %q: %v", v, d)
		}
		if !ok && d != 0 {
			t.Fatalf("Retry-After %q: no wait but %v", v, d)
		}
	})
}
