package report

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

// junitWriter writes JUnit XML for CI test reports: one <testsuite> per
// role with a <testcase> per endpoint that role probed, and a last suite
// "notes" for the notes that have no cell of their own (dead rules,
// missing WWW-Authenticate headers). A case fails (<failure>) when its
// cell has a finding the gate fails on; a finding the gate ignores passes,
// with its message in <system-out>; a cell judged as a note is <skipped>.
// The output validates against the Jenkins xUnit plugin's JUnit schema
// (testdata/schemas/junit-10.xsd). An incomplete run gets a first suite
// "run" whose one case fails with the reason, so that it never reads as
// passed.
type junitWriter struct{}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties junitProperties `xml:"properties"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperties struct {
	List []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitOutcome `xml:"failure,omitempty"`
	Skipped   *junitOutcome `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

type junitOutcome struct {
	Type    string `xml:"type,attr,omitempty"`
	Message string `xml:"message,attr"`
	Text    string `xml:",innerxml"` // escaped by xmlEscape
}

// junitText is an element of character data escaped by xmlEscape, so
// that newlines stay newlines (encoding/xml writes them as "&#xA;").
type junitText struct {
	Text string `xml:",innerxml"`
}

func (junitWriter) Write(w io.Writer, r *model.Run) error {
	j := junitRun{r: r, gated: map[model.Verdict]bool{}, byCell: findingsByCell(r), grouped: groupedNotes(r)}
	for _, v := range r.Gate.FailOn {
		j.gated[v] = true
	}
	props := junitProperties{List: []junitProperty{
		{"target", textout.Sanitize(r.Target)},
		{"run_id", textout.Sanitize(r.RunID)},
		{"tool", textout.Sanitize(strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version))},
		{"config_fingerprint", textout.Sanitize(r.ConfigFingerprint)},
		{"complete", strconv.FormatBool(r.Complete)},
		{"gate", outcomeLine(r)},
	}}
	stamp := r.Started.UTC().Format("2006-01-02T15:04:05")

	// The first pass counts what each suite's attributes say; the second
	// writes the cases one by one.
	var suites []junitSuite
	if !r.Complete {
		suites = append(suites, junitSuite{Name: "run", Tests: 1, Failures: 1, Time: seconds(r.Duration)})
	}
	roles := matrixRoles(r)
	for _, role := range roles {
		s := junitSuite{Name: "as " + textout.Sanitize(role)}
		var total time.Duration
		for i := range r.Observations.Len() {
			c := r.Observations.At(i)
			if c.Role != role {
				continue
			}
			total += c.Latency
			s.Tests++
			switch j.outcome(i, &c) {
			case junitFailure:
				s.Failures++
			case junitSkipped:
				s.Skipped++
			}
		}
		s.Time = seconds(total)
		suites = append(suites, s)
	}
	notes := junitSuite{Name: "notes", Time: seconds(0)}
	for _, n := range r.Notes {
		if j.noteCase(n) {
			notes.Tests++
			notes.Skipped++
		}
	}
	suites = append(suites, notes)
	doc := junitSuites{Name: "permaudit " + textout.Sanitize(r.Target), Time: seconds(r.Duration)}
	for _, s := range suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
	}

	bw := bufio.NewWriter(w)
	bw.WriteString(xml.Header)
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	enc.EncodeToken(xml.StartElement{Name: xml.Name{Local: "testsuites"}, Attr: []xml.Attr{
		xmlAttr("name", doc.Name), xmlAttr("tests", strconv.Itoa(doc.Tests)), xmlAttr("failures", strconv.Itoa(doc.Failures)),
		xmlAttr("errors", "0"), xmlAttr("time", doc.Time)}})
	begin := func(s junitSuite) {
		enc.EncodeToken(xml.StartElement{Name: xml.Name{Local: "testsuite"}, Attr: []xml.Attr{
			xmlAttr("name", s.Name), xmlAttr("tests", strconv.Itoa(s.Tests)), xmlAttr("failures", strconv.Itoa(s.Failures)),
			xmlAttr("errors", "0"), xmlAttr("skipped", strconv.Itoa(s.Skipped)), xmlAttr("time", s.Time), xmlAttr("timestamp", stamp)}})
		enc.EncodeElement(props, xml.StartElement{Name: xml.Name{Local: "properties"}})
	}
	end := func() { enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: "testsuite"}}) }
	if !r.Complete {
		// An incomplete run is never green: a failing case says why, so
		// that no CI summary reads "0 failures" for it.
		reason := incompleteReason(r)
		begin(suites[0])
		enc.EncodeElement(junitCase{
			Name:      "the audit ran to completion",
			Classname: "permaudit.run",
			Time:      seconds(r.Duration),
			Failure: &junitOutcome{Type: "incomplete", Message: "the run is incomplete: " + reason,
				Text: xmlEscape(fmt.Sprintf("The audit ended before it probed everything (%s), so what it did not probe may hold a finding: the run is not a pass (exit code %d). Run it again to completion; docs/design.md, \"Exit codes\".\n", reason, exitCodeOf(r)))},
		}, xml.StartElement{Name: xml.Name{Local: "testcase"}})
		end()
		suites = suites[1:]
	}
	for k, role := range roles {
		if suites[k].Tests == 0 {
			continue // a role that probed nothing
		}
		begin(suites[k])
		for i := range r.Observations.Len() {
			if c := r.Observations.At(i); c.Role == role {
				enc.EncodeElement(j.testCase(i, &c, role), xml.StartElement{Name: xml.Name{Local: "testcase"}})
			}
		}
		end()
	}
	if notes.Tests > 0 {
		begin(notes)
		for _, n := range r.Notes {
			if !j.noteCase(n) {
				continue
			}
			what := n.Template
			if what == "" {
				what = n.Rule
			}
			enc.EncodeElement(junitCase{
				Name:      textout.Sanitize(string(n.Verdict) + ": " + what),
				Classname: "permaudit.notes",
				Time:      seconds(0),
				Skipped:   &junitOutcome{Type: string(n.Verdict), Message: "note: " + textout.Sanitize(n.Message)},
			}, xml.StartElement{Name: xml.Name{Local: "testcase"}})
		}
		end()
	}
	enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: "testsuites"}})
	if err := enc.Close(); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	bw.WriteByte('\n')
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	return nil
}

