package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

// markdownWriter writes a short summary for pull-request comments and CI
// job summaries (GitHub-flavoured Markdown): the gate's outcome as the
// heading, the counts, the first findings as a table and the notes folded
// in <details>. A run judged with a baseline also gets the baseline's
// counts, a baseline column with the findings ordered new, expired, then
// baselined (so that the row cap hides accepted findings first), and the
// entries fixed or not probed, folded. Every value from the target or the
// configuration is escaped (markdownText), so it can neither inject
// markup nor break the table.
type markdownWriter struct{}

// markdownMaxRows caps the findings and notes tables; the HTML report has
// them all.
const markdownMaxRows = 50

func (markdownWriter) Write(w io.Writer, r *model.Run) error {
	b := bufio.NewWriter(w)
	sym := map[string]string{outcomeFailed: "✖", outcomeIncomplete: "⚠", outcomePassed: "✓", outcomeShard: "◐"}[outcomeOf(r)]
	fmt.Fprintf(b, "## %s permaudit: %s\n\n", sym, markdownText(strings.TrimPrefix(outcomeLine(r), "gate: ")))
	state := "complete"
	if !r.Complete {
		state = "**incomplete**"
		if r.Incomplete != "" {
			state += " (" + markdownText(r.Incomplete) + ")"
		}
	}
	roles := matrixRoles(r)
	fmt.Fprintf(b, "Audit of %s, run %s: %s; %s of %s as %s.\n\n",
		markdownText(r.Target), markdownText(r.RunID), state,
		plural(r.Observations.Len(), "probe"), plural(len(r.Inventory.Entries), "endpoint"), plural(len(roles), "role"))

	b.WriteString("| verdict | severity | count | fails the gate |\n| --- | --- | ---: | --- |\n")
	gated := map[model.Verdict]bool{}
	for _, v := range r.Gate.FailOn {
		gated[v] = true
	}
	for _, v := range model.FindingVerdicts {
		fails := "no"
		if gated[v] {
			fails = "yes"
		}
		fmt.Fprintf(b, "| %s %s | %s | %d | %s |\n", symbolOf(v), v, v.Severity(), r.Counts[v], fails)
	}
	fmt.Fprintf(b, "\nNotes (never fail the gate): %s. Passed: %d.\n", countList(r.Counts, model.NoteVerdicts), r.Counts[model.Pass])
	res := r.Baseline
	if res != nil {
		fmt.Fprintf(b, "\nBaseline %s: %d new, %d baselined, %d expired, %d fixed", markdownText(res.File), res.New, res.Accepted, res.Expired, len(res.Fixed))
		if len(res.Unseen) > 0 {
			fmt.Fprintf(b, ", %d not probed", len(res.Unseen))
		}
		b.WriteString(".\n")
	}

	if len(r.Findings) > 0 {
		fmt.Fprintf(b, "\n### Findings (%d)\n\n", len(r.Findings))
		if res == nil {
			b.WriteString("| severity | verdict | endpoint | role | expected | observed |\n| --- | --- | --- | --- | --- | --- |\n")
		} else {
			b.WriteString("| severity | verdict | endpoint | role | expected | observed | baseline |\n| --- | --- | --- | --- | --- | --- | --- |\n")
		}
		for _, k := range markdownRows(r.Findings, res != nil) {
			f := r.Findings[k]
			fmt.Fprintf(b, "| %s | %s %s | %s %s | %s | %s | %s |", f.Severity, symbolOf(f.Verdict), f.Verdict,
				markdownText(f.Method), markdownText(f.Path), markdownText(f.Role), markdownText(f.Expected), markdownText(f.Observed))
			if res != nil {
				fmt.Fprintf(b, " %s |", markdownText(baselineState(f)))
			}
			b.WriteString("\n")
		}
		if len(r.Findings) > markdownMaxRows {
			fmt.Fprintf(b, "\n…and %d more: see the HTML report (`--out html=report.html`).\n", len(r.Findings)-markdownMaxRows)
		}
	}
	if res != nil {
		writeMarkdownEntries(b, "Fixed since the baseline", res.Fixed)
		writeMarkdownEntries(b, "Listed in the baseline but not probed by this run", res.Unseen)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintf(b, "\n<details><summary>Notes (%d)</summary>\n\n", len(r.Notes))
		for i, n := range r.Notes {
			if i == markdownMaxRows {
				fmt.Fprintf(b, "- …and %d more\n", len(r.Notes)-markdownMaxRows)
				break
			}
			fmt.Fprintf(b, "- %s %s: %s\n", symbolOf(n.Verdict), n.Verdict, markdownText(n.Message))
		}
		b.WriteString("\n</details>\n")
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	return nil
}

// markdownRows are the indices of the findings the table shows, at most
// markdownMaxRows: the first ones, or with a baseline the first in the
// order new, expired, baselined (a stable order: one pass per state).
func markdownRows(fs []model.Finding, baseline bool) []int {
	var rows []int
	for rank := range 3 {
		for k, f := range fs {
			if len(rows) == markdownMaxRows {
				return rows
			}
			if !baseline || baselineRank(f.Baseline) == rank {
				rows = append(rows, k)
			}
		}
		if !baseline {
			break
		}
	}
	return rows
}

// writeMarkdownEntries lists baseline entries folded in <details> under
// title, each with its reason; nothing when there are none.
func writeMarkdownEntries(b *bufio.Writer, title string, entries []model.BaselineEntry) {
	if len(entries) == 0 {
		return
	}
	fmt.Fprintf(b, "\n<details><summary>%s (%d)</summary>\n\n", title, len(entries))
	for i, e := range entries {
		if i == markdownMaxRows {
			fmt.Fprintf(b, "- …and %d more\n", len(entries)-markdownMaxRows)
			break
		}
		fmt.Fprintf(b, "- %s (%s)\n", markdownText(entryString(e)), markdownText(e.Reason))
	}
	b.WriteString("\n</details>\n")
}

// markdownText makes untrusted text literal in Markdown: control
// characters are escaped as sanitize does, and every ASCII punctuation
// character that can start markup (emphasis, code, links, images, HTML,
// entities, headings, strike-through, mentions, math) or end a table
// cell gets a backslash, which CommonMark renders literally.
func markdownText(s string) string {
	s = textout.Sanitize(s)
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && strings.ContainsRune("\\`*_[]()<>|&!~#@$", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
