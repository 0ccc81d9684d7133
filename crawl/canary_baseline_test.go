package crawl

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/permaudit/permaudit/crawl/crawltest"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/report"
)

var writeCanaryBaseline = flag.Bool("write-canary-baseline", false, "write testdata/canary-baseline-before.yaml (only from the code before the existence-check change)")

// baselineSite hides notes behind 404s whose message tells that the note
// exists, and answers 403 where 404 is asked for: existence leaks the
// matrix and the canaries find.
func baselineSite(t *testing.T) *existenceSite {
	return newExistenceSite(t, func(w http.ResponseWriter, r *http.Request, role string) {
		id := lastSegment(r.URL.Path)
		switch {
		case role == crawltest.Admin:
			fmt.Fprint(w, "the note")
		case r.URL.Path == "/secret/17":
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, "Forbidden")
		case id == "17":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "This note is private")
		default:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, "No note %s", id)
		}
	})
}

const baselineMatrix = `
matrix:
  rules:
    - {match: "GET /notes/{id}", allow: [admin], deny_as: 404}
    - {match: "GET /secret/{id}", allow: [admin], deny_as: 404}
`

// The existence leaks found where the rule asks for hiding keep their
// fingerprints: a baseline written by the code before the existence
// checks changed still accepts every one of them.
func TestCanaryBaselineStillMatches(t *testing.T) {
	site := baselineSite(t)
	run := judgeProbe(t, site, baselineMatrix, []string{"/notes/17", "/secret/17"})
	file := filepath.Join("testdata", "canary-baseline-before.yaml")
	if *writeCanaryBaseline {
		var b bytes.Buffer
		if err := report.WriteBaseline(&b, run, report.BaselineOptions{Reason: "written before the existence-check change"}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b, err := report.ParseBaseline(file, data)
	if err != nil {
		t.Fatal(err)
	}
	report.ApplyBaseline(run, b, time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
	leaks := 0
	for _, f := range run.Findings {
		if f.Verdict != model.ExistenceLeak {
			continue
		}
		leaks++
		if f.Baseline != "baselined" {
			t.Errorf("%s as %s (%s): %q, want baselined by the old baseline", f.Path, f.Role, f.Fingerprint, f.Baseline)
		}
	}
	if leaks != 4 || len(b.Entries) != 4 {
		t.Errorf("%d existence leaks, %d baseline entries: want 4 and 4 (anonymous and user, two templates)", leaks, len(b.Entries))
	}
}