func xmlAttr(name, value string) xml.Attr { return xml.Attr{Name: xml.Name{Local: name}, Value: value} }

// junitRun is what the JUnit writer looks a cell's finding up in.
type junitRun struct {
	r       *model.Run
	gated   map[model.Verdict]bool
	byCell  map[int][]*model.Finding
	grouped map[string]*model.Finding
}

// The outcomes of a test case.
const (
	junitPassed = iota
	junitFailure
	junitSkipped
	junitOut // passed, with the finding the gate ignores in <system-out>
)

// outcome is what cell i's test case says.
func (j *junitRun) outcome(i int, c *model.Cell) int {
	f, hasFinding := findingOfCell(j.byCell[i], c.Verdict)
	switch {
	case hasFinding && f.Baseline == BaselineAccepted:
		return junitSkipped // a finding the baseline accepts (baseline.go)
	case j.gated[c.Verdict]:
		return junitFailure
	case c.Verdict.IsFinding():
		return junitOut
	case c.Verdict != model.Pass:
		return junitSkipped
	}
	return junitPassed
}

// testCase is cell i's test case.
func (j *junitRun) testCase(i int, c *model.Cell, role string) junitCase {
	tc := junitCase{
		Name:      textout.Sanitize(c.Method + " " + displayPath(j.r.Target, c.URL)),
		Classname: "permaudit." + textout.Sanitize(role),
		Time:      seconds(c.Latency),
	}
	f, hasFinding := findingOfCell(j.byCell[i], c.Verdict)
	switch j.outcome(i, c) {
	case junitSkipped:
		if hasFinding && f.Baseline == BaselineAccepted {
			tc.Skipped = &junitOutcome{Type: string(c.Verdict), Message: baselinedMessage(f) + ": " + cellMessage(*c, f, hasFinding)}
			break
		}
		if !hasFinding {
			if g := j.grouped[groupKey(c.Verdict, c.Template)]; g != nil {
				f, hasFinding = *g, true
			}
		}
		tc.Skipped = &junitOutcome{Type: string(c.Verdict), Message: "note: " + cellMessage(*c, f, hasFinding)}
	case junitFailure:
		tc.Failure = &junitOutcome{Type: string(c.Verdict), Message: cellMessage(*c, f, hasFinding), Text: xmlEscape(cellDetails(*c, f, hasFinding))}
	case junitOut:
		tc.SystemOut = &junitText{xmlEscape(fmt.Sprintf("%s (%s; the gate does not fail on it): %s\n%s",
			c.Verdict, c.Verdict.Severity(), cellMessage(*c, f, hasFinding), cellDetails(*c, f, hasFinding)))}
	}
	return tc
}

