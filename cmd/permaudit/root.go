package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

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
  permaudit audit -c permaudit.yaml --role support --only 'GET /admin/**'`,
		Version:       version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate(versionTemplate())
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(fmt.Errorf("%w (see '%s --help')", err, c.CommandPath()))
	})
	root.AddCommand(newAuditCmd(io), newValidateCmd(io), newDemoCmd(io), newReportCmd(io), newVersionCmd(io))
	root.AddCommand(newBaselineCmd(io), newDiffCmd(io), newLearnCmd(io))
	return root
}
