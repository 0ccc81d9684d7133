package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

// sarifWriter writes SARIF 2.1.0 (OASIS), as GitHub code scanning reads
// it: one run whose tool has a rule per verdict (findings, then notes, in
// report order, so that ruleIndex is stable), and a result per finding and
// note. A finding the gate fails on has level "error", another finding
// "warning", a note "note". Each result carries the finding's fingerprint
// in partialFingerprints ("permaudit/v1"), which is stable across runs,
// hosts and ports.
//
// A permission finding lives in two places: the matrix rule that expected
// otherwise, which is what a reviewer changes, and the URL audited. The
// physical location is the rule's file and line (model.Run.Rules; the
// default's line is 1), relative to the source root (uriBaseId
// %SRCROOT%); the method, URL and role are a logical location, in the
// message and in the properties. Code scanning accepts no other scheme
// than a file in the repository (an http:// location is rejected).
//
// GitHub rejects a file of more than 25,000 results or 10 MB: past either,
// notes are grouped into one result per verdict, then the results of
// lowest severity are cut, and an execution notification and the run's
// properties say how many.
type sarifWriter struct {
	opts SARIFOptions
	// maxResults and maxBytes are GitHub's limits; tests lower them.
	maxResults, maxBytes int
}

// SARIFOptions say where the SARIF log's file locations are relative to.
type SARIFOptions struct {
	// Root is the absolute directory that artifact URIs are relative to
	// (%SRCROOT%), the repository's top level; "" takes files as given,
	// relative to the working directory.
	Root string
	// Dir is the absolute directory relative file names in the run are
	// read from (the working directory); "" when Root is "".
	Dir string
}

// GitHub's documented upload limits (code scanning, "SARIF results exceed
// limit" and "SARIF results file too large").
const (
	githubMaxResults = 25000
	githubMaxBytes   = 10 * 1000 * 1000
)

// sarifSrcRoot is the uriBaseId of every file location.
const sarifSrcRoot = "%SRCROOT%"

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
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

// sarifLogical is the endpoint and role of a finding: "GET /admin/ as
// customer".
type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind"`
}

type sarifResultProps struct {
	Severity model.Severity `json:"severity"`
	Gated    bool           `json:"gated"`
	Method   string         `json:"method,omitempty"`
	URL      string         `json:"url,omitempty"`
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
	// NotesGrouped and ResultsCut say what the upload limits took out.
	NotesGrouped bool `json:"notesGrouped,omitempty"`
	ResultsCut   int  `json:"resultsCut,omitempty"`
}

