package crawl

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

// Scope decides what may be requested: the target's origin (scheme, host
// and port, exactly), minus the exclusion words and patterns.
type Scope struct {
	origin   *url.URL
	originS  string // origin as model.Origin spells it
	words    []string
	excludes []roles.Pattern
	allow    []roles.Pattern // scope.allow_methods
}

// NewScope builds the scope of cfg.
func NewScope(cfg *roles.Config) (*Scope, error) { return newScope(cfg) }

// InOrigin reports whether u is on the target's origin (scheme, host and
// port equal after normalisation).
func (s *Scope) InOrigin(u *url.URL) bool { return s.inOrigin(u) }

// Skip reports whether method u must never be requested, and why.
func (s *Scope) Skip(method string, u *url.URL) (reason string, skip bool) { return s.skip(method, u) }

// ClientOptions tune NewClient.
type ClientOptions struct {
	UserAgent string
	// Transport is the run's Transport, shared by every role: its rate,
	// cap, time-out, retries and pauses apply. Nil: a Transport of the
	// client's own with Timeout and Base and nothing else.
	Transport *Transport
	Timeout   time.Duration     // without Transport only
	Base      http.RoundTripper // without Transport only; nil: a fresh http.Transport
	// AllowPlainHTTP lets a role with credentials send them over plain
	// HTTP to a host that is not loopback (allow_plain_http).
	AllowPlainHTTP bool
}

// NewClient returns the HTTP client of one role: its session's jar, a
// transport that refuses every request outside the scope's origin (no
// credential can leave it, redirects included) and every request carrying
// credentials over plain HTTP to a host that is not loopback (unless
// AllowPlainHTTP), attaches the session's credentials to the others, the
// User-Agent, and sends them through opts.Transport; no redirect following
// (CheckRedirect returns http.ErrUseLastResponse).
func NewClient(scope *Scope, sess *session.Session, opts ClientOptions) *http.Client {
	return newClient(scope, sess, opts)
}

// Options are shared by Discover and Probe.
type Options struct {
	Config   *roles.Config
	Scope    *Scope
	Sessions []*session.Session      // one per role, in role order
	Clients  map[string]*http.Client // by role name, from NewClient
	Logger   *slog.Logger            // nil: discard
	// Progress, when set, is called after every request (from any goroutine).
	Progress func(Progress)
	// Keeper, when set, confirms the non-ok answers of signed-in roles
	// with their checks, renews dead sessions and remembers session-ending
	// URLs (session.Keeper); nil takes every answer as it comes.
	Keeper *session.Keeper
	// Answers, when set, keeps what Discover saw that is a probe's
	// observation, and Probe takes it from there instead of requesting
	// the cell again (answers.go); nil requests every cell in Probe. The
	// audit gives both phases the same one.
	Answers *Answers
	// Canaries makes Probe ask for existence canaries too (canary.go);
	// the audit always sets it.
	Canaries bool
	// Secrets redacts every excerpt, location, error and log line; nil:
	// the configuration's redactor. An audit gives a clone of it that
	// learns the secrets obtained at run time (roles.Redactor.Clone).
	Secrets *roles.Redactor
	// UserAgent is sent by discovery's collector and the clients made
	// here; empty: the configuration's crawl.user_agent, else a default.
	UserAgent string
}

// Progress is a progress event.
type Progress struct {
	Phase string // "discover" or "probe"
	Role  string
	Done  int // requests finished in this phase
	Total int // probes to make; 0 while discovering
	// Findings counts the probes so far whose answer, decided alone
	// against the matrix (judge.Decide), is a finding: a provisional
	// count for progress lines. The run's findings come from judging the
	// whole run (canaries, grouping), so they may differ.
	Findings int
}

// Discover crawls the target as every role (colly, one collector per role)
// from the configured start URLs and returns the inventory. It stops early,
// returning what it found, when ctx is cancelled.
func Discover(ctx context.Context, opts Options) (*model.Inventory, error) {
	return discover(ctx, opts)
}

// Probe requests every endpoint as every role in opts.Sessions with a
// bounded worker pool and returns one observation per (endpoint, role),
// sorted by URL, method, then role order. Cancelled probes are not returned.
// With opts.Canaries, existence canaries follow them (CanaryOf set): for
// each group of URLs naming a resource (judge.CanaryTarget), two derived
// siblings that cannot exist, as every role the matrix denies one of the
// group's URLs (see canary.go), sorted by URL then role order. They are
// requested first, and every denial of their group is compared with them
// (Observation.Missing).
func Probe(ctx context.Context, opts Options, endpoints []model.Endpoint) ([]model.Observation, error) {
	cells, err := probe(ctx, opts, endpoints)
	obs := make([]model.Observation, cells.Len())
	for i, c := range cells.All() {
		obs[i] = c.Observation
	}
	return obs, err
}

// ProbeCells is Probe returning each observation as a cell for the judge
// to fill in place (judge.JudgeCells): a run of a million cells then
// holds one set of them (model.Cells), not observations and cells
// (docs/design.md, "Outputs at scale"). Only the cells' observations are
// set.
func ProbeCells(ctx context.Context, opts Options, endpoints []model.Endpoint) (*model.Cells, error) {
	return probe(ctx, opts, endpoints)
}
