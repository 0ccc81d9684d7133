package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// baselinedShop is the shop with a leak, a wrong code and an existence
// leak, judged with a baseline that accepts the leak, whose entry for the
// existence leak has expired, and that lists a blocked finding no longer
// seen.
func baselinedShop(t *testing.T) *model.Run {
	t.Helper()
	run := shopRun(t, true, true, true)
	b := parseBaselineText(t, `schema: permaudit.baseline/v1
findings:
  - verdict: leak
    template: "GET /admin/users/{id}"
    role: customer
    reason: "accepted <until> the rewrite"
  - verdict: existence-leak
    template: "GET /api/orders/{id}"
    role: customer
    reason: "was accepted"
    expires: 2025-04-30
  - verdict: blocked
    template: "GET /admin/settings"
    role: admin
    reason: "fixed since"
`)
	ApplyBaseline(run, b, day(2025, 5, 1))
	return run
}

func TestSARIFBaselineState(t *testing.T) {
	run := baselinedShop(t)
	out := render(t, sarifWriter{}, run)
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID        string `json:"ruleId"`
				Kind          string `json:"kind"`
				BaselineState string `json:"baselineState"`
				Suppressions  []struct {
					Kind, Status, Justification string
				} `json:"suppressions"`
				Properties struct {
					Role  string `json:"role"`
					Gated bool   `json:"gated"`
				} `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range log.Runs[0].Results {
		key := strings.TrimPrefix(r.RuleID, "permaudit/") + " " + r.BaselineState
		if len(r.Suppressions) > 0 {
			s := r.Suppressions[0]
			key += " suppressed " + s.Kind + " " + s.Status + " " + s.Justification
			if r.Properties.Gated {
				t.Errorf("a suppressed result is marked gated")
			}
		}
		got[key]++
	}
	want := map[string]int{
		"leak unchanged suppressed external accepted accepted <until> the rewrite": 2,
		"existence-leak unchanged": 2,
		"wrong-code new":           1,
		"blocked absent":           1,
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%d results %q, want %d; got %v", got[k], k, n, got)
		}
	}
	validateSARIF(t, out)
	// Without a baseline, no result has a baseline state.
	if bytes.Contains(render(t, sarifWriter{}, shopRun(t, true, true, true)), []byte("baselineState")) {
		t.Error("baselineState without a baseline")
	}
}

func validateSARIF(t *testing.T, out []byte) {
	t.Helper()
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
	if err := c.AddResource(schemaURL, doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Errorf("the SARIF output does not validate: %v", err)
	}
}

func TestJUnitBaselinedSkipped(t *testing.T) {
	run := baselinedShop(t)
	out := render(t, junitWriter{}, run)
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Type string `xml:"type,attr"`
				} `xml:"failure"`
				Skipped *struct {
					Type    string `xml:"type,attr"`
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	var skipped, failed []string
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			switch {
			case c.Skipped != nil && c.Skipped.Type == "leak":
				if !strings.HasPrefix(c.Skipped.Message, "baselined: accepted <until> the rewrite: ") {
					t.Errorf("%s: skipped message %q does not give the reason", c.Name, c.Skipped.Message)
				}
				skipped = append(skipped, c.Name)
			case c.Failure != nil:
				failed = append(failed, c.Failure.Type+" "+c.Name)
			}
		}
	}
	if strings.Join(skipped, ",") != "GET /admin/users/1,GET /admin/users/2" {
		t.Errorf("baselined leaks skipped: %v, want the two user pages", skipped)
	}
	if strings.Join(failed, ",") != "existence-leak GET /api/orders/18,existence-leak GET /api/orders/19" {
		t.Errorf("failures: %v, want the two expired existence leaks", failed)
	}
	if xmllint, err := exec.LookPath("xmllint"); err == nil {
		path := filepath.Join(t.TempDir(), "junit.xml")
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		if msg, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", filepath.Join("testdata", "schemas", "junit-10.xsd"), path).CombinedOutput(); err != nil {
			t.Errorf("xmllint: %v\n%s", err, msg)
		}
	}
}

func TestHTMLChangesSection(t *testing.T) {
	old := shopRun(t, false, true, true)
	old.RunID = "old-run"
	run := baselinedShop(t)
	run.Diff = Compare(old, run)
	out := string(render(t, htmlWriter{}, run))
	for _, want := range []string{
		`<section id="changes" class="section">`,
		"Judged with the baseline <code>baseline.yaml</code>: 1 new, 2 baselined (they do not fail the gate), 2 expired (they fail again), 1 fixed.",
		"<td>baselined</td><td>leak</td><td class=\"path\">GET /admin/users/1</td><td>customer</td><td>accepted &lt;until&gt; the rewrite</td>",
		"<td>fixed</td><td>blocked</td><td class=\"path\">GET /admin/settings</td><td>admin</td><td>fixed since</td>",
		"Compared with run <code>old-run</code>",
		"<td>leak</td><td class=\"path\">GET /admin/users/2</td><td>customer</td><td>deny</td><td>200 allowed</td>",
		"<td class=\"path\">GET /admin/users/1</td><td>customer</td><td>403 forbidden</td><td>200 allowed</td><td>pass → leak</td>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the HTML report does not hold %q", want)
		}
	}
	if strings.Contains(string(render(t, htmlWriter{}, shopRun(t, true, true, true))), `id="changes"`) {
		t.Error("a run without baseline or diff has a Changes section")
	}
}
