package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/internal/demoapp"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// demoRunFile is where the demo writes its run JSON, in the current directory.
const demoRunFile = "permaudit-run.json"

// demoReportFile is where the demo writes its HTML report, beside the run.
const demoReportFile = "permaudit-report.html"

type demoOptions struct {
	IO   ioStreams
	Bugs string
	Dir  string
	// Gate exits with the gate's code, as audit does, instead of telling
	// whether the audit found exactly the planted bugs.
	Gate bool
	// Serve keeps the application running after the audit, until ctx
	// ends, for the user's own audits.
	Serve bool
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
application (unless --serve).

The demo plants bugs on purpose (one of each kind by default) and checks the
audit against them: it exits 0 when the audit found exactly the planted bugs (the
tool works) and 1 when a finding is missing or unexpected. With --gate it exits as
audit would in CI instead: 1 when a finding fails the gate. Choose the bugs with
--bugs (all, none, or a comma-separated list):
` + strings.Join(names, "\n") + `

--serve keeps the application running after the audit, until Ctrl-C, and prints
its address and the environment variables of its credentials, so that you can
write a configuration and run permaudit audit against it yourself.`,
		Example: `  permaudit demo
  permaudit demo --gate
  permaudit demo --serve
  permaudit demo --bugs none
  permaudit demo --bugs leak,existence-leak --out json=-`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runDemo(c.Context(), opts) },
	}
	cmd.Flags().StringVar(&opts.Bugs, "bugs", "all", "planted bugs to switch on: all, none, or a list")
	cmd.Flags().StringVar(&opts.Dir, "dir", ".", "directory to write "+demoRunFile+" and "+demoReportFile+" into")
	cmd.Flags().BoolVar(&opts.Serve, "serve", false, "keep the demo application running after the audit, until Ctrl-C, and print how to audit it yourself")
	cmd.Flags().BoolVar(&opts.Gate, "gate", false, "exit with the gate's outcome, as audit does (1 when a finding fails it), instead of 0 when exactly the planted bugs were found")
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
	if opts.Serve && run != nil {
		if serr := serveDemo(ctx, opts, srv); serr != nil {
			return serr
		}
	}
	if opts.Gate {
		if errors.Is(err, errGateFailed) && len(bugs.Names()) > 0 {
			fmt.Fprintf(opts.IO.Err, "permaudit demo: exit 1 is expected: the demo plants %d bug(s) on purpose (%s); `permaudit demo --bugs none` audits the correct application\n",
				len(bugs.Names()), bugList(bugs))
		}
		return err
	}
	if run == nil || err != nil && !errors.Is(err, errGateFailed) {
		return err // a dry run; usage, unreachable, interrupted, incomplete: as audit
	}
	return checkPlanted(opts.IO, run, bugs)
}

// demoConfigFile is where --serve writes the demo's configuration, for
// the user's own audits.
const demoConfigFile = "permaudit-demo.yaml"

// serveDemo keeps the demo application running until ctx ends (Ctrl-C),
// after writing its configuration into the demo's directory and printing
// its address and the environment its credentials are read from: what a
// newcomer needs to run permaudit audit by hand. The credentials are the
// demo's own, public in its source.
func serveDemo(ctx context.Context, opts *demoOptions, srv *demoapp.Server) error {
	cfgPath := filepath.Join(opts.Dir, demoConfigFile)
	if err := os.WriteFile(cfgPath, demoapp.Config(), 0o644); err != nil {
		return usageErr(fmt.Errorf("--serve: write the demo's configuration: %w", err))
	}
	env := demoapp.Env()
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	fmt.Fprintf(&b, "\npermaudit demo: Acme Orders keeps running at %s until Ctrl-C. Audit it yourself, from another shell:\n\n", srv.URL())
	for _, k := range names {
		fmt.Fprintf(&b, "  export %s=%s\n", k, env[k])
	}
	fmt.Fprintf(&b, "  permaudit audit -c %s --target %s\n\n", cfgPath, srv.URL())
	fmt.Fprintf(&b, "%s is the demo's configuration (its roles, credentials and matrix): edit it, or write your own.\n", cfgPath)
	if _, err := io.WriteString(opts.IO.Err, b.String()); err != nil {
		return err
	}
	<-ctx.Done()
	fmt.Fprintln(opts.IO.Err, "permaudit demo: stopped.")
	return nil
}

// errDemoMismatch is the demo's exit 1 without --gate: the audit did not
// find exactly the planted bugs.
var errDemoMismatch = errors.New("the audit did not find exactly the planted bugs")

// checkPlanted compares the run's findings with the cells the planted
// bugs change (demoapp.AllBugs), and says so: nil when they are the same.
func checkPlanted(io ioStreams, run *model.Run, bugs demoapp.Bugs) error {
	want := map[string]bool{}
	for _, b := range demoapp.AllBugs() {
		if !bugs.Has(b.Name) {
			continue
		}
		for _, c := range b.Cells {
			want[b.Verdict+" "+c.Method+" "+c.Path+" as "+c.Role] = true
		}
	}
	var unexpected []string
	for _, f := range run.Findings {
		k := string(f.Verdict) + " " + f.Method + " " + model.PathOf(f.URL) + " as " + f.Role
		if want[k] {
			delete(want, k)
			continue
		}
		unexpected = append(unexpected, k)
	}
	missing := make([]string, 0, len(want))
	for k := range want {
		missing = append(missing, k)
	}
	slices.Sort(missing)
	if len(missing) > 0 || len(unexpected) > 0 {
		fmt.Fprintf(io.Err, "permaudit demo: FAIL: the audit did not find exactly the planted bugs (%s)\n", bugList(bugs))
		for _, k := range missing {
			fmt.Fprintf(io.Err, "  missing:    %s\n", k)
		}
		for _, k := range unexpected {
			fmt.Fprintf(io.Err, "  unexpected: %s\n", k)
		}
		return &exitError{code: exitGate, err: errDemoMismatch}
	}
	if n := len(bugs.Names()); n > 0 {
		fmt.Fprintf(io.Err, "permaudit demo: ok: the audit found exactly the %d planted bug(s) (%s) as %s, and nothing else. "+
			"In CI the gate would fail on %d of them (exit 1): run `permaudit demo --gate` to see it.\n",
			n, bugList(bugs), plural(len(run.Findings), "finding"), run.Gate.Failing)
	} else {
		fmt.Fprintf(io.Err, "permaudit demo: ok: no bug planted, and the audit found none.\n")
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
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
