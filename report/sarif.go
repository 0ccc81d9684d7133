package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/permaudit/permaudit/model"
)

// sarifWriter writes SARIF 2.1.0 (OASIS), as code-scanning services read
// it: one run whose tool has a rule per verdict (findings, then notes, in
// report order, so that ruleIndex is stable), and a result per finding and
// note. A finding the gate fails on has level "error", another finding
// "warning", a note "note". Each result carries the finding's fingerprint
// in partialFingerprints ("permaudit/v1"), which is stable across runs,
// hosts and ports, and its location is the endpoint's URL (a dead-rule
// note points at the configuration file instead).
type sarifWriter struct{}

// sarifSchemaURI is the schema named in the log's $schema.
const sarifSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool              sarifTool         `json:"tool"`
	AutomationDetails *sarifAutomation  `json:"automationDetails,omitempty"`
	Invocations       []sarifInvocation `json:"invocations"`
	Results           []sarifResult     `json:"results"`
	Properties        sarifRunProps     `json:"properties"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string        `json:"id"`
	Name                 string        `json:"name"`
	ShortDescription     sarifText     `json:"shortDescription"`
	FullDescription      sarifText     `json:"fullDescription"`
	Help                 sarifText     `json:"help"`
	DefaultConfiguration sarifConfig   `json:"defaultConfiguration"`
	Properties           sarifRuleProp `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifRuleProp struct {
	Tags             []string       `json:"tags"`
	Severity         model.Severity `json:"permaudit-severity"`
	SecuritySeverity string         `json:"security-severity,omitempty"`
	Kind             string         `json:"permaudit-kind"` // finding or note
}

