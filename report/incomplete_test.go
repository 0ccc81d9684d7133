package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
)

// incompleteRun is fixedRun ended early, with no finding the gate fails
// on among what it probed: the run an interrupted or time-capped audit
// publishes, which must never read as passed.
func incompleteRun(reason string) *model.Run {
	r := fixedRun()
	r.Complete, r.Incomplete = false, reason
	r.Gate = model.Gate{FailOn: []model.Verdict{model.Blocked}}
	return r
}

// TestIncompleteRunIsNeverPassed: with exit 4 or 130, every format said
// the run passed (JUnit tests="0" failures="0", "✓ permaudit: passed",
// "Gate ✓ passed"). Each now says incomplete in its headline, JUnit has a
// failing case with the reason and SARIF's invocation is unsuccessful.
func TestIncompleteRunIsNeverPassed(t *testing.T) {
	empty := func(reason string) *model.Run {
		return &model.Run{Schema: model.SchemaVersion, Tool: model.Tool{Name: "permaudit"}, Gate: model.Gate{FailOn: model.DefaultFailOn},
			Counts: map[model.Verdict]int{}, Incomplete: reason}
	}
	for _, tt := range []struct {
		name   string
		run    *model.Run
		reason string
		exit   int
	}{
		{"interrupted", incompleteRun("interrupted"), "interrupted", 130},
		{"max duration", incompleteRun("max duration 30s reached"), "max duration 30s reached", 4},
		{"interrupted before any cell", empty("interrupted"), "interrupted", 130},
		{"a cap", empty("max_probes 10 reached: 3 endpoint(s) not probed"), "max_probes 10 reached: 3 endpoint(s) not probed", 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			text := string(render(t, textWriter{}, tt.run))
			lines := strings.Split(strings.TrimSpace(text), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "gate: INCOMPLETE ("+tt.reason+")") || strings.Contains(last, "passed") {
				t.Errorf("text: last line %q, want gate: INCOMPLETE (%s) ...", last, tt.reason)
			}

			md := string(render(t, markdownWriter{}, tt.run))
			if head, _, _ := strings.Cut(md, "\n"); !strings.HasPrefix(head, "## ⚠ permaudit: INCOMPLETE") || strings.Contains(head, "passed") {
				t.Errorf("markdown: headline %q, want ## ⚠ permaudit: INCOMPLETE ...", head)
			}

			html := string(render(t, htmlWriter{}, tt.run))
			for _, bad := range []string{`class="ok gate"`, "✓ passed"} {
				if strings.Contains(html, bad) {
					t.Errorf("html: holds %q", bad)
				}
			}
			for _, want := range []string{`<span class="bad gate">⚠ INCOMPLETE`, "<title>permaudit report (INCOMPLETE)", `<span class="bad">⚠ INCOMPLETE</span></h1>`} {
				if !strings.Contains(html, want) {
					t.Errorf("html: want %q", want)
				}
			}

			var doc struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Suites   []struct {
					Name  string `xml:"name,attr"`
					Cases []struct {
						Name    string `xml:"name,attr"`
						Failure *struct {
							Type    string `xml:"type,attr"`
							Message string `xml:"message,attr"`
						} `xml:"failure"`
					} `xml:"testcase"`
				} `xml:"testsuite"`
			}
			if err := xml.Unmarshal(render(t, junitWriter{}, tt.run), &doc); err != nil {
				t.Fatalf("junit: %v", err)
			}
			if doc.Tests == 0 || doc.Failures == 0 {
				t.Errorf("junit: tests=%d failures=%d, want a failing case", doc.Tests, doc.Failures)
			}
			if len(doc.Suites) == 0 || doc.Suites[0].Name != "run" || doc.Suites[0].Cases[0].Failure == nil ||
				doc.Suites[0].Cases[0].Failure.Type != "incomplete" || !strings.Contains(doc.Suites[0].Cases[0].Failure.Message, tt.reason) {
				t.Errorf("junit: want a first suite \"run\" whose case fails as incomplete with %q; got %+v", tt.reason, doc.Suites)
			}

			var log struct {
				Runs []struct {
					Invocations []struct {
						ExecutionSuccessful bool `json:"executionSuccessful"`
						ExitCode            int  `json:"exitCode"`
						Notifications       []struct {
							Level   string    `json:"level"`
							Message sarifText `json:"message"`
						} `json:"toolExecutionNotifications"`
					} `json:"invocations"`
				} `json:"runs"`
			}
			if err := json.Unmarshal(render(t, sarifWriter{}, tt.run), &log); err != nil {
				t.Fatalf("sarif: %v", err)
			}
			inv := log.Runs[0].Invocations[0]
			if inv.ExecutionSuccessful || inv.ExitCode != tt.exit || len(inv.Notifications) != 1 ||
				inv.Notifications[0].Level != "error" || !strings.Contains(inv.Notifications[0].Message.Text, tt.reason) {
				t.Errorf("sarif: invocation %+v, want executionSuccessful false, exitCode %d and an error notification with %q", inv, tt.exit, tt.reason)
			}
		})
	}
}

