package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/permaudit/permaudit/crawl"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

// errMaxDuration ends a run that reached --max-duration.
var errMaxDuration = errors.New("max duration reached")

// guard is the safety machinery of one audit: the run's transport (rate,
// cap, time-outs, retries, pauses, run id), the run's context (the
// signal's, bounded by the maximum duration), the probe cap, and the
// requests of a dry run.
type guard struct {
	parent context.Context // cancelled by SIGINT or SIGTERM
	ctx    context.Context // parent, ended by the maximum duration
	cancel context.CancelFunc
	maxDur time.Duration
	tr     *crawl.Transport
	opts   crawl.TransportOptions
	dry    bool

	maxProbes int
	notProbed int         // endpoints left out by max_probes
	shard     model.Shard // the slice probed (shard.go), with its counts

	// discoveryCut says that discovery's share of the maximum duration
	// ended it (discovery).
	discoveryCut bool

	commands []string // roles whose sign-in command a dry run does not run

	mu      sync.Mutex
	planned []crawl.PlannedRequest
}

func newGuard(ctx context.Context, cfg *roles.Config, opts Options, log *slog.Logger) (*guard, error) {
	g := &guard{parent: ctx, ctx: ctx, cancel: func() {}, dry: opts.DryRun, maxProbes: cfg.Crawl.MaxProbes}
	o := crawl.TransportOptionsFor(cfg)
	o.RunID = opts.RunID
	o.Secrets = opts.Secrets
	o.FinishInFlight = true // a stopped run lets requests in flight finish or time out
	o.Logger = log
	if g.dry {
		o.DryRun = g.record
	}
	if opts.Tune != nil {
		opts.Tune(&o)
	}
	tr, err := crawl.NewTransport(o)
	if err != nil {
		return nil, err
	}
	g.tr, g.opts = tr, o
	if d := cfg.Crawl.MaxDuration; d > 0 {
		g.maxDur = d
		g.ctx, g.cancel = context.WithTimeoutCause(ctx, d, errMaxDuration)
	}
	return g, nil
}

// announce tells, on stderr, the run id and how the run will behave.
func (g *guard) announce(w io.Writer, runID string) {
	o := g.opts
	rate := "unlimited rate"
	if o.Rate > 0 && !math.IsInf(o.Rate, 1) {
		rate = "at most " + roles.FormatRate(o.Rate)
	}
	id := "no run id header (crawl.run_id_header is empty)"
	if o.RunIDHeader != "" {
		id = fmt.Sprintf("every request carries %s: %s", o.RunIDHeader, runID)
	}
	fmt.Fprintf(w, "permaudit: run %s: %s, %d request(s) at once, %v time-out; %s\n", runID, rate, o.Concurrency, o.Timeout, id)
	if o.Insecure {
		fmt.Fprintln(w, "permaudit: warning: TLS certificates are not verified (--insecure)")
	}
	if g.dry {
		fmt.Fprintln(w, "permaudit: dry run: nothing is sent")
	}
}

func (g *guard) clientOptions(cfg *roles.Config, userAgent string) crawl.ClientOptions {
	return crawl.ClientOptions{UserAgent: userAgent, Transport: g.tr, AllowPlainHTTP: cfg.AllowPlainHTTP}
}

func (g *guard) record(p crawl.PlannedRequest) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.planned = append(g.planned, p)
}

// endpoints returns what the probe phase may send: the inventory entries
// that are sendable (crawl.SendableEndpoints records the others as
// skipped), narrowed by --only and to the shard's slice, and cut to
// max_probes in crawl.ProbeOrder.
func (g *guard) endpoints(scope *crawl.Scope, inv *model.Inventory, only []roles.Pattern, probeRoles int, shard model.Shard) []model.Endpoint {
	var eps []model.Endpoint
	for _, e := range crawl.SendableEndpoints(scope, inv) {
		if matchesOnly(only, e) {
			eps = append(eps, e)
		}
	}
	g.shard = shard
	eps = sliceShard(eps, &g.shard)  // in inventory order
	eps = crawl.ProbeOrder(inv, eps) // declared first, then one URL per template
	if probeRoles > 0 && g.maxProbes > 0 {
		if limit := g.maxProbes / probeRoles; len(eps) > limit {
			g.notProbed = len(eps) - limit
			inv.AddLeft("max_probes", eps[limit:])
			eps = eps[:limit]
		}
	}
	return eps
}

