package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/permaudit/permaudit/crawl"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

// safetyFlags are the flags that keep an audit safe and polite: see the
// README's "Safety" section.
type safetyFlags struct {
	DryRun      bool
	MaxDuration time.Duration
	Rate        string
	Insecure    bool
	CAFile      string
	Proxy       string

	// tune adjusts the run's transport options after the configuration
	// and flags are applied: tests shorten the backoffs and pauses.
	tune func(*crawl.TransportOptions)
}

func addSafetyFlags(c *cobra.Command, f *safetyFlags) {
	fs := c.Flags()
	fs.BoolVar(&f.DryRun, "dry-run", false, "send nothing: print every request that would be sent, per role, and exit")
	fs.DurationVar(&f.MaxDuration, "max-duration", 0, "end the run after this long (e.g. 30m): requests in flight finish, every output is written marked incomplete, exit 4 (crawl.max_duration)")
	fs.StringVar(&f.Rate, "rate", "", "requests per second of the whole run: 20/s, 600/m, or unlimited (crawl.rate; default 50/s, unlimited for a loopback target)")
	fs.BoolVar(&f.Insecure, "insecure", false, "do not verify the target's TLS certificate (tls.insecure)")
	fs.StringVar(&f.CAFile, "ca-file", "", "PEM file of CA certificates to trust besides the system's (tls.ca_file)")
	fs.StringVar(&f.Proxy, "proxy", "", "send every request through this proxy, such as Burp or ZAP at http://127.0.0.1:8080 (default: HTTPS_PROXY, HTTP_PROXY, NO_PROXY)")
}

// apply puts the flags into cfg, after --target, and checks what they and
// the configuration allow; it returns every problem.
func (f safetyFlags) apply(cfg *roles.Config) []string {
	var problems []string
	if f.Rate != "" {
		if r, err := roles.ParseRate(f.Rate); err != nil {
			problems = append(problems, fmt.Sprintf("--rate: %v", err))
		} else {
			cfg.Crawl.Rate = r
		}
	}
	switch {
	case f.MaxDuration < 0:
		problems = append(problems, fmt.Sprintf("--max-duration %v: must be positive", f.MaxDuration))
	case f.MaxDuration > 0:
		cfg.Crawl.MaxDuration = f.MaxDuration
	}
	if f.Insecure {
		cfg.TLS.Insecure = true
	}
	if f.CAFile != "" {
		abs, err := filepath.Abs(f.CAFile)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("--ca-file: %v", err))
		} else {
			cfg.TLS.CAFile = abs
		}
	}
	if f.Proxy != "" {
		if err := roles.CheckProxy(f.Proxy); err != nil {
			problems = append(problems, fmt.Sprintf("--proxy: %v", err))
		} else {
			cfg.Proxy = f.Proxy
		}
	}
	if err := crawl.CheckPlainHTTP(cfg); err != nil {
		problems = append(problems, err.Error())
	}
	return problems
}

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
	notProbed int // endpoints left out by max_probes

	commands []string // roles whose sign-in command a dry run does not run

	mu      sync.Mutex
	planned []crawl.PlannedRequest
}

func newGuard(ctx context.Context, cfg *roles.Config, f safetyFlags, runID string, log *slog.Logger) (*guard, error) {
	g := &guard{parent: ctx, ctx: ctx, cancel: func() {}, dry: f.DryRun, maxProbes: cfg.Crawl.MaxProbes}
	o := crawl.TransportOptionsFor(cfg)
	o.RunID = runID
	o.FinishInFlight = true // a stopped run lets requests in flight finish or time out
	o.Logger = log
	if g.dry {
		o.DryRun = g.record
	}
	if f.tune != nil {
		f.tune(&o)
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

func (g *guard) clientOptions(cfg *roles.Config) crawl.ClientOptions {
	return crawl.ClientOptions{UserAgent: cfg.Crawl.UserAgent, Transport: g.tr, AllowPlainHTTP: cfg.AllowPlainHTTP}
}

func (g *guard) record(p crawl.PlannedRequest) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.planned = append(g.planned, p)
}

// endpoints returns what the probe phase may send: the inventory entries
// that are sendable (crawl.SendableEndpoints records the others as
// skipped), narrowed by --only, and cut to max_probes in inventory order.
func (g *guard) endpoints(scope *crawl.Scope, inv *model.Inventory, only []roles.Pattern, probeRoles int) []model.Endpoint {
	var eps []model.Endpoint
	for _, e := range crawl.SendableEndpoints(scope, inv) {
		if matchesOnly(only, e) {
			eps = append(eps, e)
		}
	}
	if probeRoles > 0 && g.maxProbes > 0 {
		if limit := g.maxProbes / probeRoles; len(eps) > limit {
			g.notProbed = len(eps) - limit
			eps = eps[:limit]
		}
	}
	return eps
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
		return false, fmt.Sprintf("max duration %v reached", g.maxDur)
	case g.ctx.Err() != nil:
		return false, "interrupted"
	}
	var cuts []string
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
		return &exitError{code: exitInterrupted, err: errors.New("interrupted before any probe")}
	case g.ctx.Err() != nil:
		return &exitError{code: exitIncomplete, err: fmt.Errorf("max duration %v reached before any probe", g.maxDur)}
	}
	return err
}

