package roles

import (
	"math"
	"testing"
)

// FuzzParseRate: a rate that parses is positive (or unlimited) and
// survives FormatRate and ParseRate again.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"50/s", "600/m", "1/h", "0.25", "unlimited", "0", "-1/s", "1e308/s", "5/x", " 7 / s "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		if !(r > 0) || math.IsNaN(r) {
			t.Fatalf("ParseRate(%q) = %v", s, r)
		}
		back, err := ParseRate(FormatRate(r))
		if err != nil || back != r {
			t.Fatalf("ParseRate(FormatRate(%v)) = %v, %v", r, back, err)
		}
	})
}
