package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/audit"
	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/report"
	"github.com/permaudit/permaudit/roles"
)

// auditFlags are the flags shared by audit and demo.
type auditFlags struct {
	Target  string
	Roles   []string
	Only    []string
	Outs    []string
	FailOn  string
	Verbose int
	// Baseline is a baseline file: listed findings do not fail the gate.
	Baseline string
	// SkipFailedRoles audits the other roles when one cannot sign in.
	SkipFailedRoles bool
	// SARIFRoot is what the SARIF output's locations are relative to.
	SARIFRoot string
	// Safety: --dry-run, --max-duration, --rate, --insecure, --ca-file, --proxy (safety.go).
	Safety safetyFlags
	// Shards: --inventory, --shard (audit only; shard.go).
	Shards shardFlags
}

func addAuditFlags(c *cobra.Command, f *auditFlags) {
	fs := c.Flags()
	fs.StringVar(&f.Target, "target", "", "base URL of the application, replacing the config's target")
	fs.StringSliceVar(&f.Roles, "role", nil, "probe only these roles (repeatable or comma-separated); discovery still runs as every role")
	fs.StringArrayVar(&f.Only, "only", nil, "probe only endpoints matching this pattern, e.g. 'GET /admin/**' (repeatable)")
	fs.StringArrayVar(&f.Outs, "out", nil, "write an output, FORMAT=PATH ('-' for stdout); formats: "+strings.Join(report.Formats(), ", ")+" (repeatable)")
	fs.StringVar(&f.FailOn, "fail-on", "", "verdicts that fail the gate, comma-separated, or 'none' (default leak,blocked,existence-leak,error)")
	fs.CountVarP(&f.Verbose, "verbose", "v", "log more to stderr (-v info, -vv debug)")
	fs.BoolVar(&f.SkipFailedRoles, "skip-failed-roles", false, "when a role cannot sign in, audit the other roles (its cells are errors) instead of stopping with exit 3")
	fs.StringVar(&f.SARIFRoot, "sarif-root", "", sarifRootUsage)
	fs.StringVar(&f.Baseline, "baseline", "", "baseline file (YAML, see permaudit baseline): listed findings do not fail the gate, entries no longer seen are reported as fixed")
	addSafetyFlags(c, &f.Safety)
}

type auditOptions struct {
	IO         ioStreams
	ConfigPath string
	Flags      auditFlags
	Now        func() time.Time
	RunID      func() string
}

