package audit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/permaudit/permaudit/crawl"
	"github.com/permaudit/permaudit/judge"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/report"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

// Options are what one audit needs besides its configuration. The
// configuration is never changed by an audit.
type Options struct {
	// ProbeRoles are the roles probed, in configuration order; empty:
	// every role. Discovery always runs as every role.
	ProbeRoles []string
	// Only narrows the probe phase to the endpoints matching one of these
	// patterns (--only); empty: every endpoint.
	Only []roles.Pattern
	// FailOn is the gate's list of verdicts; nil: model.DefaultFailOn.
	FailOn []model.Verdict
	// Baseline, when set, is applied after judging: listed findings do not
	// fail the gate.
	Baseline *report.Baseline
	// SkipFailedRoles audits the other roles when one cannot sign in (its
	// cells are errors) instead of stopping with an Unreachable Error.
	SkipFailedRoles bool
	// DryRun sends nothing: Result.Plan lists what would be sent.
	DryRun bool
	// UserAgent is sent with every request unless the configuration sets
	// crawl.user_agent.
	UserAgent string
	// Secrets is the run's redactor: the configuration's secrets, and every
	// secret obtained at run time joins it. nil: a clone of cfg.Secrets
	// (roles.Redactor.Clone). The caller gives its own clone when its logs
	// and outputs must redact what the run learns.
	Secrets *roles.Redactor
	// Tool names the program in the run.
	Tool model.Tool
	// RunID identifies the run; every request carries it.
	RunID string
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Logger gets warnings and progress notes; nil discards. Its handler
	// must redact with the configuration's redactor: secrets obtained at
	// sign-in are added to it while the run goes.
	Logger *slog.Logger
	// Announce, when set, is told the run id and how the run will behave
	// before anything is sent (stderr, for the command).
	Announce io.Writer
	// Progress, when set, is called after every request.
	Progress func(crawl.Progress)
	// Tune adjusts the run's transport options: tests shorten backoffs.
	Tune func(*crawl.TransportOptions)
	// Inventory, when set, is probed instead of discovering: a saved
	// inventory (permaudit discover, or a previous run's). Its target must
	// be the configuration's.
	Inventory *model.InventoryFile
	// Shard, when Count is set, probes only shard Index of Count of the
	// Inventory's templates, at 1/Count of the rate and requests in flight
	// (shard.go). It needs Inventory.
	Shard model.Shard
	// DiscoverOnly stops after discovery: Result.Inventory holds what was
	// found; nothing is probed or judged.
	DiscoverOnly bool
}

// Result is what an audit produced.
type Result struct {
	// Run is the judged run; nil for a dry run, or when the audit stopped
	// before any probe (then Run's error says why). A run cut short by a
	// signal, the maximum duration or a cap is returned marked incomplete,
	// with everything it observed.
	Run *model.Run
	// Plan is what a dry run would have sent.
	Plan *Plan
	// Interrupted says that a signal (the parent context) stopped the run.
	Interrupted bool
	// Inventory is what discovery found (Options.DiscoverOnly).
	Inventory *model.InventoryFile
}

