package report

import (
	"errors"
	"io"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// ErrGateFailed is returned by the command layer when a run's gate failed;
// it maps to exit code 1. Findings are results, not errors: outputs are
// written first.
var ErrGateFailed = errors.New("the gate failed")

// Judge compares every observation with cfg's matrix and fills run's
// Observations (cells, in the order given), Findings and Notes (sorted:
// severity, then path, method, role order), Counts and Gate.
// run.Gate.FailOn must be set (DefaultFailOn when the user gave none).
// Judge sends no request: a saved run can be judged again.
func Judge(run *model.Run, cfg *roles.Config, obs []model.Observation) { judge(run, cfg, obs) }

// ParseFailOn parses a comma-separated list of verdicts ("leak,blocked").
// Only finding verdicts are accepted; "none" gives an empty gate.
func ParseFailOn(s string) ([]model.Verdict, error) { return parseFailOn(s) }

// Fingerprint is the stable identity of a finding: verdict, method,
// template path and query keys (no scheme, host or port), role.
func Fingerprint(v model.Verdict, method, template, role string) string {
	return model.Fingerprint(v, method, template, role)
}

// Writer renders a run in one format.
type Writer interface {
	Write(w io.Writer, r *model.Run) error
}

// Formats lists the output formats, for --out and help text.
func Formats() []string { return formats() }

// WriterFor returns the writer of format: "text", "json", "html", "junit",
// "sarif", "markdown" or "csv" (Formats lists them).
func WriterFor(format string) (Writer, error) { return writerFor(format) }

// ReadRun decodes a run JSON, checking its schema version.
func ReadRun(r io.Reader) (*model.Run, error) { return model.ReadRun(r) }