type sarifAutomation struct {
	ID string `json:"id"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool   `json:"executionSuccessful"`
	ExitCode            int    `json:"exitCode"`
	ExitCodeDescription string `json:"exitCodeDescription,omitempty"`
	StartTimeUTC        string `json:"startTimeUtc"`
	EndTimeUTC          string `json:"endTimeUtc"`
	// ToolExecutionNotifications say why an incomplete run is one.
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string    `json:"level"`
	Message sarifText `json:"message"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Kind                string             `json:"kind"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations,omitempty"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	BaselineState       string             `json:"baselineState,omitempty"` // with a baseline (baseline_sarif.go)
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          sarifResultProps   `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifResultProps struct {
	Severity model.Severity `json:"severity"`
	Gated    bool           `json:"gated"`
	Method   string         `json:"method,omitempty"`
	Path     string         `json:"path,omitempty"`
	Template string         `json:"template,omitempty"`
	Role     string         `json:"role,omitempty"`
	Expected string         `json:"expected,omitempty"`
	Observed string         `json:"observed,omitempty"`
	Rule     string         `json:"rule,omitempty"`
	Baseline string         `json:"baseline,omitempty"`
}

type sarifRunProps struct {
	Target            string          `json:"target"`
	RunID             string          `json:"runId"`
	ConfigFingerprint string          `json:"configFingerprint"`
	Complete          bool            `json:"complete"`
	Incomplete        string          `json:"incompleteReason,omitempty"`
	GateFailed        bool            `json:"gateFailed"`
	GateFailing       int             `json:"gateFailing"`
	GateFailOn        []model.Verdict `json:"gateFailOn"`
}

// verdictDescriptions explain each verdict for SARIF rules (docs/design.md).
var verdictDescriptions = map[model.Verdict][2]string{
	model.Leak:           {"A role reads what it must not", "The matrix denies this endpoint to the role, but the answer allowed it (or a body check failed): a broken access control."},
	model.Blocked:        {"A role is refused what it may read", "The matrix allows this endpoint to the role, but the answer was a denial (401, 403, 404 or the login page)."},
	model.ExistenceLeak:  {"A hidden resource answers unlike a missing one", "The matrix hides this resource (deny as 404), but the answer was 401, 403 or the login page, which tells that it exists."},
	model.WrongCode:      {"Denied with the wrong kind of denial", "Access was denied, but not as the matrix expects: 403 to an anonymous visitor, 401 to a signed-in role, or a denial form the rule does not list."},
	model.ErrorVerdict:   {"No decision possible", "The answer decides nothing: a 5xx without a denial signature, a transport failure, a time-out or a body cut before a check could decide."},
	model.Inconclusive:   {"An answer that is neither allowed nor a denial", "The answer's class is other (400, 405, 422, an off-scope redirect); name the code in the rule's deny_as to judge it."},
	model.Unmapped:       {"No rule covers the endpoint", "No matrix rule covers this endpoint and the matrix default is unmapped."},
	model.DeadRule:       {"A matrix rule matched nothing", "A rule of the matrix matched no probed endpoint: it may be misspelt, or the endpoint was not discovered."},
	model.MissingWWWAuth: {"A 401 without WWW-Authenticate", "RFC 9110 requires a WWW-Authenticate header on every 401 answer."},
}

// exitCodeDescriptions name the exit codes a run can have (exitCodeOf).
var exitCodeDescriptions = map[int]string{
	0:   "complete; no finding the gate fails on",
	1:   "a finding the gate fails on",
	4:   "incomplete: the maximum duration or a cap ended the run early",
	130: "incomplete: interrupted",
}

// securitySeverity maps severities to the 0-10 scores code-scanning
// services sort by.
var securitySeverity = map[model.Severity]string{model.Critical: "9.5", model.High: "8.0", model.Medium: "5.5", model.Low: "3.0"}

func (sarifWriter) Write(w io.Writer, r *model.Run) error {
	gated := map[model.Verdict]bool{}
	for _, v := range r.Gate.FailOn {
		gated[v] = true
	}
	failOn := r.Gate.FailOn
	if failOn == nil {
		failOn = []model.Verdict{}
	}
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{Name: nonEmpty(r.Tool.Name, "permaudit"), Version: r.Tool.Version}},
		Invocations: []sarifInvocation{{
			ExecutionSuccessful: r.Complete,
			ExitCode:            exitCodeOf(r),
			ExitCodeDescription: exitCodeDescriptions[exitCodeOf(r)],
			StartTimeUTC:        r.Started.UTC().Format("2006-01-02T15:04:05.000Z"),
			EndTimeUTC:          r.Finished.UTC().Format("2006-01-02T15:04:05.000Z"),
		}},
		Results: []sarifResult{},
		Properties: sarifRunProps{
			Target: r.Target, RunID: r.RunID, ConfigFingerprint: r.ConfigFingerprint,
			Complete: r.Complete, Incomplete: r.Incomplete,
			GateFailed: r.Gate.Failed, GateFailing: r.Gate.Failing, GateFailOn: failOn,
		},
	}
	if !r.Complete {
		run.Invocations[0].ToolExecutionNotifications = []sarifNotification{{
			Level:   "error",
			Message: sarifText{"The run is incomplete (" + incompleteReason(r) + "): what it did not probe may hold a finding, so it is not a pass."},
		}}
	}
	if r.RunID != "" {
		run.AutomationDetails = &sarifAutomation{ID: "permaudit/" + r.RunID}
	}
	index := map[model.Verdict]int{}
	for _, list := range [][]model.Verdict{model.FindingVerdicts, model.NoteVerdicts} {
		for _, v := range list {
			d := verdictDescriptions[v]
			kind := "finding"
			if !v.IsFinding() {
				kind = "note"
			}
			index[v] = len(run.Tool.Driver.Rules)
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
				ID:                   "permaudit/" + string(v),
				Name:                 ruleName(v),
				ShortDescription:     sarifText{d[0]},
				FullDescription:      sarifText{d[1]},
				Help:                 sarifText{d[1] + " The evidence of each result is in the permaudit HTML report (--out html=PATH)."},
				DefaultConfiguration: sarifConfig{Level: sarifLevel(v, gated[v])},
				Properties: sarifRuleProp{
					Tags:             []string{"security", "access-control", kind},
					Severity:         v.Severity(),
					SecuritySeverity: securitySeverity[v.Severity()],
					Kind:             kind,
				},
			})
		}
	}
	for _, list := range [][]model.Finding{r.Findings, r.Notes} {
		for _, f := range list {
			i, ok := index[f.Verdict]
			if !ok {
				continue // a verdict this version does not know has no rule
			}
			res := sarifResult{
				RuleID:              "permaudit/" + string(f.Verdict),
				RuleIndex:           i,
				Kind:                "fail",
				Level:               sarifLevel(f.Verdict, gated[f.Verdict]),
				Message:             sarifText{f.Message},
				PartialFingerprints: map[string]string{"permaudit/v1": f.Fingerprint},
				Properties: sarifResultProps{
					Severity: f.Severity, Gated: gated[f.Verdict],
					Method: f.Method, Path: f.Path, Template: f.Template, Role: f.Role,
					Expected: f.Expected, Observed: f.Observed, Rule: f.Rule, Baseline: f.Baseline,
				},
			}
			if !f.Verdict.IsFinding() {
				res.Kind = "informational"
			}
			sarifBaselineState(r, f, &res)
			switch {
			case f.URL != "":
				res.Locations = []sarifLocation{{sarifPhysical{sarifArtifact{uriReference(f.URL)}}}}
			case r.ConfigFile != "":
				res.Locations = []sarifLocation{{sarifPhysical{sarifArtifact{uriReference(r.ConfigFile)}}}}
			}
			run.Results = append(run.Results, res)
		}
	}
	run.Results = append(run.Results, sarifAbsentResults(r, index)...)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(sarifLog{Schema: sarifSchemaURI, Version: "2.1.0", Runs: []sarifRun{run}}); err != nil {
		return fmt.Errorf("write sarif: %w", err)
	}
	return nil
}

// sarifLevel: a finding the gate fails on is an error, another finding a
// warning, a note a note.
func sarifLevel(v model.Verdict, gated bool) string {
	switch {
	case gated:
		return "error"
	case v.IsFinding():
		return "warning"
	}
	return "note"
}

// ruleName turns "existence-leak" into "ExistenceLeak".
func ruleName(v model.Verdict) string {
	var b strings.Builder
	for _, p := range strings.Split(string(v), "-") {
		if p == "" {
			continue
		}
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	return b.String()
}

// uriReference makes s a valid URI reference: every byte that may not
// appear in one is percent-encoded; a string that already parses is left
// as it is.
func uriReference(s string) string {
	const allowed = "-._~:/?#[]@!$&'()*+,;=%"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strings.IndexByte(allowed, c) >= 0 {
			if c == '%' && !(i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2])) {
				b.WriteString("%25")
				continue
			}
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	if _, err := url.Parse(b.String()); err != nil {
		return url.PathEscape(s)
	}
	return b.String()
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
