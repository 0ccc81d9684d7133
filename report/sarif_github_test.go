package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/permaudit/permaudit/model"
)

// GitHub code scanning's documented rules for an uploaded SARIF file, read
// as assertions (docs.github.com, code scanning: "SARIF support for code
// scanning", "SARIF results exceed one or more limits", "SARIF results file
// too large"):
//
//   - the file is at most 10 MB and at most 20 runs;
//   - a run has at most 25,000 results and 25,000 rules, a rule at most 20
//     tags, a result at most 1,000 locations;
//   - a result has a ruleId and a message text, and at least one location
//     whose physicalLocation.artifactLocation.uri names a file in the
//     checked-out repository: a relative path (against %SRCROOT%), never
//     another scheme than file (an http:// location is rejected), with a
//     region whose startLine is at least 1;
//   - partialFingerprints are present, so that alerts match across runs.
const (
	ghMaxBytes           = 10 * 1000 * 1000
	ghMaxRuns            = 20
	ghMaxResults         = 25000
	ghMaxRules           = 25000
	ghMaxTagsPerRule     = 20
	ghMaxLocationsResult = 1000
)

type ghLog struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID         string `json:"id"`
					Properties struct {
						Tags []string `json:"tags"`
					} `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID  string `json:"ruleId"`
			Message struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
					Region *struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
		} `json:"results"`
	} `json:"runs"`
}

// githubUploadProblems returns every way out breaks GitHub's upload rules.
func githubUploadProblems(out []byte) []string {
	var p []string
	if len(out) > ghMaxBytes {
		p = append(p, fmt.Sprintf("%d bytes, over 10 MB", len(out)))
	}
	var log ghLog
	if err := json.Unmarshal(out, &log); err != nil {
		return append(p, "not JSON: "+err.Error())
	}
	if log.Version != "2.1.0" {
		p = append(p, fmt.Sprintf("version %q, want 2.1.0", log.Version))
	}
	if len(log.Runs) == 0 || len(log.Runs) > ghMaxRuns {
		p = append(p, fmt.Sprintf("%d runs, want 1 to %d", len(log.Runs), ghMaxRuns))
	}
	for _, run := range log.Runs {
		if n := len(run.Results); n > ghMaxResults {
			p = append(p, fmt.Sprintf("%d results in a run, over %d", n, ghMaxResults))
		}
		if n := len(run.Tool.Driver.Rules); n > ghMaxRules {
			p = append(p, fmt.Sprintf("%d rules, over %d", n, ghMaxRules))
		}
		for _, r := range run.Tool.Driver.Rules {
			if len(r.Properties.Tags) > ghMaxTagsPerRule {
				p = append(p, fmt.Sprintf("rule %s: %d tags, over %d", r.ID, len(r.Properties.Tags), ghMaxTagsPerRule))
			}
		}
		for i, res := range run.Results {
			at := fmt.Sprintf("result %d (%s)", i, res.RuleID)
			if res.RuleID == "" || res.Message.Text == "" {
				p = append(p, at+": no ruleId or no message text")
			}
			if len(res.PartialFingerprints) == 0 {
				p = append(p, at+": no partialFingerprints")
			}
			if n := len(res.Locations); n == 0 || n > ghMaxLocationsResult {
				p = append(p, fmt.Sprintf("%s: %d locations, want 1 to %d", at, n, ghMaxLocationsResult))
			}
			for _, loc := range res.Locations {
				pl := loc.PhysicalLocation
				if pl == nil || pl.ArtifactLocation.URI == "" {
					p = append(p, at+": a location without physicalLocation.artifactLocation.uri")
					continue
				}
				u, err := url.Parse(pl.ArtifactLocation.URI)
				switch {
				case err != nil:
					p = append(p, fmt.Sprintf("%s: uri %q is no URI reference: %v", at, pl.ArtifactLocation.URI, err))
				case u.Scheme != "":
					p = append(p, fmt.Sprintf("%s: uri %q has scheme %q: only files of the repository, as relative paths", at, pl.ArtifactLocation.URI, u.Scheme))
				case strings.HasPrefix(u.Path, "/") || u.Host != "":
					p = append(p, fmt.Sprintf("%s: uri %q is not relative", at, pl.ArtifactLocation.URI))
				case pl.ArtifactLocation.URIBaseID != "%SRCROOT%":
					p = append(p, fmt.Sprintf("%s: uriBaseId %q, want %%SRCROOT%%", at, pl.ArtifactLocation.URIBaseID))
				}
				if pl.Region == nil || pl.Region.StartLine < 1 {
					p = append(p, at+": no region.startLine of at least 1")
				}
			}
		}
	}
	return p
}

// TestSARIFFollowsGitHubUploadRules: every result pointed at the target's
// http:// URL, which GitHub's upload rejects. Each now points at its
// matrix rule's file and line, relative to the source root.
func TestSARIFFollowsGitHubUploadRules(t *testing.T) {
	runs := testRuns()
	runs["judged"] = shopRun(t, true, true, true) // with the rules table the judge records
	old := fixedRun()
	old.Rules = nil // a run saved before the rules were recorded
	runs["saved before rules"] = old
	for name, r := range runs {
		t.Run(name, func(t *testing.T) {
			for _, opts := range []SARIFOptions{{}, {Root: "/src/repo", Dir: "/src/repo"}} {
				out := render(t, SARIFWriter(opts), r)
				for _, problem := range githubUploadProblems(out) {
					t.Errorf("root %q: %s", opts.Root, problem)
				}
			}
		})
	}
	// The assertions can fail: the locations of the landed code.
	bad := []byte(`{"version":"2.1.0","runs":[{"tool":{"driver":{"rules":[]}},"results":[{"ruleId":"permaudit/leak","message":{"text":"x"},` +
		`"locations":[{"physicalLocation":{"artifactLocation":{"uri":"http://127.0.0.1:8080/admin/"}}}]}]}]}`)
	if got := githubUploadProblems(bad); len(got) < 3 {
		t.Errorf("the rules let an http:// location without fingerprints pass: %v", got)
	}
}

// TestSARIFPointsAtTheRule: a finding's physical location is its rule's
// file and line, a default's line 1, relative to the root; the request
// and role are a logical location and in the message.
func TestSARIFPointsAtTheRule(t *testing.T) {
	r := shopRun(t, true, true, true)
	if len(r.Findings) == 0 {
		t.Fatal("the shop run has no finding")
	}
	lines := map[string]int{}
	for _, ri := range r.Rules {
		lines[ri.Name] = max(ri.Line, 1)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				Message   sarifText       `json:"message"`
				Locations []sarifLocation `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(render(t, SARIFWriter(SARIFOptions{Root: "/src", Dir: "/src/ci/audit"}), r), &log); err != nil {
		t.Fatal(err)
	}
	all := append(append([]model.Finding(nil), r.Findings...), r.Notes...)
	for i, res := range log.Runs[0].Results {
		f := all[i]
		pl := res.Locations[0].PhysicalLocation
		if pl == nil || pl.ArtifactLocation.URI != "ci/audit/test.yaml" || pl.ArtifactLocation.URIBaseID != "%SRCROOT%" {
			t.Errorf("%s: location %+v, want ci/audit/test.yaml against %%SRCROOT%%", f.Message, pl)
			continue
		}
		if want := lines[f.Rule]; pl.Region.StartLine != want {
			t.Errorf("%s (%s): line %d, want %d", f.Message, f.Rule, pl.Region.StartLine, want)
		}
		if f.URL == "" {
			continue
		}
		if lg := res.Locations[0].LogicalLocations; len(lg) != 1 || lg[0].FullyQualifiedName != f.Method+" "+f.URL+" as "+f.Role && f.Role != "" {
			t.Errorf("%s: logical locations %+v, want %s %s as %s", f.Message, lg, f.Method, f.URL, f.Role)
		}
		if !strings.Contains(res.Message.Text, f.URL) || !strings.Contains(res.Message.Text, f.Rule) {
			t.Errorf("message %q: want the URL %s and the rule %s", res.Message.Text, f.URL, f.Rule)
		}
	}
}

