package roles

import (
	"slices"
	"sort"
	"strings"
	"sync"
)

// Redactor replaces every known secret value in a string by a placeholder
// naming it, "[REDACTED:roles.admin.login.bearer]". Every excerpt, log line
// and error message that may hold a target's answer or a credential passes
// through one Redactor. It is safe for concurrent use; secrets obtained at
// run time are added with Add.
type Redactor struct {
	mu      sync.RWMutex
	public  map[string]bool   // values never redacted (Public)
	secrets map[string]string // value -> name
	sorted  []string          // values, longest first, so overlapping secrets redact whole
	repl    *strings.Replacer // one pass over the string: a placeholder is never redacted again
}

// NewRedactor returns an empty Redactor.
func NewRedactor() *Redactor {
	return &Redactor{secrets: map[string]string{}, public: map[string]bool{}}
}

// Add registers value as a secret called name. Values shorter than 4
// bytes are still redacted; an empty value, or one made Public, is
// ignored.
func (r *Redactor) Add(name, value string) {
	if value == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.secrets[value]; ok || r.public[value] {
		return
	}
	r.secrets[value] = name
	r.sorted = append(r.sorted, value)
	r.rebuild()
}

// Public makes values that every output prints, such as the roles'
// names, never redacted: a secret equal to one (a username from ${ENV}
// that is also the role's name) is written in the configuration already,
// and redacting it would garble every report. A secret that holds one
// (a password "editor-1", an Authorization value) is still redacted.
func (r *Redactor) Public(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.public == nil {
		r.public = map[string]bool{}
	}
	changed := false
	for _, v := range values {
		if v == "" {
			continue
		}
		r.public[v] = true
		if _, ok := r.secrets[v]; ok {
			delete(r.secrets, v)
			r.sorted = slices.DeleteFunc(r.sorted, func(s string) bool { return s == v })
			changed = true
		}
	}
	if changed {
		r.rebuild()
	}
}

// rebuild sorts the values and makes the replacer; r.mu is held.
func (r *Redactor) rebuild() {
	if len(r.sorted) == 0 {
		r.repl = nil
		return
	}
	sort.Slice(r.sorted, func(i, j int) bool {
		if len(r.sorted[i]) != len(r.sorted[j]) {
			return len(r.sorted[i]) > len(r.sorted[j])
		}
		return r.sorted[i] < r.sorted[j]
	})
	pairs := make([]string, 0, 2*len(r.sorted))
	for _, v := range r.sorted {
		pairs = append(pairs, v, "[REDACTED:"+r.secrets[v]+"]")
	}
	r.repl = strings.NewReplacer(pairs...)
}

// Redact returns s with every secret value replaced by its placeholder.
// A nil Redactor returns s unchanged.
func (r *Redactor) Redact(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.repl == nil || s == "" {
		return s
	}
	if len(r.sorted) <= 64 && !containsAny(s, r.sorted) {
		return s // the replacer copies s even when it replaces nothing
	}
	// strings.Replacer tries the old strings in argument order at each
	// position, so the longest secret wins where secrets overlap.
	return r.repl.Replace(s)
}

func containsAny(s string, values []string) bool {
	for _, v := range values {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// Longest is the length of the longest secret value; 0 when none is
// known.
func (r *Redactor) Longest() int {
	if r == nil {
		return 0
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.sorted) == 0 {
		return 0
	}
	return len(r.sorted[0]) // longest first
}

// Values returns every secret value, for tests that assert none leaked.
func (r *Redactor) Values() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.sorted...)
}

// Clone returns a Redactor that knows r's secrets and learns its own from
// then on: an audit redacts with a clone of the configuration's
// redactor, so that the secrets it obtains at run time never change the
// configuration, which stays as it was loaded.
func (r *Redactor) Clone() *Redactor {
	c := NewRedactor()
	if r == nil {
		return c
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, v := range r.sorted {
		c.secrets[v] = r.secrets[v]
	}
	c.sorted = append([]string(nil), r.sorted...)
	for v := range r.public {
		c.public[v] = true
	}
	if r.repl != nil {
		c.repl = r.repl // a Replacer is immutable; Add builds a new one
	}
	return c
}
