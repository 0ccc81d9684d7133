package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/internal/demoapp"
	"github.com/permaudit/permaudit/roles"
)

// demoRunFile is where the demo writes its run JSON, in the current directory.
const demoRunFile = "permaudit-run.json"

// demoReportFile is where the demo writes its HTML report, beside the run.
const demoReportFile = "permaudit-report.html"

type demoOptions struct {
	IO    ioStreams
	Bugs  string
	Dir   string
	Flags auditFlags
	Now   func() time.Time
	RunID func() string
	// Started, when set, is told the demo's address once it listens (tests).
	Started func(*demoapp.Server)
	// LogRequests keeps the demo app's request log (tests read it).
	LogRequests bool
}

func newDemoCmd(io ioStreams) *cobra.Command {
	opts := &demoOptions{IO: io, Now: time.Now, RunID: newRunID}
	var names []string
	for _, b := range demoapp.AllBugs() {
		names = append(names, "  "+b.Name+": "+b.Summary)
	}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Audit the bundled demo application",
		Long: `demo starts the bundled "Acme Orders" application on a random 127.0.0.1 port,
audits it with its embedded configuration as anonymous, customer, support and admin,
prints the findings, writes ` + demoRunFile + ` and the HTML report
` + demoReportFile + ` into the current directory (or --dir), and stops the
application.

The demo plants one bug of each kind on purpose, so by default it exits 1. Choose
them with --bugs (all, none, or a comma-separated list):
` + strings.Join(names, "\n"),
		Example: `  permaudit demo
  permaudit demo --bugs none
  permaudit demo --bugs leak,existence-leak --out json=-`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runDemo(c.Context(), opts) },
	}
	cmd.Flags().StringVar(&opts.Bugs, "bugs", "all", "planted bugs to switch on: all, none, or a list")
	cmd.Flags().StringVar(&opts.Dir, "dir", ".", "directory to write "+demoRunFile+" and "+demoReportFile+" into")
	addAuditFlags(cmd, &opts.Flags)
	_ = cmd.Flags().MarkHidden("target") // the demo chooses its own address
	return cmd
}

func runDemo(ctx context.Context, opts *demoOptions) error {
	bugs, err := demoapp.ParseBugs(opts.Bugs)
	if err != nil {
		return usageErr(fmt.Errorf("--bugs: %w", err))
	}
	if opts.Flags.Target != "" {
		return usageErr(errors.New("--target: the demo serves itself on 127.0.0.1; use audit to audit another target"))
	}
	cfg, err := roles.Parse(demoapp.ConfigName, demoapp.Config(), roles.LoadOptions{Env: demoapp.LookupEnv})
	if err != nil {
		return fmt.Errorf("the demo's embedded configuration: %w", err) // a bug of ours, not the user's
	}
	srv, err := demoapp.Start(demoapp.Options{Bugs: bugs, Log: opts.LogRequests})
	if err != nil {
		return unreachableErr(err)
	}
	defer srv.Close()
	if opts.Started != nil {
		opts.Started(srv)
	}
	fmt.Fprintf(opts.IO.Err, "permaudit demo: Acme Orders listens on %s; planted bugs: %s\n", srv.URL(), bugList(bugs))

	flags := opts.Flags
	flags.Target = srv.URL()
	runPath := filepath.Join(opts.Dir, demoRunFile)
	if !hasFormat(flags.Outs, "json") {
		flags.Outs = append(append([]string(nil), flags.Outs...), "json="+runPath)
	}
	if !hasFormat(flags.Outs, "html") {
		flags.Outs = append(append([]string(nil), flags.Outs...), "html="+filepath.Join(opts.Dir, demoReportFile))
	}
	run, err := auditTarget(ctx, cfg, flags, opts.IO, opts.Now, opts.RunID)
	if run != nil {
		for _, o := range flags.Outs {
			if format, path, _ := strings.Cut(o, "="); path != "-" {
				fmt.Fprintf(opts.IO.Err, "permaudit demo: wrote %s (%s)\n", path, format)
			}
		}
	}
	if errors.Is(err, errGateFailed) && len(bugs.Names()) > 0 {
		fmt.Fprintf(opts.IO.Err, "permaudit demo: exit 1 is expected: the demo plants %d bug(s) on purpose (%s); `permaudit demo --bugs none` audits the correct application\n",
			len(bugs.Names()), bugList(bugs))
	}
	return err
}

func bugList(b demoapp.Bugs) string {
	if n := b.Names(); len(n) > 0 {
		return strings.Join(n, ", ")
	}
	return "none"
}

func hasFormat(outs []string, format string) bool {
	for _, o := range outs {
		if f, _, _ := strings.Cut(o, "="); f == format {
			return true
		}
	}
	return false
}