func TestSARIFArtifact(t *testing.T) {
	for _, tt := range []struct {
		opts      SARIFOptions
		file, uri string
		base      string
	}{
		{SARIFOptions{}, "permaudit.yaml", "permaudit.yaml", "%SRCROOT%"},
		{SARIFOptions{}, "./ci/../permaudit.yaml", "permaudit.yaml", "%SRCROOT%"},
		{SARIFOptions{Root: "/repo", Dir: "/repo/sub"}, "a b.yaml", "sub/a%20b.yaml", "%SRCROOT%"},
		{SARIFOptions{Root: "/repo", Dir: "/elsewhere"}, "/repo/audit/p.yaml", "audit/p.yaml", "%SRCROOT%"},
		{SARIFOptions{Root: "/repo", Dir: "/repo"}, "c:x.yaml", "./c:x.yaml", "%SRCROOT%"},
		{SARIFOptions{}, "/etc/p.yaml", "file:///etc/p.yaml", ""},
	} {
		l := &sarifLocator{opts: tt.opts}
		if got := l.artifact(tt.file); got.URI != tt.uri || got.URIBaseID != tt.base {
			t.Errorf("artifact(%q) with %+v: got %+v, want %s against %q", tt.file, tt.opts, got, tt.uri, tt.base)
		}
	}
}

