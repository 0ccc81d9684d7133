package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/audit"
	"github.com/permaudit/permaudit/crawl"
	"github.com/permaudit/permaudit/judge"
)

type validateOptions struct {
	IO         ioStreams
	ConfigPath string
	// RunPath is a saved run judged again with the configuration, to warn
	// of its rules' bare patterns that matched many query variants.
	RunPath string
}

func newValidateCmd(io ioStreams) *cobra.Command {
	opts := &validateOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a configuration without sending any request",
		Long: `validate loads a configuration, expands its ${ENV} references and checks every
field, reporting every problem at once as file:line:col: field: message; then
it reads the HAR files and OpenAPI documents that sources names as files.
A role variable ({self.var}) where it would be sent as written is an error.
It warns of roles without a check, of checks that may pass without the
session (a sign-in flow with static credentials, a page the matrix allows
anonymous), and of rules an earlier rule shadows.
It exits 0 when the configuration is valid and 2 otherwise.

With --run, a saved run is judged again with the configuration (nothing is
sent) and validate also warns of every pattern written for a bare page
("GET /api.php": no query named, no **) that judged 10 or more query variants of it
in that run, some of them findings: write "GET /api.php?" for the page alone,
or "?!key=value" for exactly those keys.`,
		Example: `  permaudit validate -c permaudit.yaml
  ADMIN_TOKEN=x permaudit validate -c staging.yaml
  permaudit validate -c permaudit.yaml --run run.json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runValidate(c.Context(), opts) },
	}
	cmd.Flags().StringVarP(&opts.ConfigPath, "config", "c", "permaudit.yaml", "audit configuration (YAML)")
	cmd.Flags().StringVar(&opts.RunPath, "run", "", "a saved run (JSON) to judge again: warns of bare-path patterns that matched many query variants in it")
	return cmd
}

func runValidate(_ context.Context, opts *validateOptions) error {
	cfg, err := loadConfig(opts.ConfigPath, opts.IO.Env)
	if err != nil {
		return err
	}
	// The HAR files and OpenAPI documents given as files are read too.
	if err := crawl.CheckSources(cfg); err != nil {
		return usageErr(fmt.Errorf("%s: %w", opts.ConfigPath, err))
	}
	if err := crawl.CheckPlainHTTP(cfg); err != nil { // credentials in clear text (crawl/safety.go)
		return usageErr(fmt.Errorf("%s: %w", opts.ConfigPath, err))
	}
	for _, name := range audit.UncheckedRoles(cfg) {
		fmt.Fprintf(opts.IO.Err, "%s: warning: role %s %s\n", opts.ConfigPath, name, audit.NoCheckWarning)
	}
	for _, w := range audit.WeakChecks(cfg) {
		fmt.Fprintf(opts.IO.Err, "%s: warning: %s\n", opts.ConfigPath, w)
	}
	for _, s := range cfg.Shadowed() {
		fmt.Fprintf(opts.IO.Err, "%s:%d: warning: %s\n", opts.ConfigPath, s.Rule.Line, audit.ShadowWarning(s))
	}
	if opts.RunPath != "" {
		run, err := readRunFile(opts.RunPath, opts.IO.In)
		if err != nil {
			return usageErr(err)
		}
		if err := rejudge(run, cfg); err != nil {
			return usageErr(err)
		}
		for _, b := range judge.BroadRules(run, cfg) {
			fmt.Fprintf(opts.IO.Err, "%s:%d: warning: %s\n", opts.ConfigPath, b.Rule.Line, b.Warning())
		}
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s: valid: target %s, %d roles, %d matrix rules, fingerprint %s\n",
		opts.ConfigPath, cfg.Target, len(cfg.Roles), len(cfg.Matrix.Rules), cfg.Fingerprint())
	return err
}
