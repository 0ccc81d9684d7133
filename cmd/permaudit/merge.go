package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/report"
)

// mergeOptions are the inputs of `permaudit report merge`.
type mergeOptions struct {
	IO        ioStreams
	Output    string   // -o: the merged run JSON
	Outs      []string // --out FORMAT=PATH
	Baseline  string
	SARIFRoot string
	Shards    []string
	Now       func() time.Time
}

func newMergeCmd(io ioStreams) *cobra.Command {
	opts := &mergeOptions{IO: io, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "merge -o MERGED.json SHARD.json...",
		Short: "Join the runs of audit --shard K/N into the run of the whole audit, and gate it",
		Long: `merge reads the run JSON of every shard of one sharded audit (audit --shard K/N
--inventory FILE, each saved with --out json=PATH) and joins them into one run,
written to -o, that renders and gates exactly as an unsharded audit of the same
inventory would: the same cells, findings, notes, counts, coverage and gate
(README.md, "Shards"). It sends no request.

merge refuses, naming the files: a run that is not a shard run, a missing or
duplicate shard, and runs whose configuration fingerprints, inventories,
targets, filters (--role, --only) or gates (--fail-on) differ. The merged run
is incomplete when any shard was.

Each --out FORMAT=PATH writes one more output ('-' is stdout); the text summary
goes to stdout unless an output does. With --baseline, listed findings no
longer fail the gate (shards refuse --baseline: it applies to the whole).
The exit code is the merged run's: 1 when the gate fails, 4 when a shard was
incomplete, 0 otherwise; 2 when a run cannot be read or merged.`,
		Example: `  permaudit report merge -o merged.json shard-1.json shard-2.json shard-3.json
  permaudit report merge -o merged.json --out html=report.html --baseline permaudit-baseline.yaml shard-*.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Shards = args
			return runMerge(c.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&opts.Output, "output", "o", "", "write the merged run JSON to this file ('-' for stdout); required")
	fs.StringArrayVar(&opts.Outs, "out", nil, "write an output of the merged run, FORMAT=PATH ('-' for stdout); formats: "+strings.Join(report.Formats(), ", ")+" (repeatable)")
	fs.StringVar(&opts.Baseline, "baseline", "", "baseline file (YAML): listed findings do not fail the merged run's gate")
	fs.StringVar(&opts.SARIFRoot, "sarif-root", "", sarifRootUsage)
	return cmd
}

// runMerge reads the shard runs, merges them and writes the outputs.
func runMerge(_ context.Context, opts *mergeOptions) error {
	if opts.Output == "" {
		return usageErr(errors.New("-o MERGED.json is required: where to write the merged run"))
	}
	outs, err := parseOuts(append([]string{"json=" + opts.Output}, opts.Outs...))
	if err != nil {
		return err
	}
	var parts []judge.Part
	for _, path := range opts.Shards {
		run, err := readRunFile(path, opts.IO.In)
		if err != nil {
			return usageErr(err)
		}
		parts = append(parts, judge.Part{Name: path, Run: run})
	}
	run, err := judge.Merge(parts)
	if err != nil {
		return usageErr(err)
	}
	if opts.Baseline != "" {
		base, err := loadBaseline(opts.Baseline)
		if err != nil {
			return err
		}
		report.ApplyBaseline(run, base, opts.Now())
	}
	sopts, err := sarifOptions(opts.SARIFRoot, runConfigFile(run))
	if err != nil {
		return usageErr(err)
	}
	useSARIFOptions(outs, sopts)
	if err := writeOutputs(run, outs, opts.IO); err != nil {
		return err
	}
	switch {
	case run.Gate.Failed:
		return errGateFailed
	case !run.Complete:
		return &exitError{code: exitIncomplete, err: errors.New("incomplete: " + run.Incomplete)}
	}
	return nil
}
