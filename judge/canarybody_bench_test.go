package judge

import (
	"strings"
	"testing"
)

// BenchmarkCompareMissing measures what every denial of a group with
// canaries costs: reading a 6 KB denial page and comparing it with the
// two siblings' shapes.
func BenchmarkCompareMissing(b *testing.B) {
	page := func(id, nonce string) string {
		return `<html><head><meta name="csrf-token" content="` + nonce + `"><style>p{line-height:1.5}</style></head><body>` +
			strings.Repeat(`<div class="nav"><a href="/notes/`+id+`">Note `+id+`</a> <a href="/help">Help</a></div>`, 60) +
			`<p>Note ` + id + ` not found</p></body></html>`
	}
	a, c := ShapeOf(page("911111111", "n1"), []string{"911111111"}), ShapeOf(page("922222222", "n2"), []string{"922222222"})
	body := page("5", "n3")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if m := CompareMissing(ShapeOf(body, []string{"5"}), a, c); m.Differs {
			b.Fatal(m.Difference)
		}
	}
}