// noteCase says whether note n has a case of its own in the suite
// "notes": not when its cell's test case is already skipped for it.
func (j *junitRun) noteCase(n model.Finding) bool {
	return !(n.Cell >= 0 && n.Cell < j.r.Observations.Len() && j.r.Observations.At(n.Cell).Verdict == n.Verdict)
}

// findingsByCell indexes the findings and notes by the cell they cite.
func findingsByCell(r *model.Run) map[int][]*model.Finding {
	m := map[int][]*model.Finding{}
	for _, list := range [][]model.Finding{r.Findings, r.Notes} {
		for k := range list {
			if f := &list[k]; f.Cell >= 0 {
				m[f.Cell] = append(m[f.Cell], f)
			}
		}
	}
	return m
}

// groupedNotes indexes the notes that cover several cells (no role) by
// verdict and template.
func groupedNotes(r *model.Run) map[string]*model.Finding {
	m := map[string]*model.Finding{}
	for k := range r.Notes {
		if n := &r.Notes[k]; n.Role == "" && n.Template != "" {
			m[groupKey(n.Verdict, n.Template)] = n
		}
	}
	return m
}

func groupKey(v model.Verdict, template string) string { return string(v) + "\x00" + template }

func findingOfCell(fs []*model.Finding, v model.Verdict) (model.Finding, bool) {
	for _, f := range fs {
		if f.Verdict == v {
			return *f, true
		}
	}
	return model.Finding{}, false
}

// cellMessage is the finding's message, or one made from the cell when the
// run has no finding for it.
func cellMessage(c model.Cell, f model.Finding, ok bool) string {
	if ok && f.Message != "" {
		return textout.Sanitize(f.Message)
	}
	return textout.Sanitize(fmt.Sprintf("%s %s as %s: expected %s, got %s", c.Method, model.PathOf(c.URL), c.Role, c.Expected, c.Observation.Observed()))
}

// cellDetails is the evidence of a cell as text lines.
func cellDetails(c model.Cell, f model.Finding, ok bool) string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, textout.Sanitize(v))
		}
	}
	line("verdict", string(c.Verdict)+" ("+string(c.Verdict.Severity())+")")
	line("request", c.Method+" "+c.URL)
	line("role", c.Role)
	line("expected", c.Expected)
	line("observed", c.Observation.Observed())
	line("location", c.Location)
	line("rule", c.Rule)
	line("template", c.Template)
	if ok {
		line("fingerprint", f.Fingerprint)
	}
	if c.Excerpt != "" {
		b.WriteString("excerpt:\n")
		b.WriteString(sanitizeBlock(c.Excerpt))
		b.WriteByte('\n')
	}
	return b.String()
}

// seconds formats a duration as JUnit's decimal seconds: "0.002".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

// xmlEscape escapes text for XML character data: &, < and > become
// entities, and every character XML 1.0 forbids (C0 controls other than
// tab, newline and carriage return, U+FFFE, U+FFFF, invalid UTF-8) becomes
// U+FFFD. Newlines are kept.
func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteRune(r)
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF || r == utf8.RuneError:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