// TestOutcomeLine: a failed gate stays the headline of an incomplete run,
// with the reason; a complete run is unchanged.
func TestOutcomeLine(t *testing.T) {
	failed := incompleteRun("interrupted")
	failed.Gate = model.Gate{FailOn: []model.Verdict{model.Leak}, Failed: true, Failing: 1}
	complete := fixedRun()
	complete.Gate = model.Gate{FailOn: model.DefaultFailOn}
	for _, tt := range []struct {
		run  *model.Run
		want string
		exit int
	}{
		{failed, "gate: FAILED — 1 finding fails on leak (run incomplete: interrupted)", 130},
		{complete, "gate: passed (it fails on leak,blocked,existence-leak,error)", 0},
		{fixedRun(), "gate: FAILED — 2 findings fail on leak,blocked,existence-leak,error", 1},
	} {
		if got := outcomeLine(tt.run); got != tt.want {
			t.Errorf("outcomeLine: got %q, want %q", got, tt.want)
		}
		if got := exitCodeOf(tt.run); got != tt.exit {
			t.Errorf("exitCodeOf(%q): got %d, want %d", tt.want, got, tt.exit)
		}
	}
}

// TestWritersGoldenIncomplete pins the rendering of an interrupted run in
// the formats CI reads.
func TestWritersGoldenIncomplete(t *testing.T) {
	for _, format := range []string{"text", "markdown", "junit", "sarif"} {
		t.Run(format, func(t *testing.T) {
			w, _ := WriterFor(format)
			got := render(t, w, incompleteRun("interrupted"))
			golden := filepath.Join("testdata", "incomplete."+format+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (go test ./report -update creates it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s output differs from %s (go test ./report -update rewrites it):\n got:\n%s", format, golden, got)
			}
		})
	}
}

// TestTextListsWhatWasLeft: a run cut by time says in its text summary,
// per page, what it left unprobed and why, the largest first.
func TestTextListsWhatWasLeft(t *testing.T) {
	r := incompleteRun("max duration 30s reached")
	r.Coverage = &model.Coverage{}
	r.Inventory.Cut.MaxQueryVariants = 875
	r.Inventory.AddLeft("max_query_variants", []model.Endpoint{
		{Method: "GET", URL: "http://127.0.0.1:8080/admin/users?sort=name"},
		{Method: "GET", URL: "http://127.0.0.1:8080/admin/users?sort=email"},
	})
	r.Inventory.AddLeft("max_duration", []model.Endpoint{{Method: "GET", URL: "http://127.0.0.1:8080/wiki/Main?oldid=3"}})
	text := string(render(t, textWriter{}, r))
	for _, want := range []string{
		"cut 875 by max_query_variants",
		"left unprobed: 3 endpoints, per page:\n" +
			"  GET /admin/users: 2 by max_query_variants, such as http://127.0.0.1:8080/admin/users?sort=email\n" +
			"  GET /wiki/Main: 1 by max_duration, such as http://127.0.0.1:8080/wiki/Main?oldid=3\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
}

// TestHTMLListsWhatWasLeft: the HTML report's coverage section lists
// what the bounds left unprobed, per page, and only when there is some.
func TestHTMLListsWhatWasLeft(t *testing.T) {
	r := incompleteRun("max duration 30s reached")
	if html := string(render(t, htmlWriter{}, r)); strings.Contains(html, "Left unprobed") {
		t.Errorf("a run that left nothing shows the table")
	}
	r.Inventory.AddLeft("max_duration", []model.Endpoint{{Method: "GET", URL: "http://127.0.0.1:8080/wiki/Main?oldid=3"}})
	html := string(render(t, htmlWriter{}, r))
	if want := `<td class="path">GET /wiki/Main</td><td class="num">1</td><td>max_duration</td>`; !strings.Contains(html, want) {
		t.Errorf("HTML lacks %q", want)
	}
}

// TestShardRunSaysItGatesNothing: a shard's run (audit --shard) exits 0
// whatever it found, since only the merged run gates; its report said
// "gate: FAILED" all the same, and only stderr told otherwise. Every
// headline now says the shard gates nothing, and how many findings the
// gate would fail on in its slice.
func TestShardRunSaysItGatesNothing(t *testing.T) {
	r := fixedRun() // two findings the gate fails on
	r.Shard = &model.Shard{Index: 2, Count: 4, Templates: 3, Endpoints: 5}
	want := "gate: NOT APPLIED — shard 2/4 (complete) of a sharded audit gates nothing on its own; 2 findings the gate fails on in this slice; permaudit report merge joins the shards' runs and gates"
	if got := outcomeLine(r); got != want {
		t.Errorf("outcomeLine: got %q, want %q", got, want)
	}
	if got := exitCodeOf(r); got != 0 {
		t.Errorf("exitCodeOf: got %d, want 0", got)
	}
	text := strings.TrimSpace(string(render(t, textWriter{}, r)))
	if last := text[strings.LastIndex(text, "\n")+1:]; last != want {
		t.Errorf("text: last line %q, want %q", last, want)
	}
	md := string(render(t, markdownWriter{}, r))
	if head, _, _ := strings.Cut(md, "\n"); !strings.HasPrefix(head, "## ◐ permaudit: NOT APPLIED — shard 2/4") {
		t.Errorf("markdown: headline %q", head)
	}
	html := string(render(t, htmlWriter{}, r))
	for _, want := range []string{"<title>permaudit report (SHARD 2/4, gates nothing)", `<span class="shard">◐ SHARD 2/4: GATES NOTHING</span></h1>`, `<span class="shard gate">◐ NOT APPLIED — shard 2/4`} {
		if !strings.Contains(html, want) {
			t.Errorf("html: want %q", want)
		}
	}
	if strings.Contains(html, `class="bad gate"`) {
		t.Error("html: a shard's gate shows as failed")
	}
	r.Complete, r.Incomplete = false, "interrupted"
	if got := exitCodeOf(r); got != 130 {
		t.Errorf("an interrupted shard: exitCodeOf %d, want 130", got)
	}
}
