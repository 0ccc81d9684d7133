package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/report"
)

// reportOptions are the inputs of `permaudit report`.
type reportOptions struct {
	IO      ioStreams
	RunPath string   // a run JSON file, or "-" for stdin
	Outs    []string // FORMAT=PATH
	// Judge: -c judges the run again, --baseline applies a baseline
	// (rejudge.go); then the exit code follows the gate.
	Judge judgeFlags
	// SARIFRoot is what the SARIF output's locations are relative to.
	SARIFRoot string
	Now       func() time.Time
}

func newReportCmd(io ioStreams) *cobra.Command {
	opts := &reportOptions{IO: io, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "report RUN.json",
		Short: "Render a saved run as HTML, JUnit, SARIF, Markdown, CSV, text or JSON",
		Long: `report reads a run saved with --out json=PATH (or '-' for stdin) and writes
it in other formats, without sending any request. Each --out FORMAT=PATH writes
one output ('-' is stdout); without --out the text summary goes to stdout.

The formats:
  html      the audit report: header, summary, the role-by-endpoint matrix with
            the evidence of every cell, findings, notes and coverage, in one
            self-contained file that makes no network request when opened
  junit     a test case per endpoint and role; findings the gate fails on are
            failures, notes are skipped test cases
  sarif     SARIF 2.1.0 for GitHub code scanning: a rule per verdict, a result
            per finding and note at the line of its matrix rule in the
            configuration (relative to --sarif-root, by default the git top
            level), with the method, URL and role in its message
  markdown  a short summary for pull-request comments and job summaries
  csv       the matrix, one row per endpoint and a column per role
  text      the summary printed by audit
  json      the run itself

With -c permaudit.yaml, report first judges the saved run again against that
configuration's matrix (edited or not), without sending any request, so a policy
change can be tried in seconds; secrets the configuration names need not be set.
With --baseline, listed findings no longer fail the gate. After either, the exit
code follows the gate as audit's does (1 when it fails). With --diff OLD.json, the
outputs also show what changed since that run (the HTML report's Changes section).

Otherwise the gate's outcome is the one stored in the run; report renders it and exits 0
once every output is written (2 when an output or the run cannot be read or
written).

permaudit report merge joins the runs of a sharded audit (audit --shard K/N)
into the run of the whole audit, and gates it.`,
		Example: `  permaudit report run.json --out html=report.html
  permaudit report run.json --out junit=junit.xml --out sarif=permaudit.sarif --out markdown=-
  permaudit audit -c permaudit.yaml --out json=- | permaudit report - --out csv=matrix.csv
  permaudit report run.json -c permaudit.yaml --baseline permaudit-baseline.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.RunPath = args[0]
			return runReport(c.Context(), opts)
		},
	}
	addJudgeFlags(cmd, &opts.Judge)
	cmd.Flags().StringVar(&opts.SARIFRoot, "sarif-root", "", sarifRootUsage)
	cmd.Flags().StringArrayVar(&opts.Outs, "out", nil, "write an output, FORMAT=PATH ('-' for stdout); formats: "+strings.Join(report.Formats(), ", ")+" (repeatable)")
	cmd.AddCommand(newMergeCmd(io))
	return cmd
}

// runReport reads the saved run and writes every requested output.
func runReport(_ context.Context, opts *reportOptions) error {
	outs, err := parseOuts(opts.Outs)
	if err != nil {
		return err
	}
	run, err := readRunFile(opts.RunPath, opts.IO.In)
	if err != nil {
		return usageErr(err)
	}
	judged, err := judgeSaved(run, opts.Judge, opts.IO.Env, opts.Now)
	if err != nil {
		return err
	}
	sopts, err := sarifOptions(opts.SARIFRoot, runConfigFile(run))
	if err != nil {
		return usageErr(err)
	}
	useSARIFOptions(outs, sopts)
	if err := writeOutputs(run, outs, opts.IO); err != nil {
		return err
	}
	if judged && run.Gate.Failed {
		return errGateFailed
	}
	return nil
}

// readRunFile reads a run JSON from path, or from in when path is "-".
func readRunFile(path string, in io.Reader) (*model.Run, error) {
	if path == "-" {
		if in == nil {
			return nil, errors.New("run from stdin: no standard input")
		}
		run, err := model.ReadRun(in)
		if err != nil {
			return nil, fmt.Errorf("stdin: %w", err)
		}
		return run, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the run: %w; save one with permaudit audit --out json=%s", err, path)
	}
	defer f.Close()
	run, err := model.ReadRun(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return run, nil
}

// parseOuts checks every --out FORMAT=PATH before anything is read or
// written, and adds the text summary on stdout when no output goes there.
func parseOuts(specs []string) ([]output, error) {
	var outs []output
	var problems []string
	toStdout := false
	for _, spec := range specs {
		format, path, ok := strings.Cut(spec, "=")
		if !ok || format == "" || path == "" {
			problems = append(problems, fmt.Sprintf("--out %q: want FORMAT=PATH, such as html=report.html or markdown=-", spec))
			continue
		}
		w, err := report.WriterFor(format)
		if err != nil {
			problems = append(problems, fmt.Sprintf("--out %q: %v", spec, err))
			continue
		}
		if path == "-" {
			if toStdout {
				problems = append(problems, fmt.Sprintf("--out %q: only one output can go to stdout", spec))
				continue
			}
			toStdout = true
		}
		outs = append(outs, output{Format: format, Path: path, W: w})
	}
	if len(problems) > 0 {
		return nil, usageErr(errors.New(strings.Join(problems, "\n")))
	}
	if !toStdout {
		w, _ := report.WriterFor("text")
		outs = append([]output{{Format: "text", Path: "-", W: w}}, outs...)
	}
	return outs, nil
}
