package crawl

import (
	"context"
	"net/http"
	"sort"

	"github.com/permaudit/permaudit/roles"
)

// Phases of a run, as WithPhase labels the requests of each.
const (
	PhasePreflight = "preflight"
	PhaseSignIn    = "sign-in"
	PhaseDiscover  = "discover"
	PhaseProbe     = "probe"
	PhaseSignOut   = "sign-out"
)

type phaseKey struct{}

type roleKey struct{}

// WithPhase labels the requests made with ctx as belonging to phase; a
// dry run lists them under it.
func WithPhase(ctx context.Context, phase string) context.Context {
	return context.WithValue(ctx, phaseKey{}, phase)
}

// PhaseOf returns the phase ctx was labelled with, or "".
func PhaseOf(ctx context.Context) string {
	s, _ := ctx.Value(phaseKey{}).(string)
	return s
}

// withRole labels a request with the role whose client sends it.
func withRole(ctx context.Context, role string) context.Context {
	return context.WithValue(ctx, roleKey{}, role)
}

// RoleOf returns the role whose client sent a request made with ctx, or "".
func RoleOf(ctx context.Context) string {
	s, _ := ctx.Value(roleKey{}).(string)
	return s
}

// PlannedRequest is a request a dry run would have sent. It holds no
// secret: the URL is redacted and headers are named, never quoted.
type PlannedRequest struct {
	Phase   string   `json:"phase"`
	Role    string   `json:"role"`
	Method  string   `json:"method"`
	URL     string   `json:"url"`
	Headers []string `json:"headers,omitempty"` // names of the headers set, sorted
	Body    bool     `json:"body,omitempty"`    // the request has a body
}

func plannedRequest(req *http.Request, secrets *roles.Redactor) PlannedRequest {
	ctx := req.Context()
	p := PlannedRequest{
		Phase:  PhaseOf(ctx),
		Role:   RoleOf(ctx),
		Method: req.Method,
		URL:    secrets.Redact(req.URL.String()),
		Body:   req.Body != nil && req.Body != http.NoBody,
	}
	if p.Method == "" {
		p.Method = http.MethodGet
	}
	for k := range req.Header {
		p.Headers = append(p.Headers, k)
	}
	sort.Strings(p.Headers)
	return p
}
