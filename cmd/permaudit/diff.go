package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/report"
)

type diffOptions struct {
	IO       ioStreams
	Old, New string
	Format   string
}

func newDiffCmd(io ioStreams) *cobra.Command {
	opts := &diffOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "diff OLD.json NEW.json",
		Short: "Show what changed between two saved runs",
		Long: `diff compares two runs saved with --out json=PATH and writes to stdout the
findings only the new run has, the findings it no longer has (fixed), the cells
whose answer changed (403 became 200 for support on GET /admin/export) and the
endpoints only one run probed. Runs are matched by path, never by host or port,
so runs of one application on different machines compare. Findings are matched
by fingerprint.

It sends no request and exits 0 whatever changed (2 when a run cannot be read).`,
		Example: `  permaudit diff main-run.json branch-run.json
  permaudit diff main-run.json branch-run.json --format markdown >> "$GITHUB_STEP_SUMMARY"
  permaudit diff old.json new.json --format json | jq '.new_findings | length'`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Old, opts.New = args[0], args[1]
			return runDiff(c.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Format, "format", "f", "text", "output format: "+strings.Join(report.DiffFormats(), ", "))
	return cmd
}

func runDiff(_ context.Context, opts *diffOptions) error {
	if !slices.Contains(report.DiffFormats(), opts.Format) {
		return usageErr(fmt.Errorf("--format %q: formats: %s", opts.Format, strings.Join(report.DiffFormats(), ", ")))
	}
	if opts.Old == "-" && opts.New == "-" {
		return usageErr(fmt.Errorf("only one of the runs can be read from stdin"))
	}
	old, err := readRunFile(opts.Old, opts.IO.In)
	if err != nil {
		return usageErr(err)
	}
	cur, err := readRunFile(opts.New, opts.IO.In)
	if err != nil {
		return usageErr(err)
	}
	var b bytes.Buffer
	if err := report.WriteDiff(&b, report.Compare(old, cur), opts.Format); err != nil {
		return err
	}
	_, err = opts.IO.Out.Write(b.Bytes())
	return err
}
