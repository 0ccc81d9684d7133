package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"
)

// benchRun is a run of n endpoints x 5 roles, every cell a pass but every
// 50th, a leak with an excerpt.
func benchRun(n int) *Run {
	roles := []string{"anonymous", "reader", "editor", "admin", "auditor"}
	r := &Run{Observations: NewCells(0), Schema: SchemaVersion, RunID: "bench", Target: "http://127.0.0.1:8080", Complete: true, Counts: map[Verdict]int{}}
	for i := range n {
		r.Rules = append(r.Rules, RuleInfo{Index: i + 1, Name: fmt.Sprintf("GET /e/%d (line %d)", i, 10+2*i), Patterns: []string{fmt.Sprintf("GET /e/%d", i)}, File: "permaudit.yaml", Line: 10 + 2*i})
	}
	r.Rules = append(r.Rules, RuleInfo{Name: "default", File: "permaudit.yaml"})
	for i := range n {
		url := fmt.Sprintf("%s/e/%d", r.Target, i)
		for k, role := range roles {
			c := Cell{
				Observation: Observation{Endpoint: Endpoint{Method: "GET", URL: url}, Role: role, Status: 200, Class: Allowed, Why: "status 200",
					ContentType: "application/json", Size: 600, BodySHA256: "4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a", Latency: time.Millisecond},
				Template: fmt.Sprintf("GET /e/%d", i), Expected: "allow", Rule: r.Rules[i].Name, Verdict: Pass,
			}
			if (i*5+k)%50 == 49 {
				c.Expected, c.Verdict, c.Excerpt = "deny", Leak, `{"id":1,"owner":"someone else"}`
			}
			r.Observations.Append(c)
		}
	}
	return r
}

// v1JSON is r as the v1 writer wrote it: encoding/json, indented whole
// (Cell's own JSON is v1's).
func v1JSON(b *testing.B, r *Run, excerpt string) []byte {
	v1 := *r
	v1.Schema = SchemaV1
	v1.Observations = NewCells(0)
	for _, c := range r.Observations.All() {
		if c.Excerpt == "" {
			c.Excerpt = excerpt // v1 kept pass cells' excerpts
		}
		v1.Observations.Append(c)
	}
	data, err := json.MarshalIndent(&v1, "", "  ")
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func benchmarkRead(b *testing.B, data []byte, cells int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadRun(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data))/float64(cells), "file-bytes/cell")
}

// Reading a run of 100,000 cells (20,000 endpoints x 5 roles):
// go test ./model -run '^$' -bench . -benchmem
func BenchmarkReadRunV1(b *testing.B) {
	r := benchRun(20000)
	benchmarkRead(b, v1JSON(b, r, string(bytes.Repeat([]byte("x"), 512))), r.Observations.Len())
}

func BenchmarkReadRunV2(b *testing.B) {
	r := benchRun(20000)
	var buf bytes.Buffer
	if err := WriteRun(&buf, r); err != nil {
		b.Fatal(err)
	}
	benchmarkRead(b, buf.Bytes(), r.Observations.Len())
}

func BenchmarkWriteRunV2(b *testing.B) {
	r := benchRun(20000)
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteRun(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteRunV1 is the v1 writer, for comparison: the whole run
// indented in memory.
func BenchmarkWriteRunV1(b *testing.B) {
	r := benchRun(20000)
	b.ReportAllocs()
	for b.Loop() {
		v1JSON(b, r, "")
	}
}
