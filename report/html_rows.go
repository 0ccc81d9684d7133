// The matrix as the HTML report's page receives it: compact arrays in
// one <script type="application/json" id="pa-matrix"> element, written
// as a stream, from which report.js renders only the rows on screen.

package report

import (
	"bufio"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

// matrixDataVersion names the layout of the pa-matrix document; report.js
// checks it.
const matrixDataVersion = 2

// verdictCodes are the one-letter codes of the verdicts in the pa-matrix
// document.
var verdictCodes = map[model.Verdict]byte{
	model.Pass: 'P', model.Leak: 'L', model.Blocked: 'B', model.ExistenceLeak: 'E', model.WrongCode: 'W', model.ErrorVerdict: 'X',
	model.Inconclusive: 'I', model.Unmapped: 'U', model.DeadRule: 'D', model.MissingWWWAuth: 'M',
}

// htmlMatrix is the matrix of the HTML report, kept small: one htmlRow per
// endpoint holding the indexes of its cells in Run.Observations, and
// strings shared with the run. Text is sanitised and encoded only as it
// is written (writeMatrixData), so that the page's data never exists
// whole in memory.
type htmlMatrix struct {
	Roles     []string // sanitised, for the column headers
	Endpoints int
	Cells     int // probed cells
	rows      []htmlRow
	groups    []htmlGroup
	templates []htmlTemplate
}

// Tall says whether the matrix's lines (rows and the headers of prefixes
// and templates) overflow its scroller: its height is then fixed, so that
// what follows the matrix does not move when the script draws the rows or
// a filter shows fewer, and stays below the fold (and, with
// content-visibility, unlaid-out) while the page is parsed.
func (m *htmlMatrix) Tall() bool {
	lines := len(m.rows) + len(m.groups)
	for _, t := range m.templates {
		if t.header {
			lines++
		}
	}
	return lines > 25
}

// htmlRow is one endpoint of the matrix.
type htmlRow struct {
	method, path, prefix, template string // path as displayPath shows it
	tpl                            int32  // index into htmlMatrix.templates
	cells                          []int32
}

type htmlGroup struct {
	prefix   string
	rows     int
	findings int // rows with a finding
}

type htmlTemplate struct {
	template string
	group    int
	rows     int
	// header is false for a template of one endpoint that reads the same
	// as its row, so that the row is not said twice.
	header bool
}

// buildHTMLMatrix groups the observations into rows (one per method and
// URL), templates and path prefixes, sorted as buildMatrix sorts them.
func buildHTMLMatrix(r *model.Run, roles []string) *htmlMatrix {
	col := make(map[string]int, len(roles))
	for i, n := range roles {
		col[n] = i
	}
	m := &htmlMatrix{Roles: sanitizeAll(roles)}
	byKey := map[string]int{}
	for i, c := range r.Observations.All() {
		k := c.Method + " " + c.URL
		ri, ok := byKey[k]
		if !ok {
			ri = len(m.rows)
			byKey[k] = ri
			cells := make([]int32, len(roles))
			for j := range cells {
				cells[j] = -1
			}
			m.rows = append(m.rows, htmlRow{method: c.Method, path: displayPath(r.Target, c.URL), prefix: pathPrefix(c.URL), template: c.Template, cells: cells})
		}
		if j, ok := col[c.Role]; ok && m.rows[ri].cells[j] < 0 {
			m.rows[ri].cells[j] = int32(i)
			m.Cells++
		}
	}
	byKey = nil
	slices.SortStableFunc(m.rows, func(a, b htmlRow) int {
		if c := strings.Compare(a.prefix, b.prefix); c != 0 {
			return c
		}
		if c := strings.Compare(a.template, b.template); c != 0 {
			return c
		}
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		return strings.Compare(a.method, b.method)
	})
	m.Endpoints = len(m.rows)
	for k := range m.rows {
		row := &m.rows[k]
		if len(m.groups) == 0 || m.groups[len(m.groups)-1].prefix != row.prefix {
			m.groups = append(m.groups, htmlGroup{prefix: row.prefix})
		}
		g := len(m.groups) - 1
		if len(m.templates) == 0 || m.templates[len(m.templates)-1].group != g || m.templates[len(m.templates)-1].template != row.template {
			m.templates = append(m.templates, htmlTemplate{template: row.template, group: g})
		}
		t := &m.templates[len(m.templates)-1]
		row.tpl = int32(len(m.templates) - 1)
		t.rows++
		t.header = t.rows > 1 || textout.Sanitize(t.template) != textout.Sanitize(row.method+" "+row.path)
		m.groups[g].rows++
		for _, ci := range row.cells {
			if ci >= 0 && r.Observations.At(int(ci)).Verdict.IsFinding() {
				m.groups[g].findings++
				break
			}
		}
	}
	return m
}

// writeMatrixData writes the pa-matrix element: one JSON document of
// columns, a row's values at the same position in each:
//
//	{"version": 2,
//	 "codes": {code: verdict}, "symbols": {code: symbol},
//	 "groups": [[prefix, endpoints, endpoints with findings], ...],
//	 "templates": [[template, group, rows, header 0/1], ...],
//	 "tpl": [template of each row], "m": [method of each row, into "methods"],
//	 "p": [path of each row],
//	 "v": "one verdict code per cell, row after row, a column per role",
//	 "a": [answer of each cell, into "answers"],
//	 "c": [observation of the row's first probed cell; the others follow it],
//	 "cx": [[row, [observation of each cell, -1 if not probed]], ...]
//	   for the rows whose probed cells are not consecutive observations,
//	 "methods": [...], "answers": [...]}
//
// Verdict codes are verdictCodes, "-" for a cell not probed and "?" for
// a verdict the page does not know. Every string is sanitised and
// encoded by encoding/json, which writes "<", ">" and "&" as \u escapes:
// nothing from the target can end the element or open a comment in it.
func writeMatrixData(w io.Writer, r *model.Run, m *htmlMatrix) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	str := func(s string) {
		b, _ := json.Marshal(textout.Sanitize(s)) // a string: cannot fail
		bw.Write(b)
	}
	num := func(n int) { bw.WriteString(strconv.Itoa(n)) }
	sep := func(i int) {
		if i > 0 {
			bw.WriteByte(',')
		}
	}
	bw.WriteString(`<script type="application/json" id="pa-matrix">{"version":` + strconv.Itoa(matrixDataVersion))
	codes := []string{"-", "?"}
	for v := range verdictCodes {
		codes = append(codes, string(v))
	}
	slices.Sort(codes[2:])
	bw.WriteString(`,"codes":{"-":"none","?":"unknown"`)
	for _, v := range codes[2:] {
		bw.WriteString(`,"` + string(verdictCodes[model.Verdict(v)]) + `":`)
		str(v)
	}
	bw.WriteString(`},"symbols":{"-":"—","?":"•"`)
	for _, v := range codes[2:] {
		bw.WriteString(`,"` + string(verdictCodes[model.Verdict(v)]) + `":`)
		str(symbolOf(model.Verdict(v)))
	}
	bw.WriteString(`},"groups":[`)
	for i, g := range m.groups {
		sep(i)
		bw.WriteByte('[')
		str(g.prefix)
		bw.WriteString("," + strconv.Itoa(g.rows) + "," + strconv.Itoa(g.findings) + "]")
	}
	bw.WriteString(`],"templates":[`)
	for i, t := range m.templates {
		sep(i)
		bw.WriteByte('[')
		str(t.template)
		h := 0
		if t.header {
			h = 1
		}
		bw.WriteString("," + strconv.Itoa(t.group) + "," + strconv.Itoa(t.rows) + "," + strconv.Itoa(h) + "]")
	}
	bw.WriteString(`],"tpl":[`)
	for k, row := range m.rows {
		sep(k)
		num(int(row.tpl))
	}
	methods, methodIndex := []string{}, map[string]int{}
	bw.WriteString(`],"m":[`)
	for k, row := range m.rows {
		sep(k)
		i, ok := methodIndex[row.method]
		if !ok {
			i = len(methods)
			methodIndex[row.method] = i
			methods = append(methods, row.method)
		}
		num(i)
	}
	bw.WriteString(`],"p":[`)
	for k, row := range m.rows {
		sep(k)
		str(row.path)
	}
	bw.WriteString(`],"v":"`)
	for _, row := range m.rows {
		for _, ci := range row.cells {
			code := byte('-')
			if ci >= 0 {
				var ok bool
				if code, ok = verdictCodes[r.Observations.At(int(ci)).Verdict]; !ok {
					code = '?'
				}
			}
			bw.WriteByte(code)
		}
	}
	answers, answerIndex := []string{""}, map[string]int{"": 0}
	bw.WriteString(`","a":[`)
	n := 0
	for _, row := range m.rows {
		for _, ci := range row.cells {
			sep(n)
			n++
			if ci < 0 {
				num(0)
				continue
			}
			a := answerOf(r.Observations.At(int(ci)))
			i, ok := answerIndex[a]
			if !ok {
				i = len(answers)
				answerIndex[a] = i
				answers = append(answers, a)
			}
			num(i)
		}
	}
	bw.WriteString(`],"c":[`)
	var scattered []int
	for k, row := range m.rows {
		sep(k)
		first, next, consecutive := int32(-1), int32(-1), true
		for _, ci := range row.cells {
			if ci < 0 {
				continue
			}
			if first < 0 {
				first = ci
			} else if ci != next {
				consecutive = false
			}
			next = ci + 1
		}
		if !consecutive {
			scattered = append(scattered, k)
			first = -1
		}
		num(int(first))
	}
	bw.WriteString(`],"cx":[`)
	for i, k := range scattered {
		sep(i)
		bw.WriteString("[" + strconv.Itoa(k) + ",[")
		for j, ci := range m.rows[k].cells {
			sep(j)
			num(int(ci))
		}
		bw.WriteString("]]")
	}
	bw.WriteString(`],"methods":[`)
	for i, s := range methods {
		sep(i)
		str(s)
	}
	bw.WriteString(`],"answers":[`)
	for i, s := range answers {
		sep(i)
		str(s)
	}
	bw.WriteString("]}</script>")
	return bw.Flush()
}

