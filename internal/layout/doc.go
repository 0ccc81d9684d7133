// Package layout holds no code: its test checks the import arrows of
// docs/design.md ("Packages") with go list, so that a forbidden import
// fails the build's tests instead of waiting for a reviewer.
package layout
