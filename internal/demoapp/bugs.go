package demoapp

import (
	"fmt"
	"strings"
)

// The names of the planted bugs. Each is also the verdict its finding gets.
const (
	BugLeak          = "leak"
	BugBlocked       = "blocked"
	BugWrongCode     = "wrong-code"
	BugExistenceLeak = "existence-leak"
)

// Bugs switches the planted bugs on. The zero Bugs is the intended policy.
type Bugs struct {
	// Leak: GET /api/admin/export answers 200 to support (it checks for
	// staff instead of admin).
	Leak bool
	// Blocked: GET /support/tickets/{id} answers 403 to support (it checks
	// for admin instead of support or higher).
	Blocked bool
	// WrongCode: GET /api/tickets answers 403 to anonymous instead of 401.
	WrongCode bool
	// ExistenceLeak: GET /api/orders/{id} answers 403 to a customer asking
	// for another customer's order, but 404 for an order that does not exist.
	ExistenceLeak bool
}

// Cell is one (endpoint, role) pair of the access matrix.
type Cell struct {
	Method string
	Path   string // path and query, as in Endpoint.Path
	Role   string
}

// Bug describes one planted bug.
type Bug struct {
	Name    string // the name used by With, ParseBugs and `permaudit demo --bugs`
	Verdict string // the verdict of every finding it causes: leak, blocked, wrong-code, existence-leak
	Summary string // one sentence, for help text and the README
	// Cells are the cells of Endpoints() x Roles() whose answer the bug
	// changes, and so the findings an audit must report for it, in
	// Endpoints order.
	Cells []Cell
}

// AllBugs returns every planted bug, in a fixed order.
func AllBugs() []Bug {
	return []Bug{
		{
			Name: BugLeak, Verdict: "leak",
			Summary: "GET /api/admin/export answers 200 to support: the export checks for staff instead of admin",
			Cells:   []Cell{{"GET", "/api/admin/export", Support}},
		},
		{
			Name: BugBlocked, Verdict: "blocked",
			Summary: "GET /support/tickets/{id} answers 403 to support: the ticket page checks for admin instead of support or higher",
			Cells: []Cell{
				{"GET", "/support/tickets/101", Support},
				{"GET", "/support/tickets/102", Support},
			},
		},
		{
			Name: BugWrongCode, Verdict: "wrong-code",
			Summary: "GET /api/tickets answers 403 instead of 401 to anonymous: the ticket list never asks who is calling",
			Cells:   []Cell{{"GET", "/api/tickets", Anonymous}},
		},
		{
			Name: BugExistenceLeak, Verdict: "existence-leak",
			Summary: "GET /api/orders/{id} answers 403 to a customer for another customer's order, but 404 for an order that does not exist",
			Cells: []Cell{
				{"GET", "/api/orders/18", Customer},
				{"GET", "/api/orders/19", Customer},
			},
		},
	}
}

// AllBugsOn returns Bugs with every planted bug switched on, as
// `permaudit demo` runs by default.
func AllBugsOn() Bugs {
	var b Bugs
	for _, bug := range AllBugs() {
		b = b.With(bug.Name)
	}
	return b
}

// With returns b with the bug called name switched on. An unknown name
// changes nothing; ParseBugs validates names.
func (b Bugs) With(name string) Bugs {
	if f := b.field(name); f != nil {
		*f = true
	}
	return b
}

// Has reports whether the bug called name is switched on.
func (b Bugs) Has(name string) bool {
	f := b.field(name)
	return f != nil && *f
}

// Names returns the names of the bugs switched on, in AllBugs order.
func (b Bugs) Names() []string {
	var names []string
	for _, bug := range AllBugs() {
		if b.Has(bug.Name) {
			names = append(names, bug.Name)
		}
	}
	return names
}

// field returns the switch of the bug called name, or nil; b is a copy.
func (b *Bugs) field(name string) *bool {
	switch name {
	case BugLeak:
		return &b.Leak
	case BugBlocked:
		return &b.Blocked
	case BugWrongCode:
		return &b.WrongCode
	case BugExistenceLeak:
		return &b.ExistenceLeak
	}
	return nil
}

// ParseBugs parses a comma-separated list of bug names, "all" or "none",
// as taken by `permaudit demo --bugs`.
func ParseBugs(s string) (Bugs, error) {
	var b Bugs
	switch strings.TrimSpace(s) {
	case "all":
		return AllBugsOn(), nil
	case "none":
		return b, nil
	}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if b.field(name) == nil {
			return Bugs{}, fmt.Errorf("unknown demo bug %q: want all, none, or a list of %s", name, strings.Join(bugNames(), ", "))
		}
		b = b.With(name)
	}
	return b, nil
}

func bugNames() []string {
	var names []string
	for _, bug := range AllBugs() {
		names = append(names, bug.Name)
	}
	return names
}
