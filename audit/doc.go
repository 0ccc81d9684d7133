// Package audit is the audit pipeline as a library (docs/design.md,
// "Flow"): Run signs every role in (package session), discovers and
// probes as every role (package crawl), judges the observations against
// the matrix (package judge) and returns the run, which package report
// renders. It never exits and decides no exit code: an audit that cannot
// be made returns an *Error whose Kind the command maps to one, and
// findings are results, never errors.
//
// The guard (guard.go) is the run's safety machinery: the one transport
// (rate, cap, time-outs, retries, pauses, the run id), the run's context
// bounded by the maximum duration, the probe cap, and the requests a dry
// run records instead of sending (Plan).
package audit
