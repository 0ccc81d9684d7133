package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/permaudit/permaudit/model"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// testRuns are the runs every CI output is checked with.
func testRuns() map[string]*model.Run {
	narrowed := fixtureRun(fixtureRoles, richEndpoints())
	narrowed.Gate = model.Gate{FailOn: []model.Verdict{}}
	return map[string]*model.Run{
		"small":   fixedRun(),
		"rich":    fixtureRun(fixtureRoles, richEndpoints()),
		"hostile": hostileRun(),
		"no gate": narrowed,
		// Body checks and a baseline; the same with markup everywhere.
		"baselined":         baselinedRun(),
		"hostile baselined": hostileBaselinedRun(),
		"incomplete":        incompleteRun("interrupted"),
		"empty":             {Schema: model.SchemaVersion, Tool: model.Tool{Name: "permaudit"}, Complete: true, Gate: model.Gate{FailOn: model.DefaultFailOn}, Counts: map[model.Verdict]int{}},
	}
}

func render(t *testing.T, w Writer, r *model.Run) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := w.Write(&b, r); err != nil {
		t.Fatalf("write: %v", err)
	}
	return b.Bytes()
}

// requireTool returns the path of a command-line tool, or skips the test
// without it (fails it when CI=true).
func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found and CI=true: %s", name, install)
		}
		t.Skipf("%s not found, so this check is skipped: %s", name, install)
	}
	return p
}

func TestJUnitValidatesAgainstXSD(t *testing.T) {
	xmllint := requireTool(t, "xmllint", "install libxml2-utils (Debian: apt-get install -y libxml2-utils)")
	xsd := filepath.Join("testdata", "schemas", "junit-10.xsd")
	for name, r := range testRuns() {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "junit.xml")
			if err := os.WriteFile(path, render(t, junitWriter{}, r), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, path).CombinedOutput()
			if err != nil {
				t.Errorf("xmllint --schema %s: %v\n%s", xsd, err, out)
			}
		})
	}
	// The check can fail: an element the schema does not know is refused.
	bad := filepath.Join(t.TempDir(), "bad.xml")
	os.WriteFile(bad, []byte(`<testsuites><testsuite name="x" tests="1" failures="0" errors="0"><testcase name="a"><oops/></testcase></testsuite></testsuites>`), 0o644)
	if err := exec.Command(xmllint, "--noout", "--nonet", "--schema", xsd, bad).Run(); err == nil {
		t.Error("xmllint accepted an invalid JUnit file: the schema check proves nothing")
	}
}

// junitDoc is what the tests read back from the JUnit output.
type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Type string `xml:"type,attr"`
				Text string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Type string `xml:"type,attr"`
			} `xml:"skipped"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitCases(t *testing.T) {
	r := fixtureRun(fixtureRoles, richEndpoints())
	var doc junitDoc
	if err := xml.Unmarshal(render(t, junitWriter{}, r), &doc); err != nil {
		t.Fatalf("the JUnit output does not parse: %v", err)
	}
	var cases, failures, skipped, outs int
	failed := map[string]int{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			cases++
			switch {
			case c.Failure != nil:
				failures++
				failed[c.Failure.Type]++
				if !strings.Contains(c.Failure.Text, "\nexpected: ") {
					t.Errorf("failure of %s: the text does not keep its lines: %q", c.Name, c.Failure.Text)
				}
			case c.Skipped != nil:
				skipped++
			case c.SystemOut != "":
				outs++
			}
		}
	}
	var wantFail, wantSkip, wantOut int
	for _, c := range r.Observations.All() {
		switch {
		case slices.Contains(r.Gate.FailOn, c.Verdict):
			wantFail++
		case c.Verdict.IsFinding():
			wantOut++
		case c.Verdict != model.Pass:
			wantSkip++
		}
	}
	// Notes that have no cell of their own: the dead rule and the missing
	// WWW-Authenticate header.
	wantSkip += 2
	if got, want := cases, r.Observations.Len()+2; got != want {
		t.Errorf("test cases: got %d, want %d (one per endpoint and role, and one per note without a cell)", got, want)
	}
	if failures != wantFail || doc.Failures != wantFail {
		t.Errorf("failures: got %d (testsuites says %d), want %d: the gated findings %v", failures, doc.Failures, wantFail, failed)
	}
	if skipped != wantSkip {
		t.Errorf("skipped: got %d, want %d (the notes)", skipped, wantSkip)
	}
	if outs != wantOut {
		t.Errorf("passing cases with a finding the gate ignores: got %d, want %d", outs, wantOut)
	}
	if doc.Tests != cases {
		t.Errorf("testsuites tests=%d, want %d", doc.Tests, cases)
	}
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	const schemaURL = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	f, err := os.Open(filepath.Join("testdata", "schemas", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(schemaURL)
	if err != nil {
		t.Fatalf("compile the SARIF schema: %v", err)
	}
	for name, r := range testRuns() {
		t.Run(name, func(t *testing.T) {
			// As GitHub's limits leave it, and cut to 3 results (notes
			// grouped, findings cut, notifications).
			for _, w := range []sarifWriter{{}, {maxResults: 3, opts: SARIFOptions{Root: "/src", Dir: "/src/ci"}}} {
				out := render(t, w, r)
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
				if err != nil {
					t.Fatalf("the SARIF output is not JSON: %v", err)
				}
				if err := schema.Validate(inst); err != nil {
					t.Errorf("the SARIF output (at most %d results) does not validate: %v", w.maxResults, err)
				}
			}
		})
	}
	// The check can fail.
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"version":"2.1.0","runs":[{"tool":{"driver":{}},"results":[{"level":"fatal","message":{"text":"x"}}]}]}`))
	if schema.Validate(bad) == nil {
		t.Error("the schema accepted an invalid SARIF log: the check proves nothing")
	}
}

