package report

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
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
	states := map[int]string{} // cell -> baseline state of its finding
	for _, f := range r.Findings {
		if _, seen := states[f.Cell]; !seen && f.Baseline != "" && f.Cell >= 0 && f.Cell < r.Observations.Len() {
			states[f.Cell] = baselineState(f)
		}
	}
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	header := []string{"method", "path", "template"}
	for _, role := range roles {
		header = append(header, csvCell(textout.Sanitize(role)))
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	rec := make([]string, 0, len(header))
	for _, row := range streamRows(r, roles) {
		rec = append(rec[:0], csvCell(textout.Sanitize(row.method)), csvCell(textout.Sanitize(row.path)), csvCell(textout.Sanitize(row.template)))
		for _, ci := range row.cells {
			if ci < 0 {
				rec = append(rec, "")
				continue
			}
			o := r.Observations.At(int(ci))
			answer := statusAnswer(o)
			if o.Status == 0 {
				answer = "no answer"
			}
			cell := string(o.Verdict) + ": " + answer + bodyNotes[bodyOutcome(o.BodyChecks)]
			if s := states[int(ci)]; s != "" {
				cell += " [" + s + "]"
			}
			rec = append(rec, csvCell(cell))
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// streamRow is one row of the matrix (a method and URL) by the indices
// of its cells: what the CSV streams from, holding no text of its own
// but the keys it is sorted by.
type streamRow struct {
	prefix, path     string // pathPrefix and displayPath of the URL
	template, method string // of its first cell
	cells            []int32
}

// streamRows are the rows of the HTML report's matrix (html_matrix.go)
// in its order: path prefix, template, path, method; each with one cell
// per role of roles, the first observation of that role, -1 where the
// role did not probe it.
func streamRows(r *model.Run, roles []string) []streamRow {
	col := make(map[string]int, len(roles))
	for i, n := range roles {
		col[n] = i
	}
	type key struct{ method, url string }
	at := map[key]int{}
	var rows []streamRow
	for i := range r.Observations.Len() {
		c := r.Observations.At(i)
		k := key{c.Method, c.URL}
		ri, ok := at[k]
		if !ok {
			ri = len(rows)
			at[k] = ri
			row := streamRow{prefix: pathPrefix(c.URL), path: displayPath(r.Target, c.URL), template: c.Template, method: c.Method, cells: make([]int32, len(roles))}
			for j := range row.cells {
				row.cells[j] = -1
			}
			rows = append(rows, row)
		}
		if j, ok := col[c.Role]; ok && rows[ri].cells[j] < 0 {
			rows[ri].cells[j] = int32(i)
		}
	}
	slices.SortStableFunc(rows, func(a, b streamRow) int {
		return cmp.Or(strings.Compare(a.prefix, b.prefix), strings.Compare(a.template, b.template),
			strings.Compare(a.path, b.path), strings.Compare(a.method, b.method))
	})
	return rows
}

// csvCell defuses spreadsheet formulas (CSV injection).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
