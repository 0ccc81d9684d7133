package main

import (
	"bytes"
	"context"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/learn"
	"github.com/permaudit/permaudit/roles"
)

type learnOptions struct {
	IO         ioStreams
	RunPath    string
	ConfigPath string
}

func newLearnCmd(io ioStreams) *cobra.Command {
	opts := &learnOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "learn RUN.json",
		Short: "Draft an access matrix from what each role was actually answered",
		Long: `learn reads a saved run and writes to stdout a draft of the matrix section of
a configuration: for every endpoint template, the roles that were allowed it,
grouped into rules by path prefix, with "**" where a whole subtree answered
alike, and comments where roles or answers disagree inside a group, or where an
answer looks like a bug (a role allowed what a higher role is, unlike the rest
of its subtree; a 401 to a signed-in role; a 403 to anonymous; a resource
hidden from some roles but forbidden to others).

The draft says who WAS allowed, not who should be: it is meant to be read,
corrected and committed. Audit once with a matrix that allows nothing (or
anything) to collect the answers, then learn from that run. With -c, ids that a
role holds as a variable become {self.var} patterns. It sends no request.`,
		Example: `  permaudit audit -c permaudit.yaml --out json=run.json --fail-on none
  permaudit learn run.json > matrix.yaml
  permaudit learn run.json -c permaudit.yaml > matrix.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.RunPath = args[0]
			return runLearn(c.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.ConfigPath, "config", "c", "", "configuration whose role variables name ids ({self.order_id}); optional")
	return cmd
}

func runLearn(_ context.Context, opts *learnOptions) error {
	run, err := readRunFile(opts.RunPath, opts.IO.In)
	if err != nil {
		return usageErr(err)
	}
	var lo learn.Options
	if opts.ConfigPath != "" {
		cfg, err := loadConfig(opts.ConfigPath, placeholderEnv(opts.IO.Env))
		if err != nil {
			return err
		}
		lo.Vars = roleVars(cfg)
	}
	var b bytes.Buffer
	if err := learn.Learn(run, lo).WriteYAML(&b); err != nil {
		return err
	}
	_, err = opts.IO.Out.Write(b.Bytes())
	return err
}

// roleVars returns the variables cfg declares, by role: the one place the
// learn command reads role variables. learn reads the values the run's
// roles captured at sign-in from the run itself.
func roleVars(cfg *roles.Config) map[string]map[string]string {
	vars := map[string]map[string]string{}
	for _, r := range cfg.Roles {
		if len(r.Vars) > 0 {
			vars[r.Name] = r.Vars
		}
	}
	return vars
}
