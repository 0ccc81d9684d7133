package main

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/report"
)

type baselineOptions struct {
	IO      ioStreams
	RunPath string
	Reason  string
	Expires string
}

func newBaselineCmd(io ioStreams) *cobra.Command {
	opts := &baselineOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "baseline RUN.json",
		Short: "Write a baseline accepting every finding of a saved run",
		Long: `baseline reads a run saved with --out json=PATH ('-' for stdin) and writes to
stdout a baseline file listing every finding of the run: one entry per
fingerprint, each with a reason and an optional expiry date. Audit with
--baseline FILE and the listed findings no longer fail the gate; any other
finding does, an entry past its expiry date fails again from the next day,
and entries no longer seen are reported as fixed.

Edit the reasons before committing the file. Entries of a run that was
itself judged with a baseline keep their reason and expiry. The format is
described in docs/baseline.md.`,
		Example: `  permaudit audit -c permaudit.yaml --out json=run.json
  permaudit baseline run.json > permaudit-baseline.yaml
  permaudit baseline run.json --reason "known, fixed in ACME-142" --expires 2025-06-30 > permaudit-baseline.yaml
  permaudit audit -c permaudit.yaml --baseline permaudit-baseline.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.RunPath = args[0]
			return runBaseline(c.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Reason, "reason", "", "reason given to every new entry (default: accepted when the baseline was written from run ID)")
	cmd.Flags().StringVar(&opts.Expires, "expires", "", "expiry date of every new entry, YYYY-MM-DD: from the next day its finding fails the gate again")
	return cmd
}

func runBaseline(_ context.Context, opts *baselineOptions) error {
	if opts.Expires != "" {
		if _, err := time.Parse(time.DateOnly, opts.Expires); err != nil {
			return usageErr(fmt.Errorf("--expires %q: want a date such as 2025-06-30", opts.Expires))
		}
	}
	run, err := readRunFile(opts.RunPath, opts.IO.In)
	if err != nil {
		return usageErr(err)
	}
	var b bytes.Buffer
	if err := report.WriteBaseline(&b, run, report.BaselineOptions{Reason: opts.Reason, Expires: opts.Expires}); err != nil {
		return usageErr(err)
	}
	_, err = opts.IO.Out.Write(b.Bytes())
	return err
}
