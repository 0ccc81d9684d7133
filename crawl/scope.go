package crawl

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/permaudit/permaudit/model"
	"github.com/permaudit/permaudit/roles"
)

// Skip reasons.
const (
	reasonOutOfScope = "out of scope"
	reasonMethod     = "method not probed"
)

func newScope(cfg *roles.Config) (*Scope, error) {
	if cfg == nil {
		return nil, errors.New("scope: no configuration")
	}
	t, err := url.Parse(cfg.Target)
	if err != nil {
		return nil, fmt.Errorf("scope: target %q: %w", cfg.Target, err)
	}
	origin, err := model.Origin(t)
	if err != nil {
		return nil, fmt.Errorf("scope: target %q: %w", cfg.Target, err)
	}
	o, _ := url.Parse(origin)
	return &Scope{origin: o, originS: origin, excludes: cfg.Scope.Exclude, allow: cfg.Scope.AllowMethods, words: cfg.ExclusionWords()}, nil
}

// Origin returns the target's origin, "http://127.0.0.1:8080", with a
// lower-case host and no default port.
func (s *Scope) Origin() string { return s.originS }

func (s *Scope) inOrigin(u *url.URL) bool {
	if s == nil || u == nil || u.Opaque != "" {
		return false
	}
	if u.Scheme == s.origin.Scheme && u.Host == s.origin.Host {
		return true // the origin's own spelling: every request the audit makes itself
	}
	o, err := model.Origin(u)
	return err == nil && o == s.originS
}

func (s *Scope) skip(method string, u *url.URL) (string, bool) {
	if !s.inOrigin(u) {
		return reasonOutOfScope, true
	}
	if w := s.excludedWord(u); w != "" {
		return fmt.Sprintf("excluded word %q", w), true
	}
	method = strings.ToUpper(method)
	// Exclusion patterns are matched with no role bound: one holding
	// "{role.var}" or "{self.var}" never matches.
	noVars := roles.Bindings{Vars: func(string, string) (string, bool) { return "", false }}
	for _, p := range s.excludes {
		if p.Match(method, u, noVars) {
			return fmt.Sprintf("excluded by pattern %q", p.Raw), true
		}
	}
	if !safeRequestMethod(method) && !s.allowsMethod(method, u) {
		return reasonMethod, true
	}
	return "", false
}

// excludedWord returns the first exclusion word found in u's path and
// query, escaped or not, ignoring case; "" if none (roles.ExcludedWord).
func (s *Scope) excludedWord(u *url.URL) string { return roles.ExcludedWord(s.words, u) }
