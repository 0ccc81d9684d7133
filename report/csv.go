package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

// csvWriter writes the matrix for spreadsheets (RFC 4180): a header row,
// then one row per endpoint in the HTML matrix's order (path prefix,
// template, path) with its method, path, template and one column per role
// holding "verdict: answer" ("leak: 200", "pass: login", "error: no
// answer"; the answers of the HTML matrix), empty when the role did not
// probe it. When the rule checked the body, the outcome follows in words
// rather than the matrix's mark: "leak: 200 (body check failed)", "(body
// check passed)", "(body check undecided)". When the run was judged with
// a baseline, a cell with a finding ends with the finding's state: "leak:
// 200 [baselined]", "[new]", "[expired on 2025-06-30]". A value that a
// spreadsheet would read as a formula (starting with =, +, -, @, tab or
// carriage return) is prefixed with a single quote.
type csvWriter struct{}

func (csvWriter) Write(w io.Writer, r *model.Run) error {
	roles := matrixRoles(r)
	m := buildMatrix(r, roles)
	states := map[int]string{} // cell -> baseline state of its finding
	for _, f := range r.Findings {
		if _, seen := states[f.Cell]; !seen && f.Baseline != "" && f.Cell >= 0 && f.Cell < len(r.Observations) {
			states[f.Cell] = baselineState(f)
		}
	}
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	header := []string{"method", "path", "template"}
	for _, role := range roles {
		header = append(header, csvCell(textout.Sanitize(role)))
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, g := range m.Groups {
		for _, t := range g.Templates {
			for _, row := range t.Rows {
				rec := []string{csvCell(row.Method), csvCell(row.Path), csvCell(t.Template)}
				for _, c := range row.Cells {
					if c.Index < 0 {
						rec = append(rec, "")
						continue
					}
					o := r.Observations[c.Index]
					answer := statusAnswer(o)
					if o.Status == 0 {
						answer = "no answer"
					}
					cell := string(o.Verdict) + ": " + answer + bodyNotes[bodyOutcome(o.BodyChecks)]
					if s := states[c.Index]; s != "" {
						cell += " [" + s + "]"
					}
					rec = append(rec, csvCell(cell))
				}
				if err := cw.Write(rec); err != nil {
					return fmt.Errorf("write csv: %w", err)
				}
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// csvCell defuses spreadsheet formulas (CSV injection).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