// verdictDescriptions explain each verdict for SARIF rules (docs/design.md).
var verdictDescriptions = map[model.Verdict][2]string{
	model.Leak:                {"A role reads what it must not", "The matrix denies this endpoint to the role, but the answer allowed it (or a body check failed): a broken access control."},
	model.Blocked:             {"A role is refused what it may read", "The matrix allows this endpoint to the role, but the answer was a denial (401, 403, 404 or the login page)."},
	model.ExistenceLeak:       {"A hidden resource answers unlike a missing one", "The matrix hides this resource (deny as 404), but the answer was 401, 403 or the login page, which tells that it exists."},
	model.WrongCode:           {"Denied with the wrong kind of denial", "Access was denied, but not as the matrix expects: 403 to an anonymous visitor, 401 to a signed-in role, or a denial form the rule does not list."},
	model.ErrorVerdict:        {"No decision possible", "The answer decides nothing: a 5xx without a denial signature, a transport failure, a time-out or a body cut before a check could decide."},
	model.Inconclusive:        {"An answer that is neither allowed nor a denial", "The answer's class is other (400, 405, 422, an off-scope redirect); name the code in the rule's deny_as to judge it."},
	model.Unmapped:            {"No rule covers the endpoint", "No matrix rule covers this endpoint and the matrix default is unmapped."},
	model.DeadRule:            {"A matrix rule matched nothing", "A rule of the matrix matched no probed endpoint: it may be misspelt, or the endpoint was not discovered."},
	model.MissingWWWAuth:      {"A 401 without WWW-Authenticate", "RFC 9110 requires a WWW-Authenticate header on every 401 answer."},
	model.ExistenceObservable: {"Existence is observable", "A denied resource answers unlike a sibling that does not exist, where the rule does not ask for hiding (no deny_as: 404): a note; deny_as: 404 makes it an existence-leak finding."},
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

func (sw sarifWriter) Write(w io.Writer, r *model.Run) error {
	maxResults, maxBytes := sw.maxResults, sw.maxBytes
	if maxResults <= 0 {
		maxResults = githubMaxResults
	}
	if maxBytes <= 0 {
		maxBytes = githubMaxBytes
	}
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
	var notices []sarifNotification
	if !r.Complete {
		notices = append(notices, sarifNotification{
			Level:   "error",
			Message: sarifText{"The run is incomplete (" + incompleteReason(r) + "): what it did not probe may hold a finding, so it is not a pass."},
		})
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
	loc := newSARIFLocator(sw.opts, r)
	// The results are made one at a time, twice: to measure them against
	// the upload limits, then to write them; only their sizes are held.
	var findings, notes []*model.Finding
	for _, list := range [][]model.Finding{r.Findings, r.Notes} {
		for k := range list {
			f := &list[k]
			switch _, ok := index[f.Verdict]; {
			case !ok: // a verdict this version does not know has no rule
			case f.Verdict.IsFinding():
				findings = append(findings, f)
			default:
				notes = append(notes, f)
			}
		}
	}
	absent := sarifAbsentResults(r, index, loc)
	var grouped []sarifResult
	if len(findings)+len(notes)+len(absent) > maxResults {
		grouped = groupSARIFNotes(notes, index, gated, loc)
		notes = nil
		run.Properties.NotesGrouped = true
	}
	total := len(findings) + len(notes) + len(grouped) + len(absent)
	result := func(k int) sarifResult {
		switch {
		case k < len(findings):
			return sw.result(r, findings[k], index, gated, loc)
		case k < len(findings)+len(notes):
			return sw.result(r, notes[k-len(findings)], index, gated, loc)
		case k < len(findings)+len(notes)+len(grouped):
			return grouped[k-len(findings)-len(notes)]
		}
		return absent[k-len(findings)-len(notes)-len(grouped)]
	}

	// GitHub's limits: group the notes (above), then cut from the end
	// (lowest severity first, findings before notes, fixed entries last).
	keep := min(total, maxResults)
	var enc sarifEncoder
	sizes := make([]int, keep)
	for k := range keep {
		b, err := enc.result(result(k))
		if err != nil {
			return fmt.Errorf("write sarif: %w", err)
		}
		sizes[k] = len(b)
	}
	for {
		run.Properties.ResultsCut = total - keep
		run.Invocations[0].ToolExecutionNotifications = sarifLimitNotices(notices, run.Properties, total)
		head, tail, err := enc.skeleton(run)
		if err != nil {
			return fmt.Errorf("write sarif: %w", err)
		}
		size := len(head) + len(tail) + sarifListSize(sizes[:keep])
		if size <= maxBytes || keep == 0 {
			bw := bufio.NewWriter(w)
			bw.Write(head)
			if keep == 0 {
				bw.WriteString("[]")
			} else {
				bw.WriteString("[")
				for k := range keep {
					if k > 0 {
						bw.WriteString(",")
					}
					bw.WriteString("\n" + sarifResultIndent)
					b, err := enc.result(result(k))
					if err != nil {
						return fmt.Errorf("write sarif: %w", err)
					}
					bw.Write(b)
				}
				bw.WriteString("\n" + sarifResultsIndent + "]")
			}
			bw.Write(tail)
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("write sarif: %w", err)
			}
			return nil
		}
		// Too big: keep a share of the results in proportion, with room.
		keep = min(keep-1, int(float64(keep)*float64(maxBytes)/float64(size)*0.95))
		keep = max(keep, 0)
	}
}

// The indentation of the "results" key of the one run, and of each
// result, in the log as encoding/json indents it by two spaces.
const (
	sarifResultsIndent = "      "
	sarifResultIndent  = sarifResultsIndent + "  "
)

// sarifEncoder encodes a SARIF log's parts as encoding/json would encode
// them within the whole log, indented.
type sarifEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// result is res encoded at its place in the results list, without the
// indentation of its first line; valid until the next call.
func (e *sarifEncoder) result(res sarifResult) ([]byte, error) {
	if e.enc == nil {
		e.enc = json.NewEncoder(&e.buf)
		e.enc.SetEscapeHTML(false)
		e.enc.SetIndent(sarifResultIndent, "  ")
	}
	e.buf.Reset()
	if err := e.enc.Encode(res); err != nil {
		return nil, err
	}
	return e.buf.Bytes()[:e.buf.Len()-1], nil
}

// skeleton is the log of run without its results: what comes before the
// results list and after it, the final newline included.
func (e *sarifEncoder) skeleton(run sarifRun) (head, tail []byte, err error) {
	run.Results = []sarifResult{}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(sarifLog{Schema: sarifSchemaURI, Version: "2.1.0", Runs: []sarifRun{run}}); err != nil {
		return nil, nil, err
	}
	key := []byte("\n" + sarifResultsIndent + `"results": []`)
	i := bytes.Index(b.Bytes(), key)
	if i < 0 {
		return nil, nil, errors.New("no results list in the log") // the layout of sarifRun changed
	}
	cut := i + len(key) - len("[]")
	return b.Bytes()[:cut], b.Bytes()[cut+len("[]"):], nil
}

// sarifListSize is the size of a results list of results of sizes.
func sarifListSize(sizes []int) int {
	if len(sizes) == 0 {
		return len("[]")
	}
	n := len("[") + len("\n"+sarifResultsIndent+"]") + len(sizes) - 1 // the commas
	for _, s := range sizes {
		n += len("\n"+sarifResultIndent) + s
	}
	return n
}

// result is the SARIF result of finding or note f.
func (sw sarifWriter) result(r *model.Run, f *model.Finding, index map[model.Verdict]int, gated map[model.Verdict]bool, loc *sarifLocator) sarifResult {
	res := sarifResult{
		RuleID:              "permaudit/" + string(f.Verdict),
		RuleIndex:           index[f.Verdict],
		Kind:                "fail",
		Level:               sarifLevel(f.Verdict, gated[f.Verdict]),
		Message:             sarifText{sarifMessage(*f)},
		PartialFingerprints: map[string]string{"permaudit/v1": f.Fingerprint},
		Locations:           []sarifLocation{loc.ofFinding(*f)},
		Properties: sarifResultProps{
			Severity: f.Severity, Gated: gated[f.Verdict],
			Method: f.Method, URL: f.URL, Path: f.Path, Template: f.Template, Role: f.Role,
			Expected: f.Expected, Observed: f.Observed, Rule: f.Rule, Baseline: f.Baseline,
		},
	}
	sarifBaselineState(r, *f, &res)
	if !f.Verdict.IsFinding() {
		res.Kind = "informational"
	}
	return res
}

// sarifMessage is a finding's message, with the request and the matrix
// rule spelt out: the location points at the rule's line, so the message
// is where a reader of the alert sees what was requested.
func sarifMessage(f model.Finding) string {
	msg := textout.Sanitize(f.Message)
	if f.Method != "" && f.URL != "" {
		req := f.Method + " " + f.URL
		if f.Role != "" {
			req += " as " + f.Role
		}
		msg += ". Request: " + textout.Sanitize(req)
	}
	if f.Rule != "" {
		msg += ". Matrix rule: " + textout.Sanitize(f.Rule)
	}
	return msg + "."
}

// groupSARIFNotes folds the notes into one result per verdict, at the
// first note's location, when the upload limit would otherwise cut them.
func groupSARIFNotes(notes []*model.Finding, index map[model.Verdict]int, gated map[model.Verdict]bool, loc *sarifLocator) []sarifResult {
	var out []sarifResult
	pos := map[model.Verdict]int{}
	count := map[model.Verdict]int{}
	for _, n := range notes {
		count[n.Verdict]++
		if _, ok := pos[n.Verdict]; ok {
			continue
		}
		pos[n.Verdict] = len(out)
		g := sarifResult{
			RuleID: "permaudit/" + string(n.Verdict), RuleIndex: index[n.Verdict], Kind: "informational", Level: sarifLevel(n.Verdict, gated[n.Verdict]),
			PartialFingerprints: map[string]string{"permaudit/v1": "grouped/" + string(n.Verdict)},
			Locations:           []sarifLocation{loc.ofConfig()},
			Properties:          sarifResultProps{Severity: n.Severity},
		}
		out = append(out, g)
	}
	for v, i := range pos {
		out[i].Message = sarifText{fmt.Sprintf("%s: %s grouped into this result, so that the file stays within GitHub's limit of %d results; the HTML report (--out html=PATH) lists each.",
			v, plural(count[v], "note"), githubMaxResults)}
	}
	return out
}

// sarifLimitNotices adds to notices what the upload limits took out.
func sarifLimitNotices(notices []sarifNotification, p sarifRunProps, total int) []sarifNotification {
	out := slices.Clone(notices)
	if p.NotesGrouped {
		out = append(out, sarifNotification{Level: "warning", Message: sarifText{"The notes are grouped into one result per verdict: with each, the file would pass GitHub's limit of 25,000 results."}})
	}
	if p.ResultsCut > 0 {
		out = append(out, sarifNotification{Level: "warning", Message: sarifText{fmt.Sprintf(
			"%d of %d results were cut, lowest severity first, to stay within GitHub's limits (25,000 results, 10 MB); the HTML report (--out html=PATH) and the run JSON hold them all.",
			p.ResultsCut, total)}})
	}
	return out
}

// sarifLocator finds where a finding's rule is written.
type sarifLocator struct {
	opts  SARIFOptions
	rules map[string]model.RuleInfo // by name
	// config is the run's configuration file: the location of a finding
	// whose rule the run does not record (a run made before it did).
	config string
}

func newSARIFLocator(opts SARIFOptions, r *model.Run) *sarifLocator {
	l := &sarifLocator{opts: opts, rules: map[string]model.RuleInfo{}, config: r.ConfigFile}
	if r.Rejudged != nil && r.Rejudged.ConfigFile != "" {
		l.config = r.Rejudged.ConfigFile
	}
	for _, ri := range r.Rules {
		l.rules[ri.Name] = ri
	}
	return l
}

// ofFinding is f's location: the file and line of its rule, and its
// request and role as a logical location. A rule the run does not record
// points at line 1 of the configuration file; without one, only the
// logical location remains.
func (l *sarifLocator) ofFinding(f model.Finding) sarifLocation {
	var loc sarifLocation
	if ri, ok := l.rules[f.Rule]; ok && ri.File != "" {
		loc.PhysicalLocation = l.physical(ri.File, ri.Line)
	} else if l.config != "" {
		loc.PhysicalLocation = l.physical(l.config, 1)
	}
	switch {
	case f.Method != "" && f.URL != "":
		name := f.Method + " " + nonEmpty(f.Path, f.URL)
		fqn := f.Method + " " + f.URL
		if f.Role != "" {
			name += " as " + f.Role
			fqn += " as " + f.Role
		}
		loc.LogicalLocations = []sarifLogical{{Name: textout.Sanitize(name), FullyQualifiedName: textout.Sanitize(fqn), Kind: "resource"}}
	case f.Template != "":
		loc.LogicalLocations = []sarifLogical{{Name: textout.Sanitize(f.Template), Kind: "resource"}}
	case f.Rule != "":
		loc.LogicalLocations = []sarifLogical{{Name: textout.Sanitize(f.Rule), Kind: "member"}}
	}
	return loc
}

// ofConfig is line 1 of the configuration file.
func (l *sarifLocator) ofConfig() sarifLocation {
	if l.config == "" {
		return sarifLocation{LogicalLocations: []sarifLogical{{Name: "configuration", Kind: "module"}}}
	}
	return sarifLocation{PhysicalLocation: l.physical(l.config, 1)}
}

// physical is line line (1 when unknown) of file, relative to the source
// root.
func (l *sarifLocator) physical(file string, line int) *sarifPhysical {
	return &sarifPhysical{ArtifactLocation: l.artifact(file), Region: &sarifRegion{StartLine: max(line, 1)}}
}

// artifact names file relative to Root (uriBaseId %SRCROOT%), with
// forward slashes and percent-encoded as a URI reference. Without a Root,
// a relative file is taken as relative to the source root as given, and
// an absolute one becomes a file: URI.
func (l *sarifLocator) artifact(file string) sarifArtifact {
	if l.opts.Root != "" {
		abs := file
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(l.opts.Dir, file)
		}
		if rel, err := filepath.Rel(l.opts.Root, abs); err == nil {
			return sarifArtifact{URI: relativeURI(rel), URIBaseID: sarifSrcRoot}
		}
	}
	if filepath.IsAbs(file) {
		return sarifArtifact{URI: "file://" + uriReference(filepath.ToSlash(file))}
	}
	return sarifArtifact{URI: relativeURI(filepath.Clean(file)), URIBaseID: sarifSrcRoot}
}

// relativeURI is a relative file path as a relative URI reference: forward
// slashes, percent-encoded, and never read as a scheme ("c:x" is "./c:x").
func relativeURI(rel string) string {
	u := uriReference(filepath.ToSlash(rel))
	if first, _, _ := strings.Cut(u, "/"); strings.Contains(first, ":") {
		u = "./" + u
	}
	return u
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