// Run audits cfg's target (docs/design.md, "Flow"): it signs every role
// in, discovers as every role, probes every endpoint as every probed
// role, and judges the observations against the matrix. The error is an
// *Error when the audit could not be made; findings are never errors: the
// run's gate says whether it failed.
func Run(ctx context.Context, cfg *roles.Config, opts Options) (*Result, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.FailOn == nil {
		opts.FailOn = model.DefaultFailOn
	}
	if opts.Secrets == nil {
		opts.Secrets = cfg.Secrets.Clone()
	}
	secrets := opts.Secrets
	probeRoles := opts.ProbeRoles
	if len(probeRoles) == 0 {
		probeRoles = cfg.RoleNames()
	}
	log := opts.Logger
	started := opts.Now()
	run := &model.Run{
		Schema:            model.SchemaVersion,
		Tool:              opts.Tool,
		RunID:             opts.RunID,
		Target:            cfg.Target,
		Started:           started.UTC(),
		ConfigFile:        cfg.File,
		ConfigFingerprint: cfg.Fingerprint(),
		Filters:           model.Filters{Only: patternStrings(opts.Only)},
		Gate:              model.Gate{FailOn: opts.FailOn},
	}
	if len(opts.ProbeRoles) > 0 {
		run.Filters.Roles = probeRoles
	}
	for _, r := range cfg.Roles {
		run.Roles = append(run.Roles, model.RoleInfo{Name: r.Name, SignIn: r.Login.Kind(), Inherits: r.Inherits})
	}
	for _, name := range UncheckedRoles(cfg) {
		log.Warn("role "+NoCheckWarning, "role", name)
	}
	for _, s := range cfg.Shadowed() {
		log.Warn(ShadowWarning(s), "line", s.Rule.Line)
	}
	for _, w := range WeakChecks(cfg) {
		log.Warn(w)
	}
	if err := checkInventory(cfg, opts); err != nil {
		return nil, &Error{Kind: Usage, Err: err}
	}
	if opts.Inventory != nil {
		run.InventoryDigest = model.InventoryDigest(&opts.Inventory.Inventory)
	}
	if n := opts.Shard.Count; n > 0 {
		tune := opts.Tune
		opts.Tune = func(o *crawl.TransportOptions) {
			shareLoad(o, n)
			if tune != nil {
				tune(o)
			}
		}
	}
	g, err := newGuard(ctx, cfg, opts, log) // transport, max duration, dry run (guard.go)
	if err != nil {
		return nil, &Error{Kind: Usage, Err: err}
	}
	defer g.cancel()
	ctx = g.ctx
	run.RunIDHeader = cfg.Crawl.RunIDHeader
	if opts.Announce != nil {
		g.announce(opts.Announce, run.RunID)
	}
	res := &Result{}

	scope, err := crawl.NewScope(cfg)
	if err != nil {
		return nil, &Error{Kind: Usage, Err: err}
	}
	userAgent := cfg.Crawl.UserAgent
	if userAgent == "" {
		userAgent = opts.UserAgent
	}
	var sessions, probeSessions []*session.Session
	clients := map[string]*http.Client{}
	for _, r := range cfg.Roles {
		s := session.NewSession(r)
		sessions = append(sessions, s)
		if slices.Contains(probeRoles, r.Name) {
			probeSessions = append(probeSessions, s)
		}
		clients[r.Name] = crawl.NewClient(scope, s, g.clientOptions(cfg, userAgent))
	}
	// Whatever ends the audit (its end, a signal, a failure), the sessions
	// it signed in itself are ended (signOutRoles).
	defer signOutRoles(g.parent, sessions, secrets, log)
	if err := preflight(crawl.WithPhase(ctx, crawl.PhasePreflight), cfg, secrets, clients["anonymous"]); err != nil && !g.dry {
		return nil, g.stopped(&Error{Kind: Unreachable, Err: err})
	}
	signLog := log
	if g.dry { // nothing answers a dry run: every sign-in fails
		signLog = slog.New(slog.DiscardHandler)
	}
	failed, err := signInRoles(crawl.WithPhase(ctx, crawl.PhaseSignIn), cfg, secrets, g.signers(sessions), clients, signLog, opts.SkipFailedRoles || g.dry)
	if err != nil {
		return nil, g.stopped(err)
	}
	if g.dry {
		failed = nil
	}
	keeper := session.NewKeeper(secrets, sessions, log)
	if g.dry { // no sign-in was answered: plan every role's requests as they come
		keeper = nil
	}
	if opts.Inventory != nil { // what its discovery found to end sessions
		keeper.Known(opts.Inventory.Inventory.Skipped)
	}

	copts := crawl.Options{Config: cfg, Scope: scope, Sessions: sessions, Clients: clients, Logger: log, Progress: opts.Progress, Canaries: true, UserAgent: userAgent, Secrets: secrets}
	copts.Keeper = keeper
	// What discovery saw, probing does not request again; a discovery
	// alone keeps none of it.
	if !opts.DiscoverOnly {
		copts.Answers = crawl.NewAnswers()
	}
	for _, s := range sessions { // a role that could not sign in discovers nothing
		if failed[s.Name()] != nil {
			copts.Sessions = slices.DeleteFunc(slices.Clone(copts.Sessions), func(x *session.Session) bool { return x == s })
		}
	}
	var inv *model.Inventory
	if opts.Inventory != nil {
		inv = cloneInventory(&opts.Inventory.Inventory)
	} else {
		// A run that probes gives discovery its share of the maximum
		// duration (guard.go); a discovery-only run has all of it.
		dctx, dcancel := ctx, context.CancelFunc(func() {})
		if !opts.DiscoverOnly {
			dctx, dcancel = g.discovery(ctx)
		}
		inv, err = crawl.Discover(crawl.WithPhase(dctx, crawl.PhaseDiscover), copts)
		g.noteDiscoveryCut(dctx)
		dcancel()
		if err != nil && dctx.Err() == nil {
			return nil, fmt.Errorf("discovery: %w", err)
		}
	}
	if inv == nil {
		inv = &model.Inventory{}
	}
	run.Inventory = *inv
	if opts.DiscoverOnly {
		if g.dry {
			res.Plan = g.plan(cfg, secrets, &run.Inventory)
			return res, nil
		}
		keeper.AddSkips(&run.Inventory)
		res.Inventory = g.discovered(run, opts.Now().UTC())
		res.Interrupted = g.interrupted()
		return res, nil
	}

	// Sendable endpoints only, --only, the shard's slice, in
	// crawl.ProbeOrder, max_probes (guard.go).
	endpoints := g.endpoints(scope, &run.Inventory, opts.Only, len(probeSessions), opts.Shard)
	if opts.Shard.Count > 0 {
		run.Shard = &g.shard
	}
	var obs *model.Cells // observations, completed in place by the judge
	if ctx.Err() == nil {
		copts.Sessions = probeSessions
		obs, err = crawl.ProbeCells(crawl.WithPhase(ctx, crawl.PhaseProbe), copts, endpoints)
		if err != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("probe: %w", err)
		}
	}
	// What a stopped run left, per page.
	g.unprobed(&run.Inventory, endpoints, obs)
	// Answers of cells not probed (--only, --role) are dropped.
	copts.Answers = nil
	if g.dry { // no run: nothing was observed
		res.Plan = g.plan(cfg, secrets, &run.Inventory)
		return res, nil
	}

	run.Complete, run.Incomplete = g.completeness(&run.Inventory)
	fromInventory(run, opts.Inventory)
	traffic := g.tr.Stats()
	run.Traffic = &traffic
	keeper.AddSkips(&run.Inventory)
	sessionInfo(run, cfg, secrets, sessions, failed, keeper)
	judge.JudgeCells(run, cfg, obs)
	for _, b := range judge.BroadRules(run, cfg) {
		log.Warn(b.Warning(), "line", b.Rule.Line)
	}
	if opts.Baseline != nil {
		report.ApplyBaseline(run, opts.Baseline, opts.Now())
	}
	run.Finished = opts.Now().UTC()
	run.Duration = run.Finished.Sub(started)
	res.Run = run
	res.Interrupted = g.interrupted()
	return res, nil
}

