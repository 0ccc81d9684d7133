package report

import (
	"fmt"
	"testing"
	"time"

	"github.com/permaudit/permaudit/model"
)

// scaleRun is a run of n endpoints probed as 5 roles, every 50th cell a
// leak with its finding, the others passes: what the writers' streaming
// test and benchmarks render.
func scaleRun(n int) *model.Run {
	roles := []string{"anonymous", "reader", "editor", "admin", "auditor"}
	r := &model.Run{
		Observations: model.NewCells(0),
		Schema:       model.SchemaVersion, Tool: model.Tool{Name: "permaudit", Version: "bench"}, RunID: "bench", Target: "http://127.0.0.1:8080",
		Started: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC), Finished: time.Date(2025, 3, 14, 9, 1, 0, 0, time.UTC), Duration: time.Minute,
		ConfigFile: "permaudit.yaml", Complete: true, Gate: model.Gate{FailOn: model.DefaultFailOn},
		Counts: map[model.Verdict]int{}, Findings: []model.Finding{}, Notes: []model.Finding{},
		Inventory: model.Inventory{Pages: map[string]int{}},
	}
	for _, n := range roles {
		r.Roles = append(r.Roles, model.RoleInfo{Name: n, SignIn: "bearer"})
	}
	for i := range n {
		rule := fmt.Sprintf("GET /e/%d (line %d)", i, 10+2*i)
		r.Rules = append(r.Rules, model.RuleInfo{Index: i + 1, Name: rule, Patterns: []string{fmt.Sprintf("GET /e/%d", i)}, File: "permaudit.yaml", Line: 10 + 2*i})
	}
	r.Rules = append(r.Rules, model.RuleInfo{Name: "default", File: "permaudit.yaml"})
	for i := range n {
		url := fmt.Sprintf("%s/e/%d", r.Target, i)
		tmpl := fmt.Sprintf("GET /e/%d", i)
		r.Inventory.Entries = append(r.Inventory.Entries, model.Entry{Endpoint: model.Endpoint{Method: "GET", URL: url}, Template: tmpl, FoundBy: roles[1:2], Sources: []string{"link"}})
		for k, role := range roles {
			c := model.Cell{
				Observation: model.Observation{Endpoint: model.Endpoint{Method: "GET", URL: url}, Role: role, Status: 200, Class: model.Allowed, Why: "status 200",
					ContentType: "application/json", Size: 64, BodySHA256: "4b227777d4dd1fc61c6f884f48641d02b4d121d3fd328cb08b5531fcacdabf8a", Latency: time.Millisecond},
				Template: tmpl, Expected: "allow", Rule: r.Rules[i].Name, Verdict: model.Pass,
			}
			if k == 0 {
				c.Status, c.Class, c.Why, c.Expected = 401, model.Unauthenticated, "status 401", "deny"
				c.WWWAuth = true
			}
			if (i*5+k)%50 == 49 {
				c.Expected, c.Verdict = "deny", model.Leak
				c.Excerpt = `{"id":` + fmt.Sprint(i) + `,"owner":"someone else"}`
				r.Findings = append(r.Findings, model.Finding{Verdict: model.Leak, Severity: model.Critical, Method: "GET", URL: url, Path: fmt.Sprintf("/e/%d", i),
					Template: tmpl, Role: role, Expected: "deny", Observed: "200 allowed", Rule: c.Rule, Message: "GET /e as " + role + ": expected deny, got 200 allowed",
					Fingerprint: fmt.Sprintf("%032x", i*5+k), Cell: r.Observations.Len()})
			}
			r.Counts[c.Verdict]++
			r.Observations.Append(c)
		}
	}
	r.Gate.Failing, r.Gate.Failed = len(r.Findings), len(r.Findings) > 0
	return r
}

// largestWrite records the largest single Write it is given.
type largestWrite struct{ total, largest int }

func (w *largestWrite) Write(p []byte) (int, error) {
	w.total += len(p)
	w.largest = max(w.largest, len(p))
	return len(p), nil
}

// TestWritersStream: every writer but the HTML report's writes its output
// as a stream, in pieces of at most 64 KiB, never the whole output held as
// one string or []byte (which the old writers handed to one Write). The
// Markdown summary is bounded (50 rows) and never that large anyway.
func TestWritersStream(t *testing.T) {
	run := scaleRun(10000) // 50,000 cells, 1,000 findings
	for _, format := range Formats() {
		if format == "html" {
			continue // virtualised apart (report/html*.go)
		}
		t.Run(format, func(t *testing.T) {
			w, _ := WriterFor(format)
			var out largestWrite
			if err := w.Write(&out, run); err != nil {
				t.Fatal(err)
			}
			if out.largest > 64<<10 {
				t.Errorf("%s: a write of %d bytes (of %d): the output is not streamed", format, out.largest, out.total)
			}
		})
	}
}

func benchmarkWriter(b *testing.B, format string, endpoints int) {
	run := scaleRun(endpoints)
	w, _ := WriterFor(format)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		var out largestWrite
		if err := w.Write(&out, run); err != nil {
			b.Fatal(err)
		}
		n = out.total
	}
	b.ReportMetric(float64(n)/float64(run.Observations.Len()), "bytes/cell")
}

// The writers at 100,000 cells (20,000 endpoints x 5 roles, 2,000
// findings): go test ./report -run '^$' -bench BenchmarkWrite -benchmem
func BenchmarkWriteRunJSON(b *testing.B)  { benchmarkWriter(b, "json", 20000) }
func BenchmarkWriteSARIF(b *testing.B)    { benchmarkWriter(b, "sarif", 20000) }
func BenchmarkWriteCSV(b *testing.B)      { benchmarkWriter(b, "csv", 20000) }
func BenchmarkWriteJUnit(b *testing.B)    { benchmarkWriter(b, "junit", 20000) }
func BenchmarkWriteText(b *testing.B)     { benchmarkWriter(b, "text", 20000) }
func BenchmarkWriteMarkdown(b *testing.B) { benchmarkWriter(b, "markdown", 20000) }