// TestSARIFLimits: past GitHub's limits the notes are grouped, then the
// lowest results cut, and the log says what was cut.
func TestSARIFLimits(t *testing.T) {
	many := func(findings, notes int) *model.Run {
		r := fixedRun()
		r.Findings, r.Notes = nil, nil
		for i := range findings {
			r.Findings = append(r.Findings, model.Finding{Verdict: model.Leak, Severity: model.Critical, Method: "GET",
				URL: fmt.Sprintf("http://127.0.0.1:8080/admin/%d", i), Path: fmt.Sprintf("/admin/%d", i), Role: "customer",
				Rule: "rule 2 (GET /admin/**)", Message: "leak", Fingerprint: fmt.Sprint(i), Cell: -1})
		}
		for i := range notes {
			r.Notes = append(r.Notes, model.Finding{Verdict: model.Inconclusive, Severity: model.Info, Method: "GET",
				URL: fmt.Sprintf("http://127.0.0.1:8080/x/%d", i), Rule: "default", Message: "note", Fingerprint: fmt.Sprint("n", i), Cell: -1})
		}
		return r
	}
	type props struct {
		NotesGrouped bool `json:"notesGrouped"`
		ResultsCut   int  `json:"resultsCut"`
	}
	decode := func(out []byte) (results int, p props, notices []string) {
		var log struct {
			Runs []struct {
				Invocations []struct {
					Notes []struct {
						Message sarifText `json:"message"`
					} `json:"toolExecutionNotifications"`
				} `json:"invocations"`
				Results    []json.RawMessage `json:"results"`
				Properties props             `json:"properties"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(out, &log); err != nil {
			t.Fatal(err)
		}
		for _, n := range log.Runs[0].Invocations[0].Notes {
			notices = append(notices, n.Message.Text)
		}
		return len(log.Runs[0].Results), log.Runs[0].Properties, notices
	}
	for _, tt := range []struct {
		name                string
		w                   sarifWriter
		findings, notes     int
		results             int
		grouped             bool
		cut                 int
		maxBytes, noticeLen int
	}{
		{"within", sarifWriter{maxResults: 10}, 3, 7, 10, false, 0, 0, 0},
		{"notes grouped", sarifWriter{maxResults: 10}, 3, 8, 4, true, 0, 0, 1},
		{"findings cut", sarifWriter{maxResults: 10}, 12, 8, 10, true, 3, 0, 2},
		{"size cut", sarifWriter{maxBytes: 20000}, 40, 0, -1, false, -1, 20000, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := render(t, tt.w, many(tt.findings, tt.notes))
			// Streamed result by result, the log reads as encoding/json
			// indents it whole.
			var compact, indented bytes.Buffer
			if err := json.Compact(&compact, out); err != nil {
				t.Fatal(err)
			}
			json.Indent(&indented, compact.Bytes(), "", "  ")
			indented.WriteByte('\n')
			if !bytes.Equal(indented.Bytes(), out) {
				t.Errorf("the streamed log is not laid out as encoding/json indents it:\n%s", out)
			}
			n, p, notices := decode(out)
			if tt.results >= 0 && n != tt.results {
				t.Errorf("results: got %d, want %d", n, tt.results)
			}
			if p.NotesGrouped != tt.grouped {
				t.Errorf("notesGrouped: got %v, want %v", p.NotesGrouped, tt.grouped)
			}
			if tt.cut >= 0 && p.ResultsCut != tt.cut {
				t.Errorf("resultsCut: got %d, want %d", p.ResultsCut, tt.cut)
			}
			if tt.maxBytes > 0 && (len(out) > tt.maxBytes || p.ResultsCut == 0 || n+p.ResultsCut != tt.findings) {
				t.Errorf("size: %d bytes, %d results, %d cut; want at most %d bytes, and the cut counted", len(out), n, p.ResultsCut, tt.maxBytes)
			}
			if len(notices) != tt.noticeLen {
				t.Errorf("notifications: got %q, want %d", notices, tt.noticeLen)
			}
		})
	}
	// GitHub's own limits, on a run of 26,000 findings.
	out := render(t, sarifWriter{}, many(26000, 0))
	if problems := githubUploadProblems(out); len(problems) > 0 {
		t.Errorf("26,000 findings: %s", problems[0])
	}
	if n, p, _ := decode(out); n+p.ResultsCut != 26000 || p.ResultsCut == 0 {
		t.Errorf("26,000 findings: %d results and %d cut", n, p.ResultsCut)
	}
	if !bytes.Contains(out, []byte("were cut, lowest severity first")) {
		t.Error("26,000 findings: no notification says what was cut")
	}
}