// listDataVersion is the version of the findings' and notes' data
// (writeListData); report.js refuses any other.
const listDataVersion = 1

// writeListData writes a list too long for the page's rows (listRowsMax)
// as a <script type="application/json" id="pa-findings"> (or pa-notes)
// element, one array per row, in the list's order:
//
//	findings: [cell, verdict, severity, severity rank, symbol, method, path, role, expected, observed, rule, gate, fingerprint]
//	notes:    [cell, verdict, severity, symbol, method, path or rule, role, message]
//
// The strings are sanitised already (findingViewOf) and encoded by
// encoding/json, which escapes "<", ">" and "&": nothing from the target
// can end the element.
func writeListData(w io.Writer, l listView) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(`<script type="application/json" id="pa-` + l.Name + `">{"version":` + strconv.Itoa(listDataVersion) + `,"rows":[`)
	for i, f := range l.Rows {
		if i > 0 {
			bw.WriteByte(',')
		}
		var row []any
		if l.Name == "findings" {
			row = []any{f.Index, f.Verdict, f.Severity, f.SeverityRank, f.Symbol, f.Method, f.Path, f.Role, f.Expected, f.Observed, f.Rule, f.Gate(), f.Fingerprint}
		} else {
			path := f.Path
			if f.Method == "" {
				path = f.Rule
			}
			row = []any{f.Index, f.Verdict, f.Severity, f.Symbol, f.Method, path, f.Role, f.Message}
		}
		b, err := json.Marshal(row)
		if err != nil {
			return err
		}
		bw.Write(b)
	}
	bw.WriteString("]}</script>\n")
	return bw.Flush()
}
