package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/audit"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/report"
)

// shardFlags are audit's --inventory and --shard (README.md, "Shards").
type shardFlags struct {
	Inventory string
	Shard     string
}

func addShardFlags(c *cobra.Command, f *shardFlags) {
	fs := c.Flags()
	fs.StringVar(&f.Inventory, "inventory", "", "probe this saved inventory instead of discovering: a file of permaudit discover --out, or a run JSON")
	fs.StringVar(&f.Shard, "shard", "", "probe only shard K of N of the inventory (K/N, e.g. 2/4, or index/N for shard JOB_COMPLETION_INDEX+1 in a Kubernetes Indexed Job; needs --inventory): templates stay whole, the rate and requests in flight are divided by N, and the run never gates on its own (exit 0); join the N runs with permaudit report merge")
}

// parse reads --shard and the --inventory file; every problem is a usage
// error.
func (f shardFlags) parse(baseline string, env func(string) (string, bool)) (model.Shard, *model.InventoryFile, error) {
	var s model.Shard
	if f.Shard != "" {
		spec, err := shardIndex(f.Shard, env)
		if err != nil {
			return s, nil, usageErr(err)
		}
		if s, err = audit.ParseShard(spec); err != nil {
			return s, nil, usageErr(fmt.Errorf("--shard %w", err))
		}
		if f.Inventory == "" {
			return s, nil, usageErr(errors.New("--shard needs --inventory FILE: every shard probes a slice of one saved inventory (write it with permaudit discover --out inventory.json)"))
		}
		if baseline != "" {
			return s, nil, usageErr(errors.New("--baseline with --shard: a baseline applies to the whole audit; give it to permaudit report merge --baseline"))
		}
	}
	if f.Inventory == "" {
		return s, nil, nil
	}
	inv, err := readInventoryFile(f.Inventory)
	if err != nil {
		return s, nil, usageErr(err)
	}
	return s, inv, nil
}

// shardIndex spells --shard index/N as K/N, K being JOB_COMPLETION_INDEX+1:
// Kubernetes numbers an Indexed Job's pods from 0 and sets that variable
// in each, and its images need no shell to do the sum.
func shardIndex(spec string, env func(string) (string, bool)) (string, error) {
	k, n, ok := strings.Cut(spec, "/")
	if !ok || strings.TrimSpace(k) != "index" {
		return spec, nil
	}
	v, set := "", false
	if env != nil {
		v, set = env("JOB_COMPLETION_INDEX")
	}
	i, err := strconv.Atoi(strings.TrimSpace(v))
	if !set || err != nil || i < 0 {
		return "", fmt.Errorf("--shard %s: JOB_COMPLETION_INDEX is %q, want a number from 0 (Kubernetes sets it in the pods of an Indexed Job); elsewhere give the shard's number, such as 2/%s", spec, v, n)
	}
	return fmt.Sprintf("%d/%s", i+1, n), nil
}

func readInventoryFile(path string) (*model.InventoryFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--inventory: %w; write one with permaudit discover --out %s", err, path)
	}
	defer fh.Close()
	inv, err := model.ReadInventory(fh)
	if err != nil {
		return nil, fmt.Errorf("--inventory %s: %w", path, err)
	}
	return inv, nil
}

// shardNote says, on stderr, that a shard run's exit code is not its gate.
func shardNote(io ioStreams, run *model.Run) {
	state := "complete"
	if !run.Complete {
		state = "incomplete: " + run.Incomplete
	}
	fmt.Fprintf(io.Err, "permaudit: shard %s (%d template(s), %d endpoint(s); %s): a shard never gates on its own: its gate and notes judge this slice only, and its exit code is 0 whatever it found; permaudit report merge joins every shard's run and gates\n",
		run.Shard, run.Shard.Templates, run.Shard.Endpoints, state)
}

// discoverOptions are the inputs of `permaudit discover`.
type discoverOptions struct {
	IO         ioStreams
	ConfigPath string
	Target     string
	Out        string
	Verbose    int
	Safety     safetyFlags
	// SkipFailedRoles discovers as the other roles when one cannot sign in.
	SkipFailedRoles bool
	Now             func() time.Time
	RunID           func() string
}

