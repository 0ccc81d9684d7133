package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/internal/yamlwalk"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// BaselineSchema names the baseline file format (docs/baseline.md).
const BaselineSchema = "permaudit.baseline/v1"

// The baseline states of a finding (Finding.Baseline), when the run was
// judged with a baseline.
const (
	// BaselineNew: the baseline does not list the finding; it fails the
	// gate as usual.
	BaselineNew = "new"
	// BaselineAccepted: the baseline lists the finding and the entry has
	// not expired; the finding does not fail the gate.
	BaselineAccepted = "baselined"
	// BaselineExpired: the baseline lists the finding but the entry's
	// expiry date has passed; the finding fails the gate again.
	BaselineExpired = "expired"
)

// Baseline is a list of accepted findings, each with a reason and an
// optional expiry date. It is read from a YAML file (ParseBaseline) and
// written from a run (WriteBaseline).
type Baseline struct {
	File    string
	Entries []model.BaselineEntry
}

var fingerprintRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ParseBaseline reads a baseline file. Unknown fields are errors, and
// every problem is reported at once as roles.ConfigErrors, each with its
// file:line:col and field.
func ParseBaseline(file string, data []byte) (*Baseline, error) {
	p := &baselineParser{Walker: yamlwalk.Walker{File: file}}
	b := p.parse(data)
	if len(p.Errs) > 0 {
		yamlwalk.SortErrors(p.Errs)
		errs := make(roles.ConfigErrors, len(p.Errs))
		for i, e := range p.Errs {
			errs[i] = (*roles.ConfigError)(e)
		}
		return nil, errs
	}
	return b, nil
}

// baselineParser walks a baseline with the configuration's walker.
type baselineParser struct {
	yamlwalk.Walker
}

// mapping returns the values of mapping n by key, reporting unknown and
// duplicate keys, and aliases: a baseline is written out in full.
func (p *baselineParser) mapping(n *yaml.Node, path string, known ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	for _, e := range p.Known(n, path, known...) {
		if e.Val.Kind == yaml.AliasNode {
			p.Errorf(e.Val, yamlwalk.Join(path, e.Name), "aliases are not supported in a baseline")
			continue
		}
		out[e.Name] = e.Val
	}
	return out
}

func (p *baselineParser) parse(data []byte) *Baseline {
	b := &Baseline{File: p.File, Entries: []model.BaselineEntry{}}
	root, ok := p.Decode(data, "baseline")
	if !ok {
		return b
	}
	if yamlwalk.IsNull(root) {
		p.Errorf(root, "", "empty baseline: want schema: %s and a findings list", BaselineSchema)
		return b
	}
	top := p.mapping(root, "", "schema", "findings")
	if n := top["schema"]; n == nil {
		p.Errorf(root, "schema", "required: schema: %s", BaselineSchema)
	} else if s, ok := p.Str(n, "schema"); ok && s != BaselineSchema {
		p.Errorf(n, "schema", "unsupported baseline schema %q; this permaudit reads %s", s, BaselineSchema)
	}
	fn := top["findings"]
	if yamlwalk.IsNull(fn) {
		return b
	}
	if fn.Kind != yaml.SequenceNode {
		p.Errorf(fn, "findings", "must be a list of entries")
		return b
	}
	seen := map[string]int{}
	for i, en := range fn.Content {
		path := yamlwalk.Index("findings", i)
		if en.Kind == yaml.AliasNode {
			p.Errorf(en, path, "aliases are not supported in a baseline")
			continue
		}
		if e, ok := p.entry(en, path); ok {
			if line, dup := seen[e.Fingerprint]; dup {
				p.Errorf(en, path, "fingerprint %s is already listed at line %d", e.Fingerprint, line)
				continue
			}
			seen[e.Fingerprint] = e.Line
			b.Entries = append(b.Entries, e)
		}
	}
	return b
}

