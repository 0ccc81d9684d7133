package audit

import "fmt"

// Kind says why an audit could not be made or finished; the command maps
// each to its exit code (docs/design.md, "Exit codes").
type Kind int

// The kinds of Error.
const (
	// Usage: the configuration or the options are wrong (exit 2).
	Usage Kind = iota + 1
	// Unreachable: the target did not answer, or a role could not sign
	// in, before any probe (exit 3).
	Unreachable
	// Interrupted: a signal stopped the run (exit 130).
	Interrupted
	// Incomplete: the maximum duration ended the run before any probe
	// (exit 4).
	Incomplete
)

// Error is an audit that stopped before it had a run to report. Its
// message says what failed and what to do; it holds no secret.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Err: fmt.Errorf(format, args...)}
}