// patternStrings spells patterns as they were written, for the run's
// filters; nil for none.
func patternStrings(ps []roles.Pattern) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Raw)
	}
	return out
}

// preflight proves the target answers before any role is audited.
func preflight(ctx context.Context, cfg *roles.Config, secrets *roles.Redactor, c *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Target, nil)
	if err != nil {
		return fmt.Errorf("target %s: %w", cfg.Target, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("target %s is unreachable: %s; check --target and that the application is running", cfg.Target, secrets.Redact(err.Error()))
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

// NoCheckWarning is what audit and validate say of a role that
// UncheckedRoles names.
const NoCheckWarning = "has no check: its denials cannot be confirmed with a live session, and an expired or refused credential reads as blocked; add check: {url: ...} to the role (docs/config.md, \"Signing in\")"

// UncheckedRoles names the roles that send credentials but have no check
// to prove their session live (docs/design.md, "Verdicts": blocked is
// confirmed with a live session).
func UncheckedRoles(cfg *roles.Config) []string {
	var out []string
	for _, r := range cfg.Roles {
		if r.Name != "anonymous" && r.Check == nil && r.Login.Kind() != "none" {
			out = append(out, r.Name)
		}
	}
	return out
}

// WeakChecks says, for each role whose check may pass without its
// signed-in state as far as the configuration tells, why: a role that
// signs in with a flow and also sends static credentials (the check
// carries both), or a check on a page the matrix allows anonymous, with
// no text only a signed-in answer holds. The audit runs such checks
// without the session at the first sign-in and refuses the role when
// they pass (session.Session.SignIn); check.proves_session: false
// accepts it and silences this.
func WeakChecks(cfg *roles.Config) []string {
	var out []string
	base, _ := url.Parse(cfg.Target)
	for _, r := range cfg.Roles {
		c := r.Check
		if c == nil || c.Unproven || r.Name == "anonymous" {
			continue
		}
		l := r.Login
		static := l.Basic != nil || l.Bearer != "" // a value holding {self.var} is the session's, not static
		for _, m := range []map[string]string{l.Headers, l.Cookies} {
			for _, v := range m {
				static = static || !roles.HasVarRef(v)
			}
		}
		if flow := l.Flow(); flow != "" && static {
			out = append(out, fmt.Sprintf("role %s: the check %s is sent with the static credentials as well as the session its %s sign-in obtains: if the application accepts those alone, the check proves nothing of the session; the audit runs the check without the session at sign-in and refuses the role when it passes (check.proves_session: false accepts it)", r.Name, c, flow))
			continue
		}
		if base == nil || roles.HasVarRef(c.URL) || c.Contains != "" || c.LoggedOut != "" {
			continue
		}
		u, err := base.Parse(c.URL)
		if err != nil {
			continue
		}
		if e := cfg.Expect(c.Method, u, "anonymous", nil); e.Allow {
			out = append(out, fmt.Sprintf("role %s: the check %s is a page the matrix allows anonymous (rule %s): it proves no session unless its answer differs (add contains: a text only the signed-in page shows); the audit refuses the role when the check passes anonymously", r.Name, c, e.Rule))
		}
	}
	return out
}

// ShadowWarning is what validate and the audit say of a rule an earlier
// rule fully covers (roles.Config.Shadowed).
func ShadowWarning(s roles.Shadow) string {
	return fmt.Sprintf("rule %s never applies: the earlier rule %s matches every URL it matches, and the first matching rule wins; put the narrower rule first, or remove it", ruleRef(s.Rule), ruleRef(s.By))
}

// ruleRef names a rule with its line: a default name holds it already.
func ruleRef(r *roles.Rule) string {
	if r.Label != "" && r.Line > 0 {
		return fmt.Sprintf("%s (line %d)", r.Name(), r.Line)
	}
	return r.Name()
}
