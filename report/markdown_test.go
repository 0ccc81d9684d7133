package report

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/model"
)

// TestMarkdownBaseline pins the Markdown of a run judged with a baseline:
// the baseline's counts, a baseline column, new findings before expired
// before baselined ones, and the fixed and unprobed entries folded.
func TestMarkdownBaseline(t *testing.T) {
	r := baselinedRun()
	before := findingKeys(r.Findings)
	out := string(render(t, markdownWriter{}, r))
	golden(t, "baselined.markdown.golden", []byte(out))
	if got := findingKeys(r.Findings); got != before {
		t.Errorf("rendering reordered the run's findings:\n got %s\nwant %s", got, before)
	}
	for _, want := range []string{
		"\nBaseline permaudit-baseline.yaml: 5 new, 2 baselined, 1 expired, 1 fixed, 1 not probed.\n",
		"| severity | verdict | endpoint | role | expected | observed | baseline |\n",
		"| ◐ existence-leak | GET /api/orders/18 | anonymous | deny as 404 | 401 unauthenticated | expired on 2025-01-31 |\n",
		"<details><summary>Fixed since the baseline (1)</summary>\n\n- leak GET / as anonymous (ACME-3: the home page showed the user list)\n",
		"- blocked GET /reports/{id} as support (ACME-9: reports are off in staging)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	var states []string
	for _, row := range tableRows(out) {
		states = append(states, row[len(row)-1])
	}
	want := "new new new new new expired on 2025-01-31 baselined baselined"
	if got := strings.Join(states, " "); got != want {
		t.Errorf("baseline column top to bottom: got %q, want %q", got, want)
	}
}

// TestMarkdownBaselineCap: with more findings than the table shows, the
// new ones come first even when the run lists them last.
func TestMarkdownBaselineCap(t *testing.T) {
	const n, fresh = markdownMaxRows + 10, 5
	var eps []fixtureEndpoint
	for i := range n {
		p := endpointName(i)
		eps = append(eps, fixtureEndpoint{path: p, template: "GET " + p, expected: "deny", rule: "rule 1",
			probes: []probe{{role: "customer", status: 200, class: model.Allowed, why: "status 200", verdict: model.Leak}}})
	}
	r := fixtureRun(fixtureRoles, eps)
	b := &Baseline{File: "b.yaml"}
	for _, f := range r.Findings[:n-fresh] {
		b.Entries = append(b.Entries, model.BaselineEntry{Fingerprint: f.Fingerprint, Reason: "accepted"})
	}
	ApplyBaseline(r, b, time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC))
	before := findingKeys(r.Findings)
	out := string(render(t, markdownWriter{}, r))
	if got := findingKeys(r.Findings); got != before {
		t.Errorf("rendering reordered the run's findings")
	}
	rows := tableRows(out)
	if len(rows) != markdownMaxRows {
		t.Fatalf("table rows: got %d, want the cap, %d", len(rows), markdownMaxRows)
	}
	for i, row := range rows {
		state, path := row[len(row)-1], row[2]
		wantState, wantPath := "baselined", "GET "+endpointName(i-fresh)
		if i < fresh {
			wantState, wantPath = "new", "GET "+endpointName(n-fresh+i)
		}
		if state != wantState || path != wantPath {
			t.Errorf("row %d: %s %s, want %s %s", i, path, state, wantPath, wantState)
		}
	}
	if !strings.Contains(out, "\n…and 10 more: see the HTML report") {
		t.Errorf("markdown does not say how many rows it left out:\n%s", out)
	}
}

// endpointName is the path of endpoint i of TestMarkdownBaselineCap:
// letters, so that no two fold into one template ("/p/item-ab").
func endpointName(i int) string {
	return fmt.Sprintf("/p/item-%c%c", 'a'+i/26, 'a'+i%26)
}

// tableRows are the cells of the findings table's rows, trimmed.
func tableRows(md string) [][]string {
	var rows [][]string
	in := false
	for _, line := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(line, "| severity | verdict |"):
			in = true
		case !strings.HasPrefix(line, "| "):
			in = false
		case in && !strings.HasPrefix(line, "| ---"):
			var cells []string
			for _, c := range strings.Split(strings.Trim(line, "|"), " | ") {
				cells = append(cells, strings.TrimSpace(c))
			}
			rows = append(rows, cells)
		}
	}
	return rows
}

func findingKeys(fs []model.Finding) string {
	var keys []string
	for _, f := range fs {
		keys = append(keys, f.Fingerprint)
	}
	return strings.Join(keys, ",")
}