func (p *baselineParser) entry(n *yaml.Node, path string) (model.BaselineEntry, bool) {
	e := model.BaselineEntry{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		p.Errorf(n, path, "must be a mapping, not %s", yamlwalk.KindName(n))
		return e, false
	}
	f := p.mapping(n, path, "fingerprint", "verdict", "template", "role", "reason", "expires")
	ok := true
	str := func(key string) (string, *yaml.Node) {
		v := f[key]
		if v == nil {
			return "", nil
		}
		s, good := p.Str(v, yamlwalk.Join(path, key))
		ok = ok && good
		return s, v
	}
	fp, fpn := str("fingerprint")
	verdict, vn := str("verdict")
	tmpl, tn := str("template")
	role, rn := str("role")
	reason, reasonN := str("reason")
	expires, en := str("expires")

	if strings.TrimSpace(reason) == "" {
		at := reasonN
		if at == nil {
			at = n
		}
		p.Errorf(at, yamlwalk.Join(path, "reason"), "required: say why this finding is accepted")
		ok = false
	}
	e.Reason = reason
	if vn != nil {
		v := model.Verdict(verdict)
		if !v.IsFinding() {
			p.Errorf(vn, yamlwalk.Join(path, "verdict"), "%q is not a finding verdict (verdicts: %s)", verdict, model.JoinVerdicts(model.FindingVerdicts))
			ok = false
		}
		e.Verdict = v
	}
	method := ""
	if tn != nil {
		m, rest, cut := strings.Cut(tmpl, " ")
		if !cut || !model.IsMethodToken(m) || !strings.HasPrefix(rest, "/") {
			p.Errorf(tn, yamlwalk.Join(path, "template"), "%q: want METHOD /path, as in a finding's template (\"GET /orders/{id}\")", tmpl)
			ok = false
		}
		method = m
		e.Template = tmpl
	}
	if rn != nil {
		e.Role = role
	}
	switch {
	case fpn != nil:
		if !fingerprintRE.MatchString(fp) {
			p.Errorf(fpn, yamlwalk.Join(path, "fingerprint"), "%q: want 32 lower-case hex characters, as in a finding's fingerprint", fp)
			ok = false
			break
		}
		e.Fingerprint = fp
		if ok && vn != nil && tn != nil && rn != nil {
			if want := model.Fingerprint(e.Verdict, method, tmpl, role); want != fp {
				p.Errorf(fpn, yamlwalk.Join(path, "fingerprint"), "does not match verdict, template and role, which give %s; fix one or leave the fingerprint out", want)
				ok = false
			}
		}
	case vn != nil && tn != nil && rn != nil:
		if ok {
			e.Fingerprint = model.Fingerprint(e.Verdict, method, tmpl, role)
		}
	default:
		p.Errorf(n, path, "give a fingerprint, or the verdict, template and role it is computed from")
		ok = false
	}
	if en != nil {
		if _, err := time.Parse(time.DateOnly, expires); err != nil {
			p.Errorf(en, yamlwalk.Join(path, "expires"), "%q: want a date such as 2025-06-30", expires)
			ok = false
		}
		e.Expires = expires
	}
	return e, ok
}

// applyBaseline marks every finding of run new, baselined or expired,
// lists the entries that no finding matched, and recomputes the gate:
// baselined findings do not fail it.
func applyBaseline(run *model.Run, b *Baseline, now time.Time) {
	byFP := map[string]model.BaselineEntry{}
	for _, e := range b.Entries {
		byFP[e.Fingerprint] = e
	}
	res := &model.BaselineResult{File: b.File, Fixed: []model.BaselineEntry{}}
	matched := map[string]bool{}
	for i := range run.Findings {
		f := &run.Findings[i]
		e, ok := byFP[f.Fingerprint]
		f.BaselineReason, f.BaselineExpires = "", ""
		switch {
		case !ok:
			f.Baseline = BaselineNew
			res.New++
		case e.Expired(now):
			f.Baseline = BaselineExpired
			res.Expired++
		default:
			f.Baseline = BaselineAccepted
			res.Accepted++
		}
		if ok {
			matched[e.Fingerprint] = true
			f.BaselineReason, f.BaselineExpires = e.Reason, e.Expires
		}
	}
	probed := map[string]bool{}
	for _, c := range run.Observations.All() {
		probed[probeKey(c.Method, c.Template, c.Role)] = true
	}
	for _, e := range b.Entries {
		if matched[e.Fingerprint] {
			continue
		}
		method, _, _ := strings.Cut(e.Template, " ")
		if e.Template != "" && probed[probeKey(method, e.Template, e.Role)] {
			res.Fixed = append(res.Fixed, e)
		} else {
			res.Unseen = append(res.Unseen, e)
		}
	}
	run.Baseline = res
	run.Gate.Failing = 0
	for _, f := range run.Findings {
		if slices.Contains(run.Gate.FailOn, f.Verdict) && f.Baseline != BaselineAccepted {
			run.Gate.Failing++
		}
	}
	run.Gate.Failed = run.Gate.Failing > 0
}