func TestSARIFResults(t *testing.T) {
	r := fixtureRun(fixtureRoles, richEndpoints())
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID              string            `json:"ruleId"`
				RuleIndex           int               `json:"ruleIndex"`
				Level               string            `json:"level"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(render(t, sarifWriter{}, r), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if got, want := len(run.Tool.Driver.Rules), len(model.FindingVerdicts)+len(model.NoteVerdicts); got != want {
		t.Errorf("rules: got %d, want one per verdict (%d)", got, want)
	}
	all := append(append([]model.Finding(nil), r.Findings...), r.Notes...)
	if len(run.Results) != len(all) {
		t.Fatalf("results: got %d, want one per finding and note (%d)", len(run.Results), len(all))
	}
	for i, res := range run.Results {
		f := all[i]
		want := "note"
		if f.Verdict.IsFinding() {
			want = "warning"
			if slices.Contains(r.Gate.FailOn, f.Verdict) {
				want = "error"
			}
		}
		if res.Level != want {
			t.Errorf("result %d (%s): level %q, want %q", i, f.Verdict, res.Level, want)
		}
		if res.RuleID != "permaudit/"+string(f.Verdict) || run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %d: rule %q at index %d, want permaudit/%s", i, res.RuleID, res.RuleIndex, f.Verdict)
		}
		if res.PartialFingerprints["permaudit/v1"] != f.Fingerprint {
			t.Errorf("result %d: partialFingerprints %v, want permaudit/v1 = %s", i, res.PartialFingerprints, f.Fingerprint)
		}
	}
}

func TestMarkdownEscapesUntrustedText(t *testing.T) {
	for name, r := range map[string]*model.Run{"hostile": hostileRun(), "hostile, with a baseline": hostileBaselinedRun()} {
		t.Run(name, func(t *testing.T) { checkMarkdownEscapes(t, string(render(t, markdownWriter{}, r))) })
	}
}

// hostileBaselinedRun is hostileRun judged with a baseline whose file
// name, reasons, templates and roles hold markup: one entry accepts a
// finding, one lists a finding since fixed, one an endpoint not probed.
func hostileBaselinedRun() *model.Run {
	r := hostileRun()
	const reason = "*x* [l](javascript:y) |`<b>` @team"
	tpl := r.Findings[0].Template
	ApplyBaseline(r, &Baseline{File: "`b|<i>ase_.yaml", Entries: []model.BaselineEntry{
		{Fingerprint: r.Findings[0].Fingerprint, Reason: reason, Expires: "2025-01-01"},
		{Fingerprint: model.Fingerprint(model.ErrorVerdict, "GET", tpl, "anonymous"), Verdict: model.ErrorVerdict, Template: tpl, Role: "anonymous", Reason: reason},
		{Fingerprint: model.Fingerprint(model.Leak, "GET", "GET /z/<b>|`", "r|x"), Verdict: "leak|`x`", Template: "GET /z/<b>|`", Role: "r|x", Reason: reason},
	}}, time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC))
	return r
}

