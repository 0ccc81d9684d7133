package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/internal/demoapp"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/report"
	"github.com/permaudit/permaudit/roles"
)

// Exit codes (docs/design.md). Precedence when several apply: 2, 3, 130, 1, 4, 0.
const (
	exitOK          = 0
	exitGate        = 1
	exitUsage       = 2
	exitUnreachable = 3
	exitIncomplete  = 4
	exitInterrupted = 130
)

// ioStreams is the outside world of a command: tests give their own.
type ioStreams struct {
	In  io.Reader
	Out io.Writer // only what the user asked for
	Err io.Writer // progress and logs
	Env func(string) (string, bool)
	// TTY forces progress bars on (true) or off (false); nil detects stderr.
	TTY *bool
	// Redact, when set, is applied to every log line and output written
	// (audit sets the configuration's redactor).
	Redact func(string) string
}

// errGateFailed is returned by a command whose run's gate failed, after
// every output was written: findings are results, not errors. exitCode
// maps it to 1.
var errGateFailed = errors.New("the gate failed")

// exitError carries an exit code with the error that caused it.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(err error) error       { return &exitError{code: exitUsage, err: err} }
func unreachableErr(err error) error { return &exitError{code: exitUnreachable, err: err} }

// run executes the command line args and returns the exit code. It is the
// only place that maps errors to exit codes.
func run(ctx context.Context, args []string, io ioStreams) int {
	if io.Env == nil {
		io.Env = os.LookupEnv
	}
	root := newRootCmd(io)
	root.SetArgs(args)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	err := root.ExecuteContext(ctx)
	return exitCode(err, io.Err)
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	var ce roles.ConfigErrors
	switch {
	case errors.As(err, &ee):
		if ee.code != exitGate && ee.code != exitIncomplete && ee.code != exitInterrupted {
			fmt.Fprintf(stderr, "permaudit: %v\n", ee.err)
		}
		return ee.code
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "permaudit: configuration has %d problem(s):\n%v\n", len(ce), ce)
		return exitUsage
	case errors.Is(err, errGateFailed):
		return exitGate
	default:
		// cobra's own errors: unknown flags, commands, bad arguments.
		fmt.Fprintf(stderr, "permaudit: %v\n", err)
		return exitUsage
	}
}

func newRootCmd(io ioStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "permaudit",
		Short: "Audit a web application's permissions, role by role",
		Long: `permaudit signs in to a web application as each configured role, discovers
every endpoint each role can reach, requests every endpoint as every role, and
compares the answers (200, 401, 403, 404, redirects to the login page) with the
expected access matrix in its configuration. Findings (leaks, wrongly blocked
access, existence leaks, wrong denial codes, errors) fail the gate.

A large audit can be split across machines: discover saves the inventory once,
audit --shard K/N --inventory FILE probes one slice of it on each, and report
merge joins the shard runs into the run of the whole audit, which gates.

Exit codes:
  0    complete, no finding that the gate fails on
  1    a finding that the gate fails on
  2    usage or configuration error
  3    target unreachable, or a role could not sign in
  4    incomplete: a time or request cap ended the run early
  130  interrupted; every output was still written, marked incomplete`,
		Example: `  permaudit demo
  permaudit validate -c permaudit.yaml
  permaudit audit -c permaudit.yaml --target http://127.0.0.1:8080 --out json=run.json
  permaudit audit -c permaudit.yaml --role support --only 'GET /admin/**'
  permaudit discover -c permaudit.yaml --out inventory.json
  permaudit audit -c permaudit.yaml --inventory inventory.json --shard 2/3 --out json=shard-2.json
  permaudit report merge -o run.json shard-1.json shard-2.json shard-3.json`,
		Version:       version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate(versionTemplate())
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(fmt.Errorf("%w (see '%s --help')", err, c.CommandPath()))
	})
	root.AddCommand(newAuditCmd(io), newValidateCmd(io), newDemoCmd(io), newReportCmd(io), newVersionCmd(io))
	root.AddCommand(newBaselineCmd(io), newDiffCmd(io), newLearnCmd(io), newDiscoverCmd(io))
	registerCompletions(root)
	return root
}

// registerCompletions completes flag values in the shell (permaudit
// completion bash|zsh|fish|powershell): --out formats, --fail-on verdicts,
// --role names read from the configuration -c names, --bugs kinds.
func registerCompletions(root *cobra.Command) {
	for _, c := range root.Commands() {
		fs := c.Flags()
		if fs.Lookup("out") != nil && c.Name() != "discover" { // discover's --out is a file
			_ = c.RegisterFlagCompletionFunc("out", completeOut)
		}
		if fs.Lookup("fail-on") != nil {
			vs := []string{"none"}
			for _, v := range append(append([]model.Verdict(nil), model.FindingVerdicts...), model.NoteVerdicts...) {
				vs = append(vs, string(v))
			}
			_ = c.RegisterFlagCompletionFunc("fail-on", completeList(vs))
		}
		if fs.Lookup("role") != nil && fs.Lookup("config") != nil {
			_ = c.RegisterFlagCompletionFunc("role", completeRoles)
		}
		if fs.Lookup("bugs") != nil {
			bugs := []string{"all", "none"}
			for _, b := range demoapp.AllBugs() {
				bugs = append(bugs, b.Name)
			}
			_ = c.RegisterFlagCompletionFunc("bugs", completeList(bugs))
		}
	}
}

// completeOut offers FORMAT= for --out FORMAT=PATH, then file names.
func completeOut(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if strings.Contains(toComplete, "=") {
		return nil, cobra.ShellCompDirectiveDefault
	}
	var out []string
	for _, f := range report.Formats() {
		out = append(out, f+"=")
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// completeList completes a comma-separated list of values, offering those
// not yet listed after what is typed.
func completeList(values []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		done, _ := splitLast(toComplete)
		listed := map[string]bool{}
		for _, v := range strings.Split(done, ",") {
			listed[v] = true
		}
		var out []string
		for _, v := range values {
			if !listed[v] {
				out = append(out, done+v)
			}
		}
		return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
	}
}

// splitLast splits "a,b,c" into "a,b," and "c".
func splitLast(s string) (string, string) {
	i := strings.LastIndexByte(s, ',')
	return s[:i+1], s[i+1:]
}

// completeRoles offers the role names of the configuration -c names (its
// secrets need not be set: they are not used).
func completeRoles(c *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	path, _ := c.Flags().GetString("config")
	cfg, err := roles.Load(path, roles.LoadOptions{Env: func(string) (string, bool) { return "completion", true }})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return completeList(cfg.RoleNames())(c, nil, toComplete)
}
