package report

import (
	"bytes"
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
	gated := map[model.Verdict]bool{}
	for _, v := range r.Gate.FailOn {
		gated[v] = true
	}
	byCell := findingsByCell(r)
	grouped := groupedNotes(r)
	props := junitProperties{List: []junitProperty{
		{"target", textout.Sanitize(r.Target)},
		{"run_id", textout.Sanitize(r.RunID)},
		{"tool", textout.Sanitize(strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version))},
		{"config_fingerprint", textout.Sanitize(r.ConfigFingerprint)},
		{"complete", strconv.FormatBool(r.Complete)},
		{"gate", outcomeLine(r)},
	}}
	stamp := r.Started.UTC().Format("2006-01-02T15:04:05")

	doc := junitSuites{Name: "permaudit " + textout.Sanitize(r.Target), Time: seconds(r.Duration)}
	for _, role := range matrixRoles(r) {
		s := junitSuite{Name: "as " + textout.Sanitize(role), Timestamp: stamp, Properties: props}
		var total time.Duration
		for i, c := range r.Observations {
			if c.Role != role {
				continue
			}
			total += c.Latency
			tc := junitCase{
				Name:      textout.Sanitize(c.Method + " " + displayPath(r.Target, c.URL)),
				Classname: "permaudit." + textout.Sanitize(role),
				Time:      seconds(c.Latency),
			}
			f, hasFinding := findingOfCell(byCell[i], c.Verdict)
			switch {
			case hasFinding && f.Baseline == BaselineAccepted:
				// A finding the baseline accepts (baseline.go).
				tc.Skipped = &junitOutcome{Type: string(c.Verdict), Message: baselinedMessage(f) + ": " + cellMessage(c, f, hasFinding)}
				s.Skipped++
			case gated[c.Verdict]:
				tc.Failure = &junitOutcome{Type: string(c.Verdict), Message: cellMessage(c, f, hasFinding), Text: xmlEscape(cellDetails(c, f, hasFinding))}
				s.Failures++
			case c.Verdict.IsFinding():
				tc.SystemOut = &junitText{xmlEscape(fmt.Sprintf("%s (%s; the gate does not fail on it): %s\n%s",
					c.Verdict, c.Verdict.Severity(), cellMessage(c, f, hasFinding), cellDetails(c, f, hasFinding)))}
			case c.Verdict != model.Pass:
				if !hasFinding {
					f, hasFinding = grouped[groupKey(c.Verdict, c.Template)]
				}
				tc.Skipped = &junitOutcome{Type: string(c.Verdict), Message: "note: " + cellMessage(c, f, hasFinding)}
				s.Skipped++
			}
			s.Cases = append(s.Cases, tc)
		}
		if len(s.Cases) == 0 {
			continue // a role that probed nothing
		}
		s.Tests = len(s.Cases)
		s.Time = seconds(total)
		doc.Suites = append(doc.Suites, s)
	}

	notes := junitSuite{Name: "notes", Timestamp: stamp, Properties: props, Time: seconds(0)}
	for _, n := range r.Notes {
		if n.Cell >= 0 && n.Cell < len(r.Observations) && r.Observations[n.Cell].Verdict == n.Verdict {
			continue // its cell's test case is already skipped
		}
		what := n.Template
		if what == "" {
			what = n.Rule
		}
		notes.Cases = append(notes.Cases, junitCase{
			Name:      textout.Sanitize(string(n.Verdict) + ": " + what),
			Classname: "permaudit.notes",
			Time:      seconds(0),
			Skipped:   &junitOutcome{Type: string(n.Verdict), Message: "note: " + textout.Sanitize(n.Message)},
		})
		notes.Skipped++
	}
	if len(notes.Cases) > 0 {
		notes.Tests = len(notes.Cases)
		doc.Suites = append(doc.Suites, notes)
	}
	if !r.Complete {
		// An incomplete run is never green: a failing case says why, so
		// that no CI summary reads "0 failures" for it.
		reason := incompleteReason(r)
		doc.Suites = append([]junitSuite{{
			Name: "run", Tests: 1, Failures: 1, Timestamp: stamp, Properties: props, Time: seconds(r.Duration),
			Cases: []junitCase{{
				Name:      "the audit ran to completion",
				Classname: "permaudit.run",
				Time:      seconds(r.Duration),
				Failure: &junitOutcome{Type: "incomplete", Message: "the run is incomplete: " + reason,
					Text: xmlEscape(fmt.Sprintf("The audit ended before it probed everything (%s), so what it did not probe may hold a finding: the run is not a pass (exit code %d). Run it again to completion; docs/design.md, \"Exit codes\".\n", reason, exitCodeOf(r)))},
			}},
		}}, doc.Suites...)
	}
	for _, s := range doc.Suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
	}

	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	b.WriteByte('\n')
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	return nil
}

// findingsByCell indexes the findings and notes by the cell they cite.
func findingsByCell(r *model.Run) map[int][]model.Finding {
	m := map[int][]model.Finding{}
	for _, list := range [][]model.Finding{r.Findings, r.Notes} {
		for _, f := range list {
			if f.Cell >= 0 {
				m[f.Cell] = append(m[f.Cell], f)
			}
		}
	}
	return m
}

// groupedNotes indexes the notes that cover several cells (no role) by
// verdict and template.
func groupedNotes(r *model.Run) map[string]model.Finding {
	m := map[string]model.Finding{}
	for _, n := range r.Notes {
		if n.Role == "" && n.Template != "" {
			m[groupKey(n.Verdict, n.Template)] = n
		}
	}
	return m
}

func groupKey(v model.Verdict, template string) string { return string(v) + "\x00" + template }

func findingOfCell(fs []model.Finding, v model.Verdict) (model.Finding, bool) {
	for _, f := range fs {
		if f.Verdict == v {
			return f, true
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
