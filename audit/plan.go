package audit

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/permaudit/permaudit/crawl"
	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// Plan is what a dry run would have sent: the requests known before any
// answer, per phase and role, and the endpoints it would never send.
type Plan struct {
	cfg         *roles.Config
	secrets     *roles.Redactor
	inv         *model.Inventory
	planned     []crawl.PlannedRequest
	commands    []string // roles whose sign-in command a dry run does not run
	runIDHeader string
}

// plan gathers what the dry run recorded.
func (g *guard) plan(cfg *roles.Config, secrets *roles.Redactor, inv *model.Inventory) *Plan {
	g.mu.Lock()
	defer g.mu.Unlock()
	return &Plan{cfg: cfg, secrets: secrets, inv: inv, planned: slices.Clone(g.planned), commands: g.commands, runIDHeader: g.opts.RunIDHeader}
}

// Write writes the plan for people, per role, every secret redacted.
func (pl *Plan) Write(w io.Writer) error {
	cfg, inv, planned := pl.cfg, pl.inv, pl.planned
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
	variants := cfg.Crawl.MaxQueryVariants
	if variants <= 0 {
		variants = roles.DefaultMaxQueryVariants
	}
	var b strings.Builder
	fmt.Fprintf(&b, `permaudit dry run: nothing was sent. These are the requests known before any answer:
the preflight, the first request of each sign-in flow, the discovery start URLs, and
every endpoint of the inventory (start URLs and endpoints declared in sources.list,
OpenAPI or HAR files) probed as every role, existence canaries included. What depends on
an answer is not listed: links found on pages, redirects, later sign-in steps, session
checks and renewals; max_requests (%d per role), max_query_variants (%d per
page) and max_probes (%d) bound them. Probes are sent declared endpoints first, then one
URL of every template, then the second of every template; the probe lists below are in
URL order. A role that signs in with a flow and declares a logout ends its session with
it at the end, once its sign-in was answered (shown with its variables unexpanded).
`, cfg.Crawl.MaxRequests, variants, cfg.Crawl.MaxProbes)
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
	logouts := 0
	var signIn []crawl.PlannedRequest
	for _, p := range planned {
		if p.Phase == crawl.PhaseSignIn {
			signIn = append(signIn, p)
		}
	}
	if len(signIn) > 0 || len(pl.commands) > 0 {
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
		for _, r := range pl.commands {
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
					if !benignHeader(h) && h != pl.runIDHeader {
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
		if lo := logoutOf(cfg, role); lo != "" {
			fmt.Fprintf(&b, "  %-9s %s (at the end)\n", crawl.PhaseSignOut, lo)
			logouts++
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
	fmt.Fprintf(&b, "\n%d request(s): %s", total, strings.Join(parts, ", "))
	if logouts > 0 {
		fmt.Fprintf(&b, "; and %d logout(s) at the end", logouts)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, pl.secrets.Redact(b.String()))
	return err
}

// phaseOrder sorts the requests of a dry run.
var phaseOrder = []string{crawl.PhasePreflight, crawl.PhaseSignIn, crawl.PhaseDiscover, crawl.PhaseProbe, ""}

// benignHeader reports whether a request header says nothing of who
// sends it.
func benignHeader(h string) bool {
	switch h {
	case "Accept", "Accept-Encoding", "Accept-Language", "User-Agent", "Content-Type", "Content-Length", "Referer", "Origin":
		return true
	}
	return false
}

// logoutOf returns the logout role ends its session with at the end of
// an audit, "GET http://host/logout?token={self.token}", as configured:
// its variables unexpanded (a dry run has no answer to take them from);
// "" when the role declares none (only a role signing in with a flow
// may, roles.Logout).
func logoutOf(cfg *roles.Config, role string) string {
	r := cfg.Role(role)
	if r == nil || r.Login.Logout == nil {
		return ""
	}
	lo := r.Login.Logout
	method := cmp.Or(lo.Method, http.MethodGet)
	path, query, hasQuery := strings.Cut(lo.URL, "?")
	if base, err := url.Parse(cfg.Target); err == nil {
		if u, err := base.Parse(path); err == nil {
			path = u.String()
		}
	}
	if hasQuery {
		path += "?" + query
	}
	return method + " " + path
}
