// Package model is permaudit's vocabulary in Go: the run and its
// documented JSON (docs/run-schema.md), and the values every stage
// passes on: endpoints, the inventory, observations and their answer
// classes, cells, verdicts, findings and notes. It also owns the few
// functions that define those values, so that each has one home: Normalize
// (the one form of an endpoint's URL), Origin and SameOrigin (the one
// comparison of origins), Template and IsID (folding ids for grouping and
// fingerprints) and StripIDs (an answer with its ids removed).
//
// model imports nothing of permaudit's; crawl, judge, report and the
// commands all use it (docs/design.md, "Packages"). A change here is a
// change of the run JSON: fields are only added within a schema version.
package model
