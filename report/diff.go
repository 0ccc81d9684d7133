package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

// Compare returns what changed from old to new.
func Compare(old, new *model.Run) *model.Diff {
	d := &model.Diff{
		Schema: model.DiffSchema, Old: runInfo(old), New: runInfo(new),
		NewFindings: []model.Finding{}, FixedFindings: []model.Finding{}, Changed: []model.CellChange{},
		AddedEndpoints: []string{}, RemovedEndpoints: []string{},
	}
	oldFP, newFP := fingerprints(old.Findings), fingerprints(new.Findings)
	for _, f := range new.Findings {
		if !oldFP[f.Fingerprint] {
			d.NewFindings = append(d.NewFindings, f)
		}
	}
	for _, f := range old.Findings {
		if !newFP[f.Fingerprint] {
			d.FixedFindings = append(d.FixedFindings, f)
		}
	}

	type key struct{ method, path, role string }
	oldCells := map[key]model.Cell{}
	oldEP, newEP := map[string]bool{}, map[string]bool{}
	for _, c := range old.Observations.All() {
		p := model.PathOf(c.URL)
		oldCells[key{c.Method, p, c.Role}] = c
		oldEP[c.Method+" "+p] = true
	}
	for _, c := range new.Observations.All() {
		p := model.PathOf(c.URL)
		newEP[c.Method+" "+p] = true
		o, ok := oldCells[key{c.Method, p, c.Role}]
		if !ok || (o.Status == c.Status && o.Class == c.Class) {
			continue
		}
		d.Changed = append(d.Changed, model.CellChange{
			Method: c.Method, Path: p, Template: c.Template, Role: c.Role,
			Old: o.Observation.Observed(), New: c.Observation.Observed(),
			OldVerdict: o.Verdict, NewVerdict: c.Verdict,
		})
	}
	rank := map[string]int{}
	for i, r := range new.Roles {
		rank[r.Name] = i
	}
	sort.SliceStable(d.Changed, func(i, j int) bool {
		a, b := d.Changed[i], d.Changed[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Method != b.Method {
			return a.Method < b.Method
		}
		return rank[a.Role] < rank[b.Role]
	})
	for ep := range newEP {
		if !oldEP[ep] {
			d.AddedEndpoints = append(d.AddedEndpoints, ep)
		}
	}
	for ep := range oldEP {
		if !newEP[ep] {
			d.RemovedEndpoints = append(d.RemovedEndpoints, ep)
		}
	}
	sort.Strings(d.AddedEndpoints)
	sort.Strings(d.RemovedEndpoints)
	return d
}

func runInfo(r *model.Run) model.RunInfo {
	return model.RunInfo{RunID: r.RunID, Target: r.Target, Started: r.Started, ConfigFingerprint: r.ConfigFingerprint,
		Complete: r.Complete, Findings: len(r.Findings)}
}

func fingerprints(fs []model.Finding) map[string]bool {
	m := map[string]bool{}
	for _, f := range fs {
		m[f.Fingerprint] = true
	}
	return m
}

// DiffFormats lists the formats of a diff.
func DiffFormats() []string { return []string{"json", "markdown", "text"} }

// WriteDiff renders d as "text", "markdown" or "json". The same diff gives
// the same bytes.
func WriteDiff(w io.Writer, d *model.Diff, format string) error {
	var b bytes.Buffer
	switch format {
	case "text":
		writeDiffText(&b, d)
	case "markdown", "md":
		writeDiffMarkdown(&b, d)
	case "json":
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d); err != nil {
			return fmt.Errorf("write diff json: %w", err)
		}
	default:
		return fmt.Errorf("unknown diff format %q; formats: %s", format, strings.Join(DiffFormats(), ", "))
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write diff: %w", err)
	}
	return nil
}