// checkMarkdownEscapes fails on a markup character the writer did not
// escape and on a findings row with more or fewer cells than the header.
func checkMarkdownEscapes(t *testing.T, out string) {
	t.Helper()
	ours := strings.NewReplacer("<details><summary>", "", "</summary>", "", "</details>", "", "**incomplete**", "").Replace(out)
	for i := 0; i < len(ours); i++ {
		if strings.IndexByte("<[`|&@$*_", ours[i]) >= 0 && (i == 0 || ours[i-1] != '\\') && !strings.HasPrefix(ours[i:], "| ") && !strings.HasPrefix(ours[i:], "|\n") {
			t.Errorf("markdown holds an unescaped %q at %d: %q", ours[i], i, ours[max(0, i-30):min(len(ours), i+30)])
		}
	}
	// Every row of the findings table has exactly the header's cells: no
	// "|" from the target ends a cell.
	borders := -1
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| severity |") {
			borders = strings.Count(line, "|")
			continue
		}
		if borders >= 0 && strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| ---") {
			unescaped := strings.Count(line, "|") - strings.Count(line, `\|`)
			if unescaped != borders {
				t.Errorf("findings row has %d cell borders, want %d: %s", unescaped, borders, line)
			}
		}
	}
	if borders < 0 {
		t.Errorf("no findings table:\n%s", out)
	}
}

func TestMarkdownText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain words", "plain words"},
		{"a|b", `a\|b`},
		{"<b>x</b>", `\<b\>x\</b\>`},
		{"[x](javascript:y)", `\[x\]\(javascript:y\)`},
		{"@team *bold* `code` $x$ ~~s~~ &amp;", `\@team \*bold\* \` + "`" + `code\` + "`" + ` \$x\$ \~\~s\~\~ \&amp;`},
		{"line\nbreak", `line\\x0abreak`},
	}
	for _, tt := range tests {
		if got := markdownText(tt.in); got != tt.want {
			t.Errorf("markdownText(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCSVMatrix(t *testing.T) {
	r := fixtureRun(fixtureRoles, richEndpoints())
	recs, err := csv.NewReader(bytes.NewReader(render(t, csvWriter{}, r))).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	if got, want := len(recs), 1+len(richEndpoints()); got != want {
		t.Fatalf("rows: got %d, want a header and one per endpoint (%d)", got, want)
	}
	if got, want := strings.Join(recs[0], ","), "method,path,template,anonymous,customer,support,admin"; got != want {
		t.Errorf("header: got %q, want %q", got, want)
	}
	cells := map[string]string{}
	for _, rec := range recs[1:] {
		for j, role := range recs[0][3:] {
			cells[rec[1]+" as "+role] = rec[3+j]
		}
	}
	for _, tt := range []struct{ cell, want string }{
		{"/admin/ as support", "leak: 200"},
		{"/admin/ as anonymous", "pass: login"},
		{"/account/ as customer", "pass: ↪200"},
		{"/support/tickets as customer", "pass: denial"},
		{"/api/admin/stats as admin", "error: no answer"},
		{"/api/orders/18 as admin", ""},
	} {
		if got := cells[tt.cell]; got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.cell, got, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"}, {"+1", "'+1"}, {"-1", "'-1"}, {"@SUM(A1)", "'@SUM(A1)"}, {"GET", "GET"}, {"", ""},
	} {
		if got := csvCell(tt.in); got != tt.want {
			t.Errorf("csvCell(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestWritersGoldenRich pins the rendering of the rich fixture, which has
// every verdict, a redirect chain and notes, in every format.
func TestWritersGoldenRich(t *testing.T) {
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			w, _ := WriterFor(format)
			got := render(t, w, fixtureRun(fixtureRoles, richEndpoints()))
			golden := filepath.Join("testdata", "rich."+format+".golden")
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
				t.Errorf("%s output differs from %s (go test ./report -update rewrites it)", format, golden)
			}
		})
	}
}