// probeKey identifies an endpoint template probed as a role, as the
// fingerprint sees it (ids folded, query values dropped).
func probeKey(method, template, role string) string {
	return method + " " + model.TemplateKey(method, template) + " " + role
}

// BaselineOptions tune WriteBaseline.
type BaselineOptions struct {
	// Reason is given to every entry the run does not already carry a
	// reason for (from the baseline it was judged with).
	Reason string
	// Expires, "2006-01-02" or "", is given to those same entries.
	Expires string
}

// writeBaseline writes one entry per distinct fingerprint of run's
// findings, in the findings' order. A finding already accepted by the
// baseline the run was judged with keeps its reason and expiry.
func writeBaseline(w io.Writer, run *model.Run, opts BaselineOptions) error {
	if opts.Expires != "" {
		if _, err := time.Parse(time.DateOnly, opts.Expires); err != nil {
			return fmt.Errorf("expiry %q: want a date such as 2025-06-30", opts.Expires)
		}
	}
	reason := opts.Reason
	if strings.TrimSpace(reason) == "" {
		reason = "accepted when the baseline was written from run " + run.RunID
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# permaudit baseline: findings accepted for now. Listed findings do not fail\n")
	fmt.Fprintf(&b, "# the gate (until their expiry date); any other finding does. Written from\n")
	fmt.Fprintf(&b, "# run %s of %s (%s).\n", textout.Sanitize(run.RunID), textout.Sanitize(run.Target), run.Started.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "# Give each entry a real reason; `expires: 2025-06-30` makes it fail again\n")
	fmt.Fprintf(&b, "# from the next day. Entries match findings by fingerprint.\n")
	fmt.Fprintf(&b, "schema: %s\n", BaselineSchema)

	type agg struct {
		f     model.Finding
		paths []string
	}
	var order []string
	byFP := map[string]*agg{}
	for _, f := range run.Findings {
		a := byFP[f.Fingerprint]
		if a == nil {
			a = &agg{f: f}
			byFP[f.Fingerprint] = a
			order = append(order, f.Fingerprint)
		}
		if !slices.Contains(a.paths, f.Path) {
			a.paths = append(a.paths, f.Path)
		}
	}
	if len(order) == 0 {
		b.WriteString("findings: []\n")
	} else {
		b.WriteString("findings:\n")
	}
	for _, fp := range order {
		a := byFP[fp]
		f := a.f
		r, exp := reason, opts.Expires
		if f.BaselineReason != "" {
			r, exp = f.BaselineReason, f.BaselineExpires
		}
		fmt.Fprintf(&b, "  # %s (%s): %s on %s %s\n", textout.Sanitize(string(f.Verdict)), textout.Sanitize(string(f.Severity)),
			textout.Sanitize(f.Role), textout.Sanitize(f.Method), textout.Sanitize(strings.Join(a.paths, ", ")))
		role := textout.Quote(f.Role)
		if textout.Plain(f.Role) {
			role = f.Role
		}
		fmt.Fprintf(&b, "  - fingerprint: %s\n", fp)
		verdict := textout.Quote(string(f.Verdict))
		if f.Verdict.IsFinding() {
			verdict = string(f.Verdict)
		}
		fmt.Fprintf(&b, "    verdict: %s\n", verdict)
		fmt.Fprintf(&b, "    template: %s\n", textout.Quote(f.Template))
		fmt.Fprintf(&b, "    role: %s\n", role)
		fmt.Fprintf(&b, "    reason: %s\n", textout.Quote(r))
		if exp != "" {
			fmt.Fprintf(&b, "    expires: %s\n", exp)
		}
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write baseline: %w", err)
	}
	return nil
}

// ApplyBaseline marks every finding of a judged run "new", "baselined" or
// "expired" against b (an entry expires from the day after its date, in
// UTC, at now), records in run.Baseline the counts and the entries no
// finding matched (fixed when their endpoint and role were probed, unseen
// otherwise), and recomputes the gate: baselined findings do not fail it,
// expired ones do again. Call it after Judge.
func ApplyBaseline(run *model.Run, b *Baseline, now time.Time) { applyBaseline(run, b, now) }

// WriteBaseline writes a baseline file accepting every finding of run:
// one entry per fingerprint, in the findings' order, each with the reason
// and expiry of opts, or those it already had in the baseline the run was
// judged with.
func WriteBaseline(w io.Writer, run *model.Run, opts BaselineOptions) error {
	return writeBaseline(w, run, opts)
}

// writeBaselineText adds the baseline outcome to the text summary: the
// counts, the findings that fail because the baseline does not accept
// them (new, expired), and the entries no longer seen.
func writeBaselineText(b *bufio.Writer, r *model.Run) {
	res := r.Baseline
	if res == nil {
		return
	}
	fmt.Fprintf(b, "\nbaseline %s: %d new, %d baselined, %d expired, %d fixed", textout.Sanitize(res.File), res.New, res.Accepted, res.Expired, len(res.Fixed))
	if len(res.Unseen) > 0 {
		fmt.Fprintf(b, ", %d not probed", len(res.Unseen))
	}
	b.WriteString("\n")
	for _, f := range r.Findings {
		switch f.Baseline {
		case BaselineNew:
			fmt.Fprintf(b, "  new: %s %s %s as %s\n", textout.Sanitize(string(f.Verdict)), textout.Sanitize(f.Method), textout.Sanitize(f.Path), textout.Sanitize(f.Role))
		case BaselineExpired:
			fmt.Fprintf(b, "  expired on %s: %s %s %s as %s (%s)\n", textout.Sanitize(f.BaselineExpires), textout.Sanitize(string(f.Verdict)),
				textout.Sanitize(f.Method), textout.Sanitize(f.Path), textout.Sanitize(f.Role), textout.Sanitize(f.BaselineReason))
		}
	}
	for _, e := range res.Fixed {
		fmt.Fprintf(b, "  fixed: %s (%s)\n", entryString(e), textout.Sanitize(e.Reason))
	}
	for _, e := range res.Unseen {
		fmt.Fprintf(b, "  not probed: %s (%s)\n", entryString(e), textout.Sanitize(e.Reason))
	}
}

// entryString names a baseline entry: "leak GET /x/{id} as support", or
// its fingerprint when the entry gives no more.
func entryString(e model.BaselineEntry) string {
	if e.Template == "" {
		return "fingerprint " + textout.Sanitize(e.Fingerprint)
	}
	return fmt.Sprintf("%s %s as %s", textout.Sanitize(string(e.Verdict)), textout.Sanitize(e.Template), textout.Sanitize(e.Role))
}

// baselineState is a finding's state against the baseline as the
// Markdown and CSV reports show it: "new", "baselined", or "expired on
// 2025-06-30"; "" when the run was judged without a baseline. It is
// sanitised.
func baselineState(f model.Finding) string {
	if f.Baseline == BaselineExpired && f.BaselineExpires != "" {
		return "expired on " + textout.Sanitize(f.BaselineExpires)
	}
	return textout.Sanitize(f.Baseline)
}

// baselineRank orders findings for the Markdown report: those failing
// the gate because the baseline does not list them first, then those
// whose entry expired, then those it accepts. A state this version does
// not know ranks with the new ones, which is the safe side.
func baselineRank(state string) int {
	switch state {
	case BaselineExpired:
		return 1
	case BaselineAccepted:
		return 2
	}
	return 0
}

// baselinedMessage says why a finding does not fail the gate: "baselined:
// REASON (until 2025-06-30)".
func baselinedMessage(f model.Finding) string {
	m := "baselined: " + textout.Sanitize(f.BaselineReason)
	if f.BaselineExpires != "" {
		m += " (until " + textout.Sanitize(f.BaselineExpires) + ")"
	}
	return m
}
