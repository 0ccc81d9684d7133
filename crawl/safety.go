package crawl

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
	"github.com/permaudit/permaudit/session"
)

// The inventory sources whose endpoints the user declared, rather than
// discovery found: an explicit list (sources.list, sources.list_file),
// an OpenAPI or Swagger document, a HAR file. A method other than GET and
// HEAD opted in by scope.allow_methods is sent only to these.
const (
	SourceList    = "list"    // sources.list or sources.list_file
	SourceOpenAPI = "openapi" // an operation of an OpenAPI or Swagger document
	SourceHAR     = "har"     // a request recorded in a HAR file
)

// Declared reports whether source names a declared source.
func Declared(source string) bool {
	switch source {
	case SourceList, SourceOpenAPI, SourceHAR:
		return true
	}
	return false
}

// safeRequestMethod reports whether method is sent without opting in.
func safeRequestMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead
}

// allowsMethod reports whether a scope.allow_methods pattern opts in to
// method for u.
func (s *Scope) allowsMethod(method string, u *url.URL) bool {
	noVars := roles.Bindings{Vars: func(string, string) (string, bool) { return "", false }}
	for _, p := range s.allow {
		if p.Method == method && p.Match(method, u, noVars) {
			return true
		}
	}
	return false
}

// Sendable reports whether the probe phase may send the inventory entry
// e, and why not: the scope's exclusions hold for every method; GET and
// HEAD are sent; another method only when a scope.allow_methods pattern
// opts in to it and one of e's sources is declared (Declared), never for
// an endpoint found only by crawling.
func (s *Scope) Sendable(e model.Entry) (reason string, ok bool) {
	u, err := url.Parse(e.URL)
	if err != nil {
		return "unusable URL", false
	}
	method := strings.ToUpper(e.Method)
	if reason, skip := s.skip(method, u); skip {
		return reason, false
	}
	if safeRequestMethod(method) {
		return "", true
	}
	for _, src := range e.Sources {
		if Declared(src) {
			return "", true
		}
	}
	return fmt.Sprintf("method %s is sent only to declared endpoints (list, openapi, har), not to ones found by %s",
		method, strings.Join(e.Sources, ", ")), false
}

// SendableEndpoints returns the endpoints of inv that the probe phase may
// send, in inventory order, and records every other one in inv.Skipped
// with its reason (keeping Skipped sorted).
func SendableEndpoints(s *Scope, inv *model.Inventory) []model.Endpoint {
	var out []model.Endpoint
	added := false
	have := map[model.Skip]bool{}
	for _, sk := range inv.Skipped {
		have[model.Skip{Endpoint: sk.Endpoint, Reason: sk.Reason}] = true
	}
	for _, e := range inv.Entries {
		reason, ok := s.Sendable(e)
		if ok {
			out = append(out, e.Endpoint)
			continue
		}
		if k := (model.Skip{Endpoint: e.Endpoint, Reason: reason}); !have[k] {
			have[k] = true
			inv.Skipped = append(inv.Skipped, k)
			added = true
		}
	}
	if added {
		sort.SliceStable(inv.Skipped, func(i, j int) bool {
			a, b := inv.Skipped[i], inv.Skipped[j]
			if a.Endpoint != b.Endpoint {
				return a.Endpoint.Less(b.Endpoint)
			}
			return a.Reason < b.Reason
		})
	}
	return out
}

// CheckPlainHTTP refuses a configuration that would send credentials in
// clear text: a plain-HTTP target on a host that is not loopback, with a
// role that holds credentials, unless allow_plain_http is true.
func CheckPlainHTTP(cfg *roles.Config) error {
	if cfg.AllowPlainHTTP {
		return nil
	}
	u, err := url.Parse(cfg.Target)
	if err != nil || !strings.EqualFold(u.Scheme, "http") || IsLoopback(u.Hostname()) {
		return nil
	}
	var with []string
	for _, r := range cfg.Roles {
		if hasCredentials(r) {
			with = append(with, r.Name)
		}
	}
	if len(with) == 0 {
		return nil
	}
	return fmt.Errorf("target %s is plain HTTP on a host that is not loopback, and role(s) %s hold credentials that would cross the network in clear text: use an https target, or set allow_plain_http: true (or --allow-plain-http) to accept it",
		originString(u.Scheme, u.Host), strings.Join(with, ", "))
}

func hasCredentials(r *roles.Role) bool { return r != nil && r.Login.Kind() != "none" }

// plainHTTPRefused reports whether a request of a role with credentials
// to u must be refused: plain HTTP to a host that is not loopback.
func plainHTTPRefused(u *url.URL, sess *session.Session, allow bool) bool {
	return !allow && sess != nil && hasCredentials(sess.Role) &&
		strings.EqualFold(u.Scheme, "http") && !IsLoopback(u.Hostname())
}

// whyTooManyHops is the reason of a probe whose redirects go on beyond
// maxHops: a loop or an endless chain, recorded as an error.
var whyTooManyHops = fmt.Sprintf("redirect not followed: more than %d hops", maxHops)