func newDiscoverCmd(io ioStreams) *cobra.Command {
	opts := &discoverOptions{IO: io, Now: time.Now, RunID: newRunID}
	cmd := &cobra.Command{
		Use:   "discover",
		Short: "Discover the target's endpoints as every role and save the inventory, for sharded audits",
		Long: `discover signs in as every role and discovers endpoints as every role, exactly
as audit does, then writes the inventory to --out and stops: nothing is probed
or judged. audit --inventory FILE probes a saved inventory without discovering
again, and audit --shard K/N --inventory FILE probes one slice of it, so that N
CI jobs share one audit (README.md, "Shards").

The file records the target, the configuration's fingerprint and whether
discovery finished. discover exits 0 once the file is written, even when a cap
(crawl.max_requests) cut discovery: the cut is recorded, and every audit of the
inventory is incomplete. It exits 2, 3 or 130 as audit does, and 4 when
--max-duration ended discovery (the file is still written, marked incomplete).`,
		Example: `  permaudit discover -c permaudit.yaml --out inventory.json
  permaudit discover -c permaudit.yaml --target https://staging.example.com --out inventory.json
  permaudit discover -c permaudit.yaml --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runDiscover(c.Context(), opts) },
	}
	fs := cmd.Flags()
	fs.StringVarP(&opts.ConfigPath, "config", "c", "permaudit.yaml", "audit configuration (YAML)")
	fs.StringVar(&opts.Target, "target", "", "base URL of the application, replacing the config's target")
	fs.StringVarP(&opts.Out, "out", "o", "inventory.json", "write the inventory to this file ('-' for stdout)")
	fs.CountVarP(&opts.Verbose, "verbose", "v", "log more to stderr (-v info, -vv debug)")
	fs.BoolVar(&opts.SkipFailedRoles, "skip-failed-roles", false, "when a role cannot sign in, discover as the other roles instead of stopping with exit 3")
	addSafetyFlags(cmd, &opts.Safety)
	return cmd
}

// runDiscover discovers cfg's target and writes the inventory file.
func runDiscover(ctx context.Context, opts *discoverOptions) error {
	cfg, err := loadConfig(opts.ConfigPath, opts.IO.Env)
	if err != nil {
		return err
	}
	var problems []error
	if opts.Target != "" {
		if err := cfg.SetTarget(opts.Target); err != nil {
			problems = append(problems, fmt.Errorf("--target: %v", err))
		}
	}
	for _, p := range opts.Safety.apply(cfg) {
		problems = append(problems, errors.New(p))
	}
	opts.Out = strings.TrimPrefix(opts.Out, "json=") // as audit's --out spells it
	if opts.Out == "" {
		problems = append(problems, errors.New("--out: give the file to write the inventory to"))
	}
	if len(problems) > 0 {
		return usageErr(errors.Join(problems...))
	}
	secrets := cfg.Secrets.Clone()
	ios := opts.IO
	ios.Redact = secrets.Redact
	prog := newProgress(ios, len(cfg.Roles))
	res, err := audit.Run(ctx, cfg, audit.Options{
		SkipFailedRoles: opts.SkipFailedRoles,
		DryRun:          opts.Safety.DryRun,
		UserAgent:       "permaudit/" + version + " (+authorised permission audit)",
		Secrets:         secrets,
		Tool:            model.Tool{Name: "permaudit", Version: version},
		RunID:           opts.RunID(),
		Now:             opts.Now,
		Logger:          newLogger(ios, opts.Verbose),
		Announce:        ios.Err,
		Progress:        prog.update,
		Tune:            opts.Safety.tune,
		DiscoverOnly:    true,
	})
	prog.done()
	if err != nil {
		return auditErr(err)
	}
	if res.Plan != nil {
		return res.Plan.Write(ios.Out)
	}
	inv := res.Inventory
	// Redacted as every output is: value by value (report.RedactRun).
	r := &model.Run{Target: inv.Target, Inventory: inv.Inventory, Incomplete: inv.Incomplete}
	report.RedactRun(r, secrets.Redact)
	inv.Target, inv.Inventory, inv.Incomplete = r.Target, r.Inventory, r.Incomplete
	// Streamed, as the audit's outputs are (writeFileAtomic): an
	// inventory of a few hundred thousand endpoints is never held as text.
	if opts.Out == "-" {
		err = model.WriteInventory(ios.Out, inv)
	} else {
		err = writeFileAtomic(opts.Out, func(w io.Writer) error { return model.WriteInventory(w, inv) })
	}
	if err != nil {
		return usageErr(fmt.Errorf("--out %s: %w", opts.Out, err))
	}
	if opts.Out != "-" {
		fmt.Fprintf(ios.Err, "permaudit: %d endpoint(s) discovered, %d skipped; inventory written to %s\n", len(inv.Inventory.Entries), len(inv.Inventory.Skipped), opts.Out)
	}
	switch {
	case res.Interrupted:
		return &exitError{code: exitInterrupted, err: errors.New("interrupted")}
	case !inv.Complete:
		return &exitError{code: exitIncomplete, err: errors.New("incomplete: " + inv.Incomplete)}
	}
	return nil
}
