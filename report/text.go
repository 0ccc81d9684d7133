package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

// textWriter writes the human summary printed on stdout: a header, the
// counts, the findings as a table, the notes and the gate outcome. Every
// value that may come from the target goes through sanitize.
type textWriter struct{}

func (textWriter) Write(w io.Writer, r *model.Run) error {
	b := bufio.NewWriter(w)
	state := "complete"
	if !r.Complete {
		state = "INCOMPLETE"
		if r.Incomplete != "" {
			state += " (" + textout.Sanitize(r.Incomplete) + ")"
		}
	}
	fmt.Fprintf(b, "permaudit audit of %s, run %s: %s\n", textout.Sanitize(r.Target), textout.Sanitize(r.RunID), state)
	fmt.Fprintf(b, "endpoints: %d discovered, %d skipped; %s\n",
		len(r.Inventory.Entries), len(r.Inventory.Skipped), plural(r.Observations.Len(), "probe"))
	writeCoverageText(b, r)
	writeLeftText(b, r.Inventory.Left)
	fmt.Fprintf(b, "findings: %s\n", countList(r.Counts, model.FindingVerdicts))
	fmt.Fprintf(b, "notes: %s\n", countList(r.Counts, model.NoteVerdicts))
	fmt.Fprintf(b, "pass: %d\n", r.Counts[model.Pass])

	if len(r.Findings) > 0 {
		fmt.Fprintf(b, "\nfindings (%d):\n", len(r.Findings))
		header := []string{"  VERDICT", "SEVERITY", "METHOD", "PATH", "ROLE", "EXPECTED", "OBSERVED", "RULE"}
		writeTable(b, 1+len(r.Findings), func(i int) []string {
			if i == 0 {
				return header
			}
			f := r.Findings[i-1]
			return []string{"  " + textout.Sanitize(string(f.Verdict)), textout.Sanitize(string(f.Severity)), textout.Sanitize(f.Method), textout.Sanitize(f.Path),
				textout.Sanitize(f.Role), textout.Sanitize(f.Expected), textout.Sanitize(f.Observed), textout.Sanitize(f.Rule)}
		})
	}
	if len(r.Notes) > 0 {
		fmt.Fprintf(b, "\nnotes (%d):\n", len(r.Notes))
		writeTable(b, len(r.Notes), func(i int) []string {
			n := r.Notes[i]
			return []string{"  " + textout.Sanitize(string(n.Verdict)), textout.Sanitize(n.Message)}
		})
	}
	writeBaselineText(b, r) // baseline.go
	writeSessionsText(b, r) // sessions.go
	fmt.Fprintf(b, "\n%s\n", outcomeLine(r))
	if err := b.Flush(); err != nil {
		return fmt.Errorf("write text: %w", err)
	}
	return nil
}

// writeTable writes n rows of cells aligned as text/tabwriter aligns
// them (two spaces after the widest cell of each column but the last),
// without holding the table: a first pass over the rows measures the
// columns, a second writes them. Every row has as many cells.
func writeTable(b *bufio.Writer, n int, row func(i int) []string) {
	var widths []int
	for i := range n {
		cells := row(i)
		if widths == nil {
			widths = make([]int, len(cells))
		}
		for j, c := range cells[:len(cells)-1] {
			widths[j] = max(widths[j], utf8.RuneCountInString(c))
		}
	}
	for i := range n {
		cells := row(i)
		for j, c := range cells[:len(cells)-1] {
			b.WriteString(c)
			pad := widths[j] + 2 - utf8.RuneCountInString(c)
			for range pad {
				b.WriteByte(' ')
			}
		}
		b.WriteString(cells[len(cells)-1])
		b.WriteByte('\n')
	}
}

// countList renders "leak 1, blocked 0, ..." in the order of vs.
func countList(counts map[model.Verdict]int, vs []model.Verdict) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("%s %d", v, counts[v])
	}
	return strings.Join(parts, ", ")
}

// gateLine is the last line of the summary.
func gateLine(g model.Gate) string {
	on := make([]string, len(g.FailOn))
	for i, v := range g.FailOn {
		on[i] = textout.Sanitize(string(v))
	}
	list := strings.Join(on, ",")
	switch {
	case g.Failed:
		verb := "fail"
		if g.Failing == 1 {
			verb = "fails"
		}
		return fmt.Sprintf("gate: FAILED — %s %s on %s", plural(g.Failing, "finding"), verb, list)
	case len(g.FailOn) == 0:
		return "gate: passed (it fails on nothing: --fail-on none)"
	}
	return fmt.Sprintf("gate: passed (it fails on %s)", list)
}

// Outcomes of a run, which every format states in its headline: a run
// whose gate failed has failed, even when incomplete; an incomplete run
// without such a finding is never "passed", since what it did not probe
// may hold one. A shard's run (audit --shard) is neither: it gates
// nothing on its own, and says so, whatever it found.
const (
	outcomePassed     = "passed"
	outcomeFailed     = "failed"
	outcomeIncomplete = "incomplete"
	outcomeShard      = "shard"
)

// outcomeOf is the run's outcome.
func outcomeOf(r *model.Run) string {
	switch {
	case r.Shard != nil:
		return outcomeShard
	case r.Gate.Failed:
		return outcomeFailed
	case !r.Complete:
		return outcomeIncomplete
	}
	return outcomePassed
}

// incompleteReason is why the run is incomplete, sanitised; "" when it
// is complete.
func incompleteReason(r *model.Run) string {
	if r.Complete {
		return ""
	}
	if r.Incomplete == "" {
		return "the run ended early"
	}
	return textout.Sanitize(r.Incomplete)
}

// outcomeLine is the gate line of a run: gateLine, except that an
// incomplete run says so. "gate: INCOMPLETE — ..." when no finding fails
// the gate among what was probed, and the reason after a failed gate.
func outcomeLine(r *model.Run) string {
	switch outcomeOf(r) {
	case outcomeShard:
		state := "complete"
		if !r.Complete {
			state = "incomplete: " + incompleteReason(r)
		}
		return fmt.Sprintf("gate: NOT APPLIED — shard %s (%s) of a sharded audit gates nothing on its own; %s the gate fails on in this slice; permaudit report merge joins the shards' runs and gates",
			r.Shard, state, plural(r.Gate.Failing, "finding"))
	case outcomeIncomplete:
		return fmt.Sprintf("gate: INCOMPLETE (%s) — not a pass: no finding the gate fails on so far, but the run ended early", incompleteReason(r))
	case outcomeFailed:
		if !r.Complete {
			return gateLine(r.Gate) + " (run incomplete: " + incompleteReason(r) + ")"
		}
	}
	return gateLine(r.Gate)
}

// exitCodeOf is the exit code of the audit that made r, as
// docs/design.md ("Exit codes") orders them: 130 interrupted, 1 the gate
// failed, 4 incomplete, 0. The run stores the reason "interrupted" for
// a signal (package audit). A code the run cannot know (2, 3, a write
// error) is never the run's.
func exitCodeOf(r *model.Run) int {
	switch {
	case !r.Complete && r.Incomplete == "interrupted":
		return 130
	case r.Shard != nil: // never gates on its own
		return 0
	case r.Gate.Failed:
		return 1
	case !r.Complete:
		return 4
	}
	return 0
}

// plural spells a count of word: "1 endpoint", "2 endpoints".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