// phaseOrder sorts the requests of a dry run.
var phaseOrder = []string{crawl.PhasePreflight, crawl.PhaseSignIn, crawl.PhaseDiscover, crawl.PhaseProbe, ""}

// printPlan writes the requests a dry run would have sent, per role, and
// the endpoints it would never send.
func (g *guard) printPlan(w io.Writer, cfg *roles.Config, inv *model.Inventory) error {
	g.mu.Lock()
	planned := slices.Clone(g.planned)
	g.mu.Unlock()
	rank := func(p string) int {
		if i := slices.Index(phaseOrder, p); i >= 0 {
			return i
		}
		return len(phaseOrder)
	}
	sort.SliceStable(planned, func(i, j int) bool {
		a, b := planned[i], planned[j]
		if ra, rb := rank(a.Phase), rank(b.Phase); ra != rb {
			return ra < rb
		}
		if a.URL != b.URL {
			return a.URL < b.URL
		}
		return a.Method < b.Method
	})
	var b strings.Builder
	fmt.Fprintf(&b, `permaudit dry run: nothing was sent. These are the requests known before any answer:
the preflight, the first request of each sign-in flow, the discovery start URLs, and
every endpoint of the inventory (start URLs and endpoints declared in sources.list,
OpenAPI or HAR files) probed as every role, existence canaries included. What depends on
an answer is not listed: links found on pages, redirects, later sign-in steps, session
checks and renewals; max_requests (%d per role) and max_probes (%d) bound them.
`, cfg.Crawl.MaxRequests, cfg.Crawl.MaxProbes)
	counts := map[string]int{}
	line := func(p crawl.PlannedRequest, notes ...string) {
		counts[p.Phase]++
		if p.Body {
			notes = append(notes, "with a body")
		}
		note := ""
		if len(notes) > 0 {
			note = " (" + strings.Join(notes, ", ") + ")"
		}
		fmt.Fprintf(&b, "  %-9s %s %s%s\n", p.Phase, p.Method, p.URL, note)
	}
	var signIn []crawl.PlannedRequest
	for _, p := range planned {
		if p.Phase == crawl.PhaseSignIn {
			signIn = append(signIn, p)
		}
	}
	if len(signIn) > 0 || len(g.commands) > 0 {
		fmt.Fprintf(&b, "\nsign-in (a flow's first request goes without the role's credentials, which the flow obtains;\na role with static credentials only has its check sent, with them)\n")
		flows := map[string]bool{}
		for _, r := range cfg.Roles {
			flows[r.Name] = r.Login.Flow() != ""
		}
		for _, p := range signIn {
			switch {
			case p.Role == "anonymous": // a flow's request, sent with no role's credentials
				line(p)
			case flows[p.Role]:
				line(p, p.Role+"'s sign-in")
			default:
				line(p, p.Role+"'s check")
			}
		}
		for _, r := range g.commands {
			fmt.Fprintf(&b, "  role %s signs in with a command, not run in a dry run\n", r)
		}
	}
	for _, role := range cfg.RoleNames() {
		var mine []crawl.PlannedRequest
		headers := map[string]bool{}
		for _, p := range planned {
			if p.Role == role && p.Phase != crawl.PhaseSignIn {
				mine = append(mine, p)
				for _, h := range p.Headers {
					if !benignHeader(h) && h != g.opts.RunIDHeader {
						headers[h] = true
					}
				}
			}
		}
		creds := "no credentials"
		if r := cfg.Role(role); r != nil && r.Login.Kind() != "none" {
			creds = "the credentials its sign-in obtains"
		}
		if len(headers) > 0 {
			var names []string
			for h := range headers {
				names = append(names, h)
			}
			sort.Strings(names)
			creds = "sends " + strings.Join(names, ", ")
		}
		fmt.Fprintf(&b, "\nrole %s (%s)\n", role, creds)
		for _, p := range mine {
			line(p)
		}
		if len(mine) == 0 {
			b.WriteString("  nothing\n")
		}
	}
	if len(inv.Skipped) > 0 {
		b.WriteString("\nnever sent\n")
		for _, s := range inv.Skipped {
			fmt.Fprintf(&b, "  %s %s: %s\n", s.Method, s.URL, s.Reason)
		}
	}
	total := 0
	var parts []string
	for _, p := range phaseOrder[:4] {
		total += counts[p]
		parts = append(parts, fmt.Sprintf("%d %s", counts[p], p))
	}
	fmt.Fprintf(&b, "\n%d request(s): %s\n", total, strings.Join(parts, ", "))
	_, err := io.WriteString(w, cfg.Secrets.Redact(b.String()))
	return err
}

// benignHeader reports whether a request header says nothing of who
// sends it.
func benignHeader(h string) bool {
	switch h {
	case "Accept", "Accept-Encoding", "Accept-Language", "User-Agent", "Content-Type", "Content-Length", "Referer", "Origin":
		return true
	}
	return false
}