func newAuditCmd(io ioStreams) *cobra.Command {
	opts := &auditOptions{IO: io, Now: time.Now, RunID: newRunID}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Audit a target against the access matrix in a configuration",
		Long: `audit signs in as every role of the configuration, discovers endpoints by
crawling as every role, probes every endpoint as every role, judges each
answer against the matrix, writes the outputs and exits with the gate's outcome.

Sign-in: roles with a login flow (form, json, oauth2, command) sign in first, at
the same time, and run their check. A role that cannot sign in stops the audit
before any probe with exit 3, naming the role and what was seen;
--skip-failed-roles audits the other roles instead (that role's cells are
errors). The first sign-in also sends the check with the static credentials
alone and anonymously: a check that passes that way proves no session, and the
role is refused (check.proves_session: false accepts it). Every non-ok answer to
a role with a check is confirmed by the check (one passing check confirms every
answer the role got before it); a session found ended is renewed (renew.max,
default 3) and the request repeated. A page a role read while discovering is
that cell's observation: it is not requested again. At the end, interrupted or
failed too, each role with a logout request ends the session the audit signed
in; sessions given as static credentials are never ended.

Without --out the text summary goes to stdout. Each --out FORMAT=PATH writes one
output; the text summary still goes to stdout unless some --out writes to '-'.
Progress and logs go to stderr: a progress bar on a terminal; without one (a CI
log), a line every 30 s with the phase, what is done of what, the rate and the
time taken, and a summary line at the end.

Safety: only GET and HEAD are sent unless scope.allow_methods opts in (declared
endpoints only); at most crawl.rate requests/s (default 50/s, unlimited for a
loopback target) and crawl.concurrency at once; transient failures are retried
at most 3 times and a failing target is paused; every request carries the run id
(printed first on stderr). --dry-run prints what would be sent and sends nothing.
Ctrl-C stops sending, lets requests in flight finish, writes every output marked
incomplete and exits 130; a second Ctrl-C ends at once. --max-duration and the
caps end the run the same way with exit 4.

Shards (README.md, "Shards"): --inventory FILE probes a saved inventory (of
permaudit discover --out, or a run JSON) instead of discovering. --shard K/N
probes only shard K of N of it: the endpoints grouped by template, each template
whole in one shard, the same slices on every machine; the shard sends at 1/N of
crawl.rate, crawl.host_rate and crawl.concurrency, so N shards at once load the
target as one audit. A shard never gates on its own: it exits 0 once its run is
written, whatever it found (2, 3 or 130 when it could not audit), and
permaudit report merge joins the N runs and gates. --baseline goes to the merge.`,
		Example: `  permaudit audit -c permaudit.yaml
  permaudit audit -c permaudit.yaml --target http://127.0.0.1:8080 --out json=run.json
  permaudit audit -c permaudit.yaml --role support --only 'GET /admin/**'
  permaudit audit -c permaudit.yaml --out json=- --fail-on leak
  permaudit audit -c permaudit.yaml --dry-run
  permaudit audit -c permaudit.yaml --max-duration 30m --proxy http://127.0.0.1:8080
  permaudit audit -c permaudit.yaml --inventory inventory.json --shard 2/3 --out json=shard-2.json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runAudit(c.Context(), opts) },
	}
	cmd.Flags().StringVarP(&opts.ConfigPath, "config", "c", "permaudit.yaml", "audit configuration (YAML)")
	addAuditFlags(cmd, &opts.Flags)
	addShardFlags(cmd, &opts.Flags.Shards)
	return cmd
}

// runAudit loads the configuration and audits its target.
func runAudit(ctx context.Context, opts *auditOptions) error {
	cfg, err := loadConfig(opts.ConfigPath, opts.IO.Env)
	if err != nil {
		return err
	}
	_, err = auditTarget(ctx, cfg, opts.Flags, opts.IO, opts.Now, opts.RunID)
	return err
}

func loadConfig(path string, env func(string) (string, bool)) (*roles.Config, error) {
	cfg, err := roles.Load(path, roles.LoadOptions{Env: env})
	if err != nil {
		var ce roles.ConfigErrors
		if errors.As(err, &ce) {
			return nil, err
		}
		return nil, usageErr(err)
	}
	return cfg, nil
}

func newRunID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// output is one parsed --out specification.
type output struct {
	Format, Path string
	W            report.Writer
}

// plan is a checked audit invocation: everything that can be wrong with the
// flags is found before any request.
type plan struct {
	probeRoles []string
	only       []roles.Pattern
	outputs    []output
	failOn     []model.Verdict
}

func makePlan(cfg *roles.Config, f auditFlags) (*plan, error) {
	p := &plan{}
	var problems []string
	if f.Target != "" {
		if err := cfg.SetTarget(f.Target); err != nil {
			problems = append(problems, fmt.Sprintf("--target: %v", err))
		}
	}
	problems = append(problems, f.Safety.apply(cfg)...)
	for _, r := range f.Roles {
		r = strings.TrimSpace(r)
		if cfg.Role(r) == nil {
			problems = append(problems, fmt.Sprintf("--role %q: no such role (roles: %s)", r, strings.Join(cfg.RoleNames(), ", ")))
			continue
		}
		if !slices.Contains(p.probeRoles, r) {
			p.probeRoles = append(p.probeRoles, r)
		}
	}
	if len(p.probeRoles) == 0 {
		p.probeRoles = cfg.RoleNames()
	} else {
		// Keep config order, so observations sort the same way.
		var ordered []string
		for _, n := range cfg.RoleNames() {
			if slices.Contains(p.probeRoles, n) {
				ordered = append(ordered, n)
			}
		}
		p.probeRoles = ordered
	}
	for _, s := range f.Only {
		pat, err := roles.ParsePattern(s)
		if err != nil {
			problems = append(problems, fmt.Sprintf("--only %q: %v", s, err))
			continue
		}
		p.only = append(p.only, pat)
	}
	outs := f.Outs
	if len(outs) == 0 {
		outs = cfg.Outputs
	}
	outputs, err := parseOuts(outs)
	if err != nil {
		problems = append(problems, errors.Unwrap(err).Error())
	}
	p.outputs = outputs
	if sopts, err := sarifOptions(f.SARIFRoot, cfg.File); err != nil {
		problems = append(problems, err.Error())
	} else {
		useSARIFOptions(p.outputs, sopts)
	}
	p.failOn = model.DefaultFailOn
	failOn := f.FailOn
	if failOn == "" && cfg.FailOn != nil {
		failOn = strings.Join(cfg.FailOn, ",")
		if failOn == "" {
			failOn = "none"
		}
	}
	if failOn != "" {
		v, err := judge.ParseFailOn(failOn)
		if err != nil {
			problems = append(problems, fmt.Sprintf("--fail-on: %v", err))
		}
		p.failOn = v
	}
	if len(problems) > 0 {
		return nil, usageErr(errors.New(strings.Join(problems, "\n")))
	}
	return p, nil
}

func newLogger(io ioStreams, verbose int) *slog.Logger {
	level := slog.LevelWarn
	switch {
	case verbose >= 2:
		level = slog.LevelDebug
	case verbose == 1:
		level = slog.LevelInfo
	}
	w := io.Err
	if io.Redact != nil {
		w = redactWriter{w: w, redact: io.Redact}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// auditTarget runs one audit of cfg's target (audit.Run) and writes its
// outputs. It returns the run (nil when it failed before any request)
// and an error carrying the exit code: usage (2), unreachable (3),
// interrupted (130), errGateFailed (1) or incomplete (4), in that
// precedence.
func auditTarget(ctx context.Context, cfg *roles.Config, f auditFlags, io ioStreams, now func() time.Time, runID func() string) (*model.Run, error) {
	p, err := makePlan(cfg, f)
	if err != nil {
		return nil, err
	}
	shard, inv, err := f.Shards.parse(f.Baseline, io.Env)
	if err != nil {
		return nil, err
	}
	var base *report.Baseline
	if f.Baseline != "" {
		if base, err = loadBaseline(f.Baseline); err != nil {
			return nil, err
		}
	}
	// The run's redactor: the configuration's secrets, and those the run
	// obtains (the configuration itself is never changed). Every log line
	// and output passes through it.
	secrets := cfg.Secrets.Clone()
	io.Redact = secrets.Redact
	prog := newProgress(io, len(cfg.Roles))
	opts := audit.Options{
		ProbeRoles:      p.probeRoles,
		Only:            p.only,
		FailOn:          p.failOn,
		Baseline:        base,
		SkipFailedRoles: f.SkipFailedRoles,
		DryRun:          f.Safety.DryRun,
		UserAgent:       "permaudit/" + version + " (+authorised permission audit)",
		Secrets:         secrets,
		Tool:            model.Tool{Name: "permaudit", Version: version},
		RunID:           runID(),
		Now:             now,
		Logger:          newLogger(io, f.Verbose),
		Announce:        io.Err,
		Progress:        prog.update,
		Tune:            f.Safety.tune,
	}
	if len(f.Roles) == 0 {
		opts.ProbeRoles = nil // every role, and no --role filter in the run
	}
	opts.Shard, opts.Inventory = shard, inv
	res, err := audit.Run(ctx, cfg, opts)
	prog.done()
	if err != nil {
		return nil, auditErr(err)
	}
	if res.Plan != nil { // a dry run: nothing was observed, no output is written
		return nil, res.Plan.Write(io.Out)
	}
	run := res.Run
	writeErr := writeOutputs(run, p.outputs, io)
	prog.summary(run)

	switch {
	case writeErr != nil:
		return run, writeErr
	case res.Interrupted:
		return run, &exitError{code: exitInterrupted, err: errors.New("interrupted")}
	case run.Shard != nil: // never gates on its own: merge decides
		shardNote(io, run)
		return run, nil
	case run.Gate.Failed: // even in an incomplete run
		return run, errGateFailed
	case !run.Complete:
		return run, &exitError{code: exitIncomplete, err: errors.New("incomplete: " + run.Incomplete)}
	}
	return run, nil
}

// auditErr gives an audit that could not be made its exit code.
func auditErr(err error) error {
	var ae *audit.Error
	if !errors.As(err, &ae) {
		return err
	}
	code := map[audit.Kind]int{
		audit.Usage:       exitUsage,
		audit.Unreachable: exitUnreachable,
		audit.Interrupted: exitInterrupted,
		audit.Incomplete:  exitIncomplete,
	}[ae.Kind]
	return &exitError{code: code, err: ae.Err}
}

// writeOutputs renders every output; one that fails does not stop the
// others, and the error names each that failed. With ios.Redact, the run's
// strings are redacted first (report.RedactRun): no known secret reaches
// any output, and no output's structure depends on what the secrets are.
// Each output streams to its file (writeFileAtomic), never whole in
// memory: at a million cells, the run JSON alone is half a gigabyte.
func writeOutputs(run *model.Run, outs []output, ios ioStreams) error {
	report.RedactRun(run, ios.Redact)
	var errs []error
	for _, o := range outs {
		write := func(w io.Writer) error { return o.W.Write(w, run) }
		if o.Path == "-" {
			if err := writeBuffered(ios.Out, write); err != nil {
				errs = append(errs, fmt.Errorf("output %s to stdout: %w", o.Format, err))
			}
			continue
		}
		if err := writeFileAtomic(o.Path, write); err != nil {
			errs = append(errs, fmt.Errorf("output %s=%s: %w", o.Format, o.Path, err))
		}
	}
	if len(errs) > 0 {
		return &exitError{code: exitUsage, err: errors.Join(errs...)}
	}
	return nil
}

// writeFileAtomic writes path with write, streamed through a buffer to a
// temporary file beside it that replaces path only once write and the
// file's close succeeded: a writer that fails leaves the file as it was,
// never half written. A new file is made as os.WriteFile(path, 0644)
// would (the umask applies); a file replaced keeps its permissions, and a
// symbolic link keeps pointing where it did (its target is replaced). A
// path that is no regular file (/dev/stdout, a pipe) is written in place.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	perm := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				return err
			}
			return errors.Join(writeBuffered(f, write), f.Close())
		}
		perm = fi.Mode().Perm()
	}
	f, err := createBeside(path, perm)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = writeBuffered(f, write); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// writeBuffered runs write on a buffer in front of w, and flushes it.
func writeBuffered(w io.Writer, write func(io.Writer) error) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// createBeside creates a new temporary file in path's directory with
// perm (less the umask, as for any new file).
func createBeside(path string, perm os.FileMode) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 10 {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(filepath.Join(dir, "."+base+"."+hex.EncodeToString(b[:])+".tmp"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("no temporary file could be made beside %s", path)
}
