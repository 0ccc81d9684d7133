package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/crawl"
	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/report"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
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
	// Safety: --dry-run, --max-duration, --rate, --insecure, --ca-file, --proxy (safety.go).
	Safety safetyFlags
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
errors). Every non-ok answer to a role with a check is confirmed by the check;
a session found ended is renewed (renew.max, default 3) and the request repeated.

Without --out the text summary goes to stdout. Each --out FORMAT=PATH writes one
output; the text summary still goes to stdout unless some --out writes to '-'.
Progress and logs go to stderr.

Safety: only GET and HEAD are sent unless scope.allow_methods opts in (declared
endpoints only); at most crawl.rate requests/s (default 50/s, unlimited for a
loopback target) and crawl.concurrency at once; transient failures are retried
at most 3 times and a failing target is paused; every request carries the run id
(printed first on stderr). --dry-run prints what would be sent and sends nothing.
Ctrl-C stops sending, lets requests in flight finish, writes every output marked
incomplete and exits 130; a second Ctrl-C ends at once. --max-duration and the
caps end the run the same way with exit 4.`,
		Example: `  permaudit audit -c permaudit.yaml
  permaudit audit -c permaudit.yaml --target http://127.0.0.1:8080 --out json=run.json
  permaudit audit -c permaudit.yaml --role support --only 'GET /admin/**'
  permaudit audit -c permaudit.yaml --out json=- --fail-on leak
  permaudit audit -c permaudit.yaml --dry-run
  permaudit audit -c permaudit.yaml --max-duration 30m --proxy http://127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runAudit(c.Context(), opts) },
	}
	cmd.Flags().StringVarP(&opts.ConfigPath, "config", "c", "permaudit.yaml", "audit configuration (YAML)")
	addAuditFlags(cmd, &opts.Flags)
	return cmd
}

