package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
)

func TestAnswerOfBodyChecks(t *testing.T) {
	res := func(out model.BodyOutcome) model.BodyCheckResult {
		return model.BodyCheckResult{Check: `body contains "x"`, Result: out}
	}
	pass, fail, undecided := res(model.BodyPass), res(model.BodyFail), res(model.BodyUndecided)
	for _, tc := range []struct {
		name   string
		checks []model.BodyCheckResult
		chain  []model.Hop
		want   string
	}{
		{"no check", nil, nil, "200"},
		{"every check passes", []model.BodyCheckResult{pass, pass}, nil, "200 b✓"},
		{"one undecided", []model.BodyCheckResult{pass, undecided}, nil, "200 b?"},
		{"a failure outweighs undecided", []model.BodyCheckResult{undecided, fail, pass}, nil, "200 b✖"},
		{"an unknown result is undecided", []model.BodyCheckResult{pass, res("later")}, nil, "200 b?"},
		{"after redirects", []model.BodyCheckResult{fail}, []model.Hop{{URL: "http://h/a", Status: 302, Location: "/b"}, {URL: "http://h/b", Status: 200}}, "↪200 b✖"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := model.Cell{Observation: model.Observation{Status: 200, Class: model.Allowed, Chain: tc.chain, BodyChecks: tc.checks}}
			if got := answerOf(c); got != tc.want {
				t.Errorf("answerOf = %q, want %q", got, tc.want)
			}
			if got, want := statusAnswer(c), strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(tc.want, " b✓"), " b✖"), " b?"); got != want {
				t.Errorf("statusAnswer = %q, want %q (no body mark)", got, want)
			}
		})
	}
}

// TestEvidenceBodyChecks decodes the evidence of the body-check row: each
// check in order, with its detail when it did not pass, sanitised.
func TestEvidenceBodyChecks(t *testing.T) {
	r := baselinedRun()
	hostile := cellIndex(t, r, "admin", "/api/notes")
	c := r.Observations.At(hostile)
	c.BodyChecks = append(c.BodyChecks,
		model.BodyCheckResult{Check: "body contains \"\x1b[2J\"", Result: model.BodyFail, Detail: "bidi\u202e<b>"},
		model.BodyCheckResult{Check: "c", Result: "later"})
	r.Observations.Set(hostile, c)
	cells, strs := evidenceCells(t, string(render(t, htmlWriter{}, r)))
	if len(cells) != r.Observations.Len() {
		t.Fatalf("evidence cells: got %d, want %d", len(cells), r.Observations.Len())
	}
	const own, items = `items[*].owner equals "{self.user_id}"`, `body contains "items"`
	for _, tc := range []struct {
		role, path string
		want       []string
	}{
		{"customer", "/api/notes", []string{"pass: " + items, "fail: " + own + `: items[1].owner is "u2", want "u1"`}},
		{"support", "/api/notes", []string{"undecided: " + own + ": the body was cut at the size cap before the check could decide; raise crawl.max_body", "pass: " + items}},
		{"admin", "/api/notes", []string{"pass: " + own, "pass: " + items, `fail: body contains "\x1b[2J": bidi\u202e<b>`, `undecided: c: result "later"`}},
		{"support", "/admin/", []string{}},
	} {
		i := cellIndex(t, r, tc.role, tc.path)
		rec := cells[i]
		if len(rec) != evFields {
			t.Fatalf("cell %d: %d fields, want %d", i, len(rec), evFields)
		}
		list, ok := rec[evBodyChecks].([]any)
		if !ok {
			t.Fatalf("%s as %s: body checks %#v, want a list of string indexes", tc.path, tc.role, rec[evBodyChecks])
		}
		got := []string{}
		for _, x := range list {
			got = append(got, strs[i][int(x.(float64))])
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s as %s: body checks\n got %q\nwant %q", tc.path, tc.role, got, tc.want)
		}
	}
}

func TestCSVBodyChecksAndBaseline(t *testing.T) {
	r := baselinedRun()
	out := render(t, csvWriter{}, r)
	golden(t, "baselined.csv.golden", out)
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	cells := map[string]string{}
	for _, rec := range recs[1:] {
		for j, role := range recs[0][3:] {
			cells[rec[1]+" as "+role] = rec[3+j]
		}
	}
	for _, tt := range []struct{ cell, want string }{
		{"/admin/ as support", "leak: 200 [baselined]"},
		{"/api/orders/18 as customer", "existence-leak: 403 [baselined]"},
		{"/api/orders/18 as anonymous", "existence-leak: 401 [expired on 2025-01-31]"},
		{"/api/admin/stats as admin", "error: no answer [new]"},
		{"/api/notes as customer", "leak: 200 (body check failed) [new]"},
		{"/api/notes as support", "error: 200 (body check undecided) [new]"},
		{"/api/notes as admin", "pass: 200 (body check passed)"},
		{"/api/notes as anonymous", "pass: login"},
		{"/search?q=x as customer", "inconclusive: 405"}, // a note has no baseline state
	} {
		if got := cells[tt.cell]; got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.cell, got, tt.want)
		}
	}
	if bytes.ContainsAny(out, "✓✖") {
		t.Errorf("the CSV holds a matrix mark; it says body-check outcomes in words:\n%s", out)
	}
}

// TestHTMLMatrixBodyMarks pins the matrix of the body-check row and the
// legend that explains its marks.
func TestHTMLMatrixBodyMarks(t *testing.T) {
	out := string(render(t, htmlWriter{}, baselinedRun()))
	start := strings.Index(out, `<section id="matrix"`)
	end := strings.Index(out[max(start, 0):], "</section>")
	if start < 0 || end < 0 {
		t.Fatal("no matrix section")
	}
	matrix := out[start : start+end+len("</section>\n")]
	golden(t, "baselined.matrix.html.golden", []byte(matrix))
	if want := "b✓ every body check passed, b✖ a body check failed, b? a body check could not decide"; !strings.Contains(matrix, want) {
		t.Errorf("the matrix lacks %q", want)
	}
	cells := matrixCells(t, out)
	for cell, want := range map[string]string{
		"GET /api/notes as customer": "v-leak ✖ 200 b✖",
		"GET /api/notes as support":  "v-error ⚠ 200 b?",
		"GET /api/notes as admin":    "v-pass ✓ 200 b✓",
	} {
		if got := cells[cell]; got != want {
			t.Errorf("matrix cell %s: got %q, want %q", cell, got, want)
		}
	}
}
