// The access matrix, one row per endpoint and one column per role,
// grouped by path prefix and template (buildMatrix). The HTML report
// sends it to the page as compact arrays (html_rows.go).

package report

import (
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

// matrixView is the access matrix with every cell rendered as text:
// what the CSV writer writes (the HTML report uses htmlMatrix).
type matrixView struct {
	Roles     []string
	Endpoints int
	Cells     int
	Groups    []matrixGroup
}

type matrixGroup struct {
	Prefix    string
	Endpoints int
	Findings  int
	Templates []matrixTemplate
}

type matrixTemplate struct {
	Template string
	Rows     []matrixRow
	// Header is false for a template of one endpoint that reads the
	// same as its row, so that the row is not said twice.
	Header bool
}

type matrixRow struct {
	Method, Path string
	Cells        []matrixCell
}

type matrixCell struct {
	Index  int    // into Run.Observations; -1 when the role did not probe it
	Class  string // "v-leak": the first class of the cell, read by report.js
	Symbol string
	Answer string
	// Focus makes the cell the matrix's one tab stop (tabindex 0): its
	// first cell; the arrow keys move it (report.js, roving tabindex).
	Focus bool
}

// matrixRoles are the matrix's columns: the run's roles in configuration
// order (only those probed when --role narrowed the run), then any role
// seen in an observation but not declared.
func matrixRoles(r *model.Run) []string {
	seen := map[string]bool{}
	for _, c := range r.Observations.All() {
		seen[c.Role] = true
	}
	var roles []string
	narrowed := len(r.Filters.Roles) > 0
	for _, ri := range r.Roles {
		if narrowed && !seen[ri.Name] {
			continue
		}
		roles = append(roles, ri.Name)
		delete(seen, ri.Name)
	}
	var extra []string
	for n := range seen {
		extra = append(extra, n)
	}
	sort.Strings(extra)
	return append(roles, extra...)
}

// buildMatrix groups the observations into rows (one per method and
// URL), templates and path prefixes, each sorted.
func buildMatrix(r *model.Run, roles []string) matrixView {
	col := map[string]int{}
	for i, n := range roles {
		col[n] = i
	}
	type rowAcc struct {
		method, url, template string
		cells                 []int
	}
	rows := map[string]*rowAcc{}
	var keys []string
	for i, c := range r.Observations.All() {
		k := c.Method + " " + c.URL
		acc, ok := rows[k]
		if !ok {
			acc = &rowAcc{method: c.Method, url: c.URL, template: c.Template, cells: make([]int, len(roles))}
			for j := range acc.cells {
				acc.cells[j] = -1
			}
			rows[k] = acc
			keys = append(keys, k)
		}
		if j, ok := col[c.Role]; ok && acc.cells[j] < 0 {
			acc.cells[j] = i
		}
	}
	type keyed struct {
		prefix, template, path, method string
		acc                            *rowAcc
	}
	list := make([]keyed, 0, len(keys))
	for _, k := range keys {
		acc := rows[k]
		p := displayPath(r.Target, acc.url)
		list = append(list, keyed{pathPrefix(acc.url), acc.template, p, acc.method, acc})
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.prefix != b.prefix {
			return a.prefix < b.prefix
		}
		if a.template != b.template {
			return a.template < b.template
		}
		if a.path != b.path {
			return a.path < b.path
		}
		return a.method < b.method
	})

	m := matrixView{Roles: sanitizeAll(roles), Endpoints: len(list)}
	for _, k := range list {
		if len(m.Groups) == 0 || m.Groups[len(m.Groups)-1].Prefix != textout.Sanitize(k.prefix) {
			m.Groups = append(m.Groups, matrixGroup{Prefix: textout.Sanitize(k.prefix)})
		}
		g := &m.Groups[len(m.Groups)-1]
		if len(g.Templates) == 0 || g.Templates[len(g.Templates)-1].Template != textout.Sanitize(k.template) {
			g.Templates = append(g.Templates, matrixTemplate{Template: textout.Sanitize(k.template)})
		}
		t := &g.Templates[len(g.Templates)-1]
		row := matrixRow{Method: textout.Sanitize(k.method), Path: textout.Sanitize(k.path), Cells: make([]matrixCell, len(roles))}
		finding := false
		for j, ci := range k.acc.cells {
			if ci < 0 {
				row.Cells[j] = matrixCell{Index: -1, Class: "v-none", Symbol: "—"}
				continue
			}
			c := r.Observations.At(ci)
			row.Cells[j] = matrixCell{
				Index:  ci,
				Class:  "v-" + string(c.Verdict),
				Symbol: symbolOf(c.Verdict),
				Answer: answerOf(c),
			}
			m.Cells++
			if c.Verdict.IsFinding() {
				finding = true
			}
		}
		if len(m.Groups) == 1 && g.Endpoints == 0 && len(row.Cells) > 0 {
			row.Cells[0].Focus = true
		}
		g.Endpoints++
		if finding {
			g.Findings++
		}
		t.Rows = append(t.Rows, row)
		t.Header = len(t.Rows) > 1 || t.Template != row.Method+" "+row.Path
	}
	return m
}

// answerOf is the short answer a matrix cell shows: statusAnswer, then
// " b✓" when every body check passed, " b✖" when one failed, " b?" when
// one could not decide (bodyOutcome).
func answerOf(c model.Cell) string {
	return statusAnswer(c) + bodyMarks[bodyOutcome(c.BodyChecks)]
}

// statusAnswer is a cell's answer without its body checks: the final
// status, or "login" for a redirect to (or a page of) the login, "denial"
// for a denial signature on another status, "error" when nothing
// decided, with "↪" when redirects were followed.
func statusAnswer(c model.Cell) string {
	var a string
	switch {
	case c.Class == model.Error:
		a = "error"
		if c.Status > 0 {
			a = strconv.Itoa(c.Status)
		}
	case c.Class == model.Unauthenticated && c.Status != 401:
		a = "login"
	case c.Class == model.Forbidden && c.Status != 403:
		a = "denial"
	case c.Status == 0:
		a = "error"
	default:
		a = strconv.Itoa(c.Status)
	}
	if c.Redirects() > 0 {
		a = "↪" + a
	}
	return a
}

// pathPrefix is the first segment of a URL's path ("/api"), or "/".
func pathPrefix(raw string) string {
	p := raw
	if u, err := url.Parse(raw); err == nil {
		p = u.EscapedPath()
	}
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		p = p[:i]
	}
	return "/" + p
}