// runAudit loads the configuration and audits its target.
func runAudit(ctx context.Context, opts *auditOptions) error {
	cfg, err := loadConfig(opts.ConfigPath, opts.IO.Env)
	if err != nil {
		return err
	}
	_, err = audit(ctx, cfg, opts.Flags, opts.IO, opts.Now, opts.RunID)
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

// audit runs one audit of cfg's target and writes its outputs. It returns
// the run (nil when it failed before any request) and an error carrying the
// exit code: usage (2), unreachable (3), interrupted (130),
// errGateFailed (1) or incomplete (4), in that precedence.
func audit(ctx context.Context, cfg *roles.Config, f auditFlags, io ioStreams, now func() time.Time, runID func() string) (*model.Run, error) {
	p, err := makePlan(cfg, f)
	if err != nil {
		return nil, err
	}
	var base *report.Baseline
	if f.Baseline != "" {
		if base, err = loadBaseline(f.Baseline); err != nil {
			return nil, err
		}
	}
	if cfg.Crawl.UserAgent == "" {
		cfg.Crawl.UserAgent = "permaudit/" + version + " (+authorised permission audit)"
	}
	io.Redact = cfg.Secrets.Redact // every log line and output passes through it
	log := newLogger(io, f.Verbose)
	started := now()
	run := &model.Run{
		Schema:            model.SchemaVersion,
		Tool:              model.Tool{Name: "permaudit", Version: version},
		RunID:             runID(),
		Target:            cfg.Target,
		Started:           started.UTC(),
		ConfigFile:        cfg.File,
		ConfigFingerprint: cfg.Fingerprint(),
		Filters:           model.Filters{Only: f.Only},
		Gate:              model.Gate{FailOn: p.failOn},
	}
	if len(f.Roles) > 0 {
		run.Filters.Roles = p.probeRoles
	}
	for _, r := range cfg.Roles {
		run.Roles = append(run.Roles, model.RoleInfo{Name: r.Name, SignIn: r.Login.Kind(), Inherits: r.Inherits})
	}
	for _, name := range uncheckedRoles(cfg) {
		log.Warn("role "+noCheckWarning, "role", name)
	}
	g, err := newGuard(ctx, cfg, f.Safety, run.RunID, log) // transport, max duration, dry run (safety.go)
	if err != nil {
		return nil, usageErr(err)
	}
	defer g.cancel()
	ctx = g.ctx
	run.RunIDHeader = cfg.Crawl.RunIDHeader
	g.announce(io.Err, run.RunID)

	scope, err := crawl.NewScope(cfg)
	if err != nil {
		return nil, usageErr(err)
	}
	var sessions, probeSessions []*session.Session
	clients := map[string]*http.Client{}
	for _, r := range cfg.Roles {
		s := session.NewSession(r)
		sessions = append(sessions, s)
		if slices.Contains(p.probeRoles, r.Name) {
			probeSessions = append(probeSessions, s)
		}
		clients[r.Name] = crawl.NewClient(scope, s, g.clientOptions(cfg))
	}
	if err := preflight(crawl.WithPhase(ctx, crawl.PhasePreflight), cfg, clients["anonymous"]); err != nil && !g.dry {
		return nil, g.stopped(unreachableErr(err))
	}
	signLog := log
	if g.dry { // nothing answers a dry run: every sign-in fails
		signLog = slog.New(slog.DiscardHandler)
	}
	failed, err := signInRoles(crawl.WithPhase(ctx, crawl.PhaseSignIn), cfg, g.signers(sessions), clients, signLog, f.SkipFailedRoles || g.dry)
	if err != nil {
		return nil, g.stopped(err)
	}
	if g.dry {
		failed = nil
	}
	keeper := session.NewKeeper(cfg, sessions, log)
	if g.dry { // no sign-in was answered: plan every role's requests as they come
		keeper = nil
	}

	prog := newProgress(io, len(cfg.Roles))
	opts := crawl.Options{Config: cfg, Scope: scope, Sessions: sessions, Clients: clients, Logger: log, Progress: prog.update, Canaries: true}
	opts.Keeper = keeper
	for _, s := range sessions { // a role that could not sign in discovers nothing
		if failed[s.Name()] != nil {
			opts.Sessions = slices.DeleteFunc(slices.Clone(opts.Sessions), func(x *session.Session) bool { return x == s })
		}
	}
	inv, err := crawl.Discover(crawl.WithPhase(ctx, crawl.PhaseDiscover), opts)
	if err != nil && ctx.Err() == nil {
		prog.done()
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if inv == nil {
		inv = &model.Inventory{}
	}
	run.Inventory = *inv

	// Sendable endpoints only, --only, max_probes (safety.go).
	endpoints := g.endpoints(scope, &run.Inventory, p.only, len(probeSessions))
	var obs []model.Observation
	if ctx.Err() == nil {
		opts.Sessions = probeSessions
		obs, err = crawl.Probe(crawl.WithPhase(ctx, crawl.PhaseProbe), opts, endpoints)
		if err != nil && ctx.Err() == nil {
			prog.done()
			return nil, fmt.Errorf("probe: %w", err)
		}
	}
	prog.done()
	if g.dry { // no run: nothing was observed, no output is written
		return nil, g.printPlan(io.Out, cfg, &run.Inventory)
	}

	run.Complete, run.Incomplete = g.completeness(&run.Inventory)
	traffic := g.tr.Stats()
	run.Traffic = &traffic
	keeper.AddSkips(&run.Inventory)
	sessionInfo(run, cfg, sessions, failed, keeper)
	judge.Judge(run, cfg, obs)
	if base != nil {
		report.ApplyBaseline(run, base, now())
	}
	run.Finished = now().UTC()
	run.Duration = run.Finished.Sub(started)
	writeErr := writeOutputs(run, p.outputs, io)
	prog.summary(run)

	switch {
	case writeErr != nil:
		return run, writeErr
	case g.interrupted():
		return run, &exitError{code: exitInterrupted, err: errors.New("interrupted")}
	case run.Gate.Failed: // even in an incomplete run
		return run, errGateFailed
	case !run.Complete:
		return run, &exitError{code: exitIncomplete, err: errors.New("incomplete: " + run.Incomplete)}
	}
	return run, nil
}

// preflight proves the target answers before any role is audited.
func preflight(ctx context.Context, cfg *roles.Config, c *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Target, nil)
	if err != nil {
		return fmt.Errorf("target %s: %w", cfg.Target, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("target %s is unreachable: %s; check --target and that the application is running", cfg.Target, cfg.Secrets.Redact(err.Error()))
	}
	resp.Body.Close()
	return nil
}

func matchesOnly(only []roles.Pattern, e model.Endpoint) bool {
	if len(only) == 0 {
		return true
	}
	u, err := url.Parse(e.URL)
	if err != nil {
		return false
	}
	for _, p := range only {
		if p.Match(e.Method, u, roles.Bindings{}) {
			return true
		}
	}
	return false
}

// writeOutputs renders every output; one that fails does not stop the
// others, and the error names each that failed. With io.Redact, the run's
// strings are redacted first (report.RedactRun): no known secret reaches
// any output, and no output's structure depends on what the secrets are.
func writeOutputs(run *model.Run, outs []output, io ioStreams) error {
	report.RedactRun(run, io.Redact)
	var errs []error
	for _, o := range outs {
		var buf bytes.Buffer
		if err := o.W.Write(&buf, run); err != nil {
			errs = append(errs, fmt.Errorf("output %s=%s: %w", o.Format, o.Path, err))
			continue
		}
		if o.Path == "-" {
			if _, err := io.Out.Write(buf.Bytes()); err != nil {
				errs = append(errs, fmt.Errorf("output %s to stdout: %w", o.Format, err))
			}
			continue
		}
		if err := os.WriteFile(o.Path, buf.Bytes(), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("output %s: %w", o.Format, err))
		}
	}
	if len(errs) > 0 {
		return &exitError{code: exitUsage, err: errors.Join(errs...)}
	}
	return nil
}

// noCheckWarning is what audit and validate say of a role in
// uncheckedRoles.
const noCheckWarning = "has no check: its denials cannot be confirmed with a live session, and an expired or refused credential reads as blocked; add check: {url: ...} to the role (docs/config.md, \"Signing in\")"

// uncheckedRoles names the roles that send credentials but have no check
// to prove their session live (DESIGN: blocked is confirmed with a live
// session).
func uncheckedRoles(cfg *roles.Config) []string {
	var out []string
	for _, r := range cfg.Roles {
		if r.Name != "anonymous" && r.Check == nil && r.Login.Kind() != "none" {
			out = append(out, r.Name)
		}
	}
	return out
}