// errDiscoveryShare ends discovery when its share of the maximum
// duration is spent.
var errDiscoveryShare = errors.New("discovery's share of the max duration spent")

// discoveryShare is the part of crawl.max_duration discovery may spend:
// the rest is the probe phase's, so that a run stopped by time has
// probed what it found, declared endpoints first, instead of having only
// crawled.
const discoveryShare = 2 // half

// discovery returns the context of the discovery phase: ctx, ended when
// discovery has spent its share of the maximum duration.
func (g *guard) discovery(ctx context.Context) (context.Context, context.CancelFunc) {
	if g.maxDur <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, g.maxDur/discoveryShare, errDiscoveryShare)
}

// noteDiscoveryCut notes whether discovery's share of the time ended it.
func (g *guard) noteDiscoveryCut(dctx context.Context) {
	g.discoveryCut = g.ctx.Err() == nil && errors.Is(context.Cause(dctx), errDiscoveryShare)
}

// unprobed lists in inv.Left, per path, the endpoints the probe phase was
// given and never observed: a stopped run (the maximum duration, a
// signal) leaves the end of crawl.ProbeOrder.
func (g *guard) unprobed(inv *model.Inventory, eps []model.Endpoint, obs *model.Cells) {
	if g.ctx.Err() == nil || g.dry {
		return
	}
	seen := map[model.Endpoint]bool{}
	for _, o := range obs.All() {
		if o.CanaryOf == "" {
			seen[o.Endpoint] = true
		}
	}
	var left []model.Endpoint
	for _, e := range eps {
		if !seen[e] {
			left = append(left, e)
			seen[e] = true
		}
	}
	reason := "interrupted"
	if !g.interrupted() && errors.Is(context.Cause(g.ctx), errMaxDuration) {
		reason = "max_duration"
	}
	inv.AddLeft(reason, left)
}

// signers returns the sessions to sign in: all of them, except in a dry
// run those whose sign-in runs a command (it would act outside permaudit).
func (g *guard) signers(sessions []*session.Session) []*session.Session {
	if !g.dry {
		return sessions
	}
	var out []*session.Session
	for _, s := range sessions {
		if s.Role.Login.Command != nil {
			g.commands = append(g.commands, s.Name())
			continue
		}
		out = append(out, s)
	}
	return out
}

// interrupted reports whether a signal stopped the run.
func (g *guard) interrupted() bool { return g.parent.Err() != nil }

// completeness says whether the run is complete, and why not: a signal,
// the maximum duration, or a cap (discovery's max_requests, max_probes).
func (g *guard) completeness(inv *model.Inventory) (bool, string) {
	switch {
	case g.interrupted():
		return false, "interrupted"
	case errors.Is(context.Cause(g.ctx), errMaxDuration):
		why := fmt.Sprintf("max duration %v reached", g.maxDur)
		if g.discoveryCut {
			why += fmt.Sprintf(" (discovery stopped after its share, %v: %d URL(s) found but never fetched)", g.maxDur/discoveryShare, inv.Cut.MaxDuration)
		}
		return false, why
	case g.ctx.Err() != nil:
		return false, "interrupted"
	}
	var cuts []string
	if g.discoveryCut {
		cuts = append(cuts, fmt.Sprintf("discovery stopped after its share (%v) of max duration %v: %d URL(s) found but never fetched", g.maxDur/discoveryShare, g.maxDur, inv.Cut.MaxDuration))
	}
	if n := inv.Cut.MaxRequests; n > 0 {
		cuts = append(cuts, fmt.Sprintf("max_requests reached: %d URL(s) found but never fetched", n))
	}
	if g.notProbed > 0 {
		cuts = append(cuts, fmt.Sprintf("max_probes %d reached: %d endpoint(s) not probed", g.maxProbes, g.notProbed))
	}
	if len(cuts) > 0 {
		return false, strings.Join(cuts, "; ")
	}
	return true, ""
}

// stopped gives the error of a phase before discovery the exit code the
// run deserves when it was stopped: 130 for a signal, 4 when the maximum
// duration ended it (a request refused then is not an unreachable target).
func (g *guard) stopped(err error) error {
	switch {
	case err == nil:
		return nil
	case g.interrupted():
		return errorf(Interrupted, "interrupted before any probe")
	case g.ctx.Err() != nil:
		return errorf(Incomplete, "max duration %v reached before any probe", g.maxDur)
	}
	return err
}