func writeDiffText(b *bytes.Buffer, d *model.Diff) {
	fmt.Fprintf(b, "permaudit diff: run %s (%s) -> run %s (%s)\n",
		textout.Sanitize(d.Old.RunID), textout.Sanitize(d.Old.Target), textout.Sanitize(d.New.RunID), textout.Sanitize(d.New.Target))
	if d.Old.ConfigFingerprint != d.New.ConfigFingerprint {
		b.WriteString("the runs used different configurations\n")
	}
	if !d.Old.Complete || !d.New.Complete {
		b.WriteString("a run is incomplete: what it did not probe shows as removed or added\n")
	}
	section := func(title string, fs []model.Finding) {
		fmt.Fprintf(b, "\n%s (%d):\n", title, len(fs))
		if len(fs) == 0 {
			return
		}
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		for _, f := range fs {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\texpected %s, observed %s\n",
				textout.Sanitize(string(f.Verdict)), textout.Sanitize(string(f.Severity)), textout.Sanitize(f.Method), textout.Sanitize(f.Path),
				textout.Sanitize(f.Role), textout.Sanitize(f.Expected), textout.Sanitize(f.Observed))
		}
		_ = tw.Flush() // a bytes.Buffer does not fail
	}
	section("new findings", d.NewFindings)
	section("fixed findings", d.FixedFindings)
	fmt.Fprintf(b, "\nchanged answers (%d):\n", len(d.Changed))
	for _, c := range d.Changed {
		fmt.Fprintf(b, "  %s\n", textout.Sanitize(c.String()))
	}
	fmt.Fprintf(b, "\nendpoints: %d added, %d removed\n", len(d.AddedEndpoints), len(d.RemovedEndpoints))
	for _, e := range d.AddedEndpoints {
		fmt.Fprintf(b, "  + %s\n", textout.Sanitize(e))
	}
	for _, e := range d.RemovedEndpoints {
		fmt.Fprintf(b, "  - %s\n", textout.Sanitize(e))
	}
}

func writeDiffMarkdown(b *bytes.Buffer, d *model.Diff) {
	fmt.Fprintf(b, "## permaudit diff\n\nRun `%s` (%s) → run `%s` (%s).\n",
		diffMDCode(d.Old.RunID), diffMDText(d.Old.Target), diffMDCode(d.New.RunID), diffMDText(d.New.Target))
	if d.Old.ConfigFingerprint != d.New.ConfigFingerprint {
		b.WriteString("\nThe runs used different configurations.\n")
	}
	if !d.Old.Complete || !d.New.Complete {
		b.WriteString("\nA run is incomplete: what it did not probe shows as removed or added.\n")
	}
	fmt.Fprintf(b, "\n**%d new**, **%d fixed** findings; %s; %s added, %d removed.\n",
		len(d.NewFindings), len(d.FixedFindings), plural(len(d.Changed), "changed answer"),
		plural(len(d.AddedEndpoints), "endpoint"), len(d.RemovedEndpoints))
	section := func(title string, fs []model.Finding) {
		fmt.Fprintf(b, "\n### %s (%d)\n\n", title, len(fs))
		if len(fs) == 0 {
			b.WriteString("None.\n")
			return
		}
		b.WriteString("| verdict | severity | endpoint | role | expected | observed |\n| --- | --- | --- | --- | --- | --- |\n")
		for _, f := range fs {
			fmt.Fprintf(b, "| %s | %s | `%s %s` | %s | %s | %s |\n", diffMDText(string(f.Verdict)), diffMDText(string(f.Severity)),
				diffMDCode(f.Method), diffMDCode(f.Path), diffMDText(f.Role), diffMDText(f.Expected), diffMDText(f.Observed))
		}
	}
	section("New findings", d.NewFindings)
	section("Fixed findings", d.FixedFindings)
	fmt.Fprintf(b, "\n### Changed answers (%d)\n\n", len(d.Changed))
	if len(d.Changed) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString("| endpoint | role | before | after | verdict |\n| --- | --- | --- | --- | --- |\n")
		for _, c := range d.Changed {
			fmt.Fprintf(b, "| `%s %s` | %s | %s | %s | %s → %s |\n", diffMDCode(c.Method), diffMDCode(c.Path), diffMDText(c.Role),
				diffMDText(c.Old), diffMDText(c.New), diffMDText(string(c.OldVerdict)), diffMDText(string(c.NewVerdict)))
		}
	}
	if len(d.AddedEndpoints)+len(d.RemovedEndpoints) > 0 {
		fmt.Fprintf(b, "\n### Endpoints\n\n")
		for _, e := range d.AddedEndpoints {
			fmt.Fprintf(b, "- added `%s`\n", diffMDCode(e))
		}
		for _, e := range d.RemovedEndpoints {
			fmt.Fprintf(b, "- removed `%s`\n", diffMDCode(e))
		}
	}
}

// diffMDText makes untrusted text safe in a markdown table cell: control
// characters escaped, and the characters markdown or HTML would read
// (pipes, backticks, brackets, emphasis, angle brackets) backslashed or
// entity-encoded.
func diffMDText(s string) string {
	s = textout.Sanitize(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '|', '\\', '`', '*', '_', '[', ']', '#', '~', '!':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// diffMDCode makes untrusted text safe inside a single-backtick code span in a
// table: backticks cannot be escaped there, so they are replaced by ',
// and pipes are backslashed (GitHub's tables split on them first).
func diffMDCode(s string) string {
	s = textout.Sanitize(s)
	s = strings.ReplaceAll(s, "`", "'")
	return strings.ReplaceAll(s, "|", `\|`)
}
